"""Authentication at the edge: a request that carries a key must carry a live one (the service checks again;
requests without a key go on, for the service to answer 401 or serve its public paths).

Live and unknown keys are both remembered for a few seconds, in sets of bounded size, so that a flood of
made-up keys costs one lookup each at most and cannot grow memory; lookups run on a small pool of threads of
their own, so that one slow lookup never holds up the others, and concurrent requests with the same key
share one lookup."""

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async

from aitbc_site.router import connections_release
from apps.accounts import selectors
from apps.accounts.keys import api_key_hash
from gateway.inbound import Headers


def api_key_of(headers: Headers) -> str | None:
    """The key of `Authorization: Bearer <key>` or `X-Api-Key: <key>`, None when there is none."""
    values = {name.lower(): value.decode("latin-1") for name, value in headers}
    scheme, _, token = values.get(b"authorization", "").partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else values.get(b"x-api-key", "").strip()
    return key or None


class ExpiringSet:
    """Members remembered for a while, at most `size` of them: when full, the oldest is forgotten first."""

    def __init__(self, size: int, clock: Callable[[], float] = time.monotonic):
        self.size, self.clock = max(1, size), clock
        self._until: dict[str, float] = {}  # insertion order is expiry order: every member lives as long

    def __contains__(self, member: str) -> bool:
        until = self._until.get(member)
        if until is not None and until <= self.clock():
            del self._until[member]
            return False
        return until is not None

    def __len__(self) -> int:
        return len(self._until)

    def add(self, member: str, seconds: float) -> None:
        self._until.pop(member, None)
        while len(self._until) >= self.size:
            del self._until[next(iter(self._until))]
        self._until[member] = self.clock() + seconds


def _principal_lookup(key: str) -> bool:
    try:
        return selectors.principal_for_key(key) is not None
    finally:
        connections_release()  # back to the pool: this is no Django request that would close it


class KeyChecks:
    def __init__(self, *, live_s: float, unknown_s: float, size: int, threads: int):
        self.live_s, self.unknown_s = live_s, unknown_s
        self.live, self.unknown = ExpiringSet(size), ExpiringSet(size)
        self.executor = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="gateway-key-check")
        self._lookup = sync_to_async(_principal_lookup, thread_sensitive=False, executor=self.executor)
        self._pending: dict[str, asyncio.Future] = {}

    def known_live(self, key: str) -> bool:
        return api_key_hash(key) in self.live

    async def is_live(self, key: str) -> bool:
        hashed = api_key_hash(key)
        if hashed in self.live:
            return True
        if hashed in self.unknown:
            return False
        pending = self._pending.get(hashed)
        if pending is None:
            pending = self._pending[hashed] = asyncio.ensure_future(self._look_up(key, hashed))
        return await asyncio.shield(pending)  # a client that leaves does not cancel the others' answer

    async def _look_up(self, key: str, hashed: str) -> bool:
        try:
            live = await self._lookup(key)
        finally:
            self._pending.pop(hashed, None)
        if live:
            self.live.add(hashed, self.live_s)
        else:
            self.unknown.add(hashed, self.unknown_s)
        return live

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
