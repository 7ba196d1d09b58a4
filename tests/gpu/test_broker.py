"""A Celery-mode miner's own broker user: Redis itself lets it reach its own queue and refuses everything else."""

import uuid

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_revoke, principal_revoke
from apps.gpu.models import Miner
from apps.gpu.services.broker import broker_user_name, miner_broker_url
from apps.gpu.tasks import sync_broker_users
from tests.accounts import factories as accounts_factories

pytestmark = [
    pytest.mark.django_db(databases="__all__"),
    pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis"), reason="broker users are Redis ACL users"),
]
CAPS = {"gpus": [], "cuda_version": "", "driver_version": "", "models": [], "runners": ["echo"]}


def registered(api, key, mode="celery"):
    body = {"region": "eu", "capabilities": CAPS, "unit_price": "0.01", "mode": mode}
    response = api("gpu", key).post("/v1/miners/register", body)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def miner(api):
    principal, key = accounts_factories.principal("miner")
    answer = registered(api, key)
    client = redis.Redis.from_url(answer["broker_url"], socket_timeout=5)
    yield {**answer, "key": key, "principal_id": principal.id, "redis": client}
    client.close()


@pytest.fixture
def other_miner(api):
    _, key = accounts_factories.principal("miner")
    return registered(api, key)


def control_plane() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def can_log_in(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_timeout=5).ping()
    except redis.AuthenticationError:
        return False


def test_a_celery_miner_consumes_and_requeues_on_its_own_queue(miner):
    queue = miner["queue"]
    assert miner["broker_url"].startswith(f"redis://{broker_user_name(miner['miner_id'])}:")
    miner["redis"].lpush(queue, "wake-up")
    assert miner["redis"].brpop([queue], timeout=1) == (queue.encode(), b"wake-up")
    miner["redis"].hset(f"{queue}.unacked", "tag", "message")  # acks_late keeps its unacked messages here
    assert control_plane().hget(f"{queue}.unacked", "tag") == b"message"


ATTEMPTS = {
    "publish to the control queue": lambda r, other: r.lpush("control", "task"),
    "publish to the settlement queue": lambda r, other: r.lpush("settlement", "task"),
    "publish to the dispatch queue": lambda r, other: r.lpush("dispatch", "task"),
    "read another miner's queue": lambda r, other: r.brpop([other["queue"]], timeout=1),
    "count another miner's queue": lambda r, other: r.llen(other["queue"]),
    "broadcast remote control": lambda r, other: r.publish(f"/{db()}.celery.pidbox", "shutdown"),
    "write a rate-limit bucket": lambda r, other: r.hset("aitbc:ratelimit:someone", "tokens", 0),
    "read a task result": lambda r, other: r.get("celery-task-meta-x"),
    "flush the database": lambda r, other: r.flushdb(),
    "list every key": lambda r, other: r.keys("*"),
    "scan the keys": lambda r, other: r.scan(0),
    "read the ACL": lambda r, other: r.acl_list(),
    "change the configuration": lambda r, other: r.config_set("maxmemory", "1"),
    "run a script on a foreign key": lambda r, other: r.eval("return redis.call('DEL', KEYS[1])", 1, "control"),
}


def db() -> int:
    return int(settings.CELERY_BROKER_URL.rsplit("/", 1)[1])


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=list(ATTEMPTS))
def test_the_broker_refuses_a_miner_anything_beyond_its_queue(miner, other_miner, attempt):
    sentinel = f"aitbc:test:{uuid.uuid4()}"  # stands for the control plane's data
    control_plane().set(sentinel, "kept", ex=60)
    with pytest.raises(redis.exceptions.NoPermissionError):
        ATTEMPTS[attempt](miner["redis"], other_miner)
    assert control_plane().get(sentinel) == b"kept"
    control_plane().delete(sentinel)


REFUSED = (OperationalError, redis.exceptions.NoPermissionError)  # kombu re-raises some as its own


def test_celery_inspect_and_control_shutdown_with_a_miners_url_are_refused(miner):
    app = Celery(broker=miner["broker_url"], broker_connection_retry=False, broker_connection_max_retries=0)
    with pytest.raises(REFUSED, match="no permissions"):
        app.control.shutdown()
    with pytest.raises(REFUSED, match="no permissions"):
        app.control.inspect(timeout=0.5).ping()
    with pytest.raises(REFUSED, match="no permissions"):
        app.send_task("ai.settle_job", args=["job"], queue="settlement")


def test_registering_again_replaces_the_broker_user(api, miner):
    again = registered(api, miner["key"])
    assert again["broker_url"] != miner["broker_url"]
    assert not can_log_in(miner["broker_url"])
    assert can_log_in(again["broker_url"])


def test_a_polling_miner_has_no_broker_user_and_switching_to_polling_removes_it(api, miner):
    assert registered(api, miner["key"], mode="poll")["broker_url"] is None
    assert not can_log_in(miner["broker_url"])
    assert Miner.objects.get(id=miner["miner_id"]).broker_password_sha256 == ""


def test_deregistering_removes_the_broker_user(api, miner):
    response = api("gpu", miner["key"]).delete(f"/v1/miners/{miner['miner_id']}")
    assert response.status_code in (200, 204), response.content
    assert not can_log_in(miner["broker_url"])


def test_revoking_one_key_or_the_principal_removes_the_broker_user(api, miner, django_capture_on_commit_callbacks):
    key_id = ApiKey.objects.get(principal_id=miner["principal_id"]).id
    with django_capture_on_commit_callbacks(execute=True, using="default"):
        api_key_revoke(principal_id=miner["principal_id"], key_id=key_id)
    assert not can_log_in(miner["broker_url"])

    principal, key = accounts_factories.principal("miner")
    second = registered(api, key)
    with django_capture_on_commit_callbacks(execute=True, using="default"):
        principal_revoke(principal_id=principal.id)
    assert not can_log_in(second["broker_url"])


def test_the_sync_makes_users_redis_lost_again_and_removes_those_whose_key_died(miner, other_miner):
    control_plane().execute_command("ACL", "DELUSER", broker_user_name(miner["miner_id"]))  # as after a restart
    # the other miner's key revoked while the broker was unreachable: its user outlived the key
    ApiKey.objects.exclude(principal_id=miner["principal_id"]).update(revoked_at=timezone.now())

    assert sync_broker_users() == {"kept": 1, "removed": 1}

    assert can_log_in(miner["broker_url"])
    assert not can_log_in(other_miner["broker_url"])


def test_the_url_names_the_hosts_address_for_miners_and_the_control_planes_database(miner, settings):
    settings.AITBC_MINER_BROKER_URL = "rediss://broker.example:6380/3?ssl_cert_reqs=required"
    url = miner_broker_url(miner["miner_id"], "pass-word")
    assert url == (
        f"rediss://{broker_user_name(miner['miner_id'])}:pass-word@broker.example:6380/{db()}?ssl_cert_reqs=required"
    )
