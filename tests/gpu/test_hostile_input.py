"""Hostile input to every POST and PUT of the gpu service, on PostgreSQL by default: each is refused with a 422 in
the contract's error shape, and afterwards nothing is stored (miners, GPUs, telemetry, the held job, bookings,
reviews as they were), no escrow is held (balances unchanged) and the GPU lists and the operators' summary still
answer. Telemetry at the edges of its bounds never breaks the edge optimiser. Filters and ids: a 4xx."""

import json
import uuid

import pytest

from apps.ai.models import Job
from apps.ai.services.claim import job_claim
from apps.gpu.facade import MinerView
from apps.gpu.models import Gpu, GpuBooking, GpuReview, GpuSample, Miner
from apps.gpu.services.bookings import gpu_book
from apps.trading.facade import account_balances
from tests import hostile
from tests.accounts import factories as accounts_factories
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = [pytest.mark.django_db(databases="__all__"), pytest.mark.usefixtures("edge_profiles")]
H100 = {"name": "NVIDIA H100 80GB HBM3", "memory_mb": 81559, "compute_capability": "9.0"}
CAPS = {"gpus": [dict(H100, uuid="@gpu0"), dict(H100, uuid="@gpu1")], "cuda_version": "13.0", "runners": ["echo"]}
READING = {"uuid": "@gpu0", "utilization_gpu": 50, "memory_used_mb": 1000, "temperature_c": 60, "power_w": 300}

# name: (method, path, who, valid body, a string field, a number field, what the valid body answers); "@x" stands
# for the world's x
ENDPOINTS = {
    "register": ("post", "/v1/miners/register", "miner", {"region": "eu", "capabilities": CAPS, "unit_price": "0.01"},
                 "capabilities.gpus.0.name", "capabilities.gpus.0.memory_mb", 200),
    "heartbeat": ("post", "/v1/miners/heartbeat", "miner", {"inflight": 1, "gpus": [READING]}, "gpus.0.uuid",
                  "gpus.0.temperature_c", 200),
    "poll": ("post", "/v1/miners/poll", "miner", {"max_wait_seconds": 0}, "max_wait_seconds", "max_wait_seconds",
             204),
    "result": ("post", "/v1/miners/@job/result", "miner", {"result": {"note": "x"}, "metrics": {"gpu_seconds": 1}},
               "metrics.device", "metrics.gpu_seconds", 200),
    "fail": ("post", "/v1/miners/@job/fail", "miner", {"error_code": "boom", "error_message": "x"}, "error_message",
             "retryable", 200),
    "capabilities": ("put", "/v1/miners/@miner/capabilities", "miner", {"capabilities": CAPS},
                     "capabilities.cuda_version", "capabilities.gpus.1.memory_mb", 200),
    "book": ("post", "/v1/gpus/@gpu0/book", "client", {"hours": "1"}, "hours", "hours", 201),
    "review": ("post", "/v1/gpus/@gpu1/reviews", "client", {"rating": 5, "comment": "x"}, "comment", "rating", 201),
    "optimize": ("post", "/v1/marketplace/edge-gpu/@gpu0/optimize", "client",
                 {"model_params_b": 7, "sequence_length": 4096}, "model_params_b", "sequence_length", 200),
}  # fmt: skip
BEYOND = {  # (endpoint, field, raw JSON): beyond what storage holds or physics allows, or of the wrong type
    "memory_beyond_any_gpu": ("register", "capabilities.gpus.0.memory_mb", "100000000000000000000"),
    "memory_beyond_int4": ("register", "capabilities.gpus.0.memory_mb", "2147483648"),
    "concurrency_beyond_int4": ("register", "concurrency", "2147483648"),
    "unit_price_beyond_the_ledger": ("register", "unit_price", '"10000000000"'),
    "gpu_name_beyond_its_column": ("register", "capabilities.gpus.0.name", json.dumps("x" * 101)),
    "runner_name_beyond_a_job_type": ("register", "capabilities.runners.0", json.dumps("x" * 65)),
    "capabilities_not_an_object": ("capabilities", "capabilities", '["gpus"]'),
    "registered_capabilities_a_number": ("register", "capabilities", "5"),
    "capability_memory_as_text": ("capabilities", "capabilities.gpus.0.memory_mb", '"lots"'),
    "inflight_beyond_int4": ("heartbeat", "inflight", "2147483648"),
    "memory_used_beyond_any_gpu": ("heartbeat", "gpus.0.memory_used_mb", "1e20"),
    "temperature_beyond_physics": ("heartbeat", "gpus.0.temperature_c", "1e6"),
    "temperature_below_absolute_zero": ("heartbeat", "gpus.0.temperature_c", "-300"),
    "negative_power": ("heartbeat", "gpus.0.power_w", "-1"),
    "utilization_over_100": ("heartbeat", "gpus.0.utilization_gpu", "101"),
    "one_gpu_twice": ("heartbeat", "gpus", json.dumps([READING, READING])),
    "more_readings_than_gpus": (
        "heartbeat",
        "gpus",
        json.dumps([READING, dict(READING, uuid="@gpu1"), dict(READING, uuid="GPU-not-its")]),
    ),
    "64_copies_of_one_gpu": ("heartbeat", "gpus", json.dumps([READING] * 64)),
    "too_many_job_ids": ("heartbeat", "job_ids", json.dumps([str(uuid.UUID(int=i)) for i in range(1025)])),
    "gpu_seconds_beyond_the_ledger": ("result", "metrics.gpu_seconds", "1e20"),
    "gpu_seconds_as_text": ("result", "metrics.gpu_seconds", '"lots"'),
    "plugin_version_not_text": ("result", "metrics.plugin", '{"name": "p", "version": {"v": 1}}'),
    "plugin_not_an_object": ("result", "metrics.plugin", '"p"'),
    "result_not_an_object": ("result", "result", "[1]"),
    "poll_wait_beyond_its_bound": ("poll", "max_wait_seconds", "1e9"),
    "hours_beyond_a_year": ("book", "hours", '"8761"'),
    "hours_exponent": ("book", "hours", '"1e400"'),
    "rating_beyond_int4": ("review", "rating", "2147483648"),
    "model_of_no_parameters": ("optimize", "model_params_b", "1e-300"),
    "sequence_beyond_int4": ("optimize", "sequence_length", "2147483648"),
}
PAGING = [("limit", "\u00b2"), ("limit", "9" * 5000), ("limit", "0"), ("limit", "501"), ("offset", "-1"),
          ("offset", "9" * 5000)]  # fmt: skip
LISTS = ("/v1/gpus", "/v1/bookings", "/v1/miners/@miner/gpus", "/v1/gpus/@gpu1/reviews",
         "/v1/marketplace/edge-gpu/profiles")  # fmt: skip
FILTERS = [("/v1/gpus", "model", "a\x00b"), ("/v1/gpus", "model", "a\x01b"), ("/v1/gpus", "model", "x" * 101),
           ("/v1/bookings", "status", "BOGUS")]  # fmt: skip


@pytest.fixture
def world(api):
    """A miner registered over HTTP with two H100s, holding a running job of a funded client, who has booked the
    second GPU (so may review it)."""
    _, miner_key = accounts_factories.principal("miner")
    uuids = [f"GPU-{uuid.uuid4()}" for _ in CAPS["gpus"]]
    body = {"capabilities": CAPS, "unit_price": "0.01", "concurrency": 2}
    registered = api("gpu", miner_key).post("/v1/miners/register", filled(json.dumps(body), uuids))
    miner_id = registered.json()["miner_id"]
    client, client_key = trading_factories.funded_client("100")
    job = ai_factories.job(client)
    assert job_claim(miner=MinerView.from_model(Miner.objects.get(id=miner_id), online=True)).id == job.id
    gpu_ids = [Gpu.objects.get(uuid=u).id for u in uuids]
    gpu_book(client=client, gpu_id=gpu_ids[1], hours=1)
    keys = {"miner": miner_key, "client": client_key, "admin": accounts_factories.principal("admin")[1]}
    return {"api": api, "keys": keys, "client": client, "job": job.id, "miner": miner_id, "uuids": uuids,
            "gpu_ids": gpu_ids}  # fmt: skip


def as_admin(world, service: str = "gpu"):
    return world["api"](service, world["keys"]["admin"])


def filled(text: str, gpus, miner="", job="") -> str:
    """`text` with "@gpu0", "@gpu1" (UUIDs in a body, ids in a path), "@miner" and "@job" replaced."""
    for name, value in {"@gpu0": gpus[0], "@gpu1": gpus[1], "@miner": miner, "@job": job}.items():
        text = text.replace(name, str(value))
    return text


def at(world, path: str) -> str:
    return filled(path, world["gpu_ids"], world["miner"], world["job"])


def sent(world, endpoint: str, text: str):
    method, path, who, *_ = ENDPOINTS[endpoint]
    return world["api"]("gpu", world["keys"][who]).request(method, at(world, path), filled(text, world["uuids"]))


def state(world) -> dict:
    """Everything a request to the gpu service could have changed."""
    return {
        "miners": list(Miner.objects.order_by("id").values("region", "concurrency", "unit_price", "capabilities",
                                                             "inflight", "status")),
        "gpus": list(Gpu.objects.order_by("id").values("uuid", "model", "memory_mb", "status", "utilization_gpu",
                                                         "memory_used_mb", "temperature_c", "power_w")),
        "samples": GpuSample.objects.count(),
        "job": Job.objects.filter(id=world["job"]).values("state", "result", "units", "error", "receipt_id").get(),
        "bookings": GpuBooking.objects.count(),
        "reviews": GpuReview.objects.count(),
        "balances": account_balances(world["client"].id),
    }  # fmt: skip


def assert_lists_answer(world) -> None:
    for path in LISTS:
        response = as_admin(world).get(at(world, path))
        assert response.status_code == 200, (path, response.content[:300])
        assert isinstance(response.json()["items"], list)
    assert isinstance(world["api"]("gpu").get("/gpu/status").json()["by_model"], dict)
    summary = as_admin(world, "monitoring").get("/v1/dashboard/summary")
    assert summary.status_code == 200 and json.loads(summary.content)  # the operators' view, after everything


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_control_each_valid_body_does_its_work(world, endpoint):
    """Given the valid bodies the hostile ones are made from, they are not refused: so a refusal below is the
    hostile value's."""
    body, *_, status = ENDPOINTS[endpoint][3:]
    response = sent(world, endpoint, json.dumps(body))
    assert response.status_code == status, response.content[:500]


@pytest.mark.parametrize("kind", hostile.ALL)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("which", ["string", "number"])
def test_a_hostile_value_in_any_field_is_refused_and_changes_nothing(world, endpoint, which, kind):
    body, string_field, number_field, _ = ENDPOINTS[endpoint][3:]
    before = state(world)
    field = string_field if which == "string" else number_field
    hostile.assert_refused(sent(world, endpoint, hostile.body_with(body, field, hostile.ALL[kind])), 422)
    assert state(world) == before
    assert_lists_answer(world)


@pytest.mark.parametrize("case", BEYOND)
def test_a_value_beyond_storage_or_physics_or_of_the_wrong_type_is_refused(world, case):
    endpoint, field, raw = BEYOND[case]
    before = state(world)
    response = sent(world, endpoint, hostile.body_with(ENDPOINTS[endpoint][3], field, raw))
    detail = hostile.assert_refused(response, 422)["detail"]
    assert [name for name in field.split(".") if not name.isdigit()][-1] in detail  # the schema's word, not storage's
    assert state(world) == before
    assert_lists_answer(world)


def test_a_booking_whose_product_is_beyond_the_ledger_is_refused_before_any_escrow(world):
    """A GPU at just under 10^10 AIT a second is 3.6 x 10^13 AIT an hour: more than the ledger takes."""
    dear = gpu_factories.miner(unit_price="9999999999")
    gpu_id = Gpu.objects.get(miner_id=dear.id).id
    before = state(world)
    booked = world["api"]("gpu", world["keys"]["client"]).post(f"/v1/gpus/{gpu_id}/book", {"hours": "1"})
    hostile.assert_refused(booked, 422)
    assert state(world) == before
    assert_lists_answer(world)


@pytest.mark.parametrize(
    "reading",
    [
        {"utilization_gpu": 0, "memory_used_mb": 0, "temperature_c": 0, "power_w": 0},
        {"utilization_gpu": 100, "memory_used_mb": 2**24, "temperature_c": 1000, "power_w": 100_000},
        {"utilization_gpu": 0, "memory_used_mb": 81559, "temperature_c": -273.15, "power_w": 0},
        {"utilization_gpu": None, "memory_used_mb": None, "temperature_c": None, "power_w": None},
    ],
    ids=["zero", "highest", "full_and_coldest", "none"],
)
@pytest.mark.parametrize(("params_b", "sequence_length"), [(0.001, 1), (10000, 1_048_576), (7, 4096)])
def test_telemetry_at_its_bounds_never_breaks_the_edge_optimiser(world, reading, params_b, sequence_length):
    beat = sent(world, "heartbeat", json.dumps({"gpus": [{"uuid": "@gpu0", **reading}]}))
    assert beat.status_code == 200, beat.content
    answer = sent(world, "optimize", json.dumps({"model_params_b": params_b, "sequence_length": sequence_length}))
    assert answer.status_code in (200, 422), answer.content[:500]
    assert json.loads(answer.content)  # finite numbers only: a body that is JSON
    assert_lists_answer(world)


@pytest.mark.parametrize(("name", "value"), PAGING)
@pytest.mark.parametrize("path", LISTS)
def test_a_hostile_paging_parameter_is_a_4xx(world, path, name, value):
    response = as_admin(world).get(at(world, path), {name: value})
    hostile.assert_refused(response)


@pytest.mark.parametrize(("path", "name", "value"), FILTERS)
def test_a_hostile_filter_is_a_4xx(world, path, name, value):
    hostile.assert_refused(as_admin(world).get(path, {name: value}))


@pytest.mark.parametrize("bad_id", ["\u00b2", "9" * 5000, "a\x00b"])
@pytest.mark.parametrize("path", ["/v1/miners/{}", "/v1/miners/{}/gpus", "/v1/gpus/{}/reviews", "/v1/bookings/{}"])
def test_a_hostile_id_in_the_path_is_a_4xx(world, path, bad_id):
    hostile.assert_refused(as_admin(world).get(path.format(bad_id)))
