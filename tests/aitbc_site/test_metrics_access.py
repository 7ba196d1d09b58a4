"""/metrics is for operators: served to the addresses in AITBC_METRICS_ADDRESSES, a 404 to anyone else."""

import pytest


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize("service", ["gateway", "trading"])
def test_metrics_answer_only_operators_addresses(api, settings, service):
    http = api(service)
    settings.AITBC_METRICS_ADDRESSES = ["10.0.0.0/8"]
    assert http.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    refused = http.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"
    assert b"aitbc_http_requests" not in refused.content
