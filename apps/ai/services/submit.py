"""Submitting a job: validate, store it PENDING, hold its max_price in escrow, then queue and dispatch it."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from aitbc_client.canonical import canonical_json, sha256_hex
from aitbc_miner.runners import BUILT_IN, PayloadError, Runner, builtin_runner
from aitbc_site.errors import ApiError, Conflict, Invalid, PaymentRequired
from aitbc_site.money import quantize
from aitbc_site.parameters import parameter_get
from apps.accounts.facade import PrincipalView
from apps.ai.matching import cuda_code
from apps.ai.models import Job, JobState
from apps.ai.services.dispatch import job_dispatch_on_commit
from apps.plugin import facade as plugin
from apps.trading import facade as trading

DB = "ai"


@dataclass(frozen=True)
class JobRequest:
    type: str
    max_price: Decimal
    ttl_seconds: int
    payload: dict = field(default_factory=dict)
    constraints: dict = field(default_factory=dict)
    priority: int = 0
    pinned_miner_id: str | None = None  # only this miner may run it (benchmarks); never set by a client
    # AIT per GPU-second a routed agent advertised: the job is charged this, whatever its miner registered;
    # only with pinned_miner_id (the agent's miner), never set by a client
    quoted_unit_price: Decimal | None = None

    def sha256(self) -> str:
        fields = {**self.__dict__, "max_price": str(self.max_price)}
        quote = fields.pop("quoted_unit_price")
        if quote is not None:  # absent when unset, so a request without a quote hashes as it always did
            fields["quoted_unit_price"] = str(quote)
        return sha256_hex(canonical_json(fields))


def runner_of(job_type: str) -> Runner:
    """The runner the platform validates a job type with: a built-in one, or for a type a registered runner
    plugin provides, the base Runner (the plugin's code runs on miners only, which validate its payload)."""
    runner = builtin_runner(job_type)
    if runner is None and plugin.runner_plugin_registered(job_type):
        runner = Runner()
    if runner is None:
        known = sorted({*(cls.type for cls in BUILT_IN), *plugin.runner_plugin_types()})
        raise Invalid(f"type: unknown job type {job_type!r}; known types: {', '.join(known)}")
    return runner


def payload_checked(request: JobRequest) -> dict:
    if not isinstance(request.payload, dict):  # a workflow step's `$from` may resolve to any JSON value
        raise Invalid(f"payload: must be a JSON object, not {type(request.payload).__name__}")
    try:
        payload = runner_of(request.type).validate(dict(request.payload))
    except PayloadError as exc:
        raise Invalid(str(exc)) from None
    if len(canonical_json(payload)) > settings.AITBC_MAX_PAYLOAD_BYTES:
        raise ApiError(
            f"payload is larger than {settings.AITBC_MAX_PAYLOAD_BYTES} bytes", code="payload_too_large", status=413
        )
    return payload


def constraint_columns(constraints: dict) -> dict:
    try:
        min_cuda = cuda_code(constraints.get("cuda") or "")
    except ValueError:
        raise Invalid("constraints.cuda must look like 12.4") from None
    return {
        "region": constraints.get("region") or "",
        "gpu_model": constraints.get("gpu_model") or "",
        "min_vram_mb": int((constraints.get("min_vram_gb") or 0) * 1024),
        "min_cuda": min_cuda,
        "models_required": list(constraints.get("models") or []),
    }


def _replayed(client_id, idempotency_key: str, request_sha: str) -> Job | None:
    if not idempotency_key:
        return None
    existing = Job.objects.filter(client_id=client_id, idempotency_key=idempotency_key).first()
    if existing is not None and existing.request_sha256 != request_sha:
        raise Conflict("this Idempotency-Key was used with a different request", code="idempotency_conflict")
    return existing


def job_submit(*, client: PrincipalView, request: JobRequest, idempotency_key: str = "") -> Job:
    payload = payload_checked(request)
    ttl_min, ttl_max = parameter_get("job_ttl_min_s"), parameter_get("job_ttl_max_s")
    if not ttl_min <= request.ttl_seconds <= ttl_max:
        raise Invalid(f"ttl_seconds must be from {ttl_min} to {ttl_max}")
    if request.quoted_unit_price is not None and (request.pinned_miner_id is None or request.quoted_unit_price < 0):
        raise Invalid("quoted_unit_price: a quote is >= 0 and only for a job pinned to the quoting agent's miner")
    request_sha = request.sha256()
    job = _replayed(client.id, idempotency_key, request_sha)
    job = job or _created(client, request, payload, idempotency_key, request_sha)
    if job.state == JobState.PENDING:  # new, or a retry of a submit that failed between its steps
        _escrowed_and_queued(job, client, request.max_price)
    return job


def _created(client: PrincipalView, request: JobRequest, payload: dict, idempotency_key: str, request_sha: str) -> Job:
    """The job row, PENDING (no escrow yet); with an Idempotency-Key taken concurrently, that request's job."""
    runner = runner_of(request.type)
    now = timezone.now()
    try:
        with transaction.atomic(using=DB):
            job = Job.objects.create(
                client_id=client.id,
                type=request.type,
                payload=payload,
                constraints=request.constraints,
                **constraint_columns(request.constraints),
                max_price=request.max_price,
                expected_units=quantize(Decimal(str(runner.estimate_gpu_seconds(payload)))),
                priority=request.priority,
                pinned_miner_id=request.pinned_miner_id,
                quoted_unit_price=request.quoted_unit_price,
                ttl_seconds=request.ttl_seconds,
                max_attempts=parameter_get("job_max_attempts"),
                expires_at=now + timedelta(seconds=request.ttl_seconds),
                input_sha256=sha256_hex(canonical_json(payload)),
                idempotency_key=idempotency_key,
                request_sha256=request_sha,
            )
    except IntegrityError:  # the same Idempotency-Key, concurrently
        existing = _replayed(client.id, idempotency_key, request_sha)
        if existing is None:  # not the key's row after all: nothing to answer with but the conflict
            raise Conflict("the job could not be stored; try again", code="job_conflict") from None
        return existing
    return job


def _escrowed_and_queued(job: Job, client: PrincipalView, amount: Decimal) -> None:
    """The escrow hold (keyed by the job, so a retry places none twice), then QUEUED and dispatched."""
    try:
        trading.job_escrow_hold(job_id=job.id, client_id=client.id, amount=amount)
    except PaymentRequired:
        Job.objects.filter(id=job.id, state=JobState.PENDING).delete()
        raise
    with transaction.atomic(using=DB):
        Job.objects.filter(id=job.id, state=JobState.PENDING).update(state=JobState.QUEUED, updated_at=timezone.now())
        job_dispatch_on_commit(job.id)
    job.refresh_from_db()
