"""Event use cases. Each commits on its own, and publishes every change through the outbox in the same commit."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from services.events import store
from services.events.changes import Change, Key, Value
from shared import outbox, timefmt
from shared.contracts import EVENT_CHANGES, EventChanged
from shared.errors import ProblemError, ServiceUnavailable
from shared.inbox import first_delivery

INFERRED_CONSUMER = "events.inferred"
Origin = Literal["api", "live"]
# Two batches can still wait on each other (each takes its sets' rows, then its deletes'); Postgres then
# fails one, which is tried again.
_BATCH_ATTEMPTS = 3


@dataclass(frozen=True)
class Page:
    items: list[tuple[str, Value]]
    more: bool


class Events:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def apply(self, tenant: str, change: Change) -> None:
        # One statement, so no explicit transaction: it commits on its own.
        await _apply(self._pool, tenant, change, "api", timefmt.now())

    async def apply_inferred(self, event_id: str, tenant: str, change: Change, at: datetime) -> bool:
        """Apply an event inferred from live TV once per event id; False for a redelivery."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await first_delivery(conn, store.SCHEMA, INFERRED_CONSUMER, event_id):
                return False
            await _apply(conn, tenant, change, "live", at)
        return True

    async def apply_batch(self, tenant: str, items: Sequence[Change | ProblemError]) -> None:
        """Apply the valid items in one transaction, in their order; the invalid ones are left out."""
        valid = [item for item in items if isinstance(item, Change)]
        if not valid:
            return
        now = timefmt.now()
        for attempt in range(1, _BATCH_ATTEMPTS + 1):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    await _apply_many(conn, tenant, valid, now)
                return
            except asyncpg.exceptions.DeadlockDetectedError:
                if attempt == _BATCH_ATTEMPTS:
                    raise ServiceUnavailable(
                        "other batches kept taking the same events at the same time; retry",
                        headers={"Retry-After": "1"},
                    ) from None

    async def values(self, tenant: str, key: Key, item_ids: list[str]) -> dict[str, Value]:
        """The ids among `item_ids` that have the event, in the order asked, with their values."""
        found = await store.values_of(self._pool, tenant, key.user_id, key.event, key.item_type, item_ids)
        return {item_id: found[item_id] for item_id in item_ids if item_id in found}

    async def newest(self, tenant: str, key: Key, start: int, count: int) -> Page:
        rows = await store.newest(self._pool, tenant, key.user_id, key.event, key.item_type, start, count + 1)
        return Page(rows[:count], more=len(rows) > count)


async def _apply(
    conn: asyncpg.Connection | asyncpg.Pool, tenant: str, change: Change, origin: Origin, at: datetime
) -> None:
    # The statement fills in the version, which it takes only once it holds the row.
    outgoing = store.Outgoing(
        EVENT_CHANGES, _message_key(tenant, change), _changed(tenant, change, origin, 0, at).model_dump(mode="json")
    )
    if change.deleted:
        await store.delete_event(conn, tenant, change.key, outgoing)
    else:
        await store.set_event(conn, tenant, change.key, change.value, origin, at, outgoing)


async def _apply_many(conn: asyncpg.Connection, tenant: str, changes: list[Change], at: datetime) -> None:
    # The batch commits as one, so what anyone can see of a key is its last change in it: that is what is
    # stored and published (nothing for a delete of what was not there), in the order of those last changes.
    last: dict[Key, Change] = {}
    for change in changes:
        last.pop(change.key, None)
        last[change.key] = change
    # Rows taken in one order by every batch, so that batches rarely wait on each other.
    keys = sorted(last)
    versions = await store.upsert_many(
        conn, tenant, [(k, last[k].value) for k in keys if not last[k].deleted], "api", at
    )
    versions |= await store.delete_many(conn, tenant, [k for k in keys if last[k].deleted])
    await outbox.enqueue_many(
        conn,
        store.SCHEMA,
        [
            (EVENT_CHANGES, _message_key(tenant, change), _changed(tenant, change, "api", versions[key], at))
            for key, change in last.items()
            if key in versions
        ],
    )


def _message_key(tenant: str, change: Change) -> str:
    # One key per user: a user's changes stay in order on one partition.
    return f"{tenant}:{change.key.user_id}"


def _changed(tenant: str, change: Change, origin: Origin, version: int, at: datetime) -> EventChanged:
    return EventChanged(
        event_id=os.urandom(16).hex(),  # as random as uuid4().hex, at a quarter of its cost
        tenant=tenant,
        user_id=change.key.user_id,
        event=change.key.event,
        item_type=change.key.item_type,
        item_id=change.key.item_id,
        value=change.value,
        deleted=change.deleted,
        origin=origin,
        version=version,
        at=at,
    )
