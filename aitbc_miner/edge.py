"""Edge replicas on this miner: the platform (hermes) places a runner on chosen edge miners; the miner checks
that it has the runner (built in, or from a pip package through the `aitbc.runners` entry points, looked up
again so that a package installed since the miner started counts) and reports the replica INSTALLED, with
the runner's version, or FAILED, with the reason."""

import logging
from importlib.metadata import entry_points

import httpx

from aitbc_client.http import ApiError
from aitbc_miner.plugins import plugin_entry_points
from aitbc_miner.runners import BUILT_IN, runner_types

log = logging.getLogger("aitbc.miner")


def runner_version(name: str) -> str:
    """Where the runner comes from: "built-in" or "<distribution> <version>" of the package providing it."""
    if any(cls.type == name for cls in BUILT_IN):
        return "built-in"
    for entry_point in entry_points(group="aitbc.runners"):
        if entry_point.name == name and entry_point.dist is not None:
            return f"{entry_point.dist.name} {entry_point.dist.version}"
    return "entry point"


def runner_check(name: str) -> tuple[str, str, str]:
    """(state, reason, version) of the runner on this host, after looking for newly installed packages."""
    plugin_entry_points.cache_clear()
    try:
        found = runner_types()
    except Exception as exc:  # a broken plugin package must not stop the report
        return "FAILED", f"reading the aitbc.runners entry points failed: {type(exc).__name__}: {exc}", ""
    if name not in found:
        have = ", ".join(sorted(found))
        return "FAILED", f"no runner {name!r} on this host (it has {have}); pip-install a package providing it", ""
    return "INSTALLED", "", runner_version(name)


def edge_replicas_install(agent) -> list[dict]:
    """Reports every replica waiting on this miner; re-registers first when a newly installed runner is found,
    so that the platform also sends it jobs of that type. Returns the reports sent."""
    pending = agent.api.get("hermes", "/v1/edge/replicas", params={"state": "PENDING"})["items"]
    reports = []
    for replica in pending:
        state, reason, version = runner_check(replica["runner"])
        if state == "INSTALLED" and replica["runner"] not in agent.registered_runners:
            agent.capabilities_report()  # not a registration, which would replace a running worker's broker user
        body = {"state": state, "reason": reason, "runner_version": version}
        agent.api.post("hermes", f"/v1/edge/replicas/{replica['replica_id']}/report", json=body)
        log.info("edge replica %s (%s): %s %s", replica["replica_id"], replica["runner"], state, reason or version)
        reports.append({**replica, **body})
    return reports


def edge_replicas_install_quietly(agent) -> None:
    """For the heartbeat loop: a failure is logged and tried again at the next beat."""
    try:
        edge_replicas_install(agent)
    except (ApiError, httpx.HTTPError) as exc:
        log.warning("edge replica check failed: %s", exc)
    except Exception:
        log.exception("edge replica check failed; trying again at the next beat")
