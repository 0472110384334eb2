"""Idempotent consumers: remember each message id inside the handler's own transaction, for a while."""

from __future__ import annotations

import asyncpg


async def first_delivery(conn: asyncpg.Connection, schema: str, consumer: str, message_id: str) -> bool:
    """True the first time; False for a redelivery or duplicate, which the handler then ignores."""
    inserted = await conn.fetchval(
        f"insert into {schema}.inbox (consumer, message_id) values ($1, $2) on conflict do nothing returning true",
        consumer,
        message_id,
    )
    return bool(inserted)


async def forget_older_than(pool: asyncpg.Pool, schema: str, hours: float) -> int:
    """Drop ids no broker can deliver again; return how many went. Without it the inbox only grows."""
    status: str = await pool.execute(
        f"delete from {schema}.inbox where received_at < now() - make_interval(secs => $1)", hours * 3600.0
    )
    return int(status.split()[-1])
