"""Platform parameters: their defaults, their bounds and the values in force.

Every app reads them here (`parameter_get`); governance is their source: it provides `parameters_stored` in its
`AppConfig.ready()` and changes them through proposals. Parameters are read on hot paths (claims, heartbeats,
completions), so each process keeps them for a second: a change takes effect platform-wide within a second, at once in
the process that made it (it calls `parameters_cache_clear`).
"""

import time
from dataclasses import dataclass

from aitbc_site.errors import Invalid
from aitbc_site.hooks import Hook


@dataclass(frozen=True)
class ParameterSpec:
    default: int
    minimum: int
    maximum: int
    description: str


PARAMETERS = {
    "platform_fee_bps": ParameterSpec(250, 0, 5000, "platform fee on each job, in basis points of its price"),
    "heartbeat_interval_s": ParameterSpec(10, 1, 300, "how often miners send heartbeats"),
    "lease_timeout_s": ParameterSpec(30, 3, 3600, "a running job whose lease is not renewed for this long is requeued"),
    "assign_timeout_s": ParameterSpec(15, 2, 600, "a job woken on a GPU worker that does not claim it is requeued"),
    "job_ttl_min_s": ParameterSpec(60, 1, 86400, "the shortest TTL a job may ask for"),
    "job_ttl_max_s": ParameterSpec(86400, 60, 7 * 86400, "the longest TTL a job may ask for"),
    "job_max_attempts": ParameterSpec(3, 1, 20, "how many times a job is tried before it fails"),
    "redispatch_after_s": ParameterSpec(10, 1, 3600, "a queued job not claimed for this long is woken again"),
    # the treasury's guard (apps/governance/rules.py applies both)
    "treasury_max_share_bps": ParameterSpec(
        1000, 1, 2500, "the most one funding proposal may move, in basis points of the treasury's balance"
    ),
    "funding_quorum_bps": ParameterSpec(
        10000, 5000, 100000, "votes cast on a funding proposal must reach this many basis points of its amount"
    ),
}


def parameter_check(name: str, value, current: dict[str, int]) -> int:
    """`value` as the new value of `name`, or 422 naming what is wrong (unknown, not a whole number, out of range)."""
    spec = PARAMETERS.get(name)
    if spec is None:
        raise Invalid(f"unknown parameter {name!r}; known: {', '.join(sorted(PARAMETERS))}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{name} must be a whole number, not {value!r}")
    if not spec.minimum <= value <= spec.maximum:
        raise Invalid(f"{name} must be between {spec.minimum} and {spec.maximum}, not {value}")
    after = {**current, name: value}
    if after["job_ttl_min_s"] > after["job_ttl_max_s"]:
        low, high = after["job_ttl_min_s"], after["job_ttl_max_s"]
        raise Invalid(f"job_ttl_min_s ({low}) may not exceed job_ttl_max_s ({high})")
    return value


# () -> {name: value} of the values governance has stored; a name it has not stored keeps its default.
parameters_stored = Hook("kernel.parameters_stored")

CACHE_SECONDS = 1.0
_cache: dict = {"values": None, "until": 0.0}


def parameters_cache_clear() -> None:
    _cache["values"], _cache["until"] = None, 0.0


def parameters_all() -> dict[str, int]:
    if _cache["values"] is not None and time.monotonic() < _cache["until"]:
        return dict(_cache["values"])
    values = {name: spec.default for name, spec in PARAMETERS.items()}
    values.update({name: value for name, value in parameters_stored().items() if name in PARAMETERS})
    _cache["values"], _cache["until"] = values, time.monotonic() + CACHE_SECONDS
    return dict(values)


def parameter_get(name: str) -> int:
    return parameters_all()[name]
