"""What other apps may ask governance: a parameter changed. Everyone reads parameters from the kernel
(`aitbc_site.parameters`), whose source is governance's table."""

from django.db import transaction

from aitbc_site.locks import advisory_lock
from aitbc_site.parameters import parameter_check, parameters_all, parameters_cache_clear
from apps.governance.models import Parameter


def parameters_stored() -> dict[str, int]:
    return dict(Parameter.objects.values_list("name", "value"))


def parameter_set(name: str, value: int) -> int:
    """Checked against the other parameters as committed, one change at a time: two proposals executed together
    (a TTL minimum raised, the maximum lowered) could each pass alone and together break the rule."""
    with transaction.atomic(using="governance"):
        advisory_lock("governance", "parameters")
        parameters_cache_clear()
        parameter_check(name, value, parameters_all())
        Parameter.objects.update_or_create(name=name, defaults={"value": value})
    parameters_cache_clear()
    return value
