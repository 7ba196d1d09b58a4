"""Upstream pools and the breaker: the gateway's own pool running dry is the gateway's problem (503
gateway_busy) and never opens the breaker; the service's 5xx do; long-polls and each service have their
own connections. The fake service holds requests marked X-Hold until the test releases them."""

import asyncio

import pytest

HOLD = {"X-Hold": "1"}


async def until(condition) -> None:
    """Waits (yielding to the event loop) until the fake service has seen what the test needs."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the fake service never saw the request")


@pytest.fixture
def one_connection(settings):
    settings.AITBC_GATEWAY_POOL_CONNECTIONS = 1
    settings.AITBC_GATEWAY_LONGPOLL_CONNECTIONS = 1
    settings.AITBC_GATEWAY_POOL_WAIT_S = 0.05
    settings.AITBC_GATEWAY_BREAKER_FAILURES = 3


def test_requests_that_find_the_pool_full_get_gateway_busy_and_do_not_open_the_breaker(
    one_connection, upstream, through_gateway
):
    # given one connection to ai, taken by a request the service holds
    async def scenario(gateway):
        held = asyncio.ensure_future(gateway.request("GET", "/ai/v1/jobs", headers=HOLD))
        await until(lambda: len(upstream.requests) == 1)
        # when five more anonymous requests find no free connection
        busy = await asyncio.gather(*(gateway.request("GET", "/ai/v1/jobs") for _ in range(5)))
        upstream.release.set()
        return await held, busy, gateway.proxy.breaker.retry_after("ai"), await gateway.request("GET", "/ai/v1/jobs")

    held, busy, retry_after, after = through_gateway(scenario)
    assert {r.status_code for r in busy} == {503}
    assert {r.json()["code"] for r in busy} == {"gateway_busy"}
    assert all(int(r.headers["retry-after"]) >= 1 for r in busy)
    assert held.status_code == 200
    assert retry_after is None  # the breaker is still closed
    assert after.status_code == 200


def test_a_run_of_5xx_from_the_service_opens_the_breaker(one_connection, upstream, through_gateway):
    upstream.status = 500

    async def scenario(gateway):
        return [await gateway.request("GET", "/ai/v1/jobs") for _ in range(4)]

    responses = through_gateway(scenario)
    assert [r.status_code for r in responses] == [500, 500, 500, 503]
    assert responses[3].json()["code"] == "circuit_open"
    assert len(upstream.requests) == 3  # the fourth was answered at the edge


def test_answers_below_500_keep_the_breaker_closed(one_connection, upstream, through_gateway):
    upstream.status = 404

    async def scenario(gateway):
        return [await gateway.request("GET", "/ai/v1/jobs") for _ in range(5)]

    assert {r.status_code for r in through_gateway(scenario)} == {404}


def test_long_polls_and_ordinary_requests_each_have_their_own_connections(one_connection, upstream, through_gateway):
    # given one connection for long-polls and one for the rest: a held poll and a held request both reach gpu
    async def scenario(gateway):
        polling = asyncio.ensure_future(gateway.request("POST", "/gpu/v1/miners/poll", json={}, headers=HOLD))
        held = asyncio.ensure_future(gateway.request("GET", "/gpu/v1/gpus", headers=HOLD))
        await until(lambda: len(upstream.requests) == 2)
        # and a second poll finds the long-poll connection taken
        second_poll = await gateway.request("POST", "/gpu/v1/miners/poll", json={})
        upstream.release.set()
        return await polling, await held, second_poll

    polling, held, second_poll = through_gateway(scenario)
    assert (polling.status_code, held.status_code) == (200, 200)
    assert second_poll.status_code == 503 and second_poll.json()["code"] == "gateway_busy"


def test_a_poll_is_not_held_up_by_ordinary_requests_filling_their_pool(one_connection, upstream, through_gateway):
    async def scenario(gateway):
        held = asyncio.ensure_future(gateway.request("GET", "/gpu/v1/gpus", headers=HOLD))
        await until(lambda: len(upstream.requests) == 1)
        poll = await gateway.request("POST", "/gpu/v1/miners/poll", json={})
        upstream.release.set()
        return poll, await held

    poll, held = through_gateway(scenario)
    assert poll.status_code == 200
    assert upstream.requests[1].path == "/v1/miners/poll"


def test_each_service_has_its_own_connections(one_connection, upstream, through_gateway):
    async def scenario(gateway):
        held = asyncio.ensure_future(gateway.request("GET", "/ai/v1/jobs", headers=HOLD))
        await until(lambda: len(upstream.requests) == 1)
        other = await gateway.request("GET", "/plugin/v1/plugins")
        upstream.release.set()
        return other, await held

    other, held = through_gateway(scenario)
    assert other.status_code == 200


def test_a_trial_request_that_finds_the_pool_full_leaves_the_trial_to_the_next_one(
    one_connection, upstream, through_gateway
):
    # given ai's one connection taken, and an open breaker whose pause is over
    async def scenario(gateway):
        breaker, now = gateway.proxy.breaker, [0.0]
        breaker.clock = lambda: now[0]
        held = asyncio.ensure_future(gateway.request("GET", "/ai/v1/jobs", headers=HOLD))
        await until(lambda: len(upstream.requests) == 1)
        for _ in range(3):
            breaker.failure("ai")
        now[0] = 100.0
        busy = await gateway.request("GET", "/ai/v1/jobs")  # the trial, refused by the gateway's own pool
        next_one_may_try = breaker.retry_after("ai") is None
        upstream.release.set()
        await held
        return busy, next_one_may_try

    busy, next_one_may_try = through_gateway(scenario)
    assert busy.json()["code"] == "gateway_busy"
    assert next_one_may_try
