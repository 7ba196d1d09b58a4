"""The gateway's metrics label methods from a fixed set: a made-up method is "other", never a new series."""

from django.test import Client
from prometheus_client import REGISTRY

from aitbc_site.metrics import method_label


def requests_total(**labels) -> float:
    return REGISTRY.get_sample_value("aitbc_http_requests_total", labels) or 0.0


def methods_seen() -> set[str]:
    return {
        sample.labels["method"]
        for family in REGISTRY.collect()
        if family.name == "aitbc_http_requests"
        for sample in family.samples
    }


def test_a_made_up_method_through_the_gateway_is_counted_as_other(upstream, through_gateway):
    labels = {"service": "gateway", "method": "other", "route": "ai/*", "status": "200"}
    before = requests_total(**labels)

    async def scenario(gateway):
        return [await gateway.request(method, "/ai/v1/jobs") for method in ("FOOBAR", "BREW")]

    assert [r.status_code for r in through_gateway(scenario)] == [200, 200]
    assert [seen.method for seen in upstream.requests] == ["FOOBAR", "BREW"]
    assert requests_total(**labels) == before + 2
    assert methods_seen().isdisjoint({"FOOBAR", "BREW"})


def test_a_made_up_method_answered_by_django_is_counted_as_other(settings):
    settings.ROOT_URLCONF = "aitbc_site.urls.gateway"
    labels = {"service": settings.AITBC_SERVICE, "method": "other", "route": "openapi", "status": "200"}
    before = requests_total(**labels)
    Client().generic("PROPFIND-X", "/openapi")
    assert requests_total(**labels) == before + 1
    assert "PROPFIND-X" not in methods_seen()


def test_the_standard_methods_keep_their_own_label():
    standard = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    assert [method_label(m) for m in standard] == standard
