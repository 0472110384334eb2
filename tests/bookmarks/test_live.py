"""Live TV: channel start/end laid over the schedule become progress/seen on the inferred-events topic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.bookmarks.app import create_app
from services.bookmarks.service import Bookmarks
from services.bookmarks.settings import Settings
from shared.contracts import CATALOG_ITEM_CHANGES, CATALOG_SCHEDULE_CHANGES, EVENT_CHANGES, INFERRED_EVENTS
from tests.api import ApiKey
from tests.bookmarks.feed import Feed, bookmarks, caught_up, consumed, evening, poll, scheduled, shape
from tests.kafka_reader import TopicReader

Inferred = tuple[str, str, int | None]  # (item id, event, value)


@pytest.fixture
async def reader(kafka_bootstrap: str) -> AsyncIterator[TopicReader]:
    async with TopicReader(kafka_bootstrap, INFERRED_EVENTS) as topic:
        yield topic


class Channel:
    """A channel of the test's own with three slots one evening: two episodes and a movie."""

    def __init__(self, feed: Feed, db_pool: asyncpg.Pool, name: str) -> None:
        self.feed, self.db_pool, self.id = feed, db_pool, name
        self.a, self.b, self.film = f"{name}-a", f"{name}-b", f"{name}-m"
        self.slots = [
            (evening("20:00"), evening("20:30"), "episode", self.a),
            (evening("20:30"), evening("21:00"), "episode", self.b),
            (evening("21:00"), evening("22:00"), "movie", self.film),
        ]

    async def publish(self) -> None:
        await self.feed.schedule(self.id, self.slots)
        await scheduled(self.db_pool, self.id, len(self.slots))


async def watch(feed: Feed, user_id: str, *marks: tuple[str, str, datetime]) -> None:
    for event, channel_id, moment in marks:
        await feed.channel(user_id, event, channel_id, moment)


async def inferred(feed: Feed, reader: TopicReader, db_pool: asyncpg.Pool, user_id: str, unique: str) -> list[Inferred]:
    """Everything inferred for the user so far, in order.

    A last viewing on a channel of its own goes after the rest, days away from it; the user's
    events are handled in order, so once its inference is on the topic, every earlier one is too.
    """
    channel = item = f"last-{unique}-{len(reader.seen)}"
    day = evening("12:00", days_ago=5)
    await feed.schedule(channel, [(day, day + timedelta(minutes=30), "movie", item)])
    await scheduled(db_pool, channel, 1)
    await watch(feed, user_id, ("start", channel, day), ("end", channel, day + timedelta(minutes=10)))
    payloads = await reader.wait_for(lambda seen: any(p.get("item_id") == item for p in seen))
    mine = [p for p in payloads if p.get("tenant") == feed.tenant and p["user_id"] == user_id]
    return [(p["item_id"], p["event"], p["value"]) for p in mine if not p["item_id"].startswith("last-")]


async def test_an_evening_across_three_slots(
    feed: Feed, reader: TopicReader, db_pool: asyncpg.Pool, unique: str
) -> None:
    channel = Channel(feed, db_pool, f"c-{unique}")
    await channel.publish()
    await watch(feed, "u1", ("start", channel.id, evening("20:05")), ("end", channel.id, evening("21:10")))
    assert await inferred(feed, reader, db_pool, "u1", unique) == [
        (channel.a, "progress", 25),  # 25 of 30 minutes: under 90%, so not seen
        (channel.b, "progress", 30),
        (channel.b, "seen", None),
        (channel.film, "progress", 10),
    ]
    events = [p for _, p in reader.seen if p.get("tenant") == feed.tenant and p["item_id"] == channel.b]
    assert {p["at"] for p in events} == {evening("21:00").isoformat().replace("+00:00", "Z")}
    assert all(p["event_id"].startswith("live-") for p in events)


async def test_a_channel_change_without_end_closes_the_viewing(
    feed: Feed, reader: TopicReader, db_pool: asyncpg.Pool, unique: str
) -> None:
    first, second = Channel(feed, db_pool, f"c-{unique}"), Channel(feed, db_pool, f"d-{unique}")
    await first.publish()
    await second.publish()
    await watch(
        feed,
        "u1",
        ("start", first.id, evening("20:05")),
        ("start", second.id, evening("20:40")),  # no end on the first channel
        ("end", second.id, evening("21:05")),
    )
    assert await inferred(feed, reader, db_pool, "u1", unique) == [
        (first.a, "progress", 25),
        (first.b, "progress", 10),
        (second.b, "progress", 20),
        (second.film, "progress", 5),
    ]


async def test_a_short_zap_counts_for_nothing_and_zapping_back_adds_up(
    feed: Feed, reader: TopicReader, db_pool: asyncpg.Pool, unique: str
) -> None:
    main, other = Channel(feed, db_pool, f"c-{unique}"), Channel(feed, db_pool, f"d-{unique}")
    await main.publish()
    await other.publish()
    await watch(
        feed,
        "u1",
        ("start", main.id, evening("20:02")),
        ("start", other.id, evening("20:10")),  # two minutes elsewhere
        ("start", main.id, evening("20:12")),
        ("end", main.id, evening("20:30")),
    )
    assert await inferred(feed, reader, db_pool, "u1", unique) == [
        (main.a, "progress", 8),  # when the user zapped away
        (main.a, "progress", 26),  # 8 + 18 minutes once back: a larger progress is published again
    ]


async def test_out_of_order_delivery_gives_the_same_result(
    feed: Feed, reader: TopicReader, db_pool: asyncpg.Pool, unique: str
) -> None:
    channel = Channel(feed, db_pool, f"c-{unique}")
    # The end (as `stop`, the alias the original docs use) before its start, and the schedule after the viewing.
    await watch(feed, "u1", ("stop", channel.id, evening("21:10")))
    await consumed(db_pool, await feed.channel("u1", "start", channel.id, evening("20:05")))
    await channel.publish()
    assert await inferred(feed, reader, db_pool, "u1", unique) == [
        (channel.a, "progress", 25),
        (channel.b, "progress", 30),
        (channel.b, "seen", None),
        (channel.film, "progress", 10),
    ]


async def test_the_cap_ends_a_viewing_four_hours_after_its_start(
    feed: Feed, reader: TopicReader, db_pool: asyncpg.Pool, unique: str
) -> None:
    channel, film = f"c-{unique}", f"c-{unique}-m"
    await feed.schedule(channel, [(evening("13:00"), evening("14:30"), "movie", film)])
    await scheduled(db_pool, channel, 1)
    # Nothing closes the start but the user's next activity, five hours later: it ended at 14:00.
    await watch(feed, "u1", ("start", channel, evening("10:00")), ("start", f"elsewhere-{unique}", evening("15:00")))
    assert await inferred(feed, reader, db_pool, "u1", unique) == [(film, "progress", 60)]


async def test_the_sweeper_closes_a_viewing_nothing_closed(
    feed: Feed, reader: TopicReader, db_pool: asyncpg.Pool, postgres_url: str, unique: str
) -> None:
    began = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=5)
    channel, episode, film = f"c-{unique}", f"c-{unique}-e", f"c-{unique}-m"
    await feed.schedule(
        channel,
        [
            (began, began + timedelta(minutes=30), "episode", episode),
            (began + timedelta(minutes=30), began + timedelta(hours=5), "movie", film),
        ],
    )
    await scheduled(db_pool, channel, 2)
    await consumed(db_pool, await feed.channel("u1", "start", channel, began))
    # The deployment waits a grace period for a late end first; this sweep is told not to.
    sweeping = Bookmarks(db_pool, Settings(database_url=postgres_url, sweep_grace_seconds=0))
    while await sweeping.sweep():
        pass
    assert await inferred(feed, reader, db_pool, "u1", unique) == [
        (episode, "progress", 30),
        (episode, "seen", None),
        (film, "progress", 210),  # 3.5 of 4.5 hours: not seen
    ]


async def test_consuming_everything_twice_changes_nothing(
    client: httpx.AsyncClient,
    api_key: ApiKey,
    feed: Feed,
    reader: TopicReader,
    db_pool: asyncpg.Pool,
    postgres_url: str,
    kafka_bootstrap: str,
    unique: str,
) -> None:
    channel = Channel(feed, db_pool, f"c-{unique}")
    await channel.publish()
    await feed.movie(f"m-{unique}", 100)
    await feed.event("u1", "progress", "movie", f"m-{unique}", 20)
    await watch(feed, "u1", ("start", channel.id, evening("20:05")), ("end", channel.id, evening("21:10")))
    before = await inferred(feed, reader, db_pool, "u1", unique)
    assert len(before) == 4
    # The events service applies the inferred events and they come back (the film has no runtime known).
    listed = await poll(
        lambda: watching(client, api_key),
        lambda found: shape(found) == [movie(f"m-{unique}", 20, 100), movie(channel.film, 10, None)],
    )

    # The same messages again, as a relay that died before marking them sent would publish them,
    await feed.replay()
    # and every topic read again from the beginning by a consumer group of its own.
    replaying = Settings(
        database_url=postgres_url, kafka_bootstrap=kafka_bootstrap, consumer_group_prefix=f"replay-{unique}"
    )
    app = create_app(replaying)
    async with app.router.lifespan_context(app):
        await caught_up(kafka_bootstrap, f"replay-{unique}-events", [EVENT_CHANGES])
        await caught_up(kafka_bootstrap, f"replay-{unique}-catalog", [CATALOG_ITEM_CHANGES, CATALOG_SCHEDULE_CHANGES])
    await caught_up(kafka_bootstrap, "bookmarks-events", [EVENT_CHANGES])
    await caught_up(kafka_bootstrap, "bookmarks-catalog", [CATALOG_ITEM_CHANGES, CATALOG_SCHEDULE_CHANGES])

    assert await inferred(feed, reader, db_pool, "u1", unique) == before
    assert await watching(client, api_key) == listed


async def watching(client: httpx.AsyncClient, key: ApiKey) -> list[dict[str, Any]]:
    """The user's bookmarks but those of the last viewings `inferred` adds."""
    return [b for b in await bookmarks(client, key, "u1") if not str(b["item_id"]).startswith("last-")]


def movie(item_id: str, position: float, runtime: int | None) -> dict[str, Any]:
    return {"item_type": "movie", "item_id": item_id, "state": "in_progress", "position": position, "runtime": runtime}


async def test_viewing_past_the_horizon_is_ignored_and_forgotten(
    feed: Feed, reader: TopicReader, db_pool: asyncpg.Pool, postgres_url: str, unique: str
) -> None:
    old, recent = Channel(feed, db_pool, f"old-{unique}"), Channel(feed, db_pool, f"new-{unique}")
    old.slots = [(start - timedelta(days=39), stop - timedelta(days=39), t, i) for start, stop, t, i in old.slots]
    recent.slots = [(start - timedelta(days=1), stop - timedelta(days=1), t, i) for start, stop, t, i in recent.slots]
    await old.publish()
    await recent.publish()
    # Forty days back is past the 30 days kept: a replay of such viewing infers nothing again.
    await watch(feed, "u1", ("start", old.id, evening("20:05", 40)), ("end", old.id, evening("21:10", 40)))
    await watch(feed, "u1", ("start", recent.id, evening("20:00", 2)), ("end", recent.id, evening("20:30", 2)))
    assert await inferred(feed, reader, db_pool, "u1", unique) == [(recent.a, "progress", 30), (recent.a, "seen", None)]

    # A deployment keeping a day forgets the evening two days back.
    keeping = Bookmarks(db_pool, Settings(database_url=postgres_url, viewing_keep_days=1))
    assert await keeping.forget_old_viewing() >= 2
    count = "select count(*) from bookmarks.viewing_mark where tenant = $1 and channel_id = $2"
    assert await db_pool.fetchval(count, feed.tenant, recent.id) == 0
