"""Edge deployments: a runner placed on edge miners, chosen by the gpu service's edge GPU profiles and the
miners' recorded telemetry; each chosen miner checks that it has the runner and reports the replica
installed or failed (with the reason). Coordination keeps a deployment at its replica count: replicas on
miners that went offline are LOST, failed ones stay FAILED, and both are replaced on other edge miners.
"""

import logging
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from aitbc_site.errors import Conflict, Invalid, NotFound
from apps.accounts.facade import PrincipalView
from apps.ai import facade as ai
from apps.gpu import facade as gpu
from apps.hermes.models import REPLICA_LIVE, DeploymentStatus, EdgeDeployment, EdgeReplica, ReplicaState

log = logging.getLogger(__name__)
DB = "hermes"
DEFAULT_CATEGORIES = ("edge", "consumer")


def _gpu_fit(g: dict, constraints: dict) -> str | None:
    profile = g["profile"]
    if profile is None:
        return f"{g['model']}: no edge GPU profile matches it"
    categories = constraints.get("categories") or DEFAULT_CATEGORIES
    if profile["category"] not in categories:
        return f"{g['model']}: a {profile['category']} GPU, not {'/'.join(categories)}"
    if constraints.get("gpu_model") and constraints["gpu_model"].lower() not in g["model"].lower():
        return f"{g['model']}: not a {constraints['gpu_model']}"
    memory = g["memory_mb"] or profile["memory_mb"]
    if constraints.get("min_memory_gb") and memory < constraints["min_memory_gb"] * 1024:
        return f"{g['model']}: {memory} MiB is less than {constraints['min_memory_gb']:g} GB"
    if constraints.get("max_tdp_w") and profile["tdp_w"] > constraints["max_tdp_w"]:
        return f"{g['model']}: {profile['tdp_w']} W TDP is above {constraints['max_tdp_w']} W"
    return None


def _host_choice(host: dict, runner: str, constraints: dict) -> tuple[dict | None, str]:
    """(the ranking and explanation of this miner, or None; why not)."""
    miner = host["miner"]
    if constraints.get("region") and miner.region != constraints["region"]:
        return None, f"region {miner.region or 'none'!r} is not {constraints['region']!r}"
    if not host["gpus"]:
        return None, "reports no GPU"
    misses: list[str] = []
    fits: list[dict] = []
    for g in host["gpus"]:
        if why := _gpu_fit(g, constraints):
            misses.append(why)
        else:
            fits.append(g)
    if not fits:
        return None, "; ".join(misses)
    g = min(fits, key=lambda x: (x["mean_utilization_gpu"] or 0, x["peak_temperature_c"] or 0))
    busy = host["inflight"] / miner.concurrency if miner.concurrency else 1.0
    has_runner = runner in miner.runners
    util = (
        "no telemetry in the last hour"
        if not g["samples"]
        else (
            f"mean utilization {g['mean_utilization_gpu'] or 0:.1f}% and peak {g['peak_temperature_c'] or 0:g} C "
            f"over {g['samples']} samples in the last hour"
        )
    )
    explanation = (
        f"{'lists' if has_runner else 'does not list'} runner {runner!r}; {g['model']} (profile "
        f"{g['profile']['model']}, {g['profile']['category']}, {g['profile']['tdp_w']} W); {util}; "
        f"{host['inflight']}/{miner.concurrency} slots busy"
    )
    rank = (not has_runner, g["mean_utilization_gpu"] or 0, busy, g["peak_temperature_c"] or 0, str(miner.id))
    return {"miner": miner, "gpu": g, "rank": rank, "explanation": explanation}, ""


def edge_candidates(runner: str, constraints: dict, exclude: set) -> tuple[list[dict], list[str]]:
    """The online miners that can host a replica, best first (lists the runner, least utilized, least busy,
    coolest), and why each other miner cannot. Busy is the larger of the jobs the platform has assigned to the
    miner and the inflight it last reported."""
    chosen, rejected = [], []
    hosts = gpu.edge_hosts()
    assigned = ai.miner_loads([h["miner"].id for h in hosts])
    for host in hosts:
        if host["miner"].id in exclude:
            continue
        # The miner's reported inflight may only add load: the platform knows the jobs it has given it.
        host = {**host, "inflight": max(host["inflight"], assigned.get(host["miner"].id, 0))}
        choice, why = _host_choice(host, runner, constraints)
        if choice:
            chosen.append(choice)
        else:
            rejected.append(f"miner {host['miner'].id}: {why}")
    return sorted(chosen, key=lambda c: c["rank"]), rejected


def _replica_place(deployment: EdgeDeployment, choice: dict) -> EdgeReplica:
    miner, g = choice["miner"], choice["gpu"]
    return EdgeReplica.objects.create(
        deployment=deployment,
        miner_id=miner.id,
        miner_principal_id=miner.principal_id,
        gpu_model=g["model"],
        profile=g["profile"]["model"],
        choice={"explanation": choice["explanation"], "gpu_id": str(g["gpu_id"])},
    )


def _status_update(deployment: EdgeDeployment, shortfall_reason: str = "") -> None:
    live = list(deployment.replica_set.filter(state__in=REPLICA_LIVE).values_list("state", flat=True))
    if deployment.status == DeploymentStatus.STOPPED:
        return
    if len(live) < deployment.replicas:
        deployment.status = DeploymentStatus.DEGRADED
        deployment.status_reason = (
            f"{len(live)} of {deployment.replicas} replicas live; no other edge miner fits: {shortfall_reason}"
        )[:500]
    elif ReplicaState.PENDING in live:
        deployment.status, deployment.status_reason = DeploymentStatus.PENDING, "waiting for miners to report"
    else:
        deployment.status, deployment.status_reason = DeploymentStatus.RUNNING, ""
    deployment.save(update_fields=["status", "status_reason", "updated_at"])


def deployment_coordinate(deployment_id: UUID) -> dict:
    """Marks replicas on offline miners LOST, retires extras, places missing replicas; returns what changed."""
    with transaction.atomic(using=DB):
        deployment = EdgeDeployment.objects.select_for_update().get(id=deployment_id)
        if deployment.status == DeploymentStatus.STOPPED:
            return {"lost": 0, "placed": 0, "retired": 0}
        live = list(deployment.replica_set.filter(state__in=REPLICA_LIVE).order_by("-state", "-created_at"))
        miners = gpu.miners_by_id({r.miner_id for r in live})
        lost = [r for r in live if not (m := miners.get(r.miner_id)) or not m.online]
        for replica in lost:
            replica.state, replica.reason = ReplicaState.LOST, "its miner went offline"
            replica.save()
        live = [r for r in live if r not in lost]
        extra = live[: max(len(live) - deployment.replicas, 0)]  # pending and newest first
        for replica in extra:
            replica.state, replica.reason = ReplicaState.RETIRED, "scaled down"
            replica.save()
        missing = deployment.replicas - (len(live) - len(extra))
        # not a miner that holds one, nor one that could not install it; one whose replica was lost or retired may
        failed = deployment.replica_set.filter(state=ReplicaState.FAILED).values_list("miner_id", flat=True)
        used = {r.miner_id for r in live if r not in extra} | set(failed)
        candidates: list[dict] = []
        rejected: list[str] = []
        if missing > 0:
            candidates, rejected = edge_candidates(deployment.runner, deployment.constraints, used)
        for choice in candidates[: max(missing, 0)]:
            _replica_place(deployment, choice)
        _status_update(deployment, "; ".join(rejected[:5]) or "no other online miner")
    return {"lost": len(lost), "placed": min(len(candidates), max(missing, 0)), "retired": len(extra)}


def deployments_coordinate() -> dict:
    total = {"lost": 0, "placed": 0, "retired": 0}
    for deployment_id in EdgeDeployment.objects.exclude(status=DeploymentStatus.STOPPED).values_list("id", flat=True):
        try:
            done = deployment_coordinate(deployment_id)
        except Exception:  # one deployment (deleted meanwhile, say) must not stop the others' coordination
            log.exception("coordinating edge deployment %s failed; the next pass tries again", deployment_id)
            continue
        for key, value in done.items():
            total[key] += value
    return total


def edge_deployment_create(*, owner: PrincipalView, runner: str, constraints: dict, replicas: int) -> EdgeDeployment:
    """422 (nothing recorded) when fewer edge miners fit than replicas asked for, naming why the others do not."""
    candidates, rejected = edge_candidates(runner, constraints, set())
    if len(candidates) < replicas:
        why = "; ".join(rejected[:10]) or "no miner is online"
        raise Invalid(
            f"replicas: {replicas} asked for but {len(candidates)} online edge miner(s) fit the constraints ({why})",
            code="not_enough_edge_miners",
        )
    with transaction.atomic(using=DB):
        deployment = EdgeDeployment.objects.create(
            owner_id=owner.id, runner=runner, constraints=constraints, replicas=replicas
        )
        for choice in candidates[:replicas]:
            _replica_place(deployment, choice)
        _status_update(deployment)
    return deployment


def deployment_scale(*, deployment: EdgeDeployment, replicas: int) -> dict:
    if deployment.status == DeploymentStatus.STOPPED:
        raise Conflict(f"edge deployment {deployment.id} is stopped", code="deployment_stopped")
    EdgeDeployment.objects.filter(id=deployment.id).update(replicas=replicas, updated_at=timezone.now())
    return deployment_coordinate(deployment.id)


def deployment_stop(*, deployment: EdgeDeployment) -> None:
    with transaction.atomic(using=DB):
        # the row lock first, as coordination takes it: else a pass placing a replica meanwhile would leave a
        # live replica on a stopped deployment
        EdgeDeployment.objects.select_for_update().filter(id=deployment.id).first()
        deployment.replica_set.filter(state__in=REPLICA_LIVE).update(
            state=ReplicaState.RETIRED, reason="deployment stopped", updated_at=timezone.now()
        )
        EdgeDeployment.objects.filter(id=deployment.id).update(
            status=DeploymentStatus.STOPPED, status_reason="stopped by its owner", updated_at=timezone.now()
        )


def replicas_for_miner(
    principal: PrincipalView, *, state: str | None, limit: int = 50, offset: int = 0
) -> tuple[int, list[EdgeReplica]]:
    """(how many, one page oldest first) of the replicas placed on this miner (in this state, when given)."""
    rows = EdgeReplica.objects.filter(miner_principal_id=principal.id).select_related("deployment")
    rows = (rows.filter(state=state) if state else rows).order_by("created_at", "id")
    return rows.count(), list(rows[offset : offset + limit])


REPORTABLE: dict[str, tuple[ReplicaState, ...]] = {
    ReplicaState.INSTALLED: (ReplicaState.PENDING,),
    ReplicaState.FAILED: REPLICA_LIVE,
}


def replica_report(
    *, miner: PrincipalView, replica_id: UUID, state: str, reason: str, runner_version: str
) -> EdgeReplica:
    """A chosen miner reports a replica INSTALLED or FAILED (with the reason); the same report again is a no-op.
    A failed replica is replaced on another edge miner at once when one fits."""
    with transaction.atomic(using=DB):
        replica = EdgeReplica.objects.select_for_update().filter(id=replica_id, miner_principal_id=miner.id).first()
        if replica is None:
            raise NotFound(f"no edge replica {replica_id} on this miner")
        if replica.state == state:
            return replica
        if replica.state not in REPORTABLE[state]:
            raise Conflict(f"edge replica {replica_id} is {replica.state}", code="replica_not_live")
        if state == ReplicaState.FAILED and not reason:
            raise Invalid("reason: say why the runner could not be installed")
        replica.state, replica.reason, replica.runner_version = state, reason, runner_version
        replica.reported_at = timezone.now()
        replica.save()
    deployment_coordinate(replica.deployment_id)
    replica.refresh_from_db()
    return replica
