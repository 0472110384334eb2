"""Catalog use cases. Each write opens its own transaction and queues what it changed in the outbox."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.catalog import epg, items, models, shapes, store
from services.catalog.changes import Changes
from services.catalog.items import InstanceCounts
from services.catalog.settings import Settings
from services.catalog.store import InstanceKey, ItemKey
from services.catalog.xmltv import Guide
from shared import ids, timefmt
from shared.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable


class Catalog:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[tuple[asyncpg.Connection, Changes]]:
        """A transaction whose collected changes reach the outbox in it, or not at all."""
        changes = Changes()
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                yield conn, changes
                await changes.enqueue(conn)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            raise ServiceUnavailable(
                "a concurrent write to the same catalog entries got in the way; retry", headers={"Retry-After": "1"}
            ) from None

    # --- items ------------------------------------------------------------------------------

    async def items(self, item_type: str, item_ids: list[str]) -> list[bytes]:
        """The JSON of the items that exist among `item_ids`, in the order asked."""
        keys = list(dict.fromkeys((item_type, item_id) for item_id in item_ids))
        return await items.documents(self._pool, keys)

    async def item(self, item_type: str, item_id: str) -> bytes:
        found = await self.items(item_type, [item_id])
        if not found:
            raise NotFound(f"there is no {item_type} {item_id!r}")
        return found[0]

    async def item_page(self, item_type: str, start: int, count: int) -> list[bytes]:
        async with self._pool.acquire() as conn:
            page = await store.item_ids(conn, item_type, start, count)
            return await items.documents(conn, [(item_type, item_id) for item_id in page])

    async def put_item(self, item_type: str, item_id: str, body: dict[str, Any]) -> tuple[bytes, bool]:
        parsed = models.item(item_type, item_id, body)
        async with self._writing() as (conn, changes):
            counts = await items.write(conn, [parsed], changes)
        return await self.item(item_type, item_id), bool(counts.created)

    async def delete_item(self, item_type: str, item_id: str) -> None:
        async with self._writing() as (conn, changes):
            if not await store.lock_items(conn, [(item_type, item_id)]):
                raise NotFound(f"there is no {item_type} {item_id!r}")
            await items.delete(conn, [(item_type, item_id)], changes)

    # --- instances --------------------------------------------------------------------------

    async def put_instance(
        self, item_type: str, item_id: str, source_id: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        instance = models.instance(source_id, body)
        key = (item_type, item_id, source_id)
        async with self._writing() as (conn, changes):
            await self._lock_item(conn, item_type, item_id)
            current = await store.lock_instances(conn, [key])
            counts = await items.set_instances(conn, current, {key: instance}, changes)
            row = (await store.lock_instances(conn, [key]))[0]
        return shapes.instance(row), bool(counts.added)

    async def delete_instance(self, item_type: str, item_id: str, source_id: str) -> None:
        key = (item_type, item_id, source_id)
        async with self._writing() as (conn, changes):
            current = await store.lock_instances(conn, [key])
            if not current:
                raise NotFound(f"{item_type} {item_id!r} has no instance on source {source_id!r}")
            await items.set_instances(conn, current, {key: None}, changes)

    @staticmethod
    async def _lock_item(conn: asyncpg.Connection, item_type: str, item_id: str) -> None:
        if not await store.lock_items(conn, [(item_type, item_id)]):
            raise NotFound(f"there is no {item_type} {item_id!r}")

    # --- sources ----------------------------------------------------------------------------

    async def sources(self, source_ids: list[str] | None = None) -> list[dict[str, Any]]:
        rows = await store.sources(self._pool, source_ids)
        return [shapes.source(row["id"], row["content"]) for row in rows]

    async def source(self, source_id: str) -> dict[str, Any]:
        found = await self.sources([source_id])
        if not found:
            raise NotFound(f"there is no source {source_id!r}")
        return found[0]

    async def put_source(self, source_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        content = models.source(source_id, body)
        shape = shapes.source(source_id, content)
        async with self._writing() as (conn, changes):
            outcome = await store.upsert_content(conn, "source", {"id": source_id}, content)
            if outcome is not None:
                changes.item("source", source_id, shape)
        return shape, outcome == "created"

    async def delete_source(self, source_id: str) -> None:
        async with self._writing() as (conn, changes):
            if await store.lock_source(conn, source_id) is None:
                raise NotFound(f"there is no source {source_id!r}")
            current = await store.lock_source_instances(conn, source_id)
            gone: dict[InstanceKey, models.InstanceInput | None] = {
                (r["item_type"], r["item_id"], r["source_id"]): None for r in current
            }
            await items.set_instances(conn, current, gone, changes)
            await store.delete_source(conn, source_id)
            changes.item("source", source_id, None)

    async def ingest(self, source_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Set the source's whole current contents: its items' metadata where given, and its instances."""
        entries = models.ingest(source_id, body)
        async with self._writing() as (conn, changes):
            if await store.lock_source(conn, source_id) is None:
                raise NotFound(f"there is no source {source_id!r}: PUT source/{source_id}/ first")
            written = await items.write(conn, [e.item for e in entries if e.item is not None], changes)
            bare = [(e.type, e.id) for e in entries if e.item is None]
            missing = sorted(set(bare) - await store.existing_items(conn, bare))
            if missing:
                item_type, item_id = missing[0]
                raise Unprocessable(
                    f"{item_type} {item_id!r} is not in the catalog: give its metadata (at least a title) in the entry"
                )
            current = await store.lock_source_instances(conn, source_id)
            desired: dict[InstanceKey, models.InstanceInput | None] = {
                (r["item_type"], r["item_id"], r["source_id"]): None for r in current
            }
            for entry in entries:
                desired[(entry.type, entry.id, source_id)] = entry.instance
            counts: InstanceCounts = await items.set_instances(conn, current, desired, changes)
        return {
            "source_id": ids.to_json(source_id),
            "items": {
                "created": len(written.created),
                "changed": len(written.changed),
                "unchanged": written.unchanged,
                "metadata_absent": len(bare),
            },
            "instances": counts.body(),
        }

    async def import_xmltv(self, guide: Guide) -> dict[str, Any]:
        return await epg.import_guide(self._pool, guide)

    # --- people and categories --------------------------------------------------------------

    async def people(self, person_ids: list[str]) -> list[dict[str, Any]]:
        found = await store.people(self._pool, person_ids)
        return [shapes.person(person_id, found[person_id]) for person_id in person_ids if person_id in found]

    async def put_person(self, person_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        name = models.named("person", person_id, body, extra=False)["name"]
        async with self._writing() as (conn, changes):
            existed = bool(await store.people(conn, [person_id]))
            renamed = await store.upsert_people(conn, {person_id: name})
            if renamed:
                await items.publish_items(conn, await store.items_crediting(conn, renamed), changes)
        return shapes.person(person_id, name), not existed

    async def delete_person(self, person_id: str) -> None:
        async with self._writing() as (conn, _):
            credited = await store.items_crediting(conn, [person_id])
            if credited:
                item_type, item_id = credited[0]
                raise Conflict(
                    f"person {person_id!r} is credited on {len(credited)} item(s), {item_type} {item_id!r} first; "
                    "remove those credits before deleting"
                )
            if not await store.delete_person(conn, person_id):
                raise NotFound(f"there is no person {person_id!r}")

    async def categories(self, kind: str, category_ids: list[str] | None = None) -> list[dict[str, Any]]:
        found = await store.categories(self._pool, kind, category_ids)
        return [shapes.category(kind, category_id, name) for category_id, name in found.items()]

    async def put_category(self, kind: str, category_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        name = models.named("category", category_id, body, extra=False)["name"]
        async with self._writing() as (conn, changes):
            existed = bool(await store.categories(conn, kind, [category_id]))
            renamed = await store.upsert_categories(conn, kind, {category_id: name})
            if renamed:
                await items.publish_items(conn, await store.items_in_categories(conn, kind, renamed), changes)
        return shapes.category(kind, category_id, name), not existed

    async def delete_category(self, kind: str, category_id: str) -> None:
        async with self._writing() as (conn, _):
            filed = await store.items_in_categories(conn, kind, [category_id])
            if filed:
                raise Conflict(
                    f"{kind} category {category_id!r} is on {len(filed)} item(s); take it off them before deleting"
                )
            if not await store.delete_category(conn, kind, category_id):
                raise NotFound(f"there is no {kind} category {category_id!r}")

    # --- channels and schedule --------------------------------------------------------------

    async def channels(self, channel_ids: list[str] | None = None) -> list[dict[str, Any]]:
        rows = await store.channels(self._pool, channel_ids)
        return [shapes.channel(row["id"], row["content"]) for row in rows]

    async def channel(self, channel_id: str) -> dict[str, Any]:
        found = await self.channels([channel_id])
        if not found:
            raise NotFound(f"there is no channel {channel_id!r}")
        return found[0]

    async def put_channel(self, channel_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        content = models.channel(channel_id, body)
        shape = shapes.channel(channel_id, content)
        async with self._writing() as (conn, changes):
            if content["source_id"] is not None and not await store.existing_sources(conn, [content["source_id"]]):
                raise Unprocessable(f"source {content['source_id']!r} is unknown: PUT source/{content['source_id']}/")
            xmltv_id = content["xmltv_id"]
            if xmltv_id is not None:
                owner = await store.xmltv_id_owner(conn, xmltv_id)
                if owner not in (None, channel_id):
                    raise Conflict(f"xmltv_id {xmltv_id!r} already belongs to channel {owner!r}")
            try:
                outcome = await store.upsert_content(
                    conn, "channel", {"id": channel_id}, content, xmltv_id=xmltv_id, number=content["number"]
                )
            except asyncpg.UniqueViolationError:
                raise Conflict(f"xmltv_id {xmltv_id!r} was just given to another channel") from None
            if outcome is not None:
                changes.item("channel", channel_id, shape)
        return shape, outcome == "created"

    async def delete_channel(self, channel_id: str) -> None:
        async with self._writing() as (conn, changes):
            if not await store.lock_channels(conn, [channel_id]):
                raise NotFound(f"there is no channel {channel_id!r}")
            span = await store.channel_slot_span(conn, channel_id)
            windows = [(channel_id, *span)] if span else []
            before = await store.slots_overlapping(conn, windows)
            await store.delete_channel(conn, channel_id)
            changes.schedule(windows, before, [])
            changes.item("channel", channel_id, None)

    async def schedule(self, channel_id: str, start: datetime, end: datetime) -> dict[str, Any]:
        async with self._pool.acquire() as conn:
            if not await store.channels(conn, [channel_id]):
                raise NotFound(f"there is no channel {channel_id!r}")
            rows = await store.slots_overlapping(conn, [(channel_id, start, end)])
        return _schedule_body(channel_id, start, end, rows)

    async def put_schedule(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        schedule = models.schedule(body)
        window = [(channel_id, schedule.window_start, schedule.window_end)]
        async with self._writing() as (conn, changes):
            if not await store.lock_channels(conn, [channel_id]):
                raise NotFound(f"there is no channel {channel_id!r}: PUT channel/{channel_id}/ first")
            shown = {(slot.item_type, slot.item_id) for slot in schedule.slots}
            missing = sorted(shown - await store.existing_items(conn, shown))
            if missing:
                raise Unprocessable(f"slot item {missing[0][0]} {missing[0][1]!r} is not in the catalog")
            before = await store.slots_overlapping(conn, window)
            await store.replace_slots(conn, window, [(channel_id, slot) for slot in schedule.slots])
            after = await store.slots_overlapping(conn, window)
            changes.schedule(window, before, after)
        return _schedule_body(channel_id, schedule.window_start, schedule.window_end, after)

    # --- sports -----------------------------------------------------------------------------

    async def sports(self) -> list[dict[str, Any]]:
        return [shapes.sport(row["id"], row["content"]) for row in await store.sports(self._pool)]

    async def teams(self, sport_id: str) -> list[dict[str, Any]]:
        await self._sport(sport_id)
        return [shapes.team(sport_id, row["id"], row["content"]) for row in await store.teams(self._pool, sport_id)]

    async def _sport(self, sport_id: str, conn: asyncpg.Connection | None = None) -> dict[str, Any]:
        rows = await store.sports(conn or self._pool, [sport_id])
        if not rows:
            raise NotFound(f"there is no sport {sport_id!r}")
        return shapes.sport(sport_id, rows[0]["content"])

    async def _team(self, sport_id: str, team_id: str, conn: asyncpg.Connection | None = None) -> dict[str, Any]:
        rows = await store.teams(conn or self._pool, sport_id, [team_id])
        if not rows:
            raise NotFound(f"sport {sport_id!r} has no team {team_id!r}")
        return shapes.team(sport_id, team_id, rows[0]["content"])

    async def put_sport(self, sport_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        content = models.named("sport", sport_id, body)
        shape = shapes.sport(sport_id, content)
        async with self._writing() as (conn, changes):
            outcome = await store.upsert_content(conn, "sport", {"id": sport_id}, content)
            if outcome is not None:
                changes.item("sport", sport_id, shape)
        return shape, outcome == "created"

    async def delete_sport(self, sport_id: str) -> None:
        async with self._writing() as (conn, changes):
            await self._sport(sport_id, conn)
            tied = await store.associated_items(conn, sport_id, None)
            for team_id in await store.delete_sport(conn, sport_id):
                changes.item("team", team_id, None, key=f"team:{sport_id}:{team_id}")
            changes.item("sport", sport_id, None)
            await items.publish_items(conn, tied, changes)

    async def put_team(self, sport_id: str, team_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        content = models.named("team", team_id, body)
        shape = shapes.team(sport_id, team_id, content)
        async with self._writing() as (conn, changes):
            await self._sport(sport_id, conn)
            outcome = await store.upsert_content(conn, "team", {"sport_id": sport_id, "id": team_id}, content)
            if outcome is not None:
                changes.item("team", team_id, shape, key=f"team:{sport_id}:{team_id}")
        return shape, outcome == "created"

    async def delete_team(self, sport_id: str, team_id: str) -> None:
        async with self._writing() as (conn, changes):
            tied = await store.associated_items(conn, sport_id, team_id)
            if not await store.delete_team(conn, sport_id, team_id):
                raise NotFound(f"sport {sport_id!r} has no team {team_id!r}")
            changes.item("team", team_id, None, key=f"team:{sport_id}:{team_id}")
            await items.publish_items(conn, tied, changes)

    async def associate(self, sport_id: str, team_id: str | None, key: ItemKey, *, tied: bool) -> None:
        """Tie an item to a sport or team (or untie it); the item's `sports` change is published."""
        async with self._writing() as (conn, changes):
            await self._sport(sport_id, conn)
            if team_id is not None:
                await self._team(sport_id, team_id, conn)
            await self._lock_item(conn, *key)
            changed = await (store.associate if tied else store.dissociate)(conn, sport_id, team_id, key)
            if changed:
                await items.publish_items(conn, [key], changes)

    async def sport_content(self, sport_id: str, team_id: str | None, days: int) -> dict[str, Any]:
        """What tied to the sport (or team) is available now or airs within `days`."""
        async with self._pool.acquire() as conn:
            body: dict[str, Any] = {"sport": await self._sport(sport_id, conn)}
            if team_id is not None:
                body["team"] = await self._team(sport_id, team_id, conn)
            keys = await store.associated_items(conn, sport_id, team_id)
            rendered = await items.render(conn, keys)
            airings = await store.airings(conn, keys, timefmt.now() + timedelta(days=days))
        aired: dict[ItemKey, list[dict[str, Any]]] = {}
        for row in airings:
            aired.setdefault((row["key_type"], row["key_id"]), []).append(
                {
                    "channel_id": ids.to_json(row["channel_id"]),
                    "start": timefmt.format(row["start"]),
                    "stop": timefmt.format(row["stop"]),
                    "item_type": row["item_type"],
                    "item_id": ids.to_json(row["item_id"]),
                    "hd": row["hd"],
                }
            )
        content: list[dict[str, Any]] = []
        for key in keys:
            item = rendered.get(key)
            if item is None:
                continue
            sources = [instance["source_id"] for instance in item.shape["instances"]]
            if not sources and key not in aired:
                continue
            content.append(
                {
                    "item_type": key[0],
                    "item_id": ids.to_json(key[1]),
                    "title": item.shape.get("title"),
                    "available_on": sources,
                    "airings": aired.get(key, [])[:50],
                }
            )
        content.sort(
            key=lambda entry: (entry["airings"][0]["start"] if entry["airings"] else "", str(entry["item_id"]))
        )
        body["content"] = content
        return body

    # --- collections ------------------------------------------------------------------------

    async def collections(self, collection_ids: list[str] | None, start: int, count: int) -> list[dict[str, Any]]:
        async with self._pool.acquire() as conn:
            rows = await store.collections(conn, collection_ids, start, count)
            held = await store.collection_items(conn, [row["id"] for row in rows])
        return [shapes.collection(row["id"], row["content"], held[row["id"]]) for row in rows]

    async def collection(self, collection_id: str) -> dict[str, Any]:
        found = await self.collections([collection_id], 0, 1)
        if not found:
            raise NotFound(f"there is no collection {collection_id!r}")
        return found[0]

    async def put_collection(self, collection_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        content, refs = models.collection(collection_id, body)
        return await self._write_collection(collection_id, content, refs, append=False)

    async def create_collection(self, body: dict[str, Any]) -> dict[str, Any]:
        if "id" in body:
            raise Unprocessable("POST collection/ chooses the id; to choose your own, PUT collection/{id}/")
        collection_id = uuid.uuid4().hex
        shape, _ = await self.put_collection(collection_id, body)
        return shape

    async def add_to_collection(self, collection_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH: the items given are appended (those already there stay where they are); other fields replace."""
        models.check_body_id(body, collection_id, "collection")
        refs = models.item_refs(body.get("items", []), "items")
        async with self._pool.acquire() as conn:
            row = await store.collections(conn, [collection_id], 0, 1)
            if not row:
                raise NotFound(f"there is no collection {collection_id!r}")
        merged = {**row[0]["content"].get("extra", {}), "title": row[0]["content"]["title"]}
        merged.update({key: value for key, value in body.items() if key != "items"})
        content, _ = models.collection(collection_id, merged)
        shape, _ = await self._write_collection(collection_id, content, refs, append=True)
        return shape

    async def _write_collection(
        self, collection_id: str, content: dict[str, Any], refs: list[ItemKey], *, append: bool
    ) -> tuple[dict[str, Any], bool]:
        async with self._writing() as (conn, changes):
            missing = sorted(set(refs) - await store.existing_items(conn, refs))
            if missing:
                raise Unprocessable(f"collection item {missing[0][0]} {missing[0][1]!r} is not in the catalog")
            row = await store.lock_collection(conn, collection_id)
            held = (await store.collection_items(conn, [collection_id]))[collection_id] if row else []
            if append:
                refs = held + [ref for ref in dict.fromkeys(refs) if ref not in held]
            before = shapes.collection(collection_id, row["content"], held) if row else None
            after = shapes.collection(collection_id, content, refs)
            if before != after:
                await store.write_collection(conn, collection_id, content, refs)
                changes.item("collection", collection_id, after)
        return after, row is None

    async def delete_collection(self, collection_id: str) -> None:
        async with self._writing() as (conn, changes):
            if await store.lock_collection(conn, collection_id) is None:
                raise NotFound(f"there is no collection {collection_id!r}")
            await store.delete_collection(conn, collection_id)
            changes.item("collection", collection_id, None)


def _schedule_body(channel_id: str, start: datetime, end: datetime, rows: list[asyncpg.Record]) -> dict[str, Any]:
    return {
        "channel_id": ids.to_json(channel_id),
        "from": timefmt.format(start),
        "to": timefmt.format(end),
        "slots": [shapes.slot(row) for row in rows],
    }
