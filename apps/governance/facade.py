"""What other apps may ask governance: the platform parameters in force.

Every service reads parameters on hot paths (claims, heartbeats, completions), so each process keeps
them for a second: a change takes effect platform-wide within a second, at once in the process that
made it.
"""

import time

from django.db import transaction

from aitbc_site.locks import advisory_lock
from apps.governance.parameters import PARAMETERS, parameter_check

CACHE_SECONDS = 1.0
_cache: dict = {"values": None, "until": 0.0}


def parameters_cache_clear() -> None:
    _cache["values"], _cache["until"] = None, 0.0


def parameters_all() -> dict[str, int]:
    from apps.governance.models import Parameter

    if _cache["values"] is not None and time.monotonic() < _cache["until"]:
        return dict(_cache["values"])
    values = {name: spec.default for name, spec in PARAMETERS.items()}
    values.update(Parameter.objects.filter(name__in=PARAMETERS).values_list("name", "value"))
    _cache["values"], _cache["until"] = values, time.monotonic() + CACHE_SECONDS
    return dict(values)


def parameter_get(name: str) -> int:
    return parameters_all()[name]


def parameter_set(name: str, value: int) -> int:
    """Checked against the other parameters as committed, one change at a time: two proposals executed together
    (a TTL minimum raised, the maximum lowered) could each pass alone and together break the rule."""
    from apps.governance.models import Parameter

    with transaction.atomic(using="governance"):
        advisory_lock("governance", "parameters")
        parameters_cache_clear()
        parameter_check(name, value, parameters_all())
        Parameter.objects.update_or_create(name=name, defaults={"value": value})
    parameters_cache_clear()
    return value
