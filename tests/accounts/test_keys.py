import json

import pytest

from aitbc_site.errors import Invalid, NotFound
from apps.accounts.keys import api_key_hash
from apps.accounts.models import ApiKey, Principal
from apps.accounts.selectors import principal_for_key
from apps.accounts.services import principal_create, principal_revoke
from tests.processes import process_env, run_aitbc

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_key_is_stored_only_as_a_keyed_hash():
    issued = principal_create(name="alice", role="client")
    stored = ApiKey.objects.get(principal_id=issued.principal_id)
    assert issued.key.startswith("aitbc_")
    assert stored.key_hash == api_key_hash(issued.key) != issued.key
    assert issued.key not in json.dumps(list(ApiKey.objects.values_list("prefix", "key_hash")))
    assert len(stored.key_hash) == 64


def test_a_key_finds_its_principal_and_a_wrong_one_finds_nothing():
    issued = principal_create(name="rig-1", role="miner")
    principal = principal_for_key(issued.key)
    assert (principal.id, principal.name, principal.role) == (issued.principal_id, "rig-1", "miner")
    assert principal_for_key(issued.key + "x") is None
    assert principal_for_key("") is None


def test_a_revoked_key_no_longer_authenticates():
    issued = principal_create(name="bob", role="client")
    assert principal_revoke(principal_id=issued.principal_id) == 1
    assert principal_for_key(issued.key) is None
    assert Principal.objects.get(id=issued.principal_id).is_active is False


def test_revoking_an_unknown_principal_is_not_found():
    with pytest.raises(NotFound):
        principal_revoke(principal_id="00000000-0000-0000-0000-000000000000")


@pytest.mark.parametrize(("name", "role"), [("x", "superuser"), ("  ", "client")])
def test_a_bad_role_or_empty_name_is_refused_and_nothing_is_stored(name, role):
    with pytest.raises(Invalid):
        principal_create(name=name, role=role)
    assert Principal.objects.count() == 0


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_the_cli_creates_lists_and_revokes_keys(tmp_path):
    env = process_env(tmp_path)

    created = run_aitbc(["keys", "create", "--role", "miner", "--name", "rig-7", "--json"], env)
    assert created.returncode == 0, created.stderr
    issued = json.loads(created.stdout.strip().splitlines()[-1])
    assert principal_for_key(issued["key"]).role == "miner"

    plain = run_aitbc(["keys", "create", "--role", "client", "--name", "carol"], env)
    assert principal_for_key(plain.stdout.strip().splitlines()[-1]).name == "carol"

    listed = json.loads(run_aitbc(["keys", "list", "--json"], env).stdout)
    assert {"rig-7", "carol"} <= {row["name"] for row in listed["items"]}

    revoked = run_aitbc(["keys", "revoke", issued["principal_id"]], env)
    assert revoked.returncode == 0, revoked.stderr
    assert principal_for_key(issued["key"]) is None

    unknown = run_aitbc(["keys", "revoke", "00000000-0000-0000-0000-000000000000"], env)
    assert unknown.returncode != 0
    assert "no principal" in unknown.stderr
    assert "Traceback" not in unknown.stderr
