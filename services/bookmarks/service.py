"""Bookmark and live-TV use cases. Each opens its own transaction; consumers and routes only translate."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import structlog

from services.bookmarks import rules, store, viewing
from services.bookmarks.rules import Bookmark, Episode
from services.bookmarks.settings import Settings
from shared import outbox, timefmt
from shared.contracts import INFERRED_EVENTS, CatalogItemChanged, Contract, EventChanged, InferredEvent, ScheduleChanged
from shared.errors import NotFound, Unprocessable
from shared.inbox import first_delivery

log = structlog.get_logger(__name__)

# Inbox name of the catalog consumer: fixed, so that a second consumer group replaying the topics
# (another deployment, a reset) finds every message it has seen.
CATALOG_CONSUMER = "bookmarks.catalog"
# The events service stores `stop` as `end`; both are taken, whichever a producer sends.
VIEWING_EVENTS = frozenset({"start", "end", "stop"})
_FACT_TYPES = frozenset({"movie", "episode"})
_SWEEP_BATCH = 500


@dataclass(frozen=True)
class Page:
    bookmarks: list[Bookmark]
    more: bool


class Bookmarks:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings
        self._thresholds = rules.Thresholds.of(settings)
        self._cap = timedelta(hours=settings.viewing_cap_hours)

    # Reads.

    async def newest(self, tenant: str, user_id: str, start: int, count: int) -> Page:
        found = await store.newest(self._pool, tenant, user_id, self._fresh_since(), start, count + 1)
        return Page(found[:count], len(found) > count)

    async def get(self, tenant: str, user_id: str, item_type: str, item_id: str) -> Bookmark:
        if item_type not in rules.CONTENT_TYPES:
            raise Unprocessable(
                f"bookmarks are kept for movie, programme and episode, not {item_type!r}",
                extra={"field": "item type"},
            )
        found = await store.one(self._pool, tenant, user_id, item_type, item_id, self._fresh_since())
        if found is None:
            raise NotFound(f"user {user_id!r} has no bookmark on {item_type} {item_id!r}")
        return found

    def _fresh_since(self) -> datetime:
        # Staleness is applied when reading, so nothing has to run for an item to drop off.
        return timefmt.now() - timedelta(days=self._settings.stale_after_days)

    # The events topic.

    async def apply_event(self, change: EventChanged) -> None:
        if change.item_type == "channel" and change.event in VIEWING_EVENTS:
            await self._record_viewing(change)
        elif change.event in rules.WATCH_EVENTS and change.item_type in rules.CONTENT_TYPES:
            await self._record_watching(change)

    async def _record_watching(self, change: EventChanged) -> None:
        value = change.value if isinstance(change.value, int | float) else None
        async with self._pool.acquire() as conn, conn.transaction():
            kept = await store.record_event(
                conn,
                change.tenant,
                change.user_id,
                change.item_type,
                change.item_id,
                change.event,
                value,
                change.deleted,
                change.version,
                change.at,
            )
            if not kept:
                return  # a replay, or older than what is kept
            if change.item_type == "movie":
                await self._derive_movie(conn, change.tenant, change.user_id, change.item_id)
            elif change.item_type == "episode":
                await self._derive_episode(conn, change.tenant, change.user_id, change.item_id)
            else:
                # A hide on the programme also hides its episodes' own answers.
                await self._derive_programme(conn, change.tenant, change.user_id, change.item_id, episode_ids=None)

    async def _record_viewing(self, change: EventChanged) -> None:
        mark = self._mark(change)
        if mark is None or mark.at < self._viewing_horizon():
            return  # too old to matter, and what it led to is forgotten: a replay must not infer it again
        async with self._pool.acquire() as conn, conn.transaction():
            await store.lock_user(conn, change.tenant, change.user_id)
            if await store.add_mark(conn, change.tenant, change.user_id, mark):
                # The mark may close the interval before it (or one after it that arrived first) and open its own.
                await self._infer(conn, change.tenant, change.user_id, mark.at - self._cap, mark.at + self._cap)

    @staticmethod
    def _mark(change: EventChanged) -> viewing.Mark | None:
        # A deleted start or end is left alone: the viewing it recorded happened, and what was
        # inferred from it has been published; the event's state belongs to the events service.
        if change.deleted:
            return None
        try:
            at = change.at if change.value is None else timefmt.parse(change.value)
        except ValueError:
            log.warning("viewing.unreadable_time", tenant=change.tenant, event_id=change.event_id)
            return None
        return viewing.Mark(at, "start" if change.event == "start" else "end", change.item_id)

    # Deriving a user's bookmarks. The caller holds the user's lock.

    async def _derive_movie(self, conn: asyncpg.Connection, tenant: str, user_id: str, movie_id: str) -> None:
        runtime, events = await store.movie_watch(conn, tenant, user_id, movie_id)
        found = rules.movie(movie_id, rules.watched(events), runtime, self._thresholds)
        await store.write_bookmarks(conn, tenant, user_id, [("movie", movie_id)], [found] if found else [])

    async def _derive_episode(self, conn: asyncpg.Connection, tenant: str, user_id: str, episode_id: str) -> None:
        facts = await store.fact(conn, "episode", episode_id)
        if facts is not None and facts.programme_id is not None:
            await self._derive_programme(conn, tenant, user_id, facts.programme_id, episode_ids={episode_id})
            return
        # Not (or no longer) in the catalog: it answers on its own, and no programme can list it.
        facts = facts or Episode(episode_id, None, None, None, None)
        watched = rules.watched(await store.events_on(conn, tenant, user_id, "episode", episode_id))
        found = rules.episode(facts, watched, False, self._thresholds)
        await store.write_bookmarks(conn, tenant, user_id, [("episode", episode_id)], [found] if found else [])

    async def _derive_programme(
        self,
        conn: asyncpg.Connection,
        tenant: str,
        user_id: str,
        programme_id: str,
        episode_ids: Collection[str] | None,
    ) -> None:
        """The programme's bookmark, and the own answers of `episode_ids` (None: of all its episodes the user has)."""
        own, episode_events = await store.programme_events(conn, tenant, user_id, programme_id)
        programme = rules.watched(own)
        episodes = [(episode, rules.watched(events)) for episode, events in episode_events.items()]
        if episode_ids is None:
            episode_ids = [episode.item_id for episode, _ in episodes]
        keys = [("programme", programme_id), *(("episode", episode_id) for episode_id in episode_ids)]
        found = [
            bookmark
            for episode, watched in episodes
            if episode.item_id in episode_ids
            and (bookmark := rules.episode(episode, watched, programme.hidden, self._thresholds))
        ]
        if not programme.hidden:
            current = rules.current_episode(episodes, self._thresholds)
            following = None
            if current is None and (furthest := rules.furthest_seen(episodes, self._thresholds)) is not None:
                following = await store.next_episode(conn, programme_id, furthest)
            touched = [at for w in (programme, *(w for _, w in episodes)) if (at := w.touched_at) is not None]
            if touched and (bookmark := rules.programme(programme_id, current, following, max(touched))):
                found.append(bookmark)
        await store.write_bookmarks(conn, tenant, user_id, keys, found)

    # Live TV. The caller holds the user's lock.

    async def _infer(
        self,
        conn: asyncpg.Connection,
        tenant: str,
        user_id: str,
        lo: datetime,
        hi: datetime,
        channel_id: str | None = None,
    ) -> None:
        """Lay the user's closed intervals that touch [lo, hi] (on `channel_id`, when given) over the schedule."""
        touching = [
            interval
            for interval in await self._intervals(conn, tenant, user_id, lo, hi)
            if channel_id is None or interval.channel_id == channel_id
        ]
        if not touching:
            return
        channels = sorted({interval.channel_id for interval in touching})
        candidates = await store.slots(conn, channels, min(i.start for i in touching), max(i.stop for i in touching))
        slots = [
            s for s in candidates if any(i.channel_id == s.channel_id and i.overlaps(s.start, s.stop) for i in touching)
        ]
        if not slots:
            return
        # Every interval inside those slots counts, also ones outside [lo, hi] (zapping back adds up);
        # another channel's intervals add nothing to these slots, so `touching` has all of [lo, hi] they need.
        span = (min(lo, *(s.start for s in slots)), max(hi, *(s.stop for s in slots)))
        every = touching if span == (lo, hi) else await self._intervals(conn, tenant, user_id, *span)
        inferred = viewing.infer(slots, every, self._settings.live_min_minutes, self._settings.live_seen_ratio)
        await self._emit(conn, tenant, user_id, inferred)

    async def _intervals(
        self, conn: asyncpg.Connection, tenant: str, user_id: str, lo: datetime, hi: datetime
    ) -> list[viewing.Interval]:
        # An interval touching [lo, hi] starts after lo - cap and is closed by a mark before hi + cap.
        marks = await store.marks(conn, tenant, user_id, lo - self._cap, hi + self._cap)
        return [interval for interval in viewing.intervals(marks, self._cap) if interval.overlaps(lo, hi)]

    async def _emit(
        self, conn: asyncpg.Connection, tenant: str, user_id: str, inferred: list[viewing.Inference]
    ) -> None:
        """Publish what was not published before; the same viewing gives the same event ids."""
        identified = [(inference, _event_id(tenant, user_id, inference)) for inference in inferred]
        fresh = await store.claim(conn, tenant, user_id, identified)
        messages: list[tuple[str, str, Contract]] = [
            (
                INFERRED_EVENTS,
                f"{tenant}:{user_id}",
                InferredEvent(
                    event_id=event_id,
                    tenant=tenant,
                    user_id=user_id,
                    event=inference.event,
                    item_type=inference.item_type,
                    item_id=inference.item_id,
                    value=inference.value,
                    at=inference.at,
                ),
            )
            for inference, event_id in identified
            if event_id in fresh
        ]
        await outbox.enqueue_many(conn, store.SCHEMA, messages)
        if messages:
            log.info("live.inferred", tenant=tenant, events=len(messages))

    async def sweep(self) -> int:
        """Close at the cap the intervals nothing closed; return how many starts were closed."""
        now = timefmt.now()
        grace = timedelta(seconds=self._settings.sweep_grace_seconds)
        starts = await store.open_starts(self._pool, now - self._cap, now - grace, _SWEEP_BATCH)
        for tenant, user_id, mark in starts:
            async with self._pool.acquire() as conn, conn.transaction():
                await store.lock_user(conn, tenant, user_id)
                await store.settle(conn, tenant, user_id, mark)
                await self._infer(conn, tenant, user_id, mark.at, mark.at + self._cap)
        return len(starts)

    async def forget_old_viewing(self) -> int:
        """Delete viewing past the horizon; a slot may start up to a day and two caps before a mark that counts."""
        horizon = self._viewing_horizon()
        async with self._pool.acquire() as conn, conn.transaction():
            return await store.forget_viewing(conn, horizon, horizon - timedelta(days=2))

    def _viewing_horizon(self) -> datetime:
        return timefmt.now() - timedelta(days=self._settings.viewing_keep_days)

    # The catalog topics.

    async def apply_item(self, change: CatalogItemChanged) -> None:
        if change.item_type not in _FACT_TYPES:
            return
        is_episode = change.item_type == "episode"
        facts = Episode(
            change.item_id,
            change.programme_id if is_episode else None,
            change.season if is_episode else None,
            change.episode if is_episode else None,
            change.runtime,
        )
        async with self._pool.acquire() as conn, conn.transaction():
            await store.lock_catalog(conn)
            if not await first_delivery(conn, store.SCHEMA, CATALOG_CONSUMER, change.event_id):
                return
            before = await store.fact(conn, change.item_type, change.item_id)
            if not await store.replace_fact(conn, change.item_type, facts, change.deleted, change.at):
                return  # older than the facts kept
            after = None if change.deleted else facts
            if before == after:
                return  # nothing a bookmark depends on changed (a title, a picture)
            if not is_episode:
                for tenant, user_id in await store.users_with_events_on(conn, "movie", change.item_id):
                    await self._derive_movie(conn, tenant, user_id, change.item_id)
                return
            for tenant, user_id in await store.users_with_events_on(conn, "episode", change.item_id):
                await self._derive_episode(conn, tenant, user_id, change.item_id)
            # Its programme (and the one it left) may have a new "up next" for everyone watching it.
            programmes = sorted({p for p in (before and before.programme_id, facts.programme_id) if p})
            for tenant, user_id in await store.users_of_programmes(conn, programmes):
                for programme_id in programmes:
                    await self._derive_programme(conn, tenant, user_id, programme_id, episode_ids=None)

    async def apply_schedule(self, change: ScheduleChanged) -> None:
        new = {viewing.Slot(change.channel_id, s.start, s.stop, s.item_type, s.item_id) for s in change.slots}
        async with self._pool.acquire() as conn, conn.transaction():
            await store.lock_catalog(conn)
            if not await first_delivery(conn, store.SCHEMA, CATALOG_CONSUMER, change.event_id):
                return
            old = set(
                await store.replace_slots(conn, change.channel_id, change.window_start, change.window_end, change.slots)
            )
            changed = old ^ new
            if not changed:
                return
            # The schedule may arrive after the viewing: whoever watched the changed slots is inferred again.
            lo, hi = min(s.start for s in changed), max(s.stop for s in changed)
            for tenant, user_id in await store.viewers(conn, change.channel_id, lo - self._cap, hi):
                await self._infer(conn, tenant, user_id, lo, hi, change.channel_id)


def _event_id(tenant: str, user_id: str, inference: viewing.Inference) -> str:
    """Stable: the same user, channel, slot, item, event and value always give the same id."""
    parts = (
        tenant,
        user_id,
        inference.channel_id,
        timefmt.format(inference.slot_start),
        inference.event,
        inference.item_type,
        inference.item_id,
        "" if inference.value is None else str(inference.value),
    )
    return "live-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
