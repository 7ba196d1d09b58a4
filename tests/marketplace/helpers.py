"""Traders on the GPU-hour order book for marketplace tests: miners that sell (offers) and clients that buy (bids),
each calling a service's API with its own key."""

from tests.accounts import factories as accounts_factories
from tests.gpu import factories as gpu_factories

RTX_4090 = {"name": "NVIDIA GeForce RTX 4090", "uuid": "GPU-4090", "memory_mb": 24564}


class Trader:
    """A principal calling one service's API (the marketplace's unless told) with its key."""

    def __init__(self, api, principal, key, service: str = "marketplace"):
        self.http, self.principal, self.key = api(service, key), principal, key

    @property
    def id(self):
        return self.principal.id

    def post(self, path, body):
        return self.http.post(path, body)

    def get(self, path, **params):
        return self.http.get(path, params)

    def delete(self, path):
        return self.http.delete(path)


def seller(api, region="eu", gpus=(gpu_factories.H100,), service: str = "marketplace"):
    """A miner with registered GPUs (one H100 80GB unless told), as an offer needs."""
    who, key = accounts_factories.principal("miner")
    gpu_factories.miner(who=who, region=region, concurrency=1, unit_price="0.001", gpus=gpus)
    return Trader(api, who, key, service)


def offer(trader, price, hours="10", memory=80, count=1, region="eu", model="H100"):
    body = {"gpu_model": model, "gpu_memory_gb": memory, "gpu_count": count, "region": region,
            "price_per_hour": price, "hours": hours}  # fmt: skip
    response = trader.post("/v1/offers", body)
    assert response.status_code == 201, response.content
    return response.json()


def bid(trader, max_price, hours="10", memory=80, count=1, region="", model="H100"):
    body = {"gpu_model": model, "min_gpu_memory_gb": memory, "gpu_count": count, "region": region,
            "max_price_per_hour": max_price, "hours": hours}  # fmt: skip
    return trader.post("/v1/bids", body)
