"""Treasury, analytics, transparency reports, /governance/status and the /v1/transactions log."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.governance.models import Proposal, TransparencyReport
from apps.governance.services.execution import proposal_execute
from apps.governance.services.reports import report_generate, reports_generate_due
from apps.governance.services.voting import vote_cast
from apps.governance.tasks import generate_reports, sweep_fees
from apps.trading.models import AccountKind
from apps.trading.services.ledger import system_account
from tests.governance.helpers import DAY, elapse, holder, passed, propose, settled_job_receipt

pytestmark = pytest.mark.django_db(databases="__all__")


def test_the_treasury_reports_balance_allocation_and_flows_by_source_from_the_ledger(api):
    voter, key = holder("1000")  # an admin credit: treasury outflow
    recipient, _ = holder()
    fee = settled_job_receipt()["fee"]
    sweep_fees()
    paid = passed(propose(voter, "funding", {"to_principal_id": str(recipient.id), "amount": "30"}), voter)
    proposal_execute(executor=voter, proposal_id=paid.id)
    passed(propose(voter, "funding", {"to_principal_id": str(recipient.id), "amount": "12"}), voter)
    propose(voter, "funding", {"to_principal_id": str(recipient.id), "amount": "7"})
    report = api("governance", key).get("/v1/governance/treasury").json()
    assert report["balance"] == str(system_account(AccountKind.TREASURY).balance)
    assert (report["allocated"], report["requested"]) == ("12.00000000", "7.00000000")
    assert report["paid_out"] == "30.00000000"
    assert report["inflow"]["platform_fees"] == fee
    assert report["outflow"]["funding_proposals"] == "30.00000000"
    assert report["outflow"]["admin_credits"] == "1100.00000000"  # the voter's 1000 and the job client's 100


def test_analytics_and_status_count_proposals_by_their_status_now(api):
    voter, key = holder("1000")
    passed_one = passed(propose(voter, "text"), voter)
    proposal_execute(executor=voter, proposal_id=passed_one.id)
    defeated = elapse(propose(voter, "text"), DAY)
    vote_cast(voter=voter, proposal_id=defeated.id, choice="against")
    elapse(defeated, 7 * DAY)
    propose(voter, "text")
    analytics = api("governance", key).get("/v1/governance/analytics").json()
    assert analytics["proposals"]["by_status"] == {
        "PENDING": 1, "ACTIVE": 0, "SUCCEEDED": 0, "DEFEATED": 1, "EXECUTED": 1, "CANCELED": 0}  # fmt: skip
    assert (analytics["pass_rate"], analytics["votes_cast"], analytics["active_voters"]) == ("0.5000", 2, 1)
    assert analytics["voting_power_cast"] == "2000.00000000"
    status = api("governance").get("/governance/status").json()  # the seed's path, no key needed
    assert (status["proposals"]["DEFEATED"], status["open_votes"]) == (1, 0)
    assert status["rules"]["quorum"] == "1000.00000000"
    assert status["rules"]["voting_delay_s"] == DAY


def test_a_report_of_today_tells_what_happened_and_the_beat_finalises_past_periods(api):
    voter, key = holder("1000")
    recipient, _ = holder()
    paid = passed(propose(voter, "funding", {"to_principal_id": str(recipient.id), "amount": "9"}), voter)
    proposal_execute(executor=voter, proposal_id=paid.id)
    defeated = elapse(propose(voter, "text"), DAY)
    vote_cast(voter=voter, proposal_id=defeated.id, choice="against")
    elapse(defeated, 7 * DAY)  # its vote ends now
    report = report_generate(period="day")
    assert report.final is False
    data = report.data
    assert (data["proposals_created"], data["votes_cast"], data["active_voters"]) == (2, 2, 1)
    assert data["voting_power_cast"] == "2000.00000000"
    assert data["executed"][0]["result"]["amount"] == "9.00000000"
    assert data["treasury"]["outflow"]["funding_proposals"] == "9.00000000"
    assert [(v["proposal_id"], v["outcome"]) for v in data["votes_closed"]] == [(str(defeated.id), "DEFEATED")]
    listed = api("governance", key).get("/v1/governance/reports?period=day").json()
    assert [r["report_id"] for r in listed["items"]] == [str(report.id)]
    assert api("governance", key).get(f"/v1/governance/reports/{report.id}").json()["data"]["votes_cast"] == 2

    made = generate_reports()
    assert len(made) == 3
    yesterday = TransparencyReport.objects.get(period="day", period_start__lt=report.period_start)
    assert (yesterday.final, yesterday.data["votes_cast"]) == (True, 0)
    reports_generate_due()
    assert TransparencyReport.objects.filter(period="day").count() == 2


def test_a_final_report_is_never_rewritten():
    yesterday = timezone.now().date() - timedelta(days=1)
    first = report_generate(period="day", day=yesterday)
    voter, _ = holder("1000")
    propose(voter)
    Proposal.objects.update(created_at=first.period_start + timedelta(hours=1))
    again = report_generate(period="day", day=yesterday)
    assert (again.id, again.generated_at, again.data["proposals_created"]) == (first.id, first.generated_at, 0)


def test_the_transactions_log_lists_what_happened_newest_first(api):
    voter, key = holder("1000")
    other, _ = holder()
    proposal = passed(propose(voter, "text"), voter)
    proposal_execute(executor=other, proposal_id=proposal.id)
    log = api("governance", key).get(f"/v1/transactions?proposal_id={proposal.id}").json()
    assert [e["kind"] for e in log["items"]] == ["executed", "succeeded", "voted", "voting_started", "proposed"]
    shown = api("governance", key).post(
        "/v1/transactions", {"action": "show", "params": {"proposal_id": str(proposal.id)}}
    )
    assert (shown.status_code, shown.json()["status"]) == (200, "EXECUTED")
    made = api("governance", key).post(
        "/v1/transactions", {"action": "propose", "params": {"title": "t", "category": "text"}}
    )
    assert (made.status_code, made.json()["status"]) == (201, "PENDING")
    bad = api("governance", key).post("/v1/transactions", {"action": "vote", "params": {"vote": "for"}})
    assert (bad.status_code, bad.json()["detail"]) == (422, "vote.params.proposal_id: Field required")
