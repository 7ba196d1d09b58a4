import pytest
from django.test import override_settings

from aitbc_site.errors import ApiError, Conflict, Invalid, PaymentRequired
from apps.ai.models import Job, JobState
from apps.trading.facade import account_balances
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_submitted_job_is_queued_with_its_max_price_held():
    client, _ = trading_factories.funded_client("10")
    job = ai_factories.job(client, max_price="4")
    assert job.state == JobState.QUEUED
    balances = account_balances(client.id)
    assert (balances["balance"], balances["held"], balances["available"]) == (10, 4, 6)


def test_a_client_that_cannot_cover_max_price_gets_402_and_nothing_is_stored_or_held():
    client, _ = trading_factories.funded_client("1")
    with pytest.raises(PaymentRequired, match="only 1.00000000 AIT is available"):
        ai_factories.job(client, max_price="2")
    assert Job.objects.count() == 0
    assert account_balances(client.id)["held"] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "nope"}, "unknown job type 'nope'"),
        ({"type": "sleep", "payload": {"seconds": -1}}, "payload.seconds"),
        ({"type": "matmul", "payload": {"n": 0}}, "payload.n"),
        ({"ttl": 10}, "ttl_seconds must be from 60 to 86400"),
        ({"ttl": 86401}, "ttl_seconds"),
        ({"constraints": {"cuda": "twelve"}}, "constraints.cuda"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored_or_held(kwargs, message):
    client, _ = trading_factories.funded_client()
    with pytest.raises(Invalid, match=message):
        ai_factories.job(client, **kwargs)
    assert Job.objects.count() == 0
    assert account_balances(client.id)["held"] == 0


@override_settings(AITBC_MAX_PAYLOAD_BYTES=100)
def test_a_payload_over_the_limit_is_413():
    client, _ = trading_factories.funded_client()
    with pytest.raises(ApiError) as raised:
        ai_factories.job(client, payload={"blob": "x" * 200})
    assert raised.value.status == 413
    assert Job.objects.count() == 0


def test_the_same_idempotency_key_returns_the_same_job_and_holds_once():
    client, _ = trading_factories.funded_client("10")
    first = ai_factories.job(client, max_price="3", key="abc")
    again = ai_factories.job(client, max_price="3", key="abc")
    assert again.id == first.id
    assert account_balances(client.id)["held"] == 3


def test_the_same_idempotency_key_with_another_body_is_409():
    client, _ = trading_factories.funded_client("10")
    ai_factories.job(client, max_price="3", key="abc")
    with pytest.raises(Conflict, match="Idempotency-Key"):
        ai_factories.job(client, max_price="4", key="abc")
    assert Job.objects.count() == 1


def test_constraints_no_miner_has_are_accepted_and_the_job_says_why_it_waits():
    from apps.ai.selectors.jobs import job_view

    gpu_factories.miner(region="eu")
    client, _ = trading_factories.funded_client()
    job = ai_factories.job(client, constraints={"region": "mars"})
    assert job.state == JobState.QUEUED
    assert "no online miner matches" in job_view(job, explain=True)["waiting_reason"]
    assert "region 'mars'" in job_view(job, explain=True)["waiting_reason"]
