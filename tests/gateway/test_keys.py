"""Key checks at the edge: unknown keys are remembered for a while in a set of bounded size, lookups do not
queue behind each other, and live keys do not pay the anonymous rate (a real database behind them)."""

import asyncio
import threading

import pytest

from apps.accounts import selectors
from gateway.keys import ExpiringSet

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


def test_a_second_request_with_the_same_unknown_key_does_no_lookup(upstream, through_gateway, key_lookups):
    async def scenario(gateway):
        headers = {"Authorization": "Bearer aitbc_forged"}
        return [await gateway.request("GET", "/ai/v1/jobs", headers=headers) for _ in range(3)]

    responses = through_gateway(scenario)
    assert [r.status_code for r in responses] == [401, 401, 401]
    assert {r.json()["code"] for r in responses} == {"unauthenticated"}
    assert key_lookups == ["aitbc_forged"]
    assert upstream.started == []


def test_unknown_keys_are_forgotten_oldest_first_once_the_cache_is_full(
    settings, upstream, through_gateway, key_lookups
):
    settings.AITBC_GATEWAY_KEY_CACHE_SIZE = 2

    async def scenario(gateway):
        for key in ("aitbc_one", "aitbc_two", "aitbc_three", "aitbc_three", "aitbc_one"):
            await gateway.request("GET", "/ai/v1/jobs", headers={"X-Api-Key": key})
        return len(gateway.proxy.keys.unknown)

    assert through_gateway(scenario) == 2
    assert key_lookups == ["aitbc_one", "aitbc_two", "aitbc_three", "aitbc_one"]  # one was pushed out by three


def test_a_flood_of_made_up_keys_keeps_the_cache_at_its_size():
    now = [0.0]
    unknown = ExpiringSet(size=100, clock=lambda: now[0])
    for n in range(10_000):
        unknown.add(f"key-{n}", seconds=5)
    assert len(unknown) == 100
    assert "key-9999" in unknown and "key-0" not in unknown
    now[0] = 5.0
    assert "key-9999" not in unknown  # and each is forgotten after its few seconds


def test_two_key_lookups_run_at_the_same_time_not_one_after_the_other(settings, upstream, through_gateway, monkeypatch):
    # given a lookup that can only finish once a second one is running beside it
    from apps.accounts import selectors

    both_running = threading.Barrier(2, timeout=10)
    real = selectors.principal_for_key

    def side_by_side(key):
        both_running.wait()  # on one shared thread the second never starts: BrokenBarrierError
        return real(key)

    monkeypatch.setattr(selectors, "principal_for_key", side_by_side)

    async def scenario(gateway):
        calls = [gateway.request("GET", "/ai/v1/jobs", headers={"X-Api-Key": key}) for key in ("k_one", "k_two")]
        return await asyncio.gather(*calls)

    assert [r.status_code for r in through_gateway(scenario)] == [401, 401]


def test_a_live_key_is_looked_up_once_and_never_pays_the_anonymous_rate(
    settings, upstream, through_gateway, key_lookups, make_key
):
    settings.AITBC_RATELIMIT_ANONYMOUS = "2/minute"
    _, key = make_key("client")

    async def scenario(gateway):
        keyed = [await gateway.request("GET", "/ai/v1/jobs", headers={"X-Api-Key": key}) for _ in range(4)]
        anonymous = [await gateway.request("GET", "/ai/v1/jobs") for _ in range(3)]
        return keyed, anonymous

    keyed, anonymous = through_gateway(scenario)
    assert [r.status_code for r in keyed] == [200, 200, 200, 200]
    assert key_lookups == [key]
    assert [r.status_code for r in anonymous] == [200, 200, 429]  # the address's two tokens were all still there


def test_a_key_check_the_database_cannot_answer_is_a_503_and_does_not_reach_the_service(
    monkeypatch, upstream, through_gateway
):
    from django.db import OperationalError

    def unreachable(key):
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "principal_for_key", unreachable)

    async def scenario(gateway):
        return await gateway.request("GET", "/ai/v1/jobs", headers={"X-Api-Key": "aitbc_whoever"})

    answer = through_gateway(scenario)
    assert (answer.status_code, answer.json()["code"], answer.headers["retry-after"]) == (
        503, "database_unavailable", "1",
    )  # fmt: skip
    assert upstream.started == []
