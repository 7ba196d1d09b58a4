"""`Idempotency-Key` for POSTs that create work or move money: the same key and body get the first
answer again (nothing is done twice); the same key with another body gets 409."""

import functools
import hashlib
import json
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from ninja import Status

from aitbc_site.errors import Conflict
from apps.accounts.models import IdempotencyRecord

# longer than any request runs (the gateway gives up after 60 s): a record still empty after this was left by a
# process that died mid-request, and would otherwise answer 409 to every retry forever
ABANDONED_AFTER = timedelta(minutes=10)


def _claim(request, key: str) -> tuple[IdempotencyRecord, bool]:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.body).hexdigest()
    try:
        with transaction.atomic(using="default"):
            record = IdempotencyRecord.objects.create(
                principal_id=request.auth.id, key=key, path=request.path[:300], request_sha256=digest
            )
        return record, True
    except IntegrityError:
        record = IdempotencyRecord.objects.get(principal_id=request.auth.id, key=key)
    if record.request_sha256 != digest:
        raise Conflict("this Idempotency-Key was used with a different request", code="idempotency_conflict")
    if record.status is None:
        if record.created_at < timezone.now() - ABANDONED_AFTER and _taken_over(record):
            return record, True  # its process died mid-request: the view runs again (its money steps are keyed)
        raise Conflict("the first request with this Idempotency-Key is still running", code="idempotency_in_progress")
    return record, False


def _taken_over(record: IdempotencyRecord) -> bool:
    """Claims an abandoned record for this request (one retry wins when several arrive together)."""
    taken = IdempotencyRecord.objects.filter(id=record.id, status__isnull=True, created_at=record.created_at)
    return taken.update(created_at=timezone.now()) == 1


def idempotency_key(request) -> str:
    """The request's Idempotency-Key header ("" when it has none)."""
    return request.headers.get("Idempotency-Key", "").strip()[:200]


def idempotent(view):
    """Wraps a ninja view: with an Idempotency-Key header, the first answer is stored and replayed."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        key = idempotency_key(request)
        if not key:
            return view(request, *args, **kwargs)
        record, first = _claim(request, key)
        if not first:
            return Status(record.status, record.body)
        try:
            result = view(request, *args, **kwargs)
        except Exception:
            record.delete()  # nothing was done: the same key may be tried again
            raise
        status, body = (result.status_code, result.value) if isinstance(result, Status) else (200, result)
        record.status, record.body = status, json.loads(json.dumps(body, cls=DjangoJSONEncoder))
        record.save(update_fields=["status", "body", "updated_at"])
        return result

    return wrapper
