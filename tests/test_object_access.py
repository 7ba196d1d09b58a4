"""Object-level authorisation over every endpoint that takes an object id, in every service.

Each id-taking path in each service's OpenAPI document is either an owned object (its owner succeeds;
another principal of the same role gets 404 and the object is unchanged; a role that may never call
it gets 403) or public by design, with the reason. A new id-taking endpoint fails
`test_every_id_taking_endpoint_is_classified` until it is added to one table or the other.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from aitbc_site.domains import DOMAINS
from apps.ai.models import Job
from apps.ai.services.claim import job_claim
from apps.gpu.models import Gpu
from tests.accounts import factories as accounts_factories
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = [pytest.mark.django_db(databases="__all__"), pytest.mark.usefixtures("edge_profiles")]
RUNNERS = ("echo", "sleep", "matmul", "multimodal")
ORIN = {"name": "NVIDIA Jetson AGX Orin", "uuid": "GPU-orin-1", "memory_mb": 62841}  # an edge GPU


@dataclass(frozen=True)
class Owned:
    service: str
    method: str
    path: str
    owner: str  # the role of the principal that owns the object
    lower: str | None  # a role refused outright (403), or None when every role may call it
    read: tuple  # the owner's GET (service, path) that shows the object, to prove a refusal changed nothing
    body: dict | None = None
    stranger: int = 404  # 403 where the object itself is public (an open request) but only its owner may change it


PUBLIC = {
    ("trading", "GET", "/v1/explorer/blocks/{ident}"): "the block log is public and verifiable by anyone",
    ("trading", "GET", "/v1/explorer/transactions/{tx_hash}"): "sealed receipts are public",
    ("trading", "GET", "/v1/explorer/receipts/{receipt_id}"): "sealed receipts are public",
    ("gpu", "POST", "/v1/gpus/{gpu_id}/book"): "any client may book any listed GPU",
    ("gpu", "GET", "/v1/gpus/{gpu_id}/reviews"): "reviews are public; writing one needs a booking",
    ("gpu", "POST", "/v1/gpus/{gpu_id}/reviews"): "any client who booked the GPU may review it (403 otherwise)",
    ("gpu", "POST", "/v1/marketplace/edge-gpu/{gpu_id}/optimize"): "advice from a GPU's public profile",
    ("marketplace", "GET", "/v1/offers/{offer_id}"): "the order book is public",
    ("trading", "GET", "/v1/trading/requests/{request_id}"): "an open request is public so sellers can answer",
    ("trading", "POST", "/v1/trading/requests/{request_id}/matches"): "any seller may answer an open request",
    ("trading", "GET", "/v1/trading/requests/{request_id}/matches"): "the buyer sees every offer, a seller its own",
    ("governance", "GET", "/v1/governance/profiles/{principal_id}"): "profiles are public; voting power is not",
    ("governance", "GET", "/v1/governance/proposals/{proposal_id}"): "every holder sees every proposal",
    ("governance", "POST", "/v1/governance/proposals/{proposal_id}/votes"): "every holder may vote",
    ("governance", "GET", "/v1/governance/proposals/{proposal_id}/votes"): "votes are public, as the tallies are",
    ("governance", "POST", "/v1/governance/proposals/{proposal_id}/execute"): "anyone executes a passed proposal",
    ("governance", "GET", "/v1/governance/reports/{report_id}"): "transparency reports are public",
    ("plugin", "GET", "/v1/plugins/{plugin_id}"): "the plugin registry is a public catalogue",
    ("plugin", "GET", "/v1/plugins/{plugin_id}/installs"): "a miner sees its own installs, an admin every miner's",
    ("plugin", "GET", "/v1/plugins/{plugin_id}/reviews"): "reviews are public",
    ("plugin", "POST", "/v1/plugins/{plugin_id}/reviews"): "anyone but its publisher may review a plugin (403)",
}
ADMIN_ONLY = {
    ("ai", "POST", "/v1/jobs/{job_id}/requeue"): None,
    ("governance", "PUT", "/v1/governance/profiles/{principal_id}/role"): {"role": "council"},
}

JOB = ("job", "{job_id}")  # its stored row: the client's view also says why it waits, which other miners change
MINER = ("gpu", "/v1/miners/{miner_id}")
BOOKING = ("gpu", "/v1/bookings/{booking_id}")
BID = ("marketplace", "/v1/bids/{bid_id}")
OFFER = ("marketplace", "/v1/offers/{offer_id}")
REQUEST = ("trading", "/v1/trading/requests/{request_id}")
MATCH = ("trading", "/v1/trading/matches/{match_id}")
AGREEMENT = ("trading", "/v1/trading/agreements/{agreement_id}")
KEYS = ("ai", "/v1/principals/me/keys")
PLUGIN = ("plugin", "/v1/plugins/{plugin_id}")
BENCHMARK = ("ai", "/v1/multimodal/benchmark/{benchmark_id}")
TUNE = ("ai", "/v1/optimization/tune/{tune_id}")
PROPOSAL = ("governance", "/v1/governance/proposals/{proposal_id}")
AGENT = ("hermes", "/v1/agents/{agent_id}")
WORKFLOW = ("hermes", "/v1/workflows/{workflow_id}")
DEPLOYMENT = ("hermes", "/v1/edge/deployments/{deployment_id}")
REPLICAS = ("hermes", "/v1/edge/replicas")
REPORT = {"state": "FAILED", "reason": "not mine"}
SETTLE = {"amount": "1"}
RESULT = {"result": {"ok": True}, "metrics": {"gpu_seconds": 1}}
COUNTER = {"price": "9"}
OWNED = [
    *[Owned(s, "DELETE", "/v1/principals/me/keys/{key_id}", "client", None, KEYS) for s in DOMAINS],
    Owned("gpu", "POST", "/v1/miners/{job_id}/result", "miner", "client", JOB, RESULT),
    Owned("gpu", "POST", "/v1/miners/{job_id}/fail", "miner", "client", JOB, {"error_code": "x"}),
    Owned("gpu", "GET", "/v1/miners/{miner_id}", "miner", None, MINER),
    Owned("gpu", "GET", "/v1/miners/{miner_id}/gpus", "miner", None, MINER),
    Owned("gpu", "GET", "/v1/miners/{miner_id}/earnings", "miner", None, MINER),
    Owned("gpu", "POST", "/v1/miners/{miner_id}/earnings", "miner", None, MINER),
    Owned("gpu", "PUT", "/v1/miners/{miner_id}/capabilities", "miner", "client", MINER, {"capabilities": {}}),
    Owned("gpu", "DELETE", "/v1/miners/{miner_id}", "miner", "client", MINER),
    Owned("gpu", "GET", "/v1/bookings/{booking_id}", "client", None, BOOKING),
    Owned("gpu", "POST", "/v1/bookings/{booking_id}/release", "client", "miner", BOOKING),
    Owned("marketplace", "DELETE", "/v1/offers/{offer_id}", "miner", "client", OFFER),
    Owned("marketplace", "GET", "/v1/bids/{bid_id}", "client", "miner", BID),
    Owned("marketplace", "DELETE", "/v1/bids/{bid_id}", "client", "miner", BID),
    Owned("trading", "POST", "/v1/trading/requests/{request_id}/cancel", "client", "miner", REQUEST, stranger=403),
    Owned("trading", "GET", "/v1/trading/matches/{match_id}", "client", None, MATCH),
    Owned("trading", "POST", "/v1/trading/matches/{match_id}/counter", "client", None, MATCH, COUNTER),
    Owned("trading", "POST", "/v1/trading/matches/{match_id}/accept", "client", None, MATCH),
    Owned("trading", "POST", "/v1/trading/matches/{match_id}/reject", "client", None, MATCH),
    Owned("trading", "GET", "/v1/trading/agreements/{agreement_id}", "client", None, AGREEMENT),
    Owned("trading", "POST", "/v1/trading/agreements/{agreement_id}/settlements", "client", None, AGREEMENT, SETTLE),
    Owned("trading", "POST", "/v1/trading/agreements/{agreement_id}/cancel", "client", None, AGREEMENT),
    Owned("hermes", "GET", "/v1/agents/{agent_id}", "miner", "client", AGENT),
    Owned("hermes", "PATCH", "/v1/agents/{agent_id}", "miner", "client", AGENT, {"unit_price": "0.5"}),
    Owned("hermes", "DELETE", "/v1/agents/{agent_id}", "miner", "client", AGENT),
    Owned("hermes", "GET", "/v1/workflows/{workflow_id}", "client", "miner", WORKFLOW),
    Owned("hermes", "POST", "/v1/workflows/{workflow_id}/cancel", "client", "miner", WORKFLOW),
    Owned("hermes", "GET", "/v1/hybrid/executions/{workflow_id}", "client", "miner", WORKFLOW),
    Owned("hermes", "GET", "/v1/collaborations/{workflow_id}", "client", "miner", WORKFLOW),
    Owned("hermes", "GET", "/v1/edge/deployments/{deployment_id}", "client", "miner", DEPLOYMENT),
    Owned("hermes", "DELETE", "/v1/edge/deployments/{deployment_id}", "client", "miner", DEPLOYMENT),
    Owned(
        "hermes", "POST", "/v1/edge/deployments/{deployment_id}/scale", "client", "miner", DEPLOYMENT, {"replicas": 2}
    ),
    Owned("hermes", "POST", "/v1/edge/deployments/{deployment_id}/coordinate", "client", "miner", DEPLOYMENT),
    Owned("hermes", "POST", "/v1/edge/replicas/{replica_id}/report", "miner", "client", REPLICAS, REPORT),
    Owned(
        "governance", "POST", "/v1/governance/proposals/{proposal_id}/cancel", "client", None, PROPOSAL, stranger=403
    ),
    Owned("plugin", "POST", "/v1/plugins/{plugin_id}/yank", "miner", None, PLUGIN, {"reason": "x"}, stranger=403),
    Owned("ai", "GET", "/v1/multimodal/benchmark/{benchmark_id}", "client", "miner", BENCHMARK),
    Owned("ai", "GET", "/v1/optimization/tune/{tune_id}", "client", "miner", TUNE),
    Owned("ai", "GET", "/v1/jobs/{job_id}", "client", "miner", JOB),
    Owned("ai", "GET", "/v1/jobs/{job_id}/result", "client", "miner", JOB),
    Owned("ai", "POST", "/v1/jobs/{job_id}/cancel", "client", "miner", JOB),
    Owned("ai", "GET", "/v1/jobs/{job_id}/receipt", "client", "miner", JOB),
]


class Caller:
    """One principal calling any service in-process, as the gateway would route it."""

    def __init__(self, api, key: str):
        self.api, self.key = api, key

    def call(self, service: str, method: str, path: str, body: dict | None = None):
        return self.api(service, self.key).request(method, path, body)

    def ok(self, service: str, method: str, path: str, body: dict | None = None) -> dict:
        response = self.call(service, method, path, body)
        assert response.status_code in (200, 201), (path, response.content)
        return response.json()


def _miner(api, gpus=(gpu_factories.H100, ORIN)):
    principal, key = accounts_factories.principal("miner")
    miner = gpu_factories.miner(who=principal, unit_price="0.001", gpus=gpus, runners=RUNNERS)
    return miner, Caller(api, key)


def _request_match(api, buyer):
    body = {"trade_type": "compute", "title": "GPU hours", "requirements": {"gpu_model": "H100", "hours": 10},
            "budget": "20", "regions": ["eu"]}  # fmt: skip
    request_id = buyer.ok("trading", "POST", "/v1/trading/requests", body)["request_id"]
    _, seller = _miner(api)
    offer = {"price": "10", "specification": {"gpu_model": "NVIDIA H100 80GB", "hours": 10}, "region": "eu"}
    match_id = seller.ok("trading", "POST", f"/v1/trading/requests/{request_id}/matches", offer)["match_id"]
    return request_id, match_id


MAKERS: dict[str, Callable] = {}


def maker(name):
    def register(fn):
        MAKERS[name] = fn
        return fn

    return register


@maker("key_id")
def _key(api, owner, case):
    return {"key_id": owner.ok("ai", "POST", "/v1/principals/me/keys", {"name": "second"})["key_id"]}


@maker("job_id")
def _job(api, owner, case):
    if case.owner == "client":
        return {"job_id": owner.ok("ai", "POST", "/v1/jobs", {"type": "echo", "max_price": "2"})["job_id"]}
    client, _ = trading_factories.funded_client("10")
    job = ai_factories.job(client)
    claimed = job_claim(miner=owner.miner)
    assert claimed.id == job.id
    return {"job_id": job.id, "miner_id": owner.miner.id}


@maker("miner_id")
def _miner_id(api, owner, case):
    return {"miner_id": owner.miner.id}


@maker("booking_id")
def _booking(api, owner, case):
    miner, _ = _miner(api)
    gpu = Gpu.objects.filter(miner_id=miner.id).first()
    return {"booking_id": owner.ok("gpu", "POST", f"/v1/gpus/{gpu.id}/book", {"hours": "1"})["booking_id"]}


@maker("offer_id")
def _offer(api, owner, case):
    body = {"gpu_model": "H100", "gpu_memory_gb": 80, "gpu_count": 1, "region": "eu", "price_per_hour": "3",
            "hours": "10"}  # fmt: skip
    return {"offer_id": owner.ok("marketplace", "POST", "/v1/offers", body)["offer_id"]}


@maker("bid_id")
def _bid(api, owner, case):
    body = {"gpu_model": "A100", "min_gpu_memory_gb": 40, "gpu_count": 1, "max_price_per_hour": "1", "hours": "2"}
    return {"bid_id": owner.ok("marketplace", "POST", "/v1/bids", body)["bid_id"]}


@maker("request_id")
def _request(api, owner, case):
    request_id, _ = _request_match(api, owner)
    return {"request_id": request_id}


@maker("match_id")
def _match(api, owner, case):
    request_id, match_id = _request_match(api, owner)
    return {"request_id": request_id, "match_id": match_id}


@maker("agreement_id")
def _agreement(api, owner, case):
    _, match_id = _request_match(api, owner)
    return {"agreement_id": owner.ok("trading", "POST", f"/v1/trading/matches/{match_id}/accept")["agreement_id"]}


@maker("agent_id")
def _agent(api, owner, case):
    body = {"name": "a", "skills": ["echo"], "unit_price": "0.01", "region": "eu", "miner_id": str(owner.miner.id)}
    return {"agent_id": owner.ok("hermes", "POST", "/v1/agents", body)["agent_id"]}


@maker("workflow_id")
def _workflow(api, owner, case):
    body = {"steps": [{"id": "a", "type": "echo", "payload": {}, "max_price": "1"}]}
    if "collaborations" in case.path:
        _agent(api, _principal(api, "miner"), case)
    if "hybrid" in case.path:
        body["local"] = {"region": "home", "gpu_model": "RTX 4090", "queue_depth": 0, "unit_price": "0"}
    return {"workflow_id": owner.ok("hermes", "POST", case.path.split("/{")[0], body)["workflow_id"]}


@maker("deployment_id")
def _deployment(api, owner, case):
    _miner(api, gpus=(ORIN,))
    body = {"runner": "echo", "replicas": 1}
    return {"deployment_id": owner.ok("hermes", "POST", "/v1/edge/deployments", body)["deployment_id"]}


@maker("replica_id")
def _replica(api, owner, case):
    deployer = _principal(api, "client")
    deployer.ok("hermes", "POST", "/v1/edge/deployments", {"runner": "echo", "replicas": 1})
    return {"replica_id": owner.ok("hermes", "GET", "/v1/edge/replicas")["items"][0]["replica_id"]}


@maker("plugin_id")
def _plugin(api, owner, case):
    body = {"name": f"p{uuid.uuid4().hex[:8]}", "version": "1.0.0", "kind": "runner", "entry_point": "p.runner:Runner",
            "sha256": "ab" * 32, "description": "a runner"}  # fmt: skip
    return {"plugin_id": owner.ok("plugin", "POST", "/v1/plugins/register", body)["plugin_id"]}


@maker("benchmark_id")
def _benchmark(api, owner, case):
    miner, _ = _miner(api)
    body = {"miner_ids": [str(miner.id)], "image_size": 16, "max_price_per_job": "1"}
    return {"benchmark_id": owner.ok("ai", "POST", "/v1/multimodal/benchmark", body)["benchmark_id"]}


@maker("tune_id")
def _tune(api, owner, case):
    body = {"type": "matmul", "payload": {"repeat": 1}, "parameters": {"n": [64, 128]}, "metric": "tflops",
            "goal": "max", "max_price_per_job": "0.5"}  # fmt: skip
    return {"tune_id": owner.ok("ai", "POST", "/v1/optimization/tune", body)["tune_id"]}


@maker("proposal_id")
def _proposal(api, owner, case):
    body = {"title": "a rule", "category": "text"}
    return {"proposal_id": owner.ok("governance", "POST", "/v1/governance/proposals", body)["proposal_id"]}


def _principal(api, role):
    if role == "client":
        return Caller(api, trading_factories.funded_client("1000")[1])
    miner, caller = _miner(api)
    caller.miner = miner
    return caller


def _make(api, case: Owned, owner) -> dict:
    name = next(n for n in MAKERS if "{" + n + "}" in case.path)
    return MAKERS[name](api, owner, case)


def _read(owner, case: Owned, params: dict):
    service, path = case.read
    if service == "job":
        return Job.objects.values().get(id=path.format(**params))
    return owner.call(service, "GET", path.format(**params)).json()


def _documents(api):
    """(service, its OpenAPI document) for every service."""
    for service in DOMAINS:
        yield service, api(service).get("/v1/openapi.json").json()


def _documented_id_paths(api) -> set[tuple[str, str, str]]:
    found = set()
    for service, document in _documents(api):
        for path, operations in document["paths"].items():
            found |= {(service, method.upper(), path) for method in operations if "{" in path}
    return found


def test_every_id_taking_endpoint_is_classified(api):
    classified = set(PUBLIC) | set(ADMIN_ONLY) | {(c.service, c.method, c.path) for c in OWNED}
    assert _documented_id_paths(api) - classified == set()


def _case_id(case: Owned) -> str:
    return f"{case.service} {case.method} {case.path}"


@pytest.mark.parametrize("case", OWNED, ids=_case_id)
def test_another_principal_gets_404_and_the_object_is_unchanged(api, case):
    owner = _principal(api, case.owner)
    params = _make(api, case, owner)
    before = _read(owner, case, params)

    stranger = _principal(api, case.owner)
    refused = stranger.call(case.service, case.method, case.path.format(**params), case.body)

    assert refused.status_code == case.stranger, refused.content
    assert _read(owner, case, params) == before


@pytest.mark.parametrize("case", [c for c in OWNED if c.lower], ids=_case_id)
def test_a_role_that_may_not_call_it_gets_403_and_the_object_is_unchanged(api, case):
    owner = _principal(api, case.owner)
    params = _make(api, case, owner)
    before = _read(owner, case, params)

    lower = _principal(api, case.lower)
    refused = lower.call(case.service, case.method, case.path.format(**params), case.body)

    assert refused.status_code == 403, refused.content
    assert _read(owner, case, params) == before


def test_a_stranger_sees_an_open_request_but_none_of_its_offers(api):
    buyer = _principal(api, "client")
    request_id, match_id = _request_match(api, buyer)
    stranger = _principal(api, "miner")

    seen = stranger.ok("trading", "GET", f"/v1/trading/requests/{request_id}/matches")

    assert seen == {"items": [], "count": 0}
    assert [
        m["match_id"] for m in buyer.ok("trading", "GET", f"/v1/trading/requests/{request_id}/matches")["items"]
    ] == [str(match_id)]


SERVER_OWNED_FIELDS = {"state", "status", "balance", "miner_id", "principal_id", "owner_id", "buyer_id", "seller_id",
                       "provider_id", "client_id", "fee", "receipt_id", "attempts", "score", "reputation"}  # fmt: skip
SETTABLE_BY_DESIGN = {
    ("trading", "POST", "/v1/ledger/credits", "principal_id"): "an admin credits a named principal from the treasury",
    ("hermes", "POST", "/v1/edge/replicas/{replica_id}/report", "state"): "a miner reports its own replica's state",
    ("ai", "POST", "/v1/optimization/predict", "miner_id"): "a read: predict for a named miner's history and price",
    ("hermes", "POST", "/v1/agents", "miner_id"): "an operator names one of its own miners (422 otherwise)",
    ("hermes", "PATCH", "/v1/agents/{agent_id}", "miner_id"): "an operator names one of its own miners (422 otherwise)",
    ("governance", "POST", "/v1/transactions", "status"): "the list action's filter: which proposals to list",
}


def _request_fields(document: dict, schema: dict) -> set[str]:
    """Every property name a request body may carry, following $ref, arrays and nested objects."""
    if "$ref" in schema:
        return _request_fields(document, document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    names = set()
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            names |= _request_fields(document, part)
    for name, sub in schema.get("properties", {}).items():
        names |= {name} | _request_fields(document, sub)
    if "items" in schema:
        names |= _request_fields(document, schema["items"])
    return names


def test_no_request_body_lets_a_caller_set_a_field_the_server_owns(api):
    settable = set()
    for service, document in _documents(api):
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                fields = _request_fields(document, body.get("schema", {})) & SERVER_OWNED_FIELDS
                settable |= {(service, method.upper(), path, field) for field in fields}
    assert settable - set(SETTABLE_BY_DESIGN) == set()


@pytest.mark.parametrize("role", ["client", "miner"])
@pytest.mark.parametrize("endpoint", ADMIN_ONLY, ids=" ".join)
def test_an_admin_only_endpoint_refuses_other_roles_with_403(api, endpoint, role):
    service, method, path = endpoint
    target = trading_factories.funded_client("10")[0]
    ids = {"principal_id": target.id, "job_id": ai_factories.job(target).id}

    refused = _principal(api, role).call(service, method, path.format(**ids), ADMIN_ONLY[endpoint])

    assert refused.status_code == 403, refused.content
