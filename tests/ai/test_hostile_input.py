"""Hostile input to every POST of the ai service, on PostgreSQL by default: each is refused with a 422 in the
contract's error shape, and afterwards nothing is stored, no escrow is held (the client's balances are what they
were) and the lists still answer. Filters and ids in the query and path: a 4xx, never a 500."""

import json

import pytest

from apps.ai.models import Benchmark, Job, TuneStudy
from apps.trading.facade import account_balances
from tests import hostile
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")

# a valid body per endpoint (the control test shows each does work), a string and a number field of it, and what
# the valid body answers; "@miner" stands for an online multimodal miner's id
ENDPOINTS = {
    "job": ("/v1/jobs", {"type": "echo", "payload": {"note": "x"}, "max_price": "2"}, "payload.note",
            "constraints.min_vram_gb", 201),
    "process": ("/v1/multimodal/process", {"inputs": [{"type": "text", "text": "two words"}], "max_price": "2"},
                "inputs.0.text", "ttl_seconds", 201),
    "benchmark": ("/v1/multimodal/benchmark", {"miner_ids": ["@miner"], "image_size": 16,
                                                           "max_price_per_job": "1", "text": "t"},
                  "text", "repeat", 201),
    "tune": ("/v1/optimization/tune", {"type": "sleep", "payload": {"note": "x"}, "parameters": {"seconds": [0, 1]},
                                       "max_price_per_job": "1"}, "payload.note", "parameters.seconds.1", 201),
    "predict": ("/v1/optimization/predict", {"type": "sleep", "payload": {"seconds": 1}}, "type", "payload.seconds",
                404),  # no completed sleep job to learn from: a 404, never a 422
}  # fmt: skip
LISTS = ("/v1/jobs", "/v1/multimodal/benchmark", "/v1/optimization/tune", "/v1/optimization/agents",
         "/v1/multimodal/agents")  # fmt: skip
BEYOND = {  # (endpoint, field, raw JSON): beyond what storage or the ledger holds, or the wrong type where logic reads
    "max_price_beyond_the_ledger": ("job", "max_price", '"100000000000"'),
    "max_price_as_a_huge_number": ("job", "max_price", "1e12"),
    "max_price_exponent": ("job", "max_price", '"1e400"'),
    "ttl_beyond_int4": ("job", "ttl_seconds", "2147483648"),
    "priority_beyond_int4": ("job", "priority", "2147483648"),
    "min_vram_beyond_any_gpu": ("job", "constraints.min_vram_gb", "1e20"),
    "min_vram_not_a_number": ("job", "constraints.min_vram_gb", '"lots"'),
    "cuda_in_other_digits": ("job", "constraints.cuda", '"\u0661\u0662.\u0664"'),
    "models_not_a_list": ("job", "constraints.models", '"gpt"'),
    "payload_not_an_object": ("job", "payload", "[1, 2]"),
    "process_price_beyond_the_ledger": ("process", "max_price", '"100000000000"'),
    "process_ttl_beyond_int4": ("process", "ttl_seconds", "2147483648"),
    "benchmark_product_beyond_the_ledger": ("benchmark", "max_price_per_job", '"9999999999"'),
    "benchmark_image_beyond_int4": ("benchmark", "image_size", "2147483648"),
    "tune_product_beyond_the_ledger": ("tune", "max_price_per_job", '"9999999999"'),
    "tune_values_not_a_list": ("tune", "parameters.seconds", "0"),
    "tune_values_nested": ("tune", "parameters.seconds", '[{"a": 1}, [2]]'),
    "tune_seconds_as_text": ("tune", "parameters.seconds", '["0", "1"]'),
    "predict_payload_of_the_wrong_type": ("predict", "payload.seconds", "[1]"),
    "predict_seconds_as_text": ("predict", "payload.seconds", '"24"'),
}
PAGING = [("limit", "\u00b2"), ("limit", "9" * 5000), ("limit", "0"), ("limit", "501"), ("offset", "-1"),
          ("offset", "9" * 5000), ("offset", "\u0661")]  # fmt: skip
FILTERS = [("/v1/jobs", "type", "a\x00b"), ("/v1/jobs", "type", "a\x01b"), ("/v1/jobs", "type", "x" * 65),
           ("/v1/jobs", "state", "BOGUS"), ("/v1/optimization/agents", "type", "a\x00b"),
           ("/v1/optimization/agents", "type", "x" * 65)]  # fmt: skip


@pytest.fixture
def world(api):
    """The ai service as a funded client calls it, that client, and two online miners that run multimodal jobs."""
    client, key = trading_factories.funded_client("100")
    miners = [gpu_factories.miner(runners=("multimodal",)).id for _ in range(2)]
    return {"ai": api("ai", key), "client": client, "key": key, "miners": miners}


def sent(world, endpoint: str, text: str):
    path = ENDPOINTS[endpoint][0]
    text = text.replace('["@miner"]', json.dumps([str(m) for m in world["miners"]]))
    return world["ai"].post(path, text)


def stored() -> tuple:
    return Job.objects.count(), Benchmark.objects.count(), TuneStudy.objects.count()


def assert_nothing_happened(world, balances) -> None:
    assert stored() == (0, 0, 0)
    assert account_balances(world["client"].id) == balances
    for path in LISTS:
        response = world["ai"].get(path)
        assert response.status_code == 200, (path, response.content[:300])
        assert isinstance(response.json()["items"], list)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_control_each_valid_body_does_its_work(world, endpoint):
    """Given the valid bodies the hostile ones are made from, they are not refused: so a refusal below is the
    hostile value's."""
    _, body, *_, status = ENDPOINTS[endpoint]
    response = sent(world, endpoint, json.dumps(body))
    assert response.status_code == status, response.content[:500]


@pytest.mark.parametrize("kind", hostile.ALL)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("which", ["string", "number"])
def test_a_hostile_value_in_any_field_is_refused_and_changes_nothing(world, endpoint, which, kind):
    _, body, string_field, number_field, _ = ENDPOINTS[endpoint]
    balances = account_balances(world["client"].id)
    field = string_field if which == "string" else number_field
    response = sent(world, endpoint, hostile.body_with(body, field, hostile.ALL[kind]))
    hostile.assert_refused(response, 422)
    assert_nothing_happened(world, balances)


@pytest.mark.parametrize("case", BEYOND)
def test_a_value_beyond_storage_or_of_the_wrong_type_is_refused_before_any_escrow(world, case):
    endpoint, field, raw = BEYOND[case]
    balances = account_balances(world["client"].id)
    response = sent(world, endpoint, hostile.body_with(ENDPOINTS[endpoint][1], field, raw))
    detail = hostile.assert_refused(response, 422)["detail"]
    assert [name for name in field.split(".") if not name.isdigit()][-1] in detail  # the schema's word, not storage's
    assert_nothing_happened(world, balances)


def test_an_idempotency_key_beyond_its_bounds_is_refused(world):
    balances = account_balances(world["client"].id)
    body = json.dumps(ENDPOINTS["job"][1])
    headers = {"Idempotency-Key": "k" * 200}
    response = world["ai"].post("/v1/jobs", body, headers=headers)
    hostile.assert_refused(response, 422)
    assert_nothing_happened(world, balances)


@pytest.mark.parametrize(("name", "value"), PAGING)
@pytest.mark.parametrize("path", LISTS)
def test_a_hostile_paging_parameter_is_a_4xx(world, path, name, value):
    response = world["ai"].get(path, {name: value})
    hostile.assert_refused(response)


@pytest.mark.parametrize(("path", "name", "value"), FILTERS)
def test_a_hostile_filter_is_a_4xx(world, path, name, value):
    response = world["ai"].get(path, {name: value})
    hostile.assert_refused(response)


@pytest.mark.parametrize("job_id", ["\u00b2", "9" * 5000, "a\x00b", "00000000-0000-0000-0000-00000000000\u00b2"])
@pytest.mark.parametrize("path", ["/v1/jobs/{}", "/v1/jobs/{}/result", "/v1/multimodal/benchmark/{}",
                                  "/v1/optimization/tune/{}"])  # fmt: skip
def test_a_hostile_id_in_the_path_is_a_4xx(world, path, job_id):
    response = world["ai"].get(path.format(job_id))
    hostile.assert_refused(response)


def test_a_constraint_sent_as_a_numeral_is_stored_as_the_number_matching_reads(world):
    """Given min_vram_gb as the text "24": the job is stored with the number 24, and needs 24 GiB of a GPU."""
    body = hostile.body_with(ENDPOINTS["job"][1], "constraints.min_vram_gb", '"24"')
    response = sent(world, "job", body)
    assert response.status_code == 201, response.content[:500]
    assert response.json()["constraints"]["min_vram_gb"] == 24
    assert Job.objects.get(id=response.json()["job_id"]).min_vram_mb == 24 * 1024
