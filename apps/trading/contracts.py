"""The trading domain's plain values: what its facade takes and returns (frozen dataclasses, no ORM)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from aitbc_site.hooks import Hook

# (principal_id) -> (runs completed, runs failed) of the miner this seller runs, as the platform recorded them;
# (0, 0) when it runs none. gpu provides it (design/layers.md: trading never names gpu).
seller_track_record = Hook("trading.seller_track_record")


@dataclass(frozen=True)
class Capture:
    """What capturing an escrow moved: `paid` to the payee, `fee` to the platform, `refunded` freed to the hold's
    owner (paid + fee + refunded is what the hold held)."""

    paid: Decimal
    fee: Decimal
    refunded: Decimal


@dataclass(frozen=True)
class JobSettlement:
    job_id: UUID
    client_id: UUID
    miner_id: UUID
    miner_principal_id: UUID
    type: str
    input_sha256: str
    output_sha256: str
    units: Decimal  # billed: the reported GPU-seconds, at most the lease's wall-clock time x the GPUs held
    reported_units: Decimal | None  # the miner's figure (None: completed before it was kept; billed as reported)
    unit_price: Decimal
    price: Decimal
    fee: Decimal
    started_at: datetime
    completed_at: datetime
