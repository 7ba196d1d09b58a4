"""Executing passed proposals: parameters take effect (the fee in the next receipt), funding pays from the
treasury through the ledger, and nothing executes early, twice, or when the treasury cannot cover it."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from aitbc_site.errors import Conflict, Invalid
from aitbc_site.parameters import parameter_get
from apps.governance.facade import parameter_set
from apps.governance.models import Event, Proposal
from apps.governance.selectors import proposal_view
from apps.governance.services.execution import funding_key, proposal_execute
from apps.governance.services.voting import vote_cast
from apps.governance.treasury import treasury_view
from apps.trading.facade import account_balances, fees_sweep, treasury_pay
from apps.trading.models import AccountKind, Entry
from apps.trading.services.ledger import system_account
from tests.concurrency import at_once
from tests.governance.helpers import DAY, elapse, holder, passed, propose, settled_job_receipt
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def test_an_executed_fee_proposal_changes_the_fee_in_the_next_receipt():
    holders = [holder("700")[0], holder("500")[0]]
    assert settled_job_receipt()["fee"] == "0.05000000"  # 2.5% of 2 AIT
    proposal = propose(holders[0], "parameter", {"parameter": "platform_fee_bps", "value": 500})
    proposal = passed(proposal, *holders)
    anyone, _ = holder()
    executed = proposal_execute(executor=anyone, proposal_id=proposal.id)
    assert executed.status == "EXECUTED"
    assert executed.execution_result == {"parameter": "platform_fee_bps", "old_value": 250, "new_value": 500}
    assert parameter_get("platform_fee_bps") == 500
    assert settled_job_receipt()["fee"] == "0.10000000"  # 5% of 2 AIT


def test_executing_before_the_timelock_ends_is_409_and_changes_nothing():
    voter, _ = holder("1000")
    proposal = propose(voter, "parameter", {"parameter": "lease_timeout_s", "value": 60})
    elapse(proposal, DAY)
    vote_cast(voter=voter, proposal_id=proposal.id, choice="for")
    elapse(proposal, 7 * DAY)  # voting over, SUCCEEDED, 2 days of timelock left
    with pytest.raises(Conflict, match="the timelock runs until"):
        proposal_execute(executor=voter, proposal_id=proposal.id)
    assert parameter_get("lease_timeout_s") == 30
    elapse(proposal, 2 * DAY)
    proposal_execute(executor=voter, proposal_id=proposal.id)
    assert parameter_get("lease_timeout_s") == 60


def test_a_defeated_or_active_proposal_cannot_be_executed():
    voter, _ = holder("1000")
    proposal = propose(voter, "parameter", {"parameter": "job_max_attempts", "value": 5})
    elapse(proposal, DAY)
    with pytest.raises(Conflict, match="this one is ACTIVE"):
        proposal_execute(executor=voter, proposal_id=proposal.id)
    vote_cast(voter=voter, proposal_id=proposal.id, choice="against")
    elapse(proposal, 9 * DAY)
    with pytest.raises(Conflict, match="this one is DEFEATED"):
        proposal_execute(executor=voter, proposal_id=proposal.id)
    assert parameter_get("job_max_attempts") == 3


def test_a_funding_proposal_pays_its_recipient_from_the_treasury_once():
    voter, _ = holder("1000")
    recipient, _ = holder()
    before = system_account(AccountKind.TREASURY).balance
    proposal = passed(propose(voter, "funding", {"to_principal_id": str(recipient.id), "amount": "250.5"}), voter)
    assert treasury_view()["allocated"] == "250.50000000"
    proposal_execute(executor=recipient, proposal_id=proposal.id)
    with pytest.raises(Conflict, match="already executed"):
        proposal_execute(executor=voter, proposal_id=proposal.id)
    assert account_balances(recipient.id)["balance"] == Decimal("250.5")
    assert system_account(AccountKind.TREASURY).balance == before - Decimal("250.5")
    entry = Entry.objects.get(key=funding_key(proposal.id))
    assert (entry.kind, entry.reference) == ("dao_funding", str(proposal.id))
    report = treasury_view()
    assert (report["allocated"], report["paid_out"]) == ("0.00000000", "250.50000000")
    assert report["outflow"]["funding_proposals"] == "250.50000000"


def test_a_grant_the_shrunken_treasury_can_no_longer_spare_is_409_and_stays_executable():
    voter, _ = holder("1000")
    recipient, drained = holder()[0], holder()[0]
    proposal = passed(propose(voter, "funding", {"to_principal_id": str(recipient.id), "amount": "1000"}), voter)
    left = Decimal(5000)  # the treasury pays out all but 5000 AIT before the grant is executed: 10% is 500
    trading_factories.treasury_credit_to(drained.id, str(system_account(AccountKind.TREASURY).balance - left))
    with pytest.raises(Conflict, match=r"at most 10% of the treasury \(500.00000000 of its 5000.00000000") as refused:
        proposal_execute(executor=voter, proposal_id=proposal.id)
    assert refused.value.code == "treasury_share_exceeded"
    assert proposal_view(Proposal.objects.get(id=proposal.id))["status"] == "SUCCEEDED"
    assert account_balances(recipient.id)["balance"] == 0
    assert not Entry.objects.filter(key=funding_key(proposal.id)).exists()
    parameter_set("treasury_max_share_bps", 2500)  # 1250 of 5000 now: the same proposal executes
    assert proposal_execute(executor=voter, proposal_id=proposal.id).status == "EXECUTED"
    assert account_balances(recipient.id)["balance"] == Decimal(1000)
    assert system_account(AccountKind.TREASURY).balance == left - 1000


def test_the_ledger_refuses_to_pay_more_than_the_treasury_holds():
    recipient, _ = holder()
    supply = system_account(AccountKind.TREASURY).balance
    with pytest.raises(Conflict, match="the treasury holds") as refused:
        treasury_pay(to_owner=recipient.id, amount=supply + 1, key="test:too-much")
    assert refused.value.code == "treasury_insufficient"
    assert account_balances(recipient.id)["balance"] == 0
    assert not Entry.objects.filter(key="test:too-much").exists()


@pytest.mark.parametrize(
    ("category", "payload", "message"),
    [
        ("parameter", {"parameter": "gas_price", "value": 1}, "unknown parameter 'gas_price'"),
        ("parameter", {"parameter": "platform_fee_bps", "value": 5001}, "between 0 and 5000, not 5001"),
        ("parameter", {"parameter": "platform_fee_bps", "value": "500"}, "execution_payload.value: .* valid integer"),
        ("parameter", {"parameter": "job_ttl_min_s", "value": 86401}, "between 1 and 86400"),
        ("parameter", {"parameter": "job_ttl_max_s", "value": 59}, "between 60 and 604800"),
        ("funding", {"to_principal_id": "00000000-0000-0000-0000-000000000001", "amount": "5"}, "no active principal"),
        ("funding", {"to_principal_id": "not-a-uuid", "amount": "5"}, "execution_payload.to_principal_id: .* UUID"),
        ("text", {"parameter": "platform_fee_bps", "value": 1}, "a text proposal executes nothing"),
    ],
)
def test_a_bad_payload_is_422_and_creates_nothing(category, payload, message):
    proposer, _ = holder("1000")
    with pytest.raises(Invalid, match=message):
        propose(proposer, category, payload)
    assert Proposal.objects.count() == 0


def test_a_funding_amount_must_be_positive_with_at_most_8_decimals():
    proposer, _ = holder("1000")
    for amount in ("0", "-1", "1.000000001", "lots"):
        with pytest.raises(Invalid, match="execution_payload.amount"):
            propose(proposer, "funding", {"to_principal_id": str(proposer.id), "amount": amount})


def test_platform_fees_are_swept_into_the_treasury_and_reported_as_inflow():
    receipt = settled_job_receipt()
    fee = Decimal(receipt["fee"])
    before = system_account(AccountKind.TREASURY).balance
    assert treasury_view()["fees_pending_sweep"] == receipt["fee"]
    assert fees_sweep() == fee
    assert fees_sweep() == 0
    assert system_account(AccountKind.TREASURY).balance == before + fee
    report = treasury_view()
    assert (report["inflow"]["platform_fees"], report["fees_pending_sweep"]) == (receipt["fee"], "0.00000000")


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_two_concurrent_executions_execute_once():
    voter, _ = holder("1000")
    recipient, _ = holder()
    proposal = passed(propose(voter, "funding", {"to_principal_id": str(recipient.id), "amount": "40"}), voter)
    outcomes = at_once(lambda: proposal_execute(executor=voter, proposal_id=proposal.id), allowed=(Conflict,))
    assert sorted(o.code if isinstance(o, Conflict) else "executed" for o in outcomes) == [
        "already_executed",
        "executed",
    ]
    assert account_balances(recipient.id)["balance"] == Decimal(40)
    assert Entry.objects.filter(key=funding_key(proposal.id)).count() == 1
    assert Event.objects.filter(proposal_id=proposal.id, kind="executed").count() == 1


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_two_parameter_changes_at_once_cannot_together_break_the_ttl_rule():
    from django.db import transaction

    first_holds, release, outcomes = threading.Event(), threading.Event(), {}

    def raise_minimum():  # as an execution would: the change inside a transaction that commits later
        try:
            with transaction.atomic(using="governance"):
                parameter_set("job_ttl_min_s", 7200)
                first_holds.set()
                release.wait(10)
            outcomes["min"] = "set"
        finally:
            connections.close_all()

    def lower_maximum():
        try:
            parameter_set("job_ttl_max_s", 3600)
            outcomes["max"] = "set"
        except Invalid as exc:
            outcomes["max"] = exc.detail
        finally:
            connections.close_all()

    first = threading.Thread(target=raise_minimum)
    first.start()
    assert first_holds.wait(10)
    second = threading.Thread(target=lower_maximum)
    second.start()
    second.join(1)  # it waits for the first change to commit (without the lock it would be done already)
    release.set()
    first.join(10)
    second.join(10)
    assert outcomes == {"min": "set", "max": "job_ttl_min_s (7200) may not exceed job_ttl_max_s (3600)"}
    assert parameter_get("job_ttl_min_s") <= parameter_get("job_ttl_max_s")
