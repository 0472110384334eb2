"""Who a key belongs to, with a short cache so a revocation takes effect within seconds."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

import asyncpg

from gateway import keys, store
from shared import ids

ROLES = ("tenant", "admin")


@dataclass(frozen=True)
class Caller:
    prefix: str
    tenant: str
    role: str
    rate_per_second: float
    burst: int


class KeyRegistry:
    def __init__(self, pool: asyncpg.Pool, cache_seconds: float) -> None:
        self._pool = pool
        self._cache_seconds = cache_seconds
        # Keyed by the key's digest, so the cache holds no usable key either.
        self._cache: dict[bytes, tuple[Caller | None, float]] = {}

    async def authenticate(self, key: str) -> Caller | None:
        prefix = keys.prefix_of(key)
        if prefix is None:
            return None
        key_hash = keys.digest(key)
        now = time.monotonic()
        cached = self._cache.get(key_hash)
        if cached is not None and cached[1] > now:
            return cached[0]
        caller = await self._lookup(prefix, key_hash)
        if len(self._cache) > 100_000:
            self._cache.clear()  # a flood of made-up keys must not grow memory without bound
        self._cache[key_hash] = (caller, now + self._cache_seconds)
        return caller

    async def _lookup(self, prefix: str, key_hash: bytes) -> Caller | None:
        record = await store.key_by_prefix(self._pool, prefix)
        if record is None or record.revoked_at is not None:
            return None
        if not hmac.compare_digest(record.key_hash, key_hash):
            return None
        return Caller(record.prefix, record.tenant, record.role, record.rate_per_second, record.burst)


async def create_key(
    pool: asyncpg.Pool, tenant: str, role: str, rate_per_second: float, burst: int
) -> tuple[str, store.KeyRecord]:
    """Create a key (and its tenant on first use); the key itself is returned once and never stored."""
    ids.name(tenant, "tenant")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key, prefix = keys.new_key()
    record = store.KeyRecord(
        prefix=prefix,
        key_hash=keys.digest(key),
        tenant=tenant,
        role=role,
        rate_per_second=rate_per_second,
        burst=burst,
        created_at=None,  # type: ignore[arg-type]  # set by the database
        revoked_at=None,
    )
    async with pool.acquire() as conn, conn.transaction():
        await store.ensure_tenant(conn, tenant, secrets.token_urlsafe(32))
        await store.insert_key(conn, record)
    return key, record
