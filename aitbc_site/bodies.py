"""Request bodies, bounded while they stream: the gateway forwards them chunk by chunk, and every service
refuses one over AITBC_MAX_BODY_BYTES before Django (which would spool any size to disk) or any view sees it."""

import json
from collections.abc import AsyncIterator

Headers = list[tuple[bytes, bytes]]


class BodyTooLarge(Exception):
    """The request body passed the limit while it streamed."""


class ClientGone(Exception):
    """The client went away before its body was whole."""


def declared_length(headers: Headers) -> int | None:
    """The body's Content-Length, None when the body is chunked or absent; ValueError when it is not one number."""
    values = {value.strip() for name, value in headers if name.lower() == b"content-length"}
    if not values:
        return None
    (value, *others) = values
    if others or not value.isdigit():
        raise ValueError("Content-Length must be one number")
    return int(value)


async def body_chunks(receive, limit: int | None) -> AsyncIterator[bytes]:
    """The body as it arrives, never held whole: BodyTooLarge as soon as it passes `limit` bytes, ClientGone
    when the client leaves before the end (so that a cut-off body is never taken for a whole one)."""
    seen = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        seen += len(chunk)
        if limit is not None and seen > limit:
            raise BodyTooLarge()
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def send_error(send, status: int, detail: str, code: str) -> None:
    payload = json.dumps({"detail": detail, "code": code}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def body_limited(app, limit: int):
    """ASGI middleware for a service: the body is read (at most `limit` bytes, in memory) before the app runs;
    a larger one is a 413 as soon as its Content-Length says so or its bytes pass the limit."""

    async def limited(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        try:
            length = declared_length(scope["headers"])
        except ValueError as exc:
            return await send_error(send, 400, str(exc), "bad_request")
        if length is not None and length > limit:
            return await send_error(send, 413, f"the request body is larger than {limit} bytes", "payload_too_large")
        try:
            body = b"".join([chunk async for chunk in body_chunks(receive, limit)])
        except BodyTooLarge:
            return await send_error(send, 413, f"the request body is larger than {limit} bytes", "payload_too_large")
        except ClientGone:
            return None
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # what comes after the body: the client's disconnect
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await app(scope, replay, send)

    return limited
