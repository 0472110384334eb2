"""All SQL of the events service. Functions take a connection; the use case owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.events.changes import Key, Value
from shared import outbox

SCHEMA = "events"

_KEY_COLUMNS = "tenant, user_id, event, item_type, item_id"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """The outbox row of a single change; the statement that makes the change fills in the payload's version."""

    topic: str
    key: str
    payload: dict[str, Any]


# A set or delete, its outbox row and the relay's wake-up in one statement: as a statement on its own it
# commits atomically in one round trip, which is most of what a single POST costs. Each version is taken
# once the statement holds the row, so a key's versions rise in the order its changes commit.
_SET = (
    f"with changed as (insert into events.event ({_KEY_COLUMNS}, value, origin, version, at) "
    "values ($1, $2, $3, $4, $5, $6, $7, nextval('events.event_version'), $8) "
    f"on conflict ({_KEY_COLUMNS}) do update set value = excluded.value, origin = excluded.origin, "
    "at = excluded.at, version = nextval('events.event_version') "
    "returning version), "
    "queued as (insert into events.outbox (topic, key, payload) "
    "select $9, $10, jsonb_set($11::jsonb, '{version}', to_jsonb(version)) from changed) "
    "select version, pg_notify($12, '') from changed"
)
# Deleting what is not there changes nothing, and publishes nothing.
_DELETE = (
    "with gone as (delete from events.event "
    "where tenant = $1 and user_id = $2 and event = $3 and item_type = $4 and item_id = $5 returning 1), "
    "changed as (select nextval('events.event_version') as version from gone), "
    "queued as (insert into events.outbox (topic, key, payload) "
    "select $6, $7, jsonb_set($8::jsonb, '{version}', to_jsonb(version)) from changed) "
    "select version, pg_notify($9, '') from changed"
)


async def set_event(
    conn: asyncpg.Connection | asyncpg.Pool,
    tenant: str,
    key: Key,
    value: Value,
    origin: str,
    at: datetime,
    outgoing: Outgoing,
) -> int:
    """Set the value and queue its change; return the change's version."""
    version: int = await conn.fetchval(
        _SET,
        tenant,
        key.user_id,
        key.event,
        key.item_type,
        key.item_id,
        value,
        origin,
        at,
        outgoing.topic,
        outgoing.key,
        outgoing.payload,
        outbox.channel(SCHEMA),
    )
    return version


async def delete_event(
    conn: asyncpg.Connection | asyncpg.Pool, tenant: str, key: Key, outgoing: Outgoing
) -> int | None:
    """Remove the row and queue the delete; return its version, or None when there was no row."""
    version: int | None = await conn.fetchval(
        _DELETE,
        tenant,
        key.user_id,
        key.event,
        key.item_type,
        key.item_id,
        outgoing.topic,
        outgoing.key,
        outgoing.payload,
        outbox.channel(SCHEMA),
    )
    return version


def _columns(keys: Sequence[Key]) -> tuple[list[str], list[str], list[str], list[str]]:
    return (
        [key.user_id for key in keys],
        [key.event for key in keys],
        [key.item_type for key in keys],
        [key.item_id for key in keys],
    )


def _versions(rows: list[asyncpg.Record]) -> dict[Key, int]:
    return {Key(row["user_id"], row["event"], row["item_type"], row["item_id"]): row["version"] for row in rows}


async def upsert_many(
    conn: asyncpg.Connection, tenant: str, rows: Sequence[tuple[Key, Value]], origin: str, at: datetime
) -> dict[Key, int]:
    """Set many keys in one statement (each at most once: Postgres updates a row once per statement).

    Returns each key's new version, taken as for a single set once the row is held.
    """
    if not rows:
        return {}
    keys = [key for key, _ in rows]
    found = await conn.fetch(
        f"insert into events.event ({_KEY_COLUMNS}, value, origin, version, at) "
        "select $1, u, e, t, i, v, $7, nextval('events.event_version'), $8 "
        "from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[]) as x(u, e, t, i, v) "
        f"on conflict ({_KEY_COLUMNS}) do update set value = excluded.value, origin = excluded.origin, "
        "at = excluded.at, version = nextval('events.event_version') "
        "returning user_id, event, item_type, item_id, version",
        tenant,
        *_columns(keys),
        [value for _, value in rows],
        origin,
        at,
    )
    return _versions(found)


async def delete_many(conn: asyncpg.Connection, tenant: str, keys: Sequence[Key]) -> dict[Key, int]:
    """Delete the keys that are there; return a version for each row deleted."""
    if not keys:
        return {}
    found = await conn.fetch(
        "delete from events.event as e using unnest($2::text[], $3::text[], $4::text[], $5::text[]) as x(u, n, t, i) "
        "where e.tenant = $1 and e.user_id = x.u and e.event = x.n and e.item_type = x.t and e.item_id = x.i "
        "returning e.user_id, e.event, e.item_type, e.item_id, nextval('events.event_version') as version",
        tenant,
        *_columns(keys),
    )
    return _versions(found)


async def values_of(
    conn: asyncpg.Connection | asyncpg.Pool, tenant: str, user_id: str, event: str, item_type: str, item_ids: list[str]
) -> dict[str, Value]:
    rows = await conn.fetch(
        "select item_id, value from events.event "
        "where tenant = $1 and user_id = $2 and event = $3 and item_type = $4 and item_id = any($5::text[])",
        tenant,
        user_id,
        event,
        item_type,
        item_ids,
    )
    return {row["item_id"]: row["value"] for row in rows}


async def newest(
    conn: asyncpg.Connection | asyncpg.Pool,
    tenant: str,
    user_id: str,
    event: str,
    item_type: str,
    start: int,
    limit: int,
) -> list[tuple[str, Value]]:
    rows = await conn.fetch(
        "select item_id, value from events.event "
        "where tenant = $1 and user_id = $2 and event = $3 and item_type = $4 "
        "order by at desc, version desc offset $5 limit $6",
        tenant,
        user_id,
        event,
        item_type,
        start,
        limit,
    )
    return [(row["item_id"], row["value"]) for row in rows]
