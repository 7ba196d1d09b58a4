"""What other apps may ask governance: the platform parameters in force."""

from aitbc_site.errors import Invalid
from apps.governance.parameters import PARAMETERS


def parameter_get(name: str) -> int:
    from apps.governance.models import Parameter

    spec = PARAMETERS[name]
    row = Parameter.objects.filter(name=name).values_list("value", flat=True).first()
    return spec.default if row is None else row


def parameters_all() -> dict[str, int]:
    from apps.governance.models import Parameter

    values = {name: spec.default for name, spec in PARAMETERS.items()}
    values.update(Parameter.objects.filter(name__in=PARAMETERS).values_list("name", "value"))
    return values


def parameter_set(name: str, value: int) -> int:
    from apps.governance.models import Parameter

    spec = PARAMETERS.get(name)
    if spec is None:
        raise Invalid(f"unknown parameter {name!r}; known: {', '.join(sorted(PARAMETERS))}")
    if not spec.minimum <= value <= spec.maximum:
        raise Invalid(f"{name} must be between {spec.minimum} and {spec.maximum}, not {value}")
    Parameter.objects.update_or_create(name=name, defaults={"value": value})
    return value
