"""Holders, proposals, the passing of time and settled jobs for governance tests."""

from datetime import timedelta

from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete
from apps.governance.models import Proposal
from apps.governance.services.proposals import proposal_create
from apps.governance.services.voting import vote_cast
from apps.trading.facade import receipt_get
from tests.accounts import factories as accounts_factories
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

DAY = 24 * 3600


def holder(amount: str = "0", role: str = "client"):
    """A principal holding `amount` AIT (credited from the treasury), and its key."""
    who, key = accounts_factories.principal(role)
    if amount != "0":
        trading_factories.treasury_credit_to(who.id, amount)
    return who, key


def propose(proposer, category="text", payload=None, title="a proposal"):
    return proposal_create(
        proposer=proposer, title=title, description="why", category=category, execution_payload=payload
    )


def elapse(proposal: Proposal, seconds: float) -> Proposal:
    """Time passes for this proposal: its voting window and timelock move `seconds` into the past
    (the snapshot stays where it was, so balances keep their moment)."""
    shift = timedelta(seconds=seconds)
    proposal = Proposal.objects.get(id=proposal.id)
    Proposal.objects.filter(id=proposal.id).update(
        voting_starts_at=proposal.voting_starts_at - shift,
        voting_ends_at=proposal.voting_ends_at - shift,
        executable_at=proposal.executable_at - shift,
    )
    return Proposal.objects.get(id=proposal.id)


def passed(proposal: Proposal, *voters) -> Proposal:
    """Voting opens, every voter votes for, voting and the timelock end."""
    proposal = elapse(proposal, DAY)
    for voter in voters:
        vote_cast(voter=voter, proposal_id=proposal.id, choice="for")
    return elapse(proposal, 9 * DAY)


def settled_job_receipt() -> dict:
    """A job that ran 4 GPU-seconds at 0.5 AIT: price 2 AIT."""
    miner = gpu_factories.miner(unit_price="0.5")
    client, _ = trading_factories.funded_client("100")
    job = ai_factories.job(client, max_price="5")
    assert job_claim(miner=miner).id == job.id
    ai_factories.held_for(job.id)  # the platform saw it run at least the 4 s reported
    done = job_complete(miner=miner, job_id=job.id, result={"ok": True}, metrics={"gpu_seconds": 4})
    return receipt_get(done.receipt_id)
