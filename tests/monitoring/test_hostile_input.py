"""The operators' dashboard never breaks because of a stored reading (issue 14): a GPU temperature, utilisation or
a latency that is not a finite number (stored before the input door existed) shows as null, and every dashboard
answer stays JSON; the dashboard's endpoints take no input, and refuse what no parameter may hold."""

import json
import math

import pytest

from apps.gpu.models import Gpu, GpuSample, Miner
from apps.gpu.services.miners import miner_heartbeat
from apps.monitoring.models import ServiceSample
from tests import hostile
from tests.gpu import factories as gpu_factories

pytestmark = pytest.mark.django_db(databases="__all__")
PATHS = ["/v1/dashboard", "/v1/dashboard/summary", "/v1/dashboard/metrics"]


def strict_json(response):
    """The body as JSON as the standard defines it (no NaN, no Infinity)."""
    return json.loads(response.content, parse_constant=lambda name: pytest.fail(f"{name} in a JSON body"))


@pytest.fixture
def unreadable(request):
    """One online GPU whose latest heartbeat and samples hold `request.param`, and a service latency of Infinity
    (a column that may not be null: SQLite keeps NaN as null)."""
    view = gpu_factories.miner()
    reading = {"uuid": gpu_factories.gpu_uuids(view)[0], "utilization_gpu": 50, "memory_used_mb": 1000,
               "temperature_c": 60, "power_w": 300}  # fmt: skip
    miner_heartbeat(miner=Miner.objects.get(id=view.id), inflight=0, readings=[reading], job_ids=None)
    value = request.param
    Gpu.objects.update(utilization_gpu=value, memory_used_mb=value, temperature_c=value, power_w=value)
    GpuSample.objects.update(utilization_gpu=value, temperature_c=value)
    ServiceSample.objects.create(service="gpu", status="up", status_code=200, latency_ms=math.inf)
    return value


@pytest.mark.parametrize("unreadable", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"], indirect=True)
def test_a_stored_reading_that_is_not_a_number_shows_as_null_and_the_summary_stays_json(api, admin_key, unreadable):
    response = api("monitoring", admin_key).get("/v1/dashboard/summary")

    assert response.status_code == 200
    summary = strict_json(response)
    [model] = summary["gpus"]["by_model"]
    assert (model["online"], model["temperature_c_avg"], model["utilization_avg"], model["power_w_avg"]) == (
        1, None, None, None)  # fmt: skip
    series = summary["gpus"]["utilization_per_minute"]["series"]  # SQLite keeps NaN as null: then no series at all
    assert [value for values in series.values() for value in values if value is not None] == []
    assert summary["services"]["latency_per_minute"]["series"]["gpu"][-1] is None


@pytest.mark.parametrize("unreadable", [math.inf, math.nan], ids=["inf", "nan"], indirect=True)
@pytest.mark.parametrize("path", PATHS)
def test_every_dashboard_answer_stays_json_whatever_was_stored(api, admin_key, unreadable, path):
    response = api("monitoring", admin_key).get(path)
    assert response.status_code == 200
    strict_json(response)


@pytest.mark.parametrize("value", ["%00", "%01", "%ED%A0%80%00"])
@pytest.mark.parametrize("path", [*PATHS, "/dashboard"])
def test_a_parameter_no_field_may_hold_is_refused_and_the_dashboard_still_answers(api, admin_key, path, value):
    hostile.assert_refused(api("monitoring", admin_key).get(f"{path}?since={value}"), 422)
    assert api("monitoring", admin_key).get("/v1/dashboard/summary").status_code == 200
