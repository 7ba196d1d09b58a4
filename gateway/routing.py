"""Which service a gateway path belongs to: `/<service>/rest` -> (service, `/rest`), on a segment boundary."""

from django.conf import settings

from aitbc_site.domains import DOMAINS


def service_route(path: str) -> tuple[str, str] | None:
    """`/ai/v1/jobs` -> ("ai", "/v1/jobs"); `/ai` -> ("ai", "/"); `/aitbc/...` -> None."""
    first, _, rest = path.lstrip("/").partition("/")
    if first not in DOMAINS:
        return None
    return first, "/" + rest


def service_base_url(service: str) -> str:
    return f"http://{settings.AITBC_SERVICE_HOST}:{settings.AITBC_SERVICE_PORTS[service]}"
