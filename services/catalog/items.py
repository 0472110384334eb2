"""The building blocks every item write shares: bulk item upserts, instance sets, rendering, cascading deletes.

Each takes the caller's connection inside the caller's transaction and records what it published in
a `Changes`; the use case queues those in the outbox before it commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from services.catalog import shapes, store
from services.catalog.changes import Changes
from services.catalog.models import InstanceInput, ItemInput
from services.catalog.store import InstanceKey, ItemKey
from shared import ids, timefmt
from shared.errors import Conflict, Unprocessable


@dataclass(frozen=True)
class Rendered:
    shape: dict[str, Any]
    content: dict[str, Any]


@dataclass
class InstanceCounts:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    published: int = 0

    def body(self) -> dict[str, int]:
        return {
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "published": self.published,
        }


@dataclass
class ItemCounts:
    created: list[ItemKey] = field(default_factory=list)
    changed: list[ItemKey] = field(default_factory=list)
    unchanged: int = 0


async def render(
    conn: asyncpg.Connection | asyncpg.Pool, keys: list[ItemKey], *, with_instances: bool = True
) -> dict[ItemKey, Rendered]:
    """Public shapes of the items that exist among `keys` (instances: only those available now)."""
    view = await store.item_views(conn, keys, with_instances)
    if view is None or not view["items"]:
        return {}
    names = shapes.refs(dict(view["people"] or ()))
    named: dict[str, dict[str, str]] = {"movie": {}, "programme": {}}
    for kind, category_id, name in view["categories"] or ():
        named[kind][category_id] = name
    categories = {kind: shapes.refs(found) for kind, found in named.items()}
    series: dict[str, list[dict[str, Any]]] = {}
    for programme_id, season, episode_id in view["episodes"] or ():
        seasons = series.setdefault(programme_id, [])
        if not seasons or seasons[-1]["season"] != season:
            seasons.append({"season": season, "episodes": []})
        seasons[-1]["episodes"].append(ids.to_json(episode_id))
    sports: dict[ItemKey, list[dict[str, Any]]] = {}
    for item_type, item_id, sport_id, team_id in view["sports"] or ():
        sports.setdefault((item_type, item_id), []).append({"sport_id": ids.to_json(sport_id), "team_id": _id(team_id)})
    listed: dict[ItemKey, list[dict[str, Any]]] = {}
    for item_type, item_id, *values in view["instances"] or ():
        listed.setdefault((item_type, item_id), []).append(
            shapes.instance(dict(zip(_INSTANCE_FIELDS, values, strict=True)))
        )
    found: dict[ItemKey, Rendered] = {}
    for item_type, item_id, content in view["items"]:
        key = (item_type, item_id)
        shape = shapes.item(
            item_type,
            item_id,
            content,
            names,
            categories["movie" if item_type == "movie" else "programme"],
            instances=listed.get(key, []) if with_instances else None,
            series=series.get(item_id, []) if item_type == "programme" else None,
        )
        shape["sports"] = sports.get(key, [])
        found[key] = Rendered(shape, content)
    return found


_INSTANCE_FIELDS = (
    "source_id",
    "source_name",
    "country",
    "url",
    "expires",
    "price_rent",
    "price_rent_hd",
    "price_buy",
    "price_buy_hd",
    "extra",
)


def _id(value: str | None) -> int | str | None:
    return None if value is None else ids.to_json(value)


async def publish_items(conn: asyncpg.Connection, keys: Iterable[ItemKey], changes: Changes) -> None:
    """Tell the current public shape of these items (their instances travel as availability changes),
    and keep it as the shape reads answer with."""
    wanted = sorted(set(keys))
    kept = await store.kept_shapes(conn, wanted)
    changed: list[tuple[str, str, str]] = []
    for (item_type, item_id), item in (await render(conn, wanted, with_instances=False)).items():
        text = orjson.dumps(item.shape).decode()
        if text != kept.get((item_type, item_id)):  # a programme whose episodes changed may look the same
            changes.item(item_type, item_id, item.shape, item.content)
            changed.append((item_type, item_id, text))
    await store.save_shapes(conn, changed)


async def documents(conn: asyncpg.Connection | asyncpg.Pool, keys: list[ItemKey]) -> list[bytes]:
    """The JSON of the items that exist among `keys`, in that order: the kept shape and the instances
    available now, joined as text (nothing is parsed again)."""
    rows = {(row["type"], row["id"]): row for row in await store.item_documents(conn, keys)}
    unkept = [key for key, row in rows.items() if row["shape"] is None]
    rendered = await render(conn, unkept) if unkept else {}  # only if a shape was never kept: render afresh
    found = []
    for key in keys:
        row = rows.get(key)
        if row is None:
            continue
        if key in rendered:
            found.append(orjson.dumps(rendered[key].shape))
            continue
        instances = [
            shapes.instance(dict(zip(_INSTANCE_FIELDS, values, strict=True))) for values in row["instances"] or ()
        ]
        found.append(row["shape"].encode()[:-1] + b',"instances":' + orjson.dumps(instances) + b"}")
    return found


async def write(conn: asyncpg.Connection, inputs: list[ItemInput], changes: Changes) -> ItemCounts:
    """Create or replace items (and the people and categories named with them); tell what changed."""
    counts = ItemCounts()
    if not inputs:
        return counts
    renamed_people = await _write_people(conn, inputs)
    renamed_categories = {kind: await _write_categories(conn, kind, inputs) for kind in ("movie", "programme")}
    await _check_programmes(conn, inputs)
    await _check_external_ids(conn, inputs)
    by_key = {item.key: item for item in inputs}
    # A programme lists its episodes: those that gain, lose or move one change too.
    episode_ids = [item.id for item in inputs if item.type == "episode"]
    programmes = await store.programmes_of_episodes(conn, episode_ids) if episode_ids else set()
    programmes.update(item.content["programme_id"] for item in inputs if item.type == "episode")
    try:
        written = await store.upsert_items(conn, [i for i in inputs if i.type != "episode"])
        written += await store.upsert_items(conn, [i for i in inputs if i.type == "episode"])
        await store.replace_item_links(conn, [by_key[(t, i)] for t, i, _ in written])
    except asyncpg.UniqueViolationError:
        raise Conflict("another write claimed the same external id at the same moment; retry") from None
    for item_type, item_id, created in written:
        (counts.created if created else counts.changed).append((item_type, item_id))
    counts.unchanged = len(inputs) - len(written)
    affected = {(t, i) for t, i, _ in written}
    if any(t == "episode" for t, _, _ in written):
        affected.update(("programme", programme_id) for programme_id in programmes)
    if renamed_people:
        affected.update(await store.items_crediting(conn, renamed_people))
    for kind, renamed in renamed_categories.items():
        if renamed:
            affected.update(await store.items_in_categories(conn, kind, renamed))
    await publish_items(conn, affected, changes)
    instance_sets = [item for item in inputs if item.instances is not None]
    if instance_sets:
        keys = [item.key for item in instance_sets]
        current = await store.lock_instances_of_items(conn, keys)
        desired: dict[InstanceKey, InstanceInput | None] = {
            (row["item_type"], row["item_id"], row["source_id"]): None for row in current
        }
        for item in instance_sets:
            for instance in item.instances or []:
                desired[(item.type, item.id, instance.source_id)] = instance
        await set_instances(conn, current, desired, changes)
    return counts


async def _write_people(conn: asyncpg.Connection, inputs: list[ItemInput]) -> list[str]:
    named: dict[str, str] = {}
    unnamed: set[str] = set()
    for item in inputs:
        for person_id, name in item.people.items():
            if name is None:
                unnamed.add(person_id)
            elif named.setdefault(person_id, name) != name:
                raise Unprocessable(f"person {person_id!r} is named both {named[person_id]!r} and {name!r}")
    renamed = await store.upsert_people(conn, named)
    unnamed -= named.keys()
    if unnamed:
        missing = sorted(unnamed - (await store.people(conn, sorted(unnamed))).keys())
        if missing:
            raise Unprocessable(
                f"person {missing[0]!r} is unknown: give a name with the id ({{'id': ..., 'name': ...}}) "
                f"or PUT person/{missing[0]}/ first"
            )
    return renamed


async def _write_categories(conn: asyncpg.Connection, kind: str, inputs: list[ItemInput]) -> list[str]:
    named: dict[str, str] = {}
    unnamed: set[str] = set()
    for item in inputs:
        if item.category_kind != kind:
            continue
        for category_id, name in item.categories.items():
            if name is None:
                unnamed.add(category_id)
            elif named.setdefault(category_id, name) != name:
                raise Unprocessable(
                    f"{kind} category {category_id!r} is named both {named[category_id]!r} and {name!r}"
                )
    renamed = await store.upsert_categories(conn, kind, named)
    unnamed -= named.keys()
    if unnamed:
        missing = sorted(unnamed - (await store.categories(conn, kind, sorted(unnamed))).keys())
        if missing:
            raise Unprocessable(
                f"{kind} category {missing[0]!r} is unknown: give a name with the id "
                f"or PUT category/{kind}/{missing[0]}/ first"
            )
    return renamed


async def _check_programmes(conn: asyncpg.Connection, inputs: list[ItemInput]) -> None:
    wanted = {("programme", item.content["programme_id"]) for item in inputs if item.type == "episode"}
    wanted -= {item.key for item in inputs if item.type == "programme"}
    if wanted:
        missing = sorted(wanted - await store.existing_items(conn, wanted))
        if missing:
            raise Unprocessable(f"programme {missing[0][1]!r} is unknown: PUT programme/{missing[0][1]}/ first")


async def _check_external_ids(conn: asyncpg.Connection, inputs: list[ItemInput]) -> None:
    claimed: dict[tuple[str, str, str], str] = {}
    for item in inputs:
        for system, value in item.content["external_ids"].items():
            claim = (system, value, item.type)
            if claimed.setdefault(claim, item.id) != item.id:
                raise Conflict(
                    f"{system} id {value!r} is given to two {item.type}s, {claimed[claim]!r} and {item.id!r}"
                )
    owners = await store.external_id_owners(conn, list(claimed))
    for claim, owner in owners.items():
        if owner != claimed[claim]:
            system, value, item_type = claim
            raise Conflict(f"{system} id {value!r} already belongs to {item_type} {owner!r}")


def _own(values: Mapping[str, Any] | InstanceInput) -> tuple[Any, ...]:
    """What an instance is, apart from its source's names: what a change is measured on."""
    if isinstance(values, InstanceInput):
        return (*values.prices(), values.expires, values.url, values.extra)
    return (
        values["price_rent"],
        values["price_rent_hd"],
        values["price_buy"],
        values["price_buy_hd"],
        values["expires"],
        values["url"],
        values["extra"] or {},
    )


async def set_instances(
    conn: asyncpg.Connection,
    current: list[asyncpg.Record],
    desired: dict[InstanceKey, InstanceInput | None],
    changes: Changes,
) -> InstanceCounts:
    """Make each instance in `desired` so (None: gone), given the locked `current` rows.

    An availability change is told when what is available now differs from what was last told:
    an instance written already expired is never told as available, and its expiry is not told twice.
    """
    counts = InstanceCounts()
    now = timefmt.now()
    rows = {(row["item_type"], row["item_id"], row["source_id"]): row for row in current}
    wanted_sources = sorted({key[2] for key, value in desired.items() if value is not None})
    sources = {row["id"]: row["content"] for row in await store.sources(conn, wanted_sources)} if wanted_sources else {}
    missing = [source for source in wanted_sources if source not in sources]
    if missing:
        raise Unprocessable(f"source {missing[0]!r} is unknown: PUT source/{missing[0]}/ first")
    upserts: list[tuple[str, str, InstanceInput, bool]] = []
    deletes: list[InstanceKey] = []
    for key, wanted in desired.items():
        row = rows.get(key)
        told = None if row is None or row["gone_announced"] else _own(row)
        if wanted is None:
            if row is None:
                continue
            deletes.append(key)
            counts.removed += 1
            if told is not None:
                changes.availability(key, None)
                counts.published += 1
            continue
        available = wanted.expires is None or wanted.expires > now
        if row is None:
            counts.added += 1
        elif _own(row) != _own(wanted):
            counts.changed += 1
        else:
            counts.unchanged += 1
        if row is None or _own(row) != _own(wanted) or row["gone_announced"] == available:
            upserts.append((key[0], key[1], wanted, not available))
        if told != (_own(wanted) if available else None):
            changes.availability(key, _instance_shape(wanted, sources[key[2]]) if available else None)
            counts.published += 1
    await store.upsert_instances(conn, upserts)
    await store.delete_instances(conn, deletes)
    return counts


def _instance_shape(instance: InstanceInput, source: Mapping[str, Any]) -> dict[str, Any]:
    return shapes.instance(
        {
            "source_id": instance.source_id,
            "source_name": source.get("display_name"),
            "country": source.get("country"),
            "url": instance.url,
            "expires": instance.expires,
            "price_rent": instance.price_rent,
            "price_rent_hd": instance.price_rent_hd,
            "price_buy": instance.price_buy,
            "price_buy_hd": instance.price_buy_hd,
            "extra": instance.extra,
        }
    )


async def delete(conn: asyncpg.Connection, keys: list[ItemKey], changes: Changes) -> list[ItemKey]:
    """Delete items, with a programme's episodes; tell every instance, slot and collection that goes with them."""
    programme_ids = [item_id for item_type, item_id in keys if item_type == "programme"]
    episodes = [("episode", row["id"]) for row in await store.episodes_of(conn, programme_ids)] if programme_ids else []
    doomed = sorted({*keys, *episodes})
    parents = await store.programmes_of_episodes(
        conn, [item_id for item_type, item_id in keys if item_type == "episode"]
    )
    await store.lock_items(conn, doomed)
    instances = await store.lock_instances_of_items(conn, doomed)
    await set_instances(
        conn, instances, {(r["item_type"], r["item_id"], r["source_id"]): None for r in instances}, changes
    )
    spans = await store.slot_spans(conn, doomed)
    before = await store.slots_overlapping(conn, spans)
    holding = await store.collections_holding(conn, doomed)
    collections_before = await store.collection_items(conn, holding) if holding else {}
    await store.delete_items(conn, doomed)
    changes.schedule(spans, before, await store.slots_overlapping(conn, spans))
    if holding:
        contents = {row["id"]: row["content"] for row in await store.collections(conn, holding, 0, len(holding))}
        after = await store.collection_items(conn, holding)
        for collection_id in holding:
            if after[collection_id] != collections_before[collection_id]:
                shape = shapes.collection(collection_id, contents[collection_id], after[collection_id])
                changes.item("collection", collection_id, shape)
    for item_type, item_id in doomed:
        changes.item(item_type, item_id, None)
    parents -= set(programme_ids)
    await publish_items(conn, [("programme", programme_id) for programme_id in parents], changes)
    return doomed
