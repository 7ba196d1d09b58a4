from datetime import datetime
from typing import overload


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as every API answer writes times."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None
