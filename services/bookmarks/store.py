"""All SQL of the bookmarks service. Functions take a connection; the use case owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeAlias

import asyncpg

from services.bookmarks.rules import Bookmark, Episode
from services.bookmarks.viewing import Inference, Mark, Slot
from shared.contracts import ScheduleSlot

SCHEMA = "bookmarks"

Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool
EventRow = tuple[str, float | None, datetime]  # (event, value, at)


# Locking. Everything that reads the catalog facts or the schedule to derive a user's state holds the
# catalog lock shared; applying a catalog change holds it exclusively, so a change can never slip between
# the look-up of who it affects and an event being derived from the facts it replaces. The user lock
# keeps two derivations for one user (an event and the sweeper, or two replicas) from interleaving.


_USER_LOCK = (
    "select pg_advisory_xact_lock_shared(hashtext('bookmarks.catalog'), 0), "
    "pg_advisory_xact_lock(hashtext('bookmarks.user'), hashtext($1 || ':' || $2))"
)


async def lock_user(conn: asyncpg.Connection, tenant: str, user_id: str) -> None:
    await conn.execute(_USER_LOCK, tenant, user_id)


async def lock_catalog(conn: asyncpg.Connection) -> None:
    await conn.execute("select pg_advisory_xact_lock(hashtext('bookmarks.catalog'), 0)")


# A user's events.


async def record_event(
    conn: asyncpg.Connection,
    tenant: str,
    user_id: str,
    item_type: str,
    item_id: str,
    event: str,
    value: float | None,
    deleted: bool,
    version: int,
    at: datetime,
) -> bool:
    """Take the user's lock, then keep the change if it is newer than what is kept (False: a replay or older).

    One round trip for both: this runs for every event a user sends.
    """
    applied = await conn.fetchval(
        "insert into bookmarks.user_event as e "
        "(tenant, user_id, item_type, item_id, event, value, deleted, version, at) "
        f"select $1, $2, $3, $4, $5, $6, $7, $8, $9 from ({_USER_LOCK}) locked "
        "on conflict (tenant, user_id, item_type, item_id, event) do update "
        "set value = excluded.value, deleted = excluded.deleted, version = excluded.version, at = excluded.at "
        "where e.version < excluded.version returning true",
        tenant,
        user_id,
        item_type,
        item_id,
        event,
        value,
        deleted,
        version,
        at,
    )
    return bool(applied)


async def movie_watch(conn: Conn, tenant: str, user_id: str, movie_id: str) -> tuple[int | None, list[EventRow]]:
    """The movie's runtime (None when unknown) and the user's events on it, in one round trip."""
    rows = await conn.fetch(
        "select f.runtime, e.event, e.value, e.at from (select) one "
        "left join bookmarks.item_fact f on f.item_type = 'movie' and f.item_id = $3 and not f.deleted "
        "left join bookmarks.user_event e on e.tenant = $1 and e.user_id = $2 and e.item_type = 'movie' "
        "and e.item_id = $3 and not e.deleted",
        tenant,
        user_id,
        movie_id,
    )
    return rows[0]["runtime"], [(r["event"], r["value"], r["at"]) for r in rows if r["event"] is not None]


async def events_on(conn: Conn, tenant: str, user_id: str, item_type: str, item_id: str) -> list[EventRow]:
    rows = await conn.fetch(
        "select event, value, at from bookmarks.user_event "
        "where tenant = $1 and user_id = $2 and item_type = $3 and item_id = $4 and not deleted",
        tenant,
        user_id,
        item_type,
        item_id,
    )
    return [(r["event"], r["value"], r["at"]) for r in rows]


async def programme_events(
    conn: Conn, tenant: str, user_id: str, programme_id: str
) -> tuple[list[EventRow], dict[Episode, list[EventRow]]]:
    """The user's events on the programme itself, and on each of its episodes the catalog knows."""
    rows = await conn.fetch(
        "select e.item_type, e.item_id, e.event, e.value, e.at, f.season, f.episode, f.runtime "
        "from bookmarks.user_event e "
        "left join bookmarks.item_fact f on f.item_type = 'episode' and f.item_id = e.item_id "
        "where e.tenant = $1 and e.user_id = $2 and not e.deleted and ("
        "  (e.item_type = 'programme' and e.item_id = $3)"
        "  or (e.item_type = 'episode' and f.programme_id = $3 and not f.deleted))",
        tenant,
        user_id,
        programme_id,
    )
    own: list[EventRow] = []
    episodes: dict[Episode, list[EventRow]] = {}
    for r in rows:
        event: EventRow = (r["event"], r["value"], r["at"])
        if r["item_type"] == "programme":
            own.append(event)
        else:
            episode = Episode(r["item_id"], programme_id, r["season"], r["episode"], r["runtime"])
            episodes.setdefault(episode, []).append(event)
    return own, episodes


async def write_bookmarks(
    conn: asyncpg.Connection,
    tenant: str,
    user_id: str,
    keys: Sequence[tuple[str, str]],
    bookmarks: Sequence[Bookmark],
) -> None:
    """Make `bookmarks` the bookmarks of these (item type, item id) keys: the keys with none lose theirs."""
    written = {(b.item_type, b.item_id) for b in bookmarks}
    gone = [key for key in keys if key not in written]
    await conn.execute(
        "with gone as (delete from bookmarks.bookmark where tenant = $1 and user_id = $2 "
        "  and (item_type, item_id) in (select * from unnest($3::text[], $4::text[]))) "
        "insert into bookmarks.bookmark (tenant, user_id, item_type, item_id, state, position, runtime, "
        "updated_at, episode_id, programme_id, season, episode, listed) "
        "select $1, $2, * from unnest($5::text[], $6::text[], $7::text[], $8::float8[], $9::int[], "
        "$10::timestamptz[], $11::text[], $12::text[], $13::int[], $14::int[], $15::bool[]) "
        "on conflict (tenant, user_id, item_type, item_id) do update set state = excluded.state, "
        "position = excluded.position, runtime = excluded.runtime, updated_at = excluded.updated_at, "
        "episode_id = excluded.episode_id, programme_id = excluded.programme_id, season = excluded.season, "
        "episode = excluded.episode, listed = excluded.listed",
        tenant,
        user_id,
        [item_type for item_type, _ in gone],
        [item_id for _, item_id in gone],
        [b.item_type for b in bookmarks],
        [b.item_id for b in bookmarks],
        [b.state for b in bookmarks],
        [b.position for b in bookmarks],
        [b.runtime for b in bookmarks],
        [b.updated_at for b in bookmarks],
        [b.episode_id for b in bookmarks],
        [b.programme_id for b in bookmarks],
        [b.season for b in bookmarks],
        [b.episode for b in bookmarks],
        [b.listed for b in bookmarks],
    )


# The catalog's facts.


async def fact(conn: Conn, item_type: str, item_id: str) -> Episode | None:
    """A movie's or episode's facts (a movie's as an Episode with no programme); None when unknown or deleted."""
    row = await conn.fetchrow(
        "select programme_id, season, episode, runtime from bookmarks.item_fact "
        "where item_type = $1 and item_id = $2 and not deleted",
        item_type,
        item_id,
    )
    return Episode(item_id, row["programme_id"], row["season"], row["episode"], row["runtime"]) if row else None


async def next_episode(conn: Conn, programme_id: str, after: tuple[int, int]) -> Episode | None:
    """The first episode after (season, episode) in order, specials (season 0) left out."""
    row = await conn.fetchrow(
        "select item_id, season, episode, runtime from bookmarks.item_fact "
        "where item_type = 'episode' and programme_id = $1 and not deleted and season >= 1 "
        "and episode is not null and (season, episode) > ($2, $3) "
        "order by season, episode limit 1",
        programme_id,
        *after,
    )
    if row is None:
        return None
    return Episode(row["item_id"], programme_id, row["season"], row["episode"], row["runtime"])


async def replace_fact(conn: asyncpg.Connection, item_type: str, fact: Episode, deleted: bool, at: datetime) -> bool:
    """Keep the facts unless newer ones are kept already; True when they were written."""
    written = await conn.fetchval(
        "insert into bookmarks.item_fact as f "
        "(item_type, item_id, runtime, programme_id, season, episode, deleted, changed_at) "
        "values ($1, $2, $3, $4, $5, $6, $7, $8) "
        "on conflict (item_type, item_id) do update set runtime = excluded.runtime, "
        "programme_id = excluded.programme_id, season = excluded.season, episode = excluded.episode, "
        "deleted = excluded.deleted, changed_at = excluded.changed_at "
        "where f.changed_at <= excluded.changed_at returning true",
        item_type,
        fact.item_id,
        fact.runtime,
        fact.programme_id,
        fact.season,
        fact.episode,
        deleted,
        at,
    )
    return bool(written)


async def users_with_events_on(conn: Conn, item_type: str, item_id: str) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "select distinct tenant, user_id from bookmarks.user_event where item_type = $1 and item_id = $2 "
        "order by tenant, user_id",
        item_type,
        item_id,
    )
    return [(r["tenant"], r["user_id"]) for r in rows]


async def users_of_programmes(conn: Conn, programme_ids: Sequence[str]) -> list[tuple[str, str]]:
    """Users with an event on one of these programmes or on one of their episodes."""
    rows = await conn.fetch(
        "select tenant, user_id from bookmarks.user_event "
        "where item_type = 'programme' and item_id = any($1::text[]) "
        "union "
        "select e.tenant, e.user_id from bookmarks.item_fact f "
        "join bookmarks.user_event e on e.item_type = 'episode' and e.item_id = f.item_id "
        "where f.item_type = 'episode' and f.programme_id = any($1::text[]) "
        "order by 1, 2",
        list(programme_ids),
    )
    return [(r["tenant"], r["user_id"]) for r in rows]


# The schedule.


async def replace_slots(
    conn: asyncpg.Connection,
    channel_id: str,
    window_start: datetime,
    window_end: datetime,
    slots: Sequence[ScheduleSlot],
) -> list[Slot]:
    """Make `slots` the channel's schedule over the window; return the slots that were there before."""
    removed = await conn.fetch(
        "delete from bookmarks.schedule_slot where channel_id = $1 and starts_at < $3 and stops_at > $2 "
        "returning starts_at, stops_at, item_type, item_id",
        channel_id,
        window_start,
        window_end,
    )
    await conn.executemany(
        "insert into bookmarks.schedule_slot (channel_id, starts_at, stops_at, item_type, item_id, programme_id, hd) "
        "values ($1, $2, $3, $4, $5, $6, $7) on conflict (channel_id, starts_at) do update set "
        "stops_at = excluded.stops_at, item_type = excluded.item_type, item_id = excluded.item_id, "
        "programme_id = excluded.programme_id, hd = excluded.hd",
        [(channel_id, s.start, s.stop, s.item_type, s.item_id, s.programme_id, s.hd) for s in slots],
    )
    return [Slot(channel_id, r["starts_at"], r["stops_at"], r["item_type"], r["item_id"]) for r in removed]


async def slots(conn: Conn, channel_ids: Sequence[str], lo: datetime, hi: datetime) -> list[Slot]:
    rows = await conn.fetch(
        "select channel_id, starts_at, stops_at, item_type, item_id from bookmarks.schedule_slot "
        "where channel_id = any($1::text[]) and starts_at < $3 and stops_at > $2",
        list(channel_ids),
        lo,
        hi,
    )
    return [Slot(r["channel_id"], r["starts_at"], r["stops_at"], r["item_type"], r["item_id"]) for r in rows]


# Live viewing.


async def add_mark(conn: asyncpg.Connection, tenant: str, user_id: str, mark: Mark) -> bool:
    """False when this start or end is known already (a redelivery)."""
    added = await conn.fetchval(
        "insert into bookmarks.viewing_mark (tenant, user_id, at, kind, channel_id) values ($1, $2, $3, $4, $5) "
        "on conflict do nothing returning true",
        tenant,
        user_id,
        mark.at,
        mark.kind,
        mark.channel_id,
    )
    return bool(added)


async def marks(conn: Conn, tenant: str, user_id: str, lo: datetime, hi: datetime) -> list[Mark]:
    rows = await conn.fetch(
        "select at, kind, channel_id, settled from bookmarks.viewing_mark "
        "where tenant = $1 and user_id = $2 and at >= $3 and at <= $4",
        tenant,
        user_id,
        lo,
        hi,
    )
    return [Mark(r["at"], r["kind"], r["channel_id"], r["settled"]) for r in rows]


async def viewers(conn: Conn, channel_id: str, lo: datetime, hi: datetime) -> list[tuple[str, str]]:
    """Users with a start or end on the channel in [lo, hi]."""
    rows = await conn.fetch(
        "select distinct tenant, user_id from bookmarks.viewing_mark where channel_id = $1 and at >= $2 and at <= $3 "
        "order by tenant, user_id",
        channel_id,
        lo,
        hi,
    )
    return [(r["tenant"], r["user_id"]) for r in rows]


async def open_starts(
    conn: Conn, started_before: datetime, received_before: datetime, limit: int
) -> list[tuple[str, str, Mark]]:
    rows = await conn.fetch(
        "select tenant, user_id, at, channel_id from bookmarks.viewing_mark "
        "where kind = 'start' and not settled and at < $1 and received_at < $2 order by at limit $3",
        started_before,
        received_before,
        limit,
    )
    return [(r["tenant"], r["user_id"], Mark(r["at"], "start", r["channel_id"], True)) for r in rows]


async def settle(conn: asyncpg.Connection, tenant: str, user_id: str, mark: Mark) -> None:
    await conn.execute(
        "update bookmarks.viewing_mark set settled = true "
        "where tenant = $1 and user_id = $2 and at = $3 and kind = 'start' and channel_id = $4",
        tenant,
        user_id,
        mark.at,
        mark.channel_id,
    )


async def forget_viewing(conn: asyncpg.Connection, marks_before: datetime, slots_before: datetime) -> int:
    """Delete viewing marks, and what was inferred and scheduled, older than the horizon; return the marks deleted."""
    deleted = await conn.fetchval(
        "with marks as (delete from bookmarks.viewing_mark where at < $1 returning 1), "
        "inferred as (delete from bookmarks.inferred where slot_start < $2), "
        "slots as (delete from bookmarks.schedule_slot where stops_at < $2) "
        "select count(*) from marks",
        marks_before,
        slots_before,
    )
    return int(deleted)


async def claim(
    conn: asyncpg.Connection, tenant: str, user_id: str, inferences: Sequence[tuple[Inference, str]]
) -> set[str]:
    """Record what is to be emitted; return the event ids not emitted before (a seen once, a progress when larger)."""
    if not inferences:
        return set()
    rows = await conn.fetch(
        "insert into bookmarks.inferred as i "
        "(tenant, user_id, channel_id, slot_start, event, item_type, item_id, value, event_id) "
        "select $1, $2, * from unnest($3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], "
        "$8::float8[], $9::text[]) "
        "on conflict (tenant, user_id, channel_id, slot_start, event, item_type, item_id) do update "
        "set value = excluded.value, event_id = excluded.event_id, emitted_at = now() "
        "where i.value < excluded.value returning event_id",
        tenant,
        user_id,
        [i.channel_id for i, _ in inferences],
        [i.slot_start for i, _ in inferences],
        [i.event for i, _ in inferences],
        [i.item_type for i, _ in inferences],
        [i.item_id for i, _ in inferences],
        [float(i.value or 0) for i, _ in inferences],
        [event_id for _, event_id in inferences],
    )
    return {r["event_id"] for r in rows}


# Reads.

_BOOKMARK_COLUMNS = (
    "item_type, item_id, state, position, runtime, updated_at, episode_id, programme_id, season, episode"
)


def _bookmark(row: asyncpg.Record) -> Bookmark:
    return Bookmark(
        row["item_type"],
        row["item_id"],
        row["state"],
        row["position"],
        row["runtime"],
        row["updated_at"],
        episode_id=row["episode_id"],
        programme_id=row["programme_id"],
        season=row["season"],
        episode=row["episode"],
    )


async def newest(conn: Conn, tenant: str, user_id: str, since: datetime, start: int, count: int) -> list[Bookmark]:
    rows = await conn.fetch(
        f"select {_BOOKMARK_COLUMNS} from bookmarks.bookmark "
        "where tenant = $1 and user_id = $2 and listed and updated_at >= $3 "
        "order by updated_at desc, item_type, item_id offset $4 limit $5",
        tenant,
        user_id,
        since,
        start,
        count,
    )
    return [_bookmark(r) for r in rows]


async def one(conn: Conn, tenant: str, user_id: str, item_type: str, item_id: str, since: datetime) -> Bookmark | None:
    row = await conn.fetchrow(
        f"select {_BOOKMARK_COLUMNS} from bookmarks.bookmark "
        "where tenant = $1 and user_id = $2 and item_type = $3 and item_id = $4 and updated_at >= $5",
        tenant,
        user_id,
        item_type,
        item_id,
        since,
    )
    return _bookmark(row) if row else None
