"""Per-channel rate limits for sending: a token bucket in Redis shared by every worker when the
broker is Redis, else one per process.

Celery's own `rate_limit` task option is per worker process, so ten workers would send ten times
the rate; a relay or SMS gateway limits the account as a whole, hence the shared bucket.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

DEFAULT_RATES = {"email": 50.0, "sms": 20.0}  # messages per second, all workers together
REDIS_RETRIES = 35  # with the backoff below: about a minute without Redis before a batch fails


class RateLimiter(Protocol):
    def wait(self) -> None:
        """Block until one more message may go out."""
        ...


class LocalTokenBucket:
    """A token bucket for one process: `rate` messages per second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst or max(1.0, rate)
        self.tokens = self.burst
        self.stamp = time.monotonic()

    def wait(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            time.sleep((1 - self.tokens) / self.rate)


# A token bucket kept in Redis and updated atomically, so the rate holds for all workers
# together (Celery's own `rate_limit` is per worker process). Takes up to ARGV[4] whole tokens;
# returns {tokens taken, milliseconds until ARGV[4] tokens are there when none could be taken}.
_BUCKET_LUA = """
local rate, burst, now, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 't', 's')
local tokens, stamp = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - stamp) * rate / 1000)
local taken, wait = math.min(want, math.floor(tokens)), 0
if taken >= 1 then tokens = tokens - taken else wait = math.ceil((want - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 't', tokens, 's', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return {taken, wait}
"""
# A worker takes at most this share of a second's rate at once, so the shared rate still holds
# over any tenth of a second while a fast channel costs one Redis round trip per many messages.
_SHARE_OF_A_SECOND = 0.1
_MOST_AT_ONCE = 100


class RedisTokenBucket:
    """The shared bucket of one channel in Redis (key `minsheng:rate:<channel>`).

    Tokens are taken a few at a time (a tenth of a second's worth, at most 100) and spent
    locally: one round trip per message cost a fast channel as much as the send itself. A
    worker that stops holding tokens only leaves the others a little slower for that moment.
    """

    def __init__(self, client: Any, channel: str, rate: float, burst: float | None = None) -> None:
        self.script = client.register_script(_BUCKET_LUA)
        self.key = f"minsheng:rate:{channel}"
        self.rate = rate
        self.burst = burst or max(1.0, rate)
        self.at_once = int(max(1, min(_MOST_AT_ONCE, rate * _SHARE_OF_A_SECOND, self.burst)))
        self.held = 0

    def wait(self) -> None:
        while self.held <= 0:
            now_ms = int(time.time() * 1000)
            taken, wait_ms = self.script(
                keys=[self.key], args=[self.rate, self.burst, now_ms, self.at_once]
            )
            self.held = int(taken)
            if self.held <= 0:
                time.sleep(int(wait_ms) / 1000)
        self.held -= 1


def rate_limiter(broker_url: str, channel: str, rate: float) -> RateLimiter:
    """The shared Redis bucket when the broker is Redis, else a bucket for this process."""
    if broker_url.startswith(("redis://", "rediss://")):
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        # A send run rides out a Redis restart or failover (about a minute of retries, backing off
        # to 2 s) instead of failing its batch with the claimed step in doubt.
        client = redis.Redis.from_url(
            broker_url,
            retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), REDIS_RETRIES),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )
        return RedisTokenBucket(client, channel, rate)
    return LocalTokenBucket(rate)
