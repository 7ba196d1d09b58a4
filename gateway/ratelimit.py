"""Rate limits for requests without a live key, per client address, at the gateway (429 + Retry-After).

A token bucket per address in this process (the limiter of keyed requests, apps.accounts.ratelimit, keeps
its buckets in Redis; asking Redis before every anonymous request would put a network round trip, and
Redis's availability, in front of every one). Each gateway process counts on its own, so with N gateway
processes an address may get N times the rate. At most `size` addresses are remembered: when full, the one
seen longest ago is forgotten (it starts again with a full bucket). An empty rate turns the limit off."""

import time
from collections import OrderedDict
from collections.abc import Callable

from apps.accounts.ratelimit import parse_rate


class AddressBuckets:
    def __init__(self, rate: str, size: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.rate_text = rate
        self.capacity, self.refill = parse_rate(rate) if rate.strip() else (0, 0.0)
        self.size, self.clock = max(1, size), clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # address -> (tokens, at)

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, address: str) -> float:
        """Takes one token from the address's bucket: 0 when taken, else the seconds until one is there."""
        if not self.capacity:
            return 0.0
        now = self.clock()
        tokens, at = self._buckets.pop(address, (float(self.capacity), now))
        tokens = min(float(self.capacity), tokens + (now - at) * self.refill)
        while len(self._buckets) >= self.size:
            self._buckets.popitem(last=False)
        if tokens >= 1:
            self._buckets[address] = (tokens - 1, now)
            return 0.0
        self._buckets[address] = (tokens, now)
        return (1 - tokens) / self.refill

    def give_back(self, address: str) -> None:
        """Returns the token of a request that turned out to carry a live key (limited per principal instead)."""
        if address in self._buckets:
            tokens, at = self._buckets[address]
            self._buckets[address] = (min(float(self.capacity), tokens + 1), at)
