"""Hostile input for the tests of every service: raw JSON text no field may hold, and what a refusal
must look like (a 4xx in the contract's error shape)."""

import json

# JSON text (not Python values: json.dumps cannot write 1e400, and the point is what arrives on the wire)
TEXTS = {"nul": '"a\\u0000b"', "surrogate": '"a\\ud800b"'}
NUMBERS = {"nan": "NaN", "infinity": "Infinity", "minus_infinity": "-Infinity", "beyond_float": "1e400"}
ALL = {**TEXTS, **NUMBERS}
SENTINEL = "\x01hostile\x01"


def body_with(body: dict, field: str, raw: str) -> str:
    """`body` as JSON text with the dotted `field` (created if missing) holding the raw JSON text `raw`."""
    return json_with(body, field.split("."), raw)


def json_with(value, path, raw: str) -> str:
    """`value` as JSON text with the raw JSON text `raw` at `path` (keys and list indexes; created if missing)."""
    value = json.loads(json.dumps(value))
    if not path:
        return raw
    *parents, last = path
    node = value
    for name in parents:
        node = node[int(name)] if isinstance(node, list) else node.setdefault(name, {})
    node[int(last) if isinstance(node, list) else last] = SENTINEL
    return json.dumps(value).replace(json.dumps(SENTINEL), raw)


def assert_refused(response, status: int | None = None) -> dict:
    """A 4xx (the given one, if any) with {"detail", "code"}; returns the body."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    return body
