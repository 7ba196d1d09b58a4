"""The rules a new proposal is made under, from the AITBC_GOVERNANCE_* settings (copied onto each proposal)."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from aitbc_site.errors import Invalid
from aitbc_site.money import money, money_str


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
