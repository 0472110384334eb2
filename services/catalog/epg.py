"""Importing an XMLTV guide: channels found or created, programmes matched to catalog items
(by external id, else by title, season and episode) or created, and each channel's slots in the
guide's window replaced, all in one transaction with bulk statements.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.catalog import items, models, shapes, store
from services.catalog.changes import Changes
from services.catalog.models import ItemInput, SlotInput, match_title
from services.catalog.store import ItemKey
from services.catalog.xmltv import Guide, GuideProgramme

_SYSTEM = re.compile(r"[a-z0-9_.\-]{1,32}")


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


@dataclass
class _Airing:
    programme: GuideProgramme
    key: ItemKey
    matched: bool


async def import_guide(pool: asyncpg.Pool, guide: Guide) -> dict[str, Any]:
    listings, dropped = _listings(guide.programmes)
    changes = Changes()
    async with pool.acquire() as conn, conn.transaction():
        channel_ids, channels_created = await _channels(conn, guide, changes)
        airings, created = await _match(conn, [listing.programme for listing in listings], changes)
        windows, slots = _slots(listings, airings, channel_ids)
        await store.lock_channels(conn, sorted({window[0] for window in windows}))
        before = await store.slots_overlapping(conn, windows)
        await store.replace_slots(conn, windows, slots)
        after = await store.slots_overlapping(conn, windows)
        told = changes.schedule(windows, before, after)
        await changes.enqueue(conn)
    return {
        "channels": {"in_guide": len(channel_ids), "created": channels_created},
        "programmes": len(guide.programmes) + guide.skipped_count,
        "slots": len(slots),
        "matched": sum(airing.matched for airing in airings),
        "created": {kind: created.get(kind, 0) for kind in ("movie", "programme", "episode")},
        "skipped": {
            "count": guide.skipped_count + len(dropped),
            "examples": [*guide.skipped, *dropped][:10],
        },
        "schedule_changes": told,
    }


@dataclass(frozen=True)
class _Listing:
    programme: GuideProgramme
    stop: datetime


def _listings(programmes: list[GuideProgramme]) -> tuple[list[_Listing], list[str]]:
    """Per channel in start order, each programme with its stop: a missing one is the next programme's start."""
    by_channel: dict[str, dict[datetime, GuideProgramme]] = {}
    for programme in programmes:
        # A later programme at the same start on the same channel replaces an earlier one.
        by_channel.setdefault(programme.channel, {})[programme.start] = programme
    listings: list[_Listing] = []
    dropped: list[str] = []
    for channel, starts in sorted(by_channel.items()):
        ordered = [starts[start] for start in sorted(starts)]
        for position, p in enumerate(ordered):
            following = ordered[position + 1].start if position + 1 < len(ordered) else None
            stop = p.stop or following
            if stop is None and p.length_minutes:
                stop = p.start + timedelta(minutes=p.length_minutes)
            if stop is not None and following is not None and stop > following:
                stop = following  # overlapping listings: the next programme wins
            if stop is None or stop <= p.start:
                dropped.append(f"{p.title!r} at {p.start.isoformat()} on {channel!r} has no stop and nothing after it")
                continue
            listings.append(_Listing(p, stop))
    return listings, dropped


async def _channels(conn: asyncpg.Connection, guide: Guide, changes: Changes) -> tuple[dict[str, str], int]:
    """XMLTV channel id -> catalog channel id, creating channels the catalog does not have."""
    declared = {channel.xmltv_id: channel for channel in guide.channels}
    wanted = list(dict.fromkeys([*declared, *(p.channel for p in guide.programmes)]))
    found = await store.channels_by_xmltv_id(conn, wanted)
    created = 0
    for xmltv_id in wanted:
        if xmltv_id in found:
            continue
        channel_id = xmltv_id if re.fullmatch(r"[A-Za-z0-9._:\-]{1,64}", xmltv_id) else f"epg-c-{_digest(xmltv_id)}"
        guide_channel = declared.get(xmltv_id)
        body: dict[str, Any] = {
            "name": (guide_channel.names[0] if guide_channel and guide_channel.names else xmltv_id)[:200],
            "xmltv_id": xmltv_id[:200],
        }
        if guide_channel and guide_channel.icon:
            body["icon_url"] = guide_channel.icon
        content = models.channel(channel_id, body)
        outcome = await store.upsert_content(
            conn, "channel", {"id": channel_id}, content, xmltv_id=content["xmltv_id"], number=None
        )
        if outcome is not None:
            created += 1
            changes.item("channel", channel_id, shapes.channel(channel_id, content))
        found[xmltv_id] = channel_id
    return found, created


async def _match(
    conn: asyncpg.Connection, programmes: list[GuideProgramme], changes: Changes
) -> tuple[list[_Airing], Counter[str]]:
    external = {
        (system, value)
        for p in programmes
        for system, value in p.external_ids.items()
        if _SYSTEM.fullmatch(system) and 0 < len(value) <= 128
    }
    by_external = await store.items_by_external_id(conn, sorted(external))
    titles = sorted({title for p in programmes if (title := match_title(p.title))})
    movies: dict[str, list[asyncpg.Record]] = {}
    for row in await store.items_by_title(conn, "movie", titles):
        movies.setdefault(row["match_title"], []).append(row)
    shows: dict[str, str] = {}
    for row in await store.items_by_title(conn, "programme", titles):
        shows.setdefault(row["match_title"], row["id"])
    episodes_by_number: dict[tuple[str, int | None, int], str] = {}
    episodes_by_title: dict[tuple[str, str], str] = {}
    for row in await store.episodes_of(conn, sorted(set(shows.values()))):
        if row["episode"] is not None:
            episodes_by_number.setdefault((row["programme_id"], row["season"], row["episode"]), row["id"])
        if row["match_title"]:
            episodes_by_title.setdefault((row["programme_id"], row["match_title"]), row["id"])

    new: dict[ItemKey, dict[str, Any]] = {}  # bodies of items to create
    claimed: dict[tuple[str, str], ItemKey] = {}  # external ids given to items created here
    airings: list[_Airing] = []
    for p in programmes:
        kind = p.kind
        pairs = [(s, v) for s, v in p.external_ids.items() if (s, v) in external]
        known = [k for pair in pairs for k in by_external.get(pair, [])]
        key = next((k for k in known if k[0] == kind), known[0] if known else None)
        if key is not None:
            airings.append(_Airing(p, key, True))
            continue
        key = next((claimed[pair] for pair in pairs if pair in claimed), None)
        title = match_title(p.title) or ""
        if key is None and kind == "movie":
            movie_id = _movie(movies.get(title, []), p.year)
            if movie_id is not None:
                airings.append(_Airing(p, ("movie", movie_id), True))
                continue
            key = ("movie", f"epg-m-{_digest(title, p.year)}")
            new.setdefault(key, _movie_body(p))
        elif key is None:
            programme_id = shows.get(title)
            if programme_id is None:
                programme_id = f"epg-p-{_digest(title)}"
                new.setdefault(("programme", programme_id), _programme_body(p))
            if kind == "programme":
                airings.append(_Airing(p, ("programme", programme_id), ("programme", programme_id) not in new))
                continue
            sub_title = match_title(p.sub_title)
            episode_id = None
            if p.episode is not None:
                episode_id = episodes_by_number.get((programme_id, p.season, p.episode))
            if episode_id is None and sub_title:
                episode_id = episodes_by_title.get((programme_id, sub_title))
            if episode_id is not None:
                airings.append(_Airing(p, ("episode", episode_id), True))
                continue
            identity = (p.season, p.episode) if p.episode is not None else (sub_title or sorted(pairs))
            key = ("episode", f"epg-e-{_digest(programme_id, identity)}")
            new.setdefault(key, _episode_body(p, programme_id))
        for pair in pairs:
            claimed.setdefault(pair, key)
            new[key].setdefault("external_ids", {}).setdefault(pair[0], pair[1])
        airings.append(_Airing(p, key, key not in new))
    inputs = await _inputs(conn, new)
    counts = await items.write(conn, inputs, changes)
    return airings, Counter(item_type for item_type, _ in counts.created)


def _movie(candidates: list[asyncpg.Record], year: int | None) -> str | None:
    if not candidates:
        return None
    if year is None:
        return str(candidates[0]["id"])
    for tolerance in (0, 1):
        for row in candidates:
            if row["year"] is not None and abs(row["year"] - year) <= tolerance:
                return str(row["id"])
    undated = [row for row in candidates if row["year"] is None]
    return str(undated[0]["id"]) if undated else None


def _common(p: GuideProgramme) -> dict[str, Any]:
    body: dict[str, Any] = {"title": p.title}
    if p.desc:
        body["synopsis"] = p.desc
    if p.length_minutes is not None:
        body["runtime"] = p.length_minutes
    return body


def _movie_body(p: GuideProgramme) -> dict[str, Any]:
    return {
        **_common(p),
        "year": p.year,
        "_directors": p.directors,
        "_actors": p.actors,
        "_categories": p.categories,
    }


def _programme_body(p: GuideProgramme) -> dict[str, Any]:
    return {"title": p.title, "_categories": p.categories}


def _episode_body(p: GuideProgramme, programme_id: str) -> dict[str, Any]:
    body = _common(p)
    body.update(
        {
            "title": p.sub_title,
            "programme_id": programme_id,
            "season": p.season,
            "episode": p.episode,
            "first_aired": p.first_aired,
            "_directors": p.directors,
            "_actors": p.actors,
        }
    )
    return body


async def _inputs(conn: asyncpg.Connection, new: dict[ItemKey, dict[str, Any]]) -> list[ItemInput]:
    """Bodies of new items with credits and categories as catalog references (existing ones reused by name)."""
    names = sorted({n for body in new.values() for n in (*body.get("_directors", []), *body.get("_actors", []))})
    known_people = await store.people_by_name(conn, names) if names else {}
    people = {
        name: (found[0] if len(found := known_people.get(name, [])) == 1 else f"epg-n-{_digest(name)}")
        for name in names
    }
    category_ids: dict[str, dict[str, str]] = {}
    for kind in ("movie", "programme"):
        wanted = sorted(
            {
                c
                for key, body in new.items()
                if (kind == "movie") == (key[0] == "movie")
                for c in body.get("_categories", [])
            }
        )
        known = await store.categories_by_name(conn, kind, wanted) if wanted else {}
        category_ids[kind] = {name: known.get(name.lower(), f"epg-{_digest(name.lower())}") for name in wanted}
    inputs = []
    for (item_type, item_id), body in new.items():
        kind = "movie" if item_type == "movie" else "programme"
        credits = {
            "directors": [{"id": people[n], "name": n} for n in dict.fromkeys(body.pop("_directors", []))][:50],
            "actors": [{"id": people[n], "name": n} for n in dict.fromkeys(body.pop("_actors", []))][:200],
            "categories": [
                {"id": category_ids[kind][c], "name": c[:300]} for c in dict.fromkeys(body.pop("_categories", []))
            ][:50],
        }
        body.update({field: value for field, value in credits.items() if value})
        inputs.append(models.item(item_type, item_id, {k: v for k, v in body.items() if v is not None}))
    return inputs


def _slots(
    listings: list[_Listing], airings: list[_Airing], channel_ids: dict[str, str]
) -> tuple[list[tuple[str, datetime, datetime]], list[tuple[str, SlotInput]]]:
    """The slots, and per channel the window [first start, last stop) whose slots they replace."""
    slots = [
        (
            channel_ids[listing.programme.channel],
            SlotInput(listing.programme.start, listing.stop, *airing.key, listing.programme.hd),
        )
        for listing, airing in zip(listings, airings, strict=True)
    ]
    spans: dict[str, tuple[datetime, datetime]] = {}
    for channel_id, slot in slots:
        start, stop = spans.get(channel_id, (slot.start, slot.stop))
        spans[channel_id] = (min(start, slot.start), max(stop, slot.stop))
    return [(channel_id, *span) for channel_id, span in sorted(spans.items())], slots
