"""Announces instances whose `expires` has passed, without waiting for the next write.

Each pass claims due rows with SKIP LOCKED, queues "gone" for them and marks them in the same
transaction, so with several replicas each expiry is announced exactly once.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog

from services.catalog import store
from services.catalog.changes import Changes
from shared.background import BackgroundLoop

log = structlog.get_logger(__name__)


async def announce_due(pool: asyncpg.Pool, batch: int) -> int:
    """Announce one batch; return how many went out."""
    changes = Changes()
    async with pool.acquire() as conn, conn.transaction():
        due = await store.claim_expired(conn, batch)
        if not due:
            return 0
        keys = [(row["item_type"], row["item_id"], row["source_id"]) for row in due]
        for key in keys:
            changes.availability(key, None)
        await store.mark_gone(conn, keys)
        await changes.enqueue(conn)
    return len(keys)


class ExpiryWatcher:
    def __init__(self, pool: asyncpg.Pool, interval_seconds: float, batch: int) -> None:
        self._pool = pool
        self._interval = interval_seconds
        self._batch = batch
        # The database may be down; the rows stay due and the next pass takes them.
        self._loop = BackgroundLoop("catalog.expiry", self._announce, self._pause, retry_seconds=interval_seconds)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _announce(self) -> None:
        while (announced := await announce_due(self._pool, self._batch)) == self._batch:
            log.info("catalog.expiry.announced", count=announced)
        if announced:
            log.info("catalog.expiry.announced", count=announced)

    async def _pause(self) -> None:
        await asyncio.sleep(self._interval)
