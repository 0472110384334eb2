"""Per-key token buckets, with the RateLimit-* header values to tell clients where they stand."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after_seconds: int


class TokenBucket:
    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> Decision:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        allowed = self.tokens >= 1
        if allowed:
            self.tokens -= 1
        return Decision(
            allowed=allowed,
            limit=self.burst,
            remaining=int(self.tokens),
            reset_seconds=math.ceil((self.burst - self.tokens) / self.rate),
            retry_after_seconds=0 if allowed else max(1, math.ceil((1 - self.tokens) / self.rate)),
        )


class RateLimiter:
    """One bucket per key in this gateway process (each replica limits on its own)."""

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key_prefix: str, rate: float, burst: int) -> Decision:
        bucket = self._buckets.get(key_prefix)
        if bucket is None or bucket.rate != rate or bucket.burst != burst:
            bucket = self._buckets[key_prefix] = TokenBucket(rate, burst)
        return bucket.take()
