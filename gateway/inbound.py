"""What the gateway checks in a request before it does any work for it: the path and query string, the
request id, the body's size (while it streams) and who the client is."""

import ipaddress
import re
import uuid
from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
# Raw bytes of a request target: printable ASCII only (anything else must come percent-encoded).
RAW_TARGET = re.compile(rb"[\x21-\x7e]*")
# Control characters (C0, DEL, C1), wherever they come from, decoded or not.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")

Headers = list[tuple[bytes, bytes]]


def request_id_of(headers: Headers) -> str:
    """The client's X-Request-ID when it is 1..64 of [A-Za-z0-9._-]; otherwise a new one."""
    for name, value in headers:
        if name.lower() == b"x-request-id" and REQUEST_ID.fullmatch(value):
            return value.decode("ascii")
    return uuid.uuid4().hex


def target_refusal(scope) -> str | None:
    """Why the path or query string cannot be passed on (control characters, NUL, raw non-ASCII), or None."""
    raw_path = scope.get("raw_path")
    query = scope.get("query_string") or b""
    if raw_path is not None and not RAW_TARGET.fullmatch(raw_path):
        return "the request path holds bytes that are not printable ASCII (percent-encode them)"
    if not RAW_TARGET.fullmatch(query):
        return "the query string holds bytes that are not printable ASCII (percent-encode them)"
    if CONTROL.search(scope["path"]):
        return "the request path holds control characters"
    decoded = unquote_to_bytes(query.replace(b"+", b" "))
    if CONTROL_BYTES.search(decoded) or CONTROL.search(decoded.decode("utf-8", "replace")):
        return "the query string holds control characters"
    return None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks_of(texts: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(text.strip(), strict=False) for text in texts if text.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(text: str, proxies: tuple[Network, ...]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in proxies)


def forwarded_chain(scope, proxies: tuple[Network, ...]) -> list[str]:
    """The addresses this request came through, the client first and the gateway's peer last. A client's own
    X-Forwarded-For is believed only when it reached the gateway through a trusted proxy."""
    peer = (scope.get("client") or ("", 0))[0] or "unknown"
    if not _trusted(peer, proxies):
        return [peer]
    chain = [
        hop.strip()
        for name, value in scope["headers"]
        if name.lower() == b"x-forwarded-for"
        for hop in value.decode("latin-1").split(",")
    ]
    return [hop for hop in chain if hop] + [peer]


def client_address(chain: list[str], proxies: tuple[Network, ...]) -> str:
    """The nearest address in the chain that is not a trusted proxy."""
    for hop in reversed(chain):
        if not _trusted(hop, proxies):
            return hop
    return chain[0]


def address_bucket(address: str) -> str:
    """The unit an address is limited by: itself, or its /64 for IPv6 (one host may hold the whole /64)."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed or address)
