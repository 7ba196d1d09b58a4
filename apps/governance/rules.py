"""The rules a new proposal is made under, from the AITBC_GOVERNANCE_* settings (copied onto each proposal),
and the treasury's guard, from two platform parameters:

- one funding proposal may move at most `treasury_max_share_bps` of the treasury's balance: checked when it
  is proposed (422) and again, against the balance then, when it is executed (409);
- its quorum grows with what it asks for: max(AITBC_GOVERNANCE_QUORUM, amount x `funding_quorum_bps` / 10000)
  must be cast (for + against + abstain), fixed on the proposal when it is made.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from aitbc_site.errors import Invalid
from aitbc_site.money import money, money_str, quantize_down, quantize_up
from aitbc_site.parameters import parameter_get

BPS = 10000


@dataclass(frozen=True)
class Rules:
    voting_delay: timedelta
    voting_period: timedelta
    timelock: timedelta
    quorum: Decimal
    proposal_threshold: Decimal

    def as_dict(self) -> dict:
        return {
            "voting_delay_s": int(self.voting_delay.total_seconds()),
            "voting_period_s": int(self.voting_period.total_seconds()),
            "timelock_s": int(self.timelock.total_seconds()),
            "quorum": money_str(self.quorum),
            "proposal_threshold": money_str(self.proposal_threshold),
            "pass_ratio": "for / (for + against) > 0.5",
            "funding_quorum": f"max(quorum, amount x {parameter_get('funding_quorum_bps')} / {BPS})",
            "funding_max_share_bps": parameter_get("treasury_max_share_bps"),
        }


def _seconds(name: str, minimum: int) -> timedelta:
    value = getattr(settings, name)
    if not isinstance(value, int) or value < minimum:
        raise ImproperlyConfigured(f"{name} must be a whole number of seconds >= {minimum}, not {value!r}")
    return timedelta(seconds=value)


def _amount(name: str) -> Decimal:
    try:
        return money(getattr(settings, name), field=name, positive=False)
    except Invalid as exc:
        raise ImproperlyConfigured(exc.detail) from None


def rules() -> Rules:
    return Rules(
        voting_delay=_seconds("AITBC_GOVERNANCE_VOTING_DELAY_S", 0),
        voting_period=_seconds("AITBC_GOVERNANCE_VOTING_PERIOD_S", 1),
        timelock=_seconds("AITBC_GOVERNANCE_TIMELOCK_S", 0),
        quorum=_amount("AITBC_GOVERNANCE_QUORUM"),
        proposal_threshold=_amount("AITBC_GOVERNANCE_PROPOSAL_THRESHOLD"),
    )


def funding_quorum(amount: Decimal, base: Decimal) -> Decimal:
    """The votes a funding proposal for `amount` needs cast: `funding_quorum_bps` of the amount (rounded up),
    or the base quorum if that is more."""
    return max(base, quantize_up(amount * parameter_get("funding_quorum_bps") / BPS))


def funding_limit(treasury_balance: Decimal) -> Decimal:
    """The most one funding proposal may move out of a treasury holding `treasury_balance` (rounded down)."""
    return max(quantize_down(treasury_balance * parameter_get("treasury_max_share_bps") / BPS), Decimal(0))


def funding_refusal(amount: Decimal, treasury_balance: Decimal) -> str | None:
    """Why `amount` is more than one proposal may move out of the treasury now, or None when it is not."""
    limit = funding_limit(treasury_balance)
    if amount <= limit:
        return None
    share = Decimal(parameter_get("treasury_max_share_bps")) / 100
    return (
        f"one funding proposal may move at most {share:f}% of the treasury ({money_str(limit)} of its "
        f"{money_str(treasury_balance)} AIT); this one asks for {money_str(amount)} AIT"
    )
