"""Done when: holders propose raising the platform fee, vote, it passes on time (the beat), anyone executes
it, and the next job's receipt carries the new fee; a funding proposal pays its recipient from the treasury.
Real processes (`aitbc up` with beat and workers), driven through the CLI, with windows of seconds."""

import json
import time
from decimal import Decimal

import pytest

from aitbc_site.money import quantize
from aitbc_site.parameters import CACHE_SECONDS
from apps.governance.models import Proposal
from apps.trading.selectors.ledger import account_balances
from tests.processes import wait_for
from tests.stack import miner_started, stack_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases="__all__", transaction=True)]
WINDOWS = {"AITBC_GOVERNANCE_VOTING_DELAY_S": "3", "AITBC_GOVERNANCE_VOTING_PERIOD_S": "8",
           "AITBC_GOVERNANCE_TIMELOCK_S": "2"}  # fmt: skip


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with stack_running(**WINDOWS) as running:
        yield running


def cli_json(stack, *args, key: str) -> dict:
    done = stack.aitbc(*args, "--json", key=key)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_holders_raise_the_fee_and_fund_a_recipient_through_proposals(stack):
    admin, alice, bob = (stack.principal(r, n) for r, n in (("admin", "ops"), ("client", "alice"), ("client", "bob")))
    anyone, recipient = stack.principal("client", "carol"), stack.principal("client", "grantee")
    for holder, amount in ((alice, "700"), (bob, "500")):
        assert stack.aitbc("wallet", "credit", holder["principal_id"], amount, key=admin["key"]).returncode == 0

    fee_up = cli_json(stack, "gov", "propose", "--title", "Fee to 5%", "--category", "parameter",
                      "--parameter", "platform_fee_bps", "--value", "500", key=alice["key"])  # fmt: skip
    grant = cli_json(stack, "gov", "propose", "--title", "Grant", "--category", "funding",
                     "--to", recipient["principal_id"], "--amount", "25", key=bob["key"])  # fmt: skip
    assert (fee_up["status"], fee_up["proposer_power"]) == ("PENDING", "700.00000000")
    early = stack.aitbc("gov", "vote", fee_up["proposal_id"], "for", key=bob["key"])
    assert early.returncode == 1
    assert "409 voting_closed" in early.stderr

    def status_of(proposal_id):
        return cli_json(stack, "gov", "show", proposal_id, key=anyone["key"])["status"]

    for proposal in (fee_up, grant):
        wait_for(lambda p=proposal: status_of(p["proposal_id"]) == "ACTIVE", 30, "voting to start")
        for voter in (alice, bob):
            cli_json(stack, "gov", "vote", proposal["proposal_id"], "for", "--reason", "yes", key=voter["key"])

    def decided_by_beat(proposal_id):
        return Proposal.objects.get(id=proposal_id).status == "SUCCEEDED"

    for proposal in (fee_up, grant):
        wait_for(lambda p=proposal: decided_by_beat(p["proposal_id"]), 60, "the beat to close the vote")
    shown = cli_json(stack, "gov", "show", fee_up["proposal_id"], key=anyone["key"])
    assert (shown["for_votes"], shown["against_votes"]) == ("1200.00000000", "0.00000000")
    assert shown["quorum_reached"] is True

    def executed(proposal_id):
        done = stack.aitbc("gov", "execute", proposal_id, "--json", key=anyone["key"])
        assert done.returncode == 0 or "409 timelocked" in done.stderr, done.stderr
        return done.returncode == 0 and json.loads(done.stdout)

    assert wait_for(lambda: executed(fee_up["proposal_id"]), 30, "the timelock")["status"] == "EXECUTED"
    assert wait_for(lambda: executed(grant["proposal_id"]), 30, "the timelock")["status"] == "EXECUTED"
    again = stack.aitbc("gov", "execute", grant["proposal_id"], key=alice["key"])
    assert "409 already_executed" in again.stderr
    params = {p["name"]: p["value"] for p in cli_json(stack, "gov", "params", key=anyone["key"])["items"]}
    assert params["platform_fee_bps"] == 500

    assert account_balances(recipient["principal_id"])["balance"] == Decimal(25)
    treasury = cli_json(stack, "gov", "treasury", key=anyone["key"])
    assert (treasury["paid_out"], treasury["outflow"]["funding_proposals"]) == ("25.00000000", "25.00000000")

    time.sleep(CACHE_SECONDS + 0.5)  # every process sees the new fee within CACHE_SECONDS
    assert stack.aitbc("wallet", "credit", anyone["principal_id"], "10", key=admin["key"]).returncode == 0
    miner = miner_started(stack, "run", "0.5", "gov-miner")
    try:
        job = cli_json(stack, "job", "submit", "--type", "matmul", "--payload", '{"n": 64}', "--max-price", "5",
                       "--wait", "--timeout", "90", key=anyone["key"])  # fmt: skip
    finally:
        miner["process"].stop()
    receipt = cli_json(stack, "job", "receipt", job["job_id"], "--verify", key=anyone["key"])["receipt"]
    price = Decimal(receipt["price"])
    assert price > 0
    assert Decimal(receipt["fee"]) == min(quantize(price * 500 / 10000), price)
