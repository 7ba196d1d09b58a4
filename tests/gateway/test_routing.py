import pytest

from gateway.inbound import request_id_of
from gateway.routing import service_route, upstream_path


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/ai/v1/jobs", ("ai", "/v1/jobs")),
        ("/ai", ("ai", "/")),
        ("/ai/", ("ai", "/")),
        ("/gpu/health", ("gpu", "/health")),
        ("/marketplace/v1/bids?x=1", ("marketplace", "/v1/bids?x=1")),
        ("/aitbc/v1/jobs", None),
        ("/air", None),
        ("/admin/", None),
        ("/health", None),
        ("/gateway/health", None),
    ],
)
def test_a_path_belongs_to_a_service_only_on_a_segment_boundary(path, route):
    assert service_route(path) == route


def test_a_request_id_is_kept_when_given_and_made_when_absent():
    assert request_id_of([(b"x-request-id", b"abc-1")]) == "abc-1"
    made = request_id_of([])
    assert len(made) == 32 and made != request_id_of([])


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/v1/jobs", "/v1/jobs"),
        ("/v1/../metrics", "/metrics"),
        ("/./v1/./jobs/", "/v1/jobs/"),
        ("/../..", "/"),
        ("/v1/a?b#c d%41", "/v1/a%3Fb%23c%20d%2541"),
        ("/v1/café", "/v1/caf%C3%A9"),
    ],
)
def test_the_service_is_asked_for_the_path_the_gateway_routed_encoded_again(path, upstream):
    assert upstream_path(path) == upstream


METRICS_PATHS = ["/ai/metrics", "/ai/metrics/", "/gpu//metrics", "/trading/v1/../metrics", "/monitoring/./metrics"]


@pytest.mark.parametrize("path", [*METRICS_PATHS, "/plugin/%6detrics", "/hermes/v1/%2e%2e/metrics"])
def test_a_service_s_metrics_are_not_served_through_the_gateway(upstream, through_gateway, path):
    async def scenario(gateway):
        return await gateway.request("GET", path)

    response = through_gateway(scenario)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert upstream.started == []


def test_paths_that_only_look_like_metrics_are_passed_on(upstream, through_gateway):
    async def scenario(gateway):
        return [await gateway.request("GET", path) for path in ("/monitoring/v1/dashboard/metrics", "/ai/metricsx")]

    assert [r.status_code for r in through_gateway(scenario)] == [200, 200]
    assert [seen.path for seen in upstream.requests] == ["/v1/dashboard/metrics", "/metricsx"]


def test_dot_segments_sent_raw_cannot_reach_a_service_s_metrics(upstream, through_gateway):
    async def scenario(gateway):
        return await gateway.raw("/ai/v1/../metrics", b"/ai/v1/../metrics")

    status, body = through_gateway(scenario)
    assert (status, body["code"]) == (404, "not_found")
    assert upstream.started == []
