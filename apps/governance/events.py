"""The governance event log (what /v1/transactions lists): one row per thing that happened."""

from uuid import UUID

from apps.governance.models import Event


def event_record(kind: str, *, proposal_id: UUID | None = None, principal_id: UUID | None = None, **data) -> Event:
    clean = {k: (str(v) if isinstance(v, UUID) else v) for k, v in data.items()}
    return Event.objects.create(kind=kind, proposal_id=proposal_id, principal_id=principal_id, data=clean)
