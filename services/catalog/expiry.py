"""Announces instances whose `expires` has passed, without waiting for the next write.

Each pass claims due rows with SKIP LOCKED, queues "gone" for them and marks them in the same
transaction, so with several replicas each expiry is announced exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

from services.catalog import store
from services.catalog.changes import Changes

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
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                while (announced := await announce_due(self._pool, self._batch)) == self._batch:
                    log.info("catalog.expiry.announced", count=announced)
                if announced:
                    log.info("catalog.expiry.announced", count=announced)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # The database may be down; the rows stay due and the next pass takes them.
                log.warning("catalog.expiry.failed", error=f"{type(error).__name__}: {error}")
            await asyncio.sleep(self._interval)
