"""Hostile input to every governance write (issue 14): each class answers 4xx in the error shape, stores nothing,
moves no money, and every governance list still answers 200 with a JSON body afterwards."""

import json
from types import SimpleNamespace

import pytest

from apps.governance.models import Delegation, Event, GovernanceProfile, Parameter, Proposal, TransparencyReport, Vote
from apps.governance.services.profiles import profile_ensure
from apps.trading.facade import account_balances, system_balances
from tests import hostile
from tests.governance.helpers import DAY, elapse, holder, propose

pytestmark = pytest.mark.django_db(databases="__all__")
FEE_UP = {"title": "Raise the fee", "category": "parameter",
          "execution_payload": {"parameter": "platform_fee_bps", "value": 400}}  # fmt: skip


@pytest.fixture
def gov(api):
    """A proposer with power, a recipient, an admin, an ACTIVE proposal, and a call to the service (as the
    proposer unless another key is given)."""
    proposer, key = holder("1000")
    recipient, _ = holder("10")
    admin, admin_key = holder(role="admin")
    for who in (proposer, recipient, admin):
        profile_ensure(who)
    active = elapse(propose(proposer), DAY)

    def call(method, path, raw=None, as_key=key):
        return api("governance", as_key).request(method, path, raw)

    return SimpleNamespace(
        call=call, holder_key=key, admin_key=admin_key, proposer=proposer, recipient=recipient, active=active
    )


def stored(gov) -> dict:
    """Everything a governance write could change, and the money of everyone involved."""
    return {
        "proposals": sorted(Proposal.objects.values_list("id", "status", "for_votes", "voters")),
        "votes": Vote.objects.count(),
        "delegations": sorted(Delegation.objects.values_list("id", "ended_at")),
        "profiles": sorted(GovernanceProfile.objects.values_list("principal_id", "role", "delegate_id")),
        "reports": TransparencyReport.objects.count(),
        "events": Event.objects.count(),
        "parameters": sorted(Parameter.objects.values_list("name", "value")),
        "balances": [account_balances(who.id)["balance"] for who in (gov.proposer, gov.recipient)],
        "treasury": system_balances()["treasury"],
    }


def strict_json(response):
    return json.loads(response.content, parse_constant=lambda name: pytest.fail(f"{name} in a JSON body"))


def assert_lists_answer(gov):
    for path in ("/v1/governance/proposals", f"/v1/governance/proposals/{gov.active.id}/votes",
                 "/v1/governance/profiles", "/v1/transactions", "/v1/governance/reports", "/v1/governance/analytics",
                 "/v1/governance/treasury", "/governance/status"):  # fmt: skip
        response = gov.call("get", path)
        assert response.status_code == 200, (path, response.content[:300])
        strict_json(response)


FUNDING = {"title": "Fund it", "category": "funding",
           "execution_payload": {"to_principal_id": "{recipient}", "amount": "5"}}  # fmt: skip
# each write: (who may make it, method, path, a valid body, its string field, its number field); {active} is an
# ACTIVE proposal, {recipient} a principal with a profile
TABLE = {
    "proposal": ("holder", "post", "/v1/governance/proposals", FEE_UP, "title", "execution_payload.value"),
    "funding": ("holder", "post", "/v1/governance/proposals", FUNDING, "description", "execution_payload.amount"),
    "vote": ("holder", "post", "/v1/governance/proposals/{active}/votes", {"vote": "for"}, "reason", "weight"),
    "delegate": ("holder", "post", "/v1/governance/delegate", {"to_principal_id": "{recipient}"}, "to_principal_id",
                 "depth"),
    "role": ("admin", "put", "/v1/governance/profiles/{recipient}/role", {"role": "council"}, "role", "term"),
    "report": ("holder", "post", "/v1/governance/reports", {"period": "day"}, "period", "day"),
    "tx_propose": ("holder", "post", "/v1/transactions", {"action": "propose", "params": FEE_UP}, "params.title",
                   "params.execution_payload.value"),
    "tx_vote": ("holder", "post", "/v1/transactions", {"action": "vote", "params": {"proposal_id": "{active}",
                "vote": "for"}}, "params.reason", "params.weight"),
    "tx_list": ("holder", "post", "/v1/transactions", {"action": "list", "params": {"limit": 5}}, "params.status",
                "params.limit"),
}  # fmt: skip


def writes(gov) -> dict:
    """TABLE with the ids of this test's proposal and recipient, and the key of whoever may make each write."""
    ids = {"{active}": str(gov.active.id), "{recipient}": str(gov.recipient.id)}

    def filled(value):
        text = json.dumps(value)
        for placeholder, real in ids.items():
            text = text.replace(placeholder, real)
        return json.loads(text)

    return {
        write: (method, filled(path), filled(body), string_field, number_field, getattr(gov, f"{who}_key"))
        for write, (who, method, path, body, string_field, number_field) in TABLE.items()
    }


WRITES = list(TABLE)


@pytest.mark.parametrize("name", hostile.TEXTS)
@pytest.mark.parametrize("slot", [3, 4], ids=["string_field", "number_field"])
@pytest.mark.parametrize("write", WRITES)
def test_nul_or_a_lone_surrogate_in_any_field_of_any_write_is_422_naming_it_and_changes_nothing(gov, write, slot, name):
    method, path, body, *fields, key = writes(gov)[write]
    field = fields[slot - 3]
    before = stored(gov)

    response = gov.call(method, path, hostile.body_with(body, field, hostile.TEXTS[name]), as_key=key)

    assert field.rsplit(".", 1)[-1] in hostile.assert_refused(response, 422)["detail"]
    assert stored(gov) == before
    assert_lists_answer(gov)


@pytest.mark.parametrize("name", hostile.NUMBERS)
@pytest.mark.parametrize("slot", [3, 4], ids=["string_field", "number_field"])
@pytest.mark.parametrize("write", WRITES)
def test_nan_infinity_or_1e400_in_any_field_of_any_write_is_422_and_changes_nothing(gov, write, slot, name):
    method, path, body, *fields, key = writes(gov)[write]
    before = stored(gov)

    response = gov.call(method, path, hostile.body_with(body, fields[slot - 3], hostile.NUMBERS[name]), as_key=key)

    hostile.assert_refused(response, 422)
    assert stored(gov) == before
    assert_lists_answer(gov)


BEYOND = [
    # amounts beyond the ledger, or not amounts
    ("funding", "execution_payload.amount", '"100000000000"'),
    ("funding", "execution_payload.amount", '"1e30"'),
    ("funding", "execution_payload.amount", '"1e400"'),
    ("funding", "execution_payload.amount", '"NaN"'),
    ("funding", "execution_payload.amount", '"0.000000001"'),
    ("funding", "execution_payload.amount", "2.5"),
    ("funding", "execution_payload.amount", '["5"]'),
    ("funding", "execution_payload.to_principal_id", "{}"),
    ("funding", "execution_payload.to_principal_id", "12"),
    # whole numbers beyond int4 and int8, or not whole numbers
    ("proposal", "execution_payload.value", str(2**31)),
    ("proposal", "execution_payload.value", str(10**20)),
    ("proposal", "execution_payload.value", str(-(2**63) - 1)),
    ("proposal", "execution_payload.value", "4e2"),
    ("proposal", "execution_payload.value", '"400"'),
    ("proposal", "execution_payload.value", "true"),
    ("proposal", "execution_payload.parameter", '["platform_fee_bps"]'),
    ("proposal", "execution_payload", "[1, 2]"),
    ("proposal", "execution_payload", '"platform_fee_bps=400"'),
    ("proposal", "execution_payload.extra", "1"),
    ("proposal", "title", '"' + "t" * 201 + '"'),
    # dates no period can hold
    ("report", "day", '"10000-01-01"'),
    ("report", "day", '"9999-12-31"'),
    ("report", "day", '"9999-12-31T23:59:59-05:00"'),
    ("report", "day", '"1999-12-31"'),
    # action parameters of the wrong type
    ("tx_propose", "params.title", "5"),
    ("tx_propose", "params.execution_payload", "[]"),
    ("tx_propose", "params.execution_payload.value", '"400"'),
    ("tx_propose", "params", '"propose it"'),
    ("tx_vote", "params.proposal_id", "5"),
    ("tx_vote", "params.proposal_id", '"not-a-uuid"'),
    ("tx_vote", "params.vote", '["for"]'),
    ("tx_vote", "params.weight", '"1000000"'),
    ("tx_list", "params.status", "5"),
    ("tx_list", "params.limit", '"x"'),
    ("tx_list", "params.limit", str(2**31)),
    ("tx_list", "params.offset", "-1"),
    ("tx_list", "action", '"drop_tables"'),
]


@pytest.mark.parametrize(("write", "field", "raw"), BEYOND)
def test_values_beyond_what_is_stored_or_of_the_wrong_type_are_422_and_change_nothing(gov, write, field, raw):
    method, path, body, *_, key = writes(gov)[write]
    before = stored(gov)

    response = gov.call(method, path, hostile.body_with(body, field, raw), as_key=key)

    hostile.assert_refused(response, 422)
    assert stored(gov) == before
    assert_lists_answer(gov)


@pytest.mark.parametrize(
    "action",
    [{"action": "show", "params": {}}, {"action": "delegate", "params": {"to_principal_id": {"id": 1}}},
     {"action": "status", "params": {"verbose": True}}, {"action": "execute"}, {"params": {}}],
)  # fmt: skip
def test_an_action_with_missing_or_wrong_params_is_422_before_it_runs(gov, action):
    before = stored(gov)

    response = gov.call("post", "/v1/transactions", json.dumps(action))

    hostile.assert_refused(response, 422)
    assert stored(gov) == before


QUERY_VALUES = ["%C2%B2", "9" * 5000, "%00", "%01", "NaN", "-1", "%ED%A0%80"]


@pytest.mark.parametrize("value", QUERY_VALUES)
@pytest.mark.parametrize(
    "path",
    ["/v1/governance/proposals?status={}", "/v1/governance/proposals?limit={}", "/v1/governance/proposals?mine={}",
     "/v1/governance/profiles?role={}", "/v1/transactions?proposal_id={}", "/v1/transactions?offset={}",
     "/v1/governance/reports?period={}", "/v1/governance/reports?limit={}", "/v1/governance/proposals/{}",
     "/v1/governance/proposals/{}/votes", "/v1/governance/reports/{}", "/v1/governance/profiles/{}"],
)  # fmt: skip
def test_hostile_typed_filters_and_path_ids_are_refused_and_the_lists_still_answer(gov, path, value):
    hostile.assert_refused(gov.call("get", path.format(value)))
    assert_lists_answer(gov)


@pytest.mark.parametrize("value", ["%00", "%01", "9" * 5000])
def test_a_free_text_filter_holding_what_no_field_may_hold_is_refused(gov, value):
    hostile.assert_refused(gov.call("get", f"/v1/transactions?kind={value}"), 422)
    assert_lists_answer(gov)


@pytest.mark.parametrize("value", ["%C2%B2", "NaN", "%ED%A0%80", "%25_"])
def test_a_free_text_filter_with_odd_text_finds_nothing(gov, value):
    listed = gov.call("get", f"/v1/transactions?kind={value}")
    assert (listed.status_code, strict_json(listed)["count"]) == (200, 0)
