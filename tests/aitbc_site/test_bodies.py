"""A service refuses a body over the limit while it streams (413), before its app (Django, auth, a view) runs."""

import asyncio
import json

import pytest

from aitbc_site.bodies import body_limited

LIMIT = 1000


class Recorder:
    """An ASGI app that records the bodies it was given, and answers 200."""

    def __init__(self):
        self.bodies = []

    async def __call__(self, scope, receive, send):
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def call(app, chunks: list[bytes], headers=()):
    """Sends the body in chunks; returns (status, body, how many chunks the app side asked for)."""
    asked, sent = [0], []
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive():
        asked[0] += 1
        return messages[asked[0] - 1] if asked[0] <= len(messages) else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/jobs", "headers": list(headers)}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"), asked[0]


def test_a_body_under_the_limit_reaches_the_app_whole():
    app = Recorder()
    status, _, _ = call(body_limited(app, LIMIT), [b"a" * 400, b"b" * 400, b"c" * 200])
    assert status == 200
    assert app.bodies == [b"a" * 400 + b"b" * 400 + b"c" * 200]


def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read():
    app = Recorder()
    status, body, asked = call(body_limited(app, LIMIT), [b"x" * 10], headers=[(b"content-length", b"5000000")])
    assert (status, json.loads(body)["code"], asked, app.bodies) == (413, "payload_too_large", 0, [])


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit():
    app = Recorder()
    status, _, asked = call(body_limited(app, LIMIT), [b"x" * 300] * 20)
    assert (status, asked, app.bodies) == (413, 4, [])  # the 4th chunk passes 1000 bytes; 16 are never read


@pytest.mark.parametrize("length", [b"12abc", b"-1"])
def test_a_content_length_that_is_not_a_number_is_a_400(length):
    app = Recorder()
    status, body, _ = call(body_limited(app, LIMIT), [b"{}"], headers=[(b"content-length", length)])
    assert (status, json.loads(body)["code"], app.bodies) == (400, "bad_request", [])
