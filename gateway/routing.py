"""Which service a gateway path belongs to: `/<service>/rest` -> (service, `/rest`), on a segment boundary;
the path the service is asked for; and which paths are not the public's (a service's /metrics) or wait long."""

from urllib.parse import quote

from django.conf import settings

from aitbc_site.domains import DOMAINS

# Paths every service serves to its operators on its own port, never through the public gateway.
OPERATOR_ONLY = frozenset(["metrics"])
# Requests that may wait long on purpose (POST /gpu/v1/miners/poll waits up to 30 s for work): they have
# their own pool of upstream connections, so that waiting miners never take the connections of the others.
LONG_POLLS = frozenset([("gpu", "/v1/miners/poll")])
# What stays as it is in a path segment (RFC 3986 pchar); everything else, `%`, `?` and `#` included, is
# percent-encoded again, so the service sees exactly the path the gateway routed.
PATH_SAFE = "/!$&'()*+,;=:@-._~"


def service_route(path: str) -> tuple[str, str] | None:
    """`/ai/v1/jobs` -> ("ai", "/v1/jobs"); `/ai` -> ("ai", "/"); `/aitbc/...` -> None."""
    first, _, rest = path.lstrip("/").partition("/")
    if first not in DOMAINS:
        return None
    return first, "/" + rest


def dot_segments_removed(path: str) -> str:
    """`/v1/../metrics` -> `/metrics` (RFC 3986, 5.2.4), as the HTTP client would send it."""
    parts = path.split("/")
    kept: list[str] = []
    for part in parts:
        if part == "..":
            if len(kept) > 1:
                kept.pop()
        elif part != ".":
            kept.append(part)
    if parts[-1] in (".", ".."):
        kept.append("")
    return "/".join(kept) or "/"


def upstream_path(path: str) -> str:
    """The percent-encoded path to ask the service for, from the decoded path the gateway routed."""
    return dot_segments_removed(quote(path, safe=PATH_SAFE))


def operator_only(path: str) -> bool:
    """`/metrics`, `/metrics/`, `//metrics`: paths the public gateway does not pass on."""
    segments = [segment for segment in path.split("/") if segment]
    return len(segments) == 1 and segments[0] in OPERATOR_ONLY


def long_poll(service: str, path: str) -> bool:
    return (service, path.rstrip("/") or "/") in LONG_POLLS


def service_base_url(service: str) -> str:
    return f"http://{settings.AITBC_SERVICE_HOST}:{settings.AITBC_SERVICE_PORTS[service]}"
