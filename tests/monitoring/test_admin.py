"""The Django admin: every model of every domain, each read from its own database; money, receipts and
blocks read-only; actions that call the same services as the API and change state exactly as it would."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.utils import timezone

from aitbc_site.router import database_for_app
from apps.accounts.models import ApiKey
from apps.accounts.selectors import principal_for_key
from apps.ai.models import Job, JobAttempt, JobState
from apps.ai.services.claim import job_claim
from apps.gpu.models import Gpu, GpuBooking, GpuStatus, Miner, MinerStatus
from apps.gpu.services.bookings import gpu_book
from apps.trading.facade import account_balances
from apps.trading.models import Account, Block, Entry, Receipt
from apps.trading.services.blocks import block_seal
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")
DOMAINS_HERE = ("accounts", "ai", "gpu", "marketplace", "trading", "monitoring", "governance", "hermes", "plugin")
MODELS = sorted(
    (m for m in admin.site._registry if m._meta.app_label in DOMAINS_HERE), key=lambda m: m._meta.label
)  # fmt: skip


@pytest.fixture
def browser(api):
    """A superuser's session in the gateway's admin: a Django test client posting the admin's forms."""
    root = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client = api("gateway").client
    client.force_login(root)
    return client


def changelist(model) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


def act(browser, model, action: str, objects) -> None:
    """Runs an admin action on the selected objects, as the changelist's form does."""
    data = {"action": action, "_selected_action": [str(o.pk) for o in objects], "index": 0}
    response = browser.post(changelist(model), data)
    assert response.status_code == 302, response.content[:500]


def test_every_model_of_every_domain_here_is_registered():
    from django.apps import apps

    for label in DOMAINS_HERE:
        for model in apps.get_app_config(label).get_models():
            assert model in admin.site._registry, model._meta.label


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_each_changelist_reads_its_own_database_and_searches(browser, model):
    model_admin = admin.site._registry[model]
    request = browser.get(changelist(model)).wsgi_request
    assert model_admin.get_queryset(request).db == database_for_app(model._meta.app_label)
    assert browser.get(changelist(model)).status_code == 200
    assert browser.get(changelist(model), {"q": str(uuid.uuid4())}).status_code == 200


def test_rows_of_each_domain_are_found_in_the_admin(browser, committed):
    client, _ = trading_factories.funded_client("20")
    miner = gpu_factories.miner()
    job = ai_factories.job(client)
    block_seal()
    block = Block.objects.get()
    for model, obj, text in [
        (Job, job, str(job.id)),
        (Miner, Miner.objects.get(id=miner.id), gpu_factories.H100["name"]),
        (Account, Account.objects.get(owner_id=client.id), "20.00000000"),
        (Block, block, block.hash),
    ]:
        page = browser.get(f"{changelist(model)}{obj.pk}/change/")
        assert page.status_code == 200
        assert text in page.content.decode()
    assert str(job.id) in browser.get(changelist(Job), {"q": str(job.id)}).content.decode()


@pytest.mark.parametrize("model", [Job, Account, Entry, Receipt, Block, GpuBooking])
def test_money_receipts_and_blocks_are_read_only(browser, model):
    model_admin = admin.site._registry[model]
    request = browser.get(changelist(model)).wsgi_request
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert browser.get(f"{changelist(model)}add/").status_code == 403


def running_jobs(count: int):
    client, _ = trading_factories.funded_client("50")
    miner = gpu_factories.miner()
    jobs = [ai_factories.job(client) for _ in range(count)]
    claimed = [job_claim(miner=miner) for _ in jobs]
    return client, miner, [Job.objects.get(id=j.id) for j in claimed]


def job_fields(job_id) -> tuple:
    job = Job.objects.get(id=job_id)
    last = JobAttempt.objects.filter(job=job).order_by("-number").first()
    return (
        job.state,
        job.assigned_miner_id,
        job.lease_expires_at,
        job.attempts,
        last.outcome,
        (last.error or {}).get("code"),
    )


def test_requeue_sends_a_running_job_back_to_the_queue_as_the_api_does(browser, api, admin_key, committed):
    _, _, (by_admin, by_api) = running_jobs(2)

    committed(act, browser, Job, "requeue", [by_admin])
    answer = committed(api("ai", admin_key).post, f"/v1/jobs/{by_api.id}/requeue")

    assert answer.status_code == 200
    assert job_fields(by_admin.id) == job_fields(by_api.id) == (JobState.QUEUED, None, None, 1, "requeued", "requeued")


def test_cancel_cancels_and_refunds_as_the_api_does(browser, api, admin_key, committed):
    client, _, (by_admin, by_api) = running_jobs(2)
    assert account_balances(client.id)["held"] == Decimal(10)

    committed(act, browser, Job, "cancel", [by_admin])
    answer = committed(api("ai", admin_key).post, f"/v1/jobs/{by_api.id}/cancel")

    assert answer.status_code == 200
    assert (
        job_fields(by_admin.id)[:3]
        == job_fields(by_api.id)[:3]
        == (JobState.CANCELED, by_admin.assigned_miner_id, None)
    )
    assert job_fields(by_admin.id)[4:] == job_fields(by_api.id)[4:] == ("canceled", None)
    assert account_balances(client.id)["held"] == 0
    assert account_balances(client.id)["balance"] == Decimal(50)


def test_an_action_refused_by_the_service_changes_nothing_and_says_why(browser, committed):
    _, _, (job,) = running_jobs(1)
    committed(act, browser, Job, "cancel", [job])
    page = browser.post(changelist(Job), {"action": "requeue", "_selected_action": [str(job.id)]}, follow=True)
    assert "is CANCELED; only a queued, assigned or running job can be requeued" in page.content.decode()
    assert Job.objects.get(id=job.id).state == JobState.CANCELED


def test_revoking_a_key_works_as_the_api_revoke_does(browser, api, make_key):
    by_admin, by_api = make_key("client"), make_key("client")
    key_of = {principal: ApiKey.objects.get(principal_id=principal) for principal, _ in (by_admin, by_api)}

    act(browser, ApiKey, "revoke", [key_of[by_admin[0]]])
    answer = api("ai", by_api[1]).delete(f"/v1/principals/me/keys/{key_of[by_api[0]].id}")

    assert answer.status_code == 204
    for principal, key in (by_admin, by_api):
        assert ApiKey.objects.get(principal_id=principal).revoked_at is not None
        assert principal_for_key(key) is None


def test_deregistering_a_miner_works_as_the_api_does(browser, api, admin_key, committed):
    _, by_admin, (job_a,) = running_jobs(1)
    _, by_api, (job_b,) = running_jobs(1)

    committed(act, browser, Miner, "deregister", [Miner.objects.get(id=by_admin.id)])
    answer = committed(api("gpu", admin_key).delete, f"/v1/miners/{by_api.id}")

    assert answer.status_code == 204
    for miner, job in ((by_admin, job_a), (by_api, job_b)):
        assert Miner.objects.get(id=miner.id).status == MinerStatus.OFFLINE
        assert set(Gpu.objects.filter(miner_id=miner.id).values_list("status", flat=True)) == {GpuStatus.OFFLINE}
        assert Job.objects.get(id=job.id).state == JobState.QUEUED
        assert Job.objects.get(id=job.id).assigned_miner_id is None


def test_sealing_a_block_now_seals_what_the_api_seal_would(browser, api, admin_key):
    trading_factories.funded_client("5")
    unsealed = Entry.objects.filter(block_height__isnull=True).count()

    sealed = browser.post("/admin/trading/block/seal/", follow=True)

    assert "Sealed block 0 with" in sealed.content.decode()
    block = Block.objects.get()
    assert block.tx_count == unsealed
    assert not Entry.objects.filter(block_height__isnull=True).exists()
    assert "Nothing new to seal" in browser.post("/admin/trading/block/seal/", follow=True).content.decode()
    assert browser.get("/admin/trading/block/seal/").status_code == 405
    trading_factories.funded_client("5")
    answer = api("trading", admin_key).post("/v1/explorer/seal")
    assert answer.json()["block"]["height"] == 1
    assert Block.objects.get(height=1).prev_hash == block.hash


@pytest.fixture
def frozen(monkeypatch):
    moment = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


def test_releasing_a_booking_pays_pro_rata_and_refunds_as_the_api_does(browser, api, admin_key, frozen):
    client, _ = trading_factories.funded_client("200")
    bookings = []
    for _ in range(2):
        miner = gpu_factories.miner(unit_price="0.01")
        gpu = Gpu.objects.get(miner_id=miner.id)
        booking = gpu_book(client=client, gpu_id=gpu.id, hours=Decimal(2))
        GpuBooking.objects.filter(id=booking.id).update(
            starts_at=frozen - timedelta(minutes=30), ends_at=frozen + timedelta(minutes=90)
        )
        bookings.append(booking)
    by_admin, by_api = bookings

    act(browser, GpuBooking, "release", [by_admin])
    answer = api("gpu", admin_key).post(f"/v1/bookings/{by_api.id}/release")

    assert answer.status_code == 200
    fields = ("status", "paid", "fee", "refunded", "ended_at")
    released = [GpuBooking.objects.filter(id=b.id).values_list(*fields).get() for b in bookings]
    assert released[0] == released[1]
    assert released[0][0] == "RELEASED"
    assert released[0][1] + released[0][2] == Decimal(18)  # a quarter of 2 h x 36 AIT/h
    assert account_balances(client.id)["balance"] == Decimal(200) - 2 * Decimal(18)
    assert account_balances(client.id)["held"] == 0


def test_only_an_admin_key_may_requeue_through_the_api(api, make_key, committed):
    _, _, (job,) = running_jobs(1)
    _, key = make_key("client")
    refused = api("ai", key).post(f"/v1/jobs/{job.id}/requeue")
    assert refused.status_code == 403
    assert Job.objects.get(id=job.id).state == JobState.RUNNING
