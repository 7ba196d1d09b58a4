"""Requests without a key are rate-limited per client address at the gateway."""

from gateway.ratelimit import AddressBuckets


def test_an_address_past_its_anonymous_rate_gets_429_and_others_do_not(settings, upstream, through_gateway):
    settings.AITBC_RATELIMIT_ANONYMOUS = "3/minute"

    async def scenario(gateway):
        first = [await gateway.request("GET", "/ai/v1/jobs", address="198.51.100.1") for _ in range(4)]
        other = await gateway.request("GET", "/ai/v1/jobs", address="198.51.100.2")
        return first, other

    first, other = through_gateway(scenario)
    assert [r.status_code for r in first] == [200, 200, 200, 429]
    assert first[3].json()["code"] == "rate_limited"
    assert 1 <= int(first[3].headers["retry-after"]) <= 20  # one token back every 20 s at 3/minute
    assert other.status_code == 200
    assert len(upstream.requests) == 4  # the refused one never reached the service


def test_an_ipv6_host_is_limited_by_its_64_and_a_forged_forwarded_for_changes_nothing(
    settings, upstream, through_gateway
):
    settings.AITBC_RATELIMIT_ANONYMOUS = "2/minute"

    async def scenario(gateway):
        codes = []
        for n in range(3):
            forged = {"X-Forwarded-For": f"203.0.113.{n}"}
            response = await gateway.request("GET", "/ai/v1/jobs", address=f"2001:db8::{n + 1}", headers=forged)
            codes.append(response.status_code)
        return codes

    assert through_gateway(scenario) == [200, 200, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(settings, upstream, through_gateway):
    settings.AITBC_RATELIMIT_ANONYMOUS = "1/minute"
    settings.AITBC_GATEWAY_TRUSTED_PROXIES = ["10.0.0.1"]

    async def scenario(gateway):
        codes = []
        for client in ("203.0.113.1", "203.0.113.2", "203.0.113.1"):
            forwarded = {"X-Forwarded-For": f"6.6.6.6, {client}"}  # the leftmost is the client's own say
            response = await gateway.request("GET", "/ai/v1/jobs", address="10.0.0.1", headers=forwarded)
            codes.append(response.status_code)
        return codes

    assert through_gateway(scenario) == [200, 200, 429]


def test_the_buckets_remember_a_bounded_number_of_addresses():
    buckets = AddressBuckets("1/hour", size=10, clock=lambda: 0.0)
    for n in range(1000):
        assert buckets.take(f"192.0.2.{n}") == 0
    assert len(buckets) == 10
    assert buckets.take("192.0.2.999") > 0  # the most recent addresses are still counted


def test_an_empty_rate_turns_the_anonymous_limit_off():
    buckets = AddressBuckets("", clock=lambda: 0.0)
    assert [buckets.take("192.0.2.1") for _ in range(1000)] == [0.0] * 1000
