"""All SQL of the gateway: tenants and API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

SCHEMA = "gateway"


@dataclass(frozen=True)
class KeyRecord:
    prefix: str
    key_hash: bytes
    tenant: str
    role: str
    rate_per_second: float
    burst: int
    created_at: datetime
    revoked_at: datetime | None


async def ensure_tenant(conn: asyncpg.Connection, tenant: str, webhook_secret: str) -> None:
    await conn.execute(
        "insert into gateway.tenant (id, webhook_secret) values ($1, $2) on conflict do nothing",
        tenant,
        webhook_secret,
    )


async def insert_key(conn: asyncpg.Connection, record: KeyRecord) -> None:
    await conn.execute(
        "insert into gateway.api_key (prefix, key_hash, tenant, role, rate_per_second, burst) "
        "values ($1, $2, $3, $4, $5, $6)",
        record.prefix,
        record.key_hash,
        record.tenant,
        record.role,
        record.rate_per_second,
        record.burst,
    )


async def key_by_prefix(pool: asyncpg.Pool, prefix: str) -> KeyRecord | None:
    row = await pool.fetchrow(
        "select prefix, key_hash, tenant, role, rate_per_second, burst, created_at, revoked_at "
        "from gateway.api_key where prefix = $1",
        prefix,
    )
    return KeyRecord(**dict(row)) if row else None


async def list_keys(pool: asyncpg.Pool, tenant: str | None) -> list[KeyRecord]:
    rows = await pool.fetch(
        "select prefix, key_hash, tenant, role, rate_per_second, burst, created_at, revoked_at "
        "from gateway.api_key where $1::text is null or tenant = $1 order by created_at",
        tenant,
    )
    return [KeyRecord(**dict(row)) for row in rows]


async def revoke_key(pool: asyncpg.Pool, prefix: str) -> bool:
    revoked = await pool.fetchval(
        "update gateway.api_key set revoked_at = coalesce(revoked_at, now()) where prefix = $1 returning true",
        prefix,
    )
    return bool(revoked)


async def set_tenant_webhook(pool: asyncpg.Pool, tenant: str, url: str | None) -> bool:
    updated = await pool.fetchval(
        "update gateway.tenant set default_webhook_url = $2 where id = $1 returning true", tenant, url
    )
    return bool(updated)


async def tenant_webhook_secret(pool: asyncpg.Pool, tenant: str) -> str | None:
    secret: str | None = await pool.fetchval("select webhook_secret from gateway.tenant where id = $1", tenant)
    return secret
