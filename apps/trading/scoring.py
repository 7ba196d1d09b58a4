"""How a seller's offer is scored for a buyer: price, fit to the requirements, reputation, region.

Each part is between 0 and 1 and shown to the buyer with the weighted total.
"""

from decimal import Decimal
from uuid import UUID

from apps.trading.contracts import seller_track_record
from apps.trading.models import AgreementStatus, TradeAgreement

WEIGHTS = {"price": 0.4, "fit": 0.3, "reputation": 0.2, "region": 0.1}


def price_score(price: Decimal, budget: Decimal) -> float:
    """1 at half the budget or less, falling to 0 at the budget; above the budget 0."""
    if price > budget:
        return 0.0
    return round(min(1.0, float(2 * (budget - price) / budget)), 4)


def specification_fit(requirements: dict, specification: dict) -> tuple[float, list[str]]:
    """The share of the buyer's requirements the offer meets, and those it misses."""
    checks = {
        "gpu_model": lambda want, have: str(want).lower() in str(have or "").lower(),
        "min_vram_gb": lambda want, have: (have or 0) >= want,
        "gpu_count": lambda want, have: (have or 0) >= want,
        "hours": lambda want, have: (have or 0) >= want,
        "models": lambda want, have: set(want) <= set(have or []),
    }
    wanted = [key for key in requirements if key in checks]
    if not wanted:
        return 1.0, []
    spec_key = {"min_vram_gb": "vram_gb"}
    missed = [k for k in wanted if not _meets(checks[k], requirements[k], specification.get(spec_key.get(k, k)))]
    return round(1 - len(missed) / len(wanted), 4), missed


def _meets(check, want, have) -> bool:
    """The API refuses values of the wrong type; one stored before that is a requirement not met, not a crash."""
    try:
        return check(want, have)
    except TypeError:
        return False


def seller_reputation(seller_id: UUID) -> tuple[float, dict]:
    """From the seller's record as the platform saw it: its miner's runs completed or failed (lost leases and
    expiries included, see gpu.miner_track_record, its provider), and trades it settled or walked away from. Nothing the
    seller sends (its offer's specification included) enters it."""
    completed, failed = seller_track_record(seller_id)
    agreements = TradeAgreement.objects.filter(seller_id=seller_id)
    settled = agreements.filter(status=AgreementStatus.SETTLED).count()
    canceled = agreements.filter(status=AgreementStatus.CANCELED).count()
    good, bad = completed + settled, failed + canceled
    record = {
        "jobs_completed": completed,
        "jobs_failed": failed,
        "trades_settled": settled,
        "trades_canceled": canceled,
    }
    return round((good + 1) / (good + bad + 2), 4), record  # no record at all: 0.5


def match_score(request, *, price: Decimal, specification: dict, region: str, seller_id: UUID) -> tuple[float, dict]:
    fit, missed = specification_fit(request.requirements, specification)
    reputation, record = seller_reputation(seller_id)
    parts = {
        "price": price_score(price, request.budget),
        "fit": fit,
        "reputation": reputation,
        "region": 1.0 if not request.regions or region in request.regions else 0.0,
    }
    total = round(sum(WEIGHTS[name] * value for name, value in parts.items()), 4)
    breakdown = {"weights": WEIGHTS, "parts": parts, "missed_requirements": missed, "seller_record": record}
    return total, breakdown
