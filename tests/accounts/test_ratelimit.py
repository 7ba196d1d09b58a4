import pytest

from apps.accounts.ratelimit import parse_rate

pytestmark = pytest.mark.django_db(databases="__all__")


def me(api, service, key):
    return api(service, key).get("/v1/principals/me")


def test_a_flood_from_one_key_is_throttled_with_retry_after_and_nobody_else_is(api, make_key, settings):
    settings.AITBC_RATELIMITS = {**settings.AITBC_RATELIMITS, "client": "3/minute"}
    _, flooder = make_key("client", "flooder")
    _, bystander = make_key("client", "bystander")
    assert [me(api, "gpu", flooder).status_code for _ in range(3)] == [200, 200, 200]
    throttled = me(api, "gpu", flooder)
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "rate_limited"
    assert 1 <= int(throttled["Retry-After"]) <= 20
    assert me(api, "gpu", bystander).status_code == 200


def test_limits_are_per_role(api, make_key, settings):
    settings.AITBC_RATELIMITS = {**settings.AITBC_RATELIMITS, "client": "1/minute", "miner": "5/minute"}
    _, customer = make_key("client")
    _, rig = make_key("miner")
    assert [me(api, "ai", customer).status_code for _ in range(2)] == [200, 429]
    assert [me(api, "ai", rig).status_code for _ in range(5)] == [200] * 5


@pytest.mark.parametrize("text", ["fast", "10/day", "0/minute", "-1/second"])
def test_a_malformed_rate_is_refused(text):
    with pytest.raises(ValueError, match="1200/minute"):
        parse_rate(text)


def test_a_rate_reads_as_capacity_and_refill():
    assert parse_rate("1200/minute") == (1200, 20.0)
    assert parse_rate("10/second") == (10, 10.0)
