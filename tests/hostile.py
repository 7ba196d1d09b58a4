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
    body = json.loads(json.dumps(body))
    *parents, last = field.split(".")
    node = body
    for name in parents:
        node = node[int(name)] if isinstance(node, list) else node.setdefault(name, {})
    if isinstance(node, list):
        node[int(last)] = SENTINEL
    else:
        node[last] = SENTINEL
    return json.dumps(body).replace(json.dumps(SENTINEL), raw)


def assert_refused(response, status: int | None = None) -> dict:
    """A 4xx (the given one, if any) with {"detail", "code"}; returns the body."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    return body
