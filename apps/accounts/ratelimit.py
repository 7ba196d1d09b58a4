"""Rate limits per principal: a token bucket per key holder, in Redis (shared by every process), or in
this process when there is no Redis. Limits are per role: AITBC_RATELIMIT_CLIENT=1200/minute, ..."""

import math
import re
import threading
import time
from functools import lru_cache

import redis
from django.conf import settings

from aitbc_site.errors import ApiError

RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")
PERIODS = {"second": 1, "minute": 60, "hour": 3600}

# KEYS[1] the bucket; ARGV capacity, tokens per second. Redis's own clock, so every process agrees.
BUCKET_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return tostring(wait)
"""


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: float):
        super().__init__(detail)
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}


def parse_rate(text: str) -> tuple[int, float]:
    """`1200/minute` -> (capacity 1200, refill 20 tokens per second)."""
    match = RATE.match(text)
    if not match or int(match[1]) == 0:
        raise ValueError(f"a rate limit looks like 1200/minute, not {text!r}")
    count = int(match[1])
    return count, count / PERIODS[match[2]]


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


class _LocalBuckets:
    def __init__(self):
        self.lock, self.buckets = threading.Lock(), {}

    def take(self, key: str, capacity: int, rate: float) -> float:
        with self.lock:
            now = time.monotonic()
            tokens, at = self.buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - at) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            self.buckets[key] = (tokens - 1 if tokens >= 1 else tokens, now)
            return wait


_local = _LocalBuckets()


def rate_limit_take(principal) -> None:
    """Takes one token from the principal's bucket; 429 with Retry-After when it is empty."""
    limit = settings.AITBC_RATELIMITS.get(principal.role)
    if not limit:
        return
    capacity, rate = parse_rate(limit)
    key = f"aitbc:ratelimit:{principal.id}"
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        try:
            wait = float(_redis(url).eval(BUCKET_SCRIPT, 1, key, capacity, rate))
        except redis.RedisError:
            wait = _local.take(key, capacity, rate)  # Redis unreachable: still limited, per process
    else:
        wait = _local.take(key, capacity, rate)
    if wait > 0:
        raise RateLimited(f"too many requests for this key ({limit} for {principal.role} keys)", retry_after=wait)
