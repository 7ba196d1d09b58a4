import pytest

from apps.accounts.ratelimit import parse_rate

pytestmark = pytest.mark.django_db(databases="__all__")


def me(client, key):
    return client.get("/v1/principals/me", headers={"X-Api-Key": key})


def test_a_flood_from_one_key_is_throttled_with_retry_after_and_nobody_else_is(service_client, make_key, settings):
    settings.AITBC_RATELIMITS = {**settings.AITBC_RATELIMITS, "client": "3/minute"}
    client = service_client("gpu")
    _, flooder = make_key("client", "flooder")
    _, bystander = make_key("client", "bystander")
    assert [me(client, flooder).status_code for _ in range(3)] == [200, 200, 200]
    throttled = me(client, flooder)
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "rate_limited"
    assert 1 <= int(throttled["Retry-After"]) <= 20
    assert me(client, bystander).status_code == 200


def test_limits_are_per_role(service_client, make_key, settings):
    settings.AITBC_RATELIMITS = {**settings.AITBC_RATELIMITS, "client": "1/minute", "miner": "5/minute"}
    client = service_client("ai")
    _, customer = make_key("client")
    _, rig = make_key("miner")
    assert [me(client, customer).status_code for _ in range(2)] == [200, 429]
    assert [me(client, rig).status_code for _ in range(5)] == [200] * 5


@pytest.mark.parametrize("text", ["fast", "10/day", "0/minute", "-1/second"])
def test_a_malformed_rate_is_refused(text):
    with pytest.raises(ValueError, match="1200/minute"):
        parse_rate(text)


def test_a_rate_reads_as_capacity_and_refill():
    assert parse_rate("1200/minute") == (1200, 20.0)
    assert parse_rate("10/second") == (10, 10.0)
