"""Each Celery-mode miner's own broker user (a Redis ACL user), so that a GPU host never holds the control
plane's credentials.

The user reaches the keys of its own queue `gpu.<miner_id>` (the list, its priority lists, its binding and the
unacked keys named after it, see aitbc_site.queues.gpu_queue_transport_options) and may publish Celery events
(for Flower), nothing else: no other queue, no remote control, no rate-limit bucket, no result, no admin or
keyless command such as FLUSHDB or KEYS. Redis itself refuses the rest (NOPERM).

Only a SHA-256 of the password is kept, in the miner's row: enough to recreate the user after Redis lost it
(a restart without persistence), never enough to log in.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable
from urllib.parse import quote, urlsplit, urlunsplit
from uuid import UUID

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aitbc_site.errors import ApiError
from aitbc_site.queues import gpu_queue
from apps.gpu.models import Miner, MinerMode, MinerStatus

log = logging.getLogger(__name__)
DB = "gpu"
USER_PREFIX = "miner-"

# What kombu's Redis transport and a Celery worker with events need to consume one queue with acks_late:
# BRPOP/LPUSH on its lists, the binding sets, the unacked hash/index/mutex (MULTI/WATCH, redis-py's lock
# scripts), PUBLISH of events.
COMMANDS = (
    "ping", "select", "auth", "hello", "quit", "reset", "client|setname", "client|getname", "client|id",
    "brpop", "lpush", "rpush", "llen", "exists",
    "sadd", "smembers", "srem",
    "zadd", "zrem", "zrange", "zrevrangebyscore", "zrangebyscore",
    "hset", "hget", "hdel",
    "set", "get", "del", "expire",
    "multi", "exec", "discard", "watch", "unwatch",
    "publish",
    "evalsha", "eval", "script|load", "script|exists",  # redis-py's lock; a script runs with this user's ACL
)  # fmt: skip


class BrokerUnavailable(ApiError):
    status = 503
    code = "broker_unavailable"


def redis_broker() -> bool:
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))


def _control_plane() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=5)


def broker_user_name(miner_id: UUID) -> str:
    """`miner-<db>-<miner_id>`: named with the broker's database too, so that AITBCs sharing one Redis server on
    different databases (test runs included) never touch each other's users."""
    return f"{broker_users_prefix()}{miner_id}"


def broker_users_prefix() -> str:
    return f"{USER_PREFIX}{_db_number()}-"


def _db_number() -> int:
    path = urlsplit(settings.CELERY_BROKER_URL).path.strip("/")
    return int(path or 0)


def broker_user_rules(miner_id: UUID, password_sha256: str) -> list[str]:
    """The ACL of one miner's user: its own queue's keys, Celery's event channels, the commands above."""
    queue = gpu_queue(str(miner_id))
    return [
        "reset",
        "on",
        f"#{password_sha256}",
        "-@all",
        *(f"+{command}" for command in COMMANDS),
        f"~{queue}*",  # the list, its priority lists (queue + "\x06\x16" + n) and its unacked keys
        f"~_kombu.binding.{queue}",
        f"~_kombu.binding_permanent.{queue}",
        f"&/{_db_number()}.celeryev/*",  # worker and task events, which Flower shows
    ]


def miner_broker_url(miner_id: UUID, password: str) -> str:
    """Where the miner's worker connects: AITBC_MINER_BROKER_URL (the broker as GPU hosts reach it, its query
    kept, e.g. rediss's ssl_cert_reqs) or the control plane's broker address, with the miner's own user instead
    of any credentials in it, on the control plane's database (its queues are there)."""
    parts = urlsplit(settings.AITBC_MINER_BROKER_URL or settings.CELERY_BROKER_URL)
    host = parts.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    netloc = f"{quote(broker_user_name(miner_id), safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, f"/{_db_number()}", parts.query, ""))


def _setuser(client, miner_id: UUID, password_sha256: str) -> None:
    client.execute_command("ACL", "SETUSER", broker_user_name(miner_id), *broker_user_rules(miner_id, password_sha256))


def broker_user_issue(*, miner: Miner) -> str | None:
    """A new broker user for a Celery-mode miner (the old one and its connections go); returns its URL, shown
    once. None with the embedded broker, which serves one trusted host and has no users."""
    if not redis_broker():
        return None
    password = secrets.token_urlsafe(32)
    digest = hashlib.sha256(password.encode()).hexdigest()
    try:
        client = _control_plane()
        client.execute_command("ACL", "DELUSER", broker_user_name(miner.id))  # closes its connections
        _setuser(client, miner.id, digest)
    except redis.RedisError as exc:
        raise BrokerUnavailable(f"the broker cannot make this miner's user now ({exc}); register again") from None
    Miner.objects.filter(id=miner.id).update(broker_password_sha256=digest, updated_at=timezone.now())
    miner.broker_password_sha256 = digest
    return miner_broker_url(miner.id, password)


def miner_broker_grant(*, miner: Miner) -> str | None:
    """At registration: a celery-mode miner gets a new broker user; a polling miner keeps none."""
    if miner.mode == MinerMode.CELERY:
        return broker_user_issue(miner=miner)
    if miner.broker_password_sha256:
        broker_user_remove(miner_id=miner.id)
    return None


def broker_user_remove(*, miner_id: UUID) -> None:
    """The miner's broker user goes, and every connection made with it; the sync finishes it if Redis is down."""
    Miner.objects.filter(id=miner_id).update(broker_password_sha256="", updated_at=timezone.now())
    if not redis_broker():
        return
    try:
        _control_plane().execute_command("ACL", "DELUSER", broker_user_name(miner_id))
    except redis.RedisError as exc:
        log.warning("broker user of miner %s not removed yet (%s); the sync will", miner_id, exc)


def broker_users_remove_for_principal(principal_id: UUID) -> None:
    """A miner key was revoked: its miner's broker user goes (registering with a live key makes a new one)."""
    with transaction.atomic(using=DB):
        miner_ids = list(Miner.objects.filter(principal_id=principal_id).values_list("id", flat=True))
    for miner_id in miner_ids:
        broker_user_remove(miner_id=miner_id)


def broker_users_sync(principals_live: Callable[[list[UUID]], set[UUID]]) -> dict:
    """Redis holds the users of online Celery-mode miners whose principal still has a live key (made again from
    their hashes when Redis lost them) and no user of this platform's other miners. Users that are not this
    platform's miners' are left alone: another AITBC may share the Redis server (each on its own db)."""
    if not redis_broker():
        return {"kept": 0, "removed": 0}
    granted = list(
        Miner.objects.filter(mode=MinerMode.CELERY, status=MinerStatus.ONLINE).exclude(broker_password_sha256="")
    )
    live = principals_live([m.principal_id for m in granted])
    wanted = {broker_user_name(m.id): m for m in granted if m.principal_id in live}
    client = _control_plane()
    present = {name.decode() if isinstance(name, bytes) else name for name in client.execute_command("ACL", "USERS")}
    ours = {broker_user_name(i) for i in Miner.objects.values_list("id", flat=True)}
    removed = sorted((present & ours) - set(wanted))
    if removed:
        client.execute_command("ACL", "DELUSER", *removed)
    for name, miner in wanted.items():
        if name not in present:
            _setuser(client, miner.id, miner.broker_password_sha256)
    return {"kept": len(wanted), "removed": len(removed)}
