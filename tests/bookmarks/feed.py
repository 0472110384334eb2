"""The contract messages the events and catalog services publish, sent straight to Kafka, and ways to wait.

Bookmarks is driven here exactly as it is in production, through the topics, so its tests do not
depend on how (or whether) the other services are deployed.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from shared.contracts import (
    CATALOG_ITEM_CHANGES,
    CATALOG_SCHEDULE_CHANGES,
    EVENT_CHANGES,
    CatalogItemChanged,
    Contract,
    EventChanged,
    ScheduleChanged,
    ScheduleSlot,
)
from tests.api import ApiKey

T = TypeVar("T")

# Rising like the events service's sequence, and above anything it has handed out in a test session.
_VERSIONS = itertools.count(time.time_ns() // 1000)


def evening(hhmm: str, days_ago: int = 1) -> datetime:
    """A moment of an evening a few days back: recent enough for bookmarks, far enough to be over."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    return day + timedelta(hours=hours, minutes=minutes)


class Feed:
    def __init__(self, producer: AIOKafkaProducer, tenant: str) -> None:
        self._producer = producer
        self.tenant = tenant
        self.sent: list[tuple[str, str, Contract]] = []

    async def send(self, topic: str, key: str, message: Contract) -> None:
        await self._producer.send_and_wait(topic, message.model_dump_json().encode(), key=key.encode())
        self.sent.append((topic, key, message))

    async def replay(self) -> None:
        """Send again, byte for byte, everything sent so far (as a relay that died before marking it sent would)."""
        for topic, key, message in list(self.sent):
            await self._producer.send_and_wait(topic, message.model_dump_json().encode(), key=key.encode())

    async def event(
        self,
        user_id: str,
        event: str,
        item_type: str,
        item_id: str,
        value: float | str | None = None,
        *,
        deleted: bool = False,
        at: datetime | None = None,
    ) -> EventChanged:
        change = EventChanged(
            event_id=uuid.uuid4().hex,
            tenant=self.tenant,
            user_id=user_id,
            event=event,
            item_type=item_type,
            item_id=item_id,
            value=value,
            deleted=deleted,
            origin="api",
            version=next(_VERSIONS),
            at=at or datetime.now(UTC),
        )
        await self.send(EVENT_CHANGES, f"{self.tenant}:{user_id}", change)
        return change

    async def channel(self, user_id: str, event: str, channel_id: str, moment: datetime) -> EventChanged:
        return await self.event(user_id, event, "channel", channel_id, int(moment.timestamp()))

    async def movie(self, item_id: str, runtime: int | None, *, deleted: bool = False) -> None:
        await self._item("movie", item_id, runtime=runtime, deleted=deleted)

    async def episode(self, item_id: str, programme_id: str, season: int, episode: int, runtime: int = 30) -> None:
        await self._item("episode", item_id, runtime=runtime, programme_id=programme_id, season=season, episode=episode)

    async def _item(self, item_type: str, item_id: str, *, deleted: bool = False, **facts: Any) -> None:
        change = CatalogItemChanged(
            event_id=uuid.uuid4().hex,
            item_type=item_type,
            item_id=item_id,
            deleted=deleted,
            item=None if deleted else {"id": item_id},
            at=datetime.now(UTC),
            **facts,
        )
        await self.send(CATALOG_ITEM_CHANGES, item_id, change)

    async def schedule(self, channel_id: str, slots: Sequence[tuple[datetime, datetime, str, str]]) -> None:
        """(start, stop, item type, item id) slots; the window is the span they cover."""
        change = ScheduleChanged(
            event_id=uuid.uuid4().hex,
            channel_id=channel_id,
            window_start=min(s[0] for s in slots),
            window_end=max(s[1] for s in slots),
            slots=[ScheduleSlot(start=s[0], stop=s[1], item_type=s[2], item_id=s[3]) for s in slots],
            at=datetime.now(UTC),
        )
        await self.send(CATALOG_SCHEDULE_CHANGES, channel_id, change)


async def poll(fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], within: float = 30.0) -> T:
    """Fetch until `done` holds (eventual consistency), failing with the last value at the deadline."""
    deadline = time.monotonic() + within
    while True:
        value = await fetch()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"not reached in {within} s; last: {value!r}"
        await asyncio.sleep(0.05)


async def bookmarks(client: httpx.AsyncClient, key: ApiKey, user_id: str, query: str = "") -> list[dict[str, Any]]:
    response = await client.get(key.path(f"bookmark/{user_id}/{query}"))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["bookmarks"]
    return found


def shape(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bookmarks without their times, to compare with what a test expects."""
    return [{k: v for k, v in bookmark.items() if k != "updated_at"} for bookmark in found]


async def settled(
    client: httpx.AsyncClient, key: ApiKey, user_id: str, expected: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Wait for the user's bookmarks to be `expected` (times left out); return them with their times."""
    return await poll(lambda: bookmarks(client, key, user_id), lambda found: shape(found) == expected)


async def known(db_pool: asyncpg.Pool, item_ids: Sequence[str]) -> None:
    """Wait until bookmarks holds the catalog facts of these items (the catalog topic is consumed on its own)."""
    await poll(
        lambda: db_pool.fetchval("select count(*) from bookmarks.item_fact where item_id = any($1::text[])", item_ids),
        lambda count: count == len(set(item_ids)),
    )


async def scheduled(db_pool: asyncpg.Pool, channel_id: str, slots: int) -> None:
    await poll(
        lambda: db_pool.fetchval("select count(*) from bookmarks.schedule_slot where channel_id = $1", channel_id),
        lambda count: count == slots,
    )


async def consumed(db_pool: asyncpg.Pool, change: EventChanged) -> None:
    """Wait until bookmarks has taken this event in; a user's events are taken in order, so also all before it."""
    if change.item_type == "channel":
        query = (
            "select count(*) from bookmarks.viewing_mark where tenant = $1 and user_id = $2 and channel_id = $3 "
            "and at = to_timestamp($4)"
        )
        args: tuple[Any, ...] = (change.tenant, change.user_id, change.item_id, float(change.value or 0))
    else:
        query = (
            "select count(*) from bookmarks.user_event where tenant = $1 and user_id = $2 and item_type = $3 "
            "and item_id = $4 and version >= $5"
        )
        args = (change.tenant, change.user_id, change.item_type, change.item_id, change.version)
    await poll(lambda: db_pool.fetchval(query, *args), lambda count: count >= 1)


async def caught_up(bootstrap: str, group: str, topics: Sequence[str], within: float = 60.0) -> None:
    """Wait until the consumer group has committed up to the end of every partition of these topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await probe.start()
    try:
        partitions = [
            TopicPartition(described["topic"], partition["partition"])
            for described in await admin.describe_topics(list(topics))
            for partition in described["partitions"]
        ]
        assert partitions, f"no partitions found for {topics}"
        ends = await probe.end_offsets(partitions)

        async def committed() -> dict[TopicPartition, int]:
            try:
                offsets = await admin.list_consumer_group_offsets(group)
            except KafkaError:
                return {}  # the broker is still electing the group's coordinator
            return {tp: meta.offset for tp, meta in offsets.items()}

        await poll(committed, lambda done: all(done.get(tp, 0) >= end for tp, end in ends.items()), within)
    finally:
        await probe.stop()
        await admin.close()
