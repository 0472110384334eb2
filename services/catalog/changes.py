"""Catalog changes as contract messages, queued in the outbox inside the transaction that makes them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.catalog.store import SCHEMA, InstanceKey
from shared import outbox, timefmt
from shared.contracts import (
    CATALOG_AVAILABILITY_CHANGES,
    CATALOG_ITEM_CHANGES,
    CATALOG_SCHEDULE_CHANGES,
    AvailabilityChanged,
    CatalogItemChanged,
    Contract,
    ScheduleChanged,
    ScheduleSlot,
)

# A schedule change is told per UTC day at most, so a week's import makes bounded messages.
SCHEDULE_CHUNK = timedelta(days=1)


class Changes:
    """Collects a transaction's messages and queues them in one statement."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, Contract]] = []
        self.at = timefmt.now()

    def item(
        self,
        item_type: str,
        item_id: str,
        shape: dict[str, Any] | None,
        content: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> None:
        """`shape` None means deleted. For items, `content` lifts out runtime and episode order."""
        content = content or {}
        self.rows.append(
            (
                CATALOG_ITEM_CHANGES,
                key or f"{item_type}:{item_id}",
                CatalogItemChanged(
                    event_id=uuid.uuid4().hex,
                    item_type=item_type,
                    item_id=item_id,
                    deleted=shape is None,
                    item=shape,
                    runtime=content.get("runtime"),
                    programme_id=content.get("programme_id"),
                    season=content.get("season"),
                    episode=content.get("episode"),
                    at=self.at,
                ),
            )
        )

    def availability(self, key: InstanceKey, shape: dict[str, Any] | None) -> None:
        item_type, item_id, source_id = key
        self.rows.append(
            (
                CATALOG_AVAILABILITY_CHANGES,
                f"{item_type}:{item_id}",
                AvailabilityChanged(
                    event_id=uuid.uuid4().hex,
                    item_type=item_type,
                    item_id=item_id,
                    source_id=source_id,
                    instance=shape,
                    at=self.at,
                ),
            )
        )

    def schedule(
        self,
        windows: Sequence[tuple[str, datetime, datetime]],
        before: Sequence[asyncpg.Record],
        after: Sequence[asyncpg.Record],
    ) -> int:
        """For each day of each window whose slots differ, the complete slots after; return how many."""
        told = 0
        for channel_id, window_start, window_end in windows:
            old = [r for r in before if r["channel_id"] == channel_id]
            new = [r for r in after if r["channel_id"] == channel_id]
            for chunk_start, chunk_end in day_chunks(window_start, window_end):
                new_slots = _overlapping(new, chunk_start, chunk_end)
                if _overlapping(old, chunk_start, chunk_end) == new_slots:
                    continue
                self.rows.append(
                    (
                        CATALOG_SCHEDULE_CHANGES,
                        channel_id,
                        ScheduleChanged(
                            event_id=uuid.uuid4().hex,
                            channel_id=channel_id,
                            window_start=chunk_start,
                            window_end=chunk_end,
                            slots=new_slots,
                            at=self.at,
                        ),
                    )
                )
                told += 1
        return told

    async def enqueue(self, conn: asyncpg.Connection) -> None:
        await outbox.enqueue_many(conn, SCHEMA, self.rows)
        self.rows = []


def day_chunks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    chunks = []
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        following = day + SCHEDULE_CHUNK
        chunks.append((max(day, start), min(following, end)))
        day = following
    return chunks


def _overlapping(rows: Sequence[asyncpg.Record], start: datetime, end: datetime) -> list[ScheduleSlot]:
    return [
        ScheduleSlot(
            start=row["start"],
            stop=row["stop"],
            item_type=row["item_type"],
            item_id=row["item_id"],
            programme_id=row["programme_id"] if row["item_type"] == "episode" else None,
            hd=row["hd"],
        )
        for row in rows
        if row["stop"] > start and row["start"] < end
    ]
