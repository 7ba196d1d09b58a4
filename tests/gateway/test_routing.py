import pytest

from gateway.proxy import request_id_of
from gateway.routing import service_route


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
