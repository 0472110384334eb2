"""Idempotent consumers: remember each message id inside the handler's own transaction."""

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
