"""What the gateway refuses before any work, and which of the client's headers it believes (a real gateway
application in front of a fake service that records what reached it)."""

import pytest

BIG = 1024 * 1024


def chunks(count: int, size: int, pulled: list[int]):
    """A chunked body of `count` chunks of `size` bytes that notes how many of them were read."""

    async def body():
        for n in range(count):
            pulled.append(n)
            yield b"x" * size

    return body()


@pytest.mark.django_db(databases="__all__", transaction=True)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer aitbc_forged"}], ids=["anonymous", "with-a-key"])
def test_a_body_declared_too_large_is_refused_before_the_key_check_and_never_reaches_the_service(
    settings, upstream, through_gateway, key_lookups, headers
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = BIG

    async def scenario(gateway):
        return await gateway.request("POST", "/ai/v1/jobs", content=b"x" * (BIG + 1), headers=headers)

    response = through_gateway(scenario)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.json()["detail"]
    assert upstream.started == []
    assert key_lookups == []


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit_and_the_service_never_gets_it_whole(
    settings, upstream, through_gateway
):
    # given a 1 MiB limit and a chunked body of 20 chunks of 256 KiB (5 MiB) with no Content-Length
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = BIG
    pulled: list[int] = []

    async def scenario(gateway):
        return await gateway.request("POST", "/ai/v1/jobs", content=chunks(20, 256 * 1024, pulled))

    response = through_gateway(scenario)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert len(pulled) == 5  # read up to the chunk that passed the limit, not one more
    assert upstream.requests == []  # the service saw at most a cut-off request, never a whole one


def test_a_chunked_body_within_the_limit_is_streamed_to_the_service_whole(settings, upstream, through_gateway):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = BIG

    async def scenario(gateway):
        return await gateway.request("POST", "/ai/v1/jobs", content=chunks(3, 1000, []))

    assert through_gateway(scenario).status_code == 200
    assert [(seen.method, seen.path, seen.body) for seen in upstream.requests] == [("POST", "/v1/jobs", b"x" * 3000)]


@pytest.mark.parametrize(
    "path",
    ["/ai/v1/jobs/%00", "/ai/v1/jobs/a%0Ab", "/ai/v1/jobs?state=%00", "/ai/v1/jobs?q=%1b%5b2J", "/health%00"],
)
def test_control_characters_in_the_path_or_query_are_a_400_and_never_reach_the_service(upstream, through_gateway, path):
    async def scenario(gateway):
        return await gateway.request("GET", path)

    response = through_gateway(scenario)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert "control characters" in response.json()["detail"]
    assert upstream.started == []


@pytest.mark.parametrize(
    ("path", "raw_path", "query_string"),
    [
        ("/ai/v1/agents/café", "/ai/v1/agents/café".encode(), b""),
        ("/ai/v1/agents", b"/ai/v1/agents", "q=café".encode()),
        ("/ai/v1/agents", b"/ai/v1/agents", b"q=a\x7fb"),
        ("/ai/v1/agents/a\x00b", b"/ai/v1/agents/a\x00b", b""),
    ],
    ids=["raw-utf8-path", "raw-utf8-query", "raw-del-query", "raw-nul-path"],
)
def test_raw_bytes_that_are_not_printable_ascii_are_a_400(upstream, through_gateway, path, raw_path, query_string):
    async def scenario(gateway):
        return await gateway.raw(path, raw_path, query_string)

    status, body = through_gateway(scenario)
    assert status == 400
    assert body["code"] == "bad_request"
    assert upstream.started == []


def test_percent_encoded_text_reaches_the_service_as_the_client_wrote_it(upstream, through_gateway):
    async def scenario(gateway):
        return await gateway.request("GET", "/hermes/v1/agents/caf%C3%A9%3Fx=1%23y?q=a%2Bb+c")

    assert through_gateway(scenario).status_code == 200
    assert upstream.requests[0].path == "/v1/agents/caf%C3%A9%3Fx=1%23y?q=a%2Bb+c"  # `?` and `#` stay in the path


@pytest.mark.parametrize("given", ["x" * 65, "a b", "id\twith-tab", "émoji", "../../etc", ""])
def test_a_request_id_outside_1_to_64_safe_characters_is_replaced(upstream, through_gateway, given):
    async def scenario(gateway):
        return await gateway.request("GET", "/ai/v1/jobs", headers={"X-Request-ID": given.encode()})

    response = through_gateway(scenario)
    made = response.headers["x-request-id"]
    assert made != given and len(made) == 32
    assert upstream.requests[0].header("X-Request-ID") == [made]


def test_a_request_id_of_safe_characters_is_passed_on_and_echoed(upstream, through_gateway):
    given = "Req-1.2_" + "a" * 56  # 64 characters

    async def scenario(gateway):
        return await gateway.request("GET", "/ai/v1/jobs", headers={"X-Request-ID": given})

    assert through_gateway(scenario).headers["x-request-id"] == given
    assert upstream.requests[0].header("X-Request-ID") == [given]


def test_the_client_s_forwarded_prefix_and_forwarded_for_are_dropped_for_the_gateway_s_own(upstream, through_gateway):
    headers = {"X-Forwarded-Prefix": "/evil", "X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6"}

    async def scenario(gateway):
        return await gateway.request("GET", "/ai/v1/jobs", headers=headers, address="198.51.100.7")

    through_gateway(scenario)
    seen = upstream.requests[0]
    assert seen.header("X-Forwarded-Prefix") == ["/ai"]
    assert seen.header("X-Forwarded-For") == ["198.51.100.7"]
    assert seen.header("X-Real-IP") == []


def test_behind_a_trusted_proxy_its_forwarded_for_is_kept_and_extended(settings, upstream, through_gateway):
    settings.AITBC_GATEWAY_TRUSTED_PROXIES = ["10.0.0.0/8"]

    async def scenario(gateway):
        headers = {"X-Forwarded-For": "203.0.113.9"}
        return await gateway.request("GET", "/ai/v1/jobs", headers=headers, address="10.1.2.3")

    through_gateway(scenario)
    assert upstream.requests[0].header("X-Forwarded-For") == ["203.0.113.9, 10.1.2.3"]
