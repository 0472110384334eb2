"""All SQL of the catalog service. Functions take a connection; the use case owns the transaction.

Bulk paths pass columns as arrays and `unnest` them, so a write of thousands of rows is one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg
import orjson

from services.catalog.models import InstanceInput, ItemInput, SlotInput, match_title

SCHEMA = "catalog"

Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool
ItemKey = tuple[str, str]
InstanceKey = tuple[str, str, str]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _split(keys: Iterable[Sequence[str]], width: int) -> list[list[str]]:
    columns: list[list[str]] = [[] for _ in range(width)]
    for key in keys:
        for position in range(width):
            columns[position].append(key[position])
    return columns


# --- generic content rows ---------------------------------------------------------------------


async def upsert_content(
    conn: asyncpg.Connection, table: str, keys: dict[str, str], content: dict[str, Any], **columns: Any
) -> str | None:
    """'created', 'changed', or None when the stored content is already this (no row touched)."""
    names = [*keys, *columns, "content"]
    values = [*keys.values(), *columns.values(), content]
    placeholders = [f"${n}" for n in range(1, len(values) + 1)]
    updates = ", ".join(f"{name} = excluded.{name}" for name in [*columns, "content"])
    touched = ", updated_at = now()" if table in ("source", "channel", "collection") else ""
    created = await conn.fetchval(
        f"insert into catalog.{table} ({', '.join(names)}) values ({', '.join(placeholders)}) "
        f"on conflict ({', '.join(keys)}) do update set {updates}{touched} "
        f"where {table}.content is distinct from excluded.content returning (xmax = 0)",
        *values,
    )
    if created is None:
        return None
    return "created" if created else "changed"


# --- sources ----------------------------------------------------------------------------------


async def sources(conn: Conn, source_ids: list[str] | None = None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select id, content from catalog.source where $1::text[] is null or id = any($1::text[]) order by id",
        source_ids,
    )


async def existing_sources(conn: Conn, source_ids: list[str]) -> set[str]:
    rows = await conn.fetch("select id from catalog.source where id = any($1::text[])", source_ids)
    return {row["id"] for row in rows}


async def lock_source(conn: asyncpg.Connection, source_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("select id, content from catalog.source where id = $1 for update", source_id)


async def delete_source(conn: asyncpg.Connection, source_id: str) -> None:
    await conn.execute("delete from catalog.source where id = $1", source_id)


# --- people and categories --------------------------------------------------------------------


async def upsert_people(conn: asyncpg.Connection, named: dict[str, str]) -> list[str]:
    """Write names; return the ids of existing people whose name changed.

    Only new or renamed people are written (in id order), so writers naming the same cast
    neither wait on each other nor deadlock.
    """
    current = await people(conn, list(named)) if named else {}
    changed = sorted(person_id for person_id, name in named.items() if current.get(person_id) != name)
    if not changed:
        return []
    rows = await conn.fetch(
        "insert into catalog.person (id, name) select * from unnest($1::text[], $2::text[]) "
        "on conflict (id) do update set name = excluded.name where person.name is distinct from excluded.name "
        "returning id, (xmax = 0) as created",
        changed,
        [named[person_id] for person_id in changed],
    )
    return [row["id"] for row in rows if not row["created"]]


async def people(conn: Conn, person_ids: list[str]) -> dict[str, str]:
    rows = await conn.fetch("select id, name from catalog.person where id = any($1::text[])", person_ids)
    return {row["id"]: row["name"] for row in rows}


async def people_by_name(conn: Conn, names: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in await conn.fetch("select id, name from catalog.person where name = any($1::text[]) order by id", names):
        found.setdefault(row["name"], []).append(row["id"])
    return found


async def delete_person(conn: asyncpg.Connection, person_id: str) -> bool:
    return bool(await conn.fetchval("delete from catalog.person where id = $1 returning true", person_id))


async def upsert_categories(conn: asyncpg.Connection, kind: str, named: dict[str, str]) -> list[str]:
    """As upsert_people, for one kind of category."""
    current = await categories(conn, kind, list(named)) if named else {}
    changed = sorted(category_id for category_id, name in named.items() if current.get(category_id) != name)
    if not changed:
        return []
    rows = await conn.fetch(
        "insert into catalog.category (kind, id, name) select $1, * from unnest($2::text[], $3::text[]) "
        "on conflict (kind, id) do update set name = excluded.name "
        "where category.name is distinct from excluded.name returning id, (xmax = 0) as created",
        kind,
        changed,
        [named[category_id] for category_id in changed],
    )
    return [row["id"] for row in rows if not row["created"]]


async def categories(conn: Conn, kind: str, category_ids: list[str] | None = None) -> dict[str, str]:
    rows = await conn.fetch(
        "select id, name from catalog.category where kind = $1 and ($2::text[] is null or id = any($2::text[])) "
        "order by id",
        kind,
        category_ids,
    )
    return {row["id"]: row["name"] for row in rows}


async def categories_by_name(conn: Conn, kind: str, names: list[str]) -> dict[str, str]:
    """Lower-cased name -> id (the smallest id where names repeat)."""
    rows = await conn.fetch(
        "select lower(name) as name, min(id) as id from catalog.category "
        "where kind = $1 and lower(name) = any($2::text[]) group by lower(name)",
        kind,
        [name.lower() for name in names],
    )
    return {row["name"]: row["id"] for row in rows}


async def delete_category(conn: asyncpg.Connection, kind: str, category_id: str) -> bool:
    deleted = await conn.fetchval(
        "delete from catalog.category where kind = $1 and id = $2 returning true", kind, category_id
    )
    return bool(deleted)


async def items_crediting(conn: asyncpg.Connection, person_ids: list[str]) -> list[ItemKey]:
    rows = await conn.fetch(
        "select distinct item_type, item_id from catalog.item_person where person_id = any($1::text[])", person_ids
    )
    return [(row["item_type"], row["item_id"]) for row in rows]


async def items_in_categories(conn: asyncpg.Connection, kind: str, category_ids: list[str]) -> list[ItemKey]:
    rows = await conn.fetch(
        "select distinct item_type, item_id from catalog.item_category "
        "where kind = $1 and category_id = any($2::text[])",
        kind,
        category_ids,
    )
    return [(row["item_type"], row["item_id"]) for row in rows]


# --- items ------------------------------------------------------------------------------------


async def upsert_items(conn: asyncpg.Connection, items: list[ItemInput]) -> list[tuple[str, str, bool]]:
    """Write items whose content differs; return (type, id, created) for each row written."""
    if not items:
        return []
    items = sorted(items, key=lambda i: i.key)  # one lock order for every writer
    rows = await conn.fetch(
        """
        insert into catalog.item (type, id, title, match_title, year, runtime, programme_id, season, episode, content)
        select type, id, title, match_title, year, runtime, programme_id, season, episode, content::jsonb
        from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::int[],
                    $9::int[], $10::text[])
             as i(type, id, title, match_title, year, runtime, programme_id, season, episode, content)
        on conflict (type, id) do update set
            title = excluded.title, match_title = excluded.match_title, year = excluded.year,
            runtime = excluded.runtime, programme_id = excluded.programme_id, season = excluded.season,
            episode = excluded.episode, content = excluded.content, updated_at = now()
        where item.content is distinct from excluded.content
        returning type, id, (xmax = 0) as created
        """,
        [i.type for i in items],
        [i.id for i in items],
        [i.content.get("title") for i in items],
        [match_title(i.content.get("title")) for i in items],
        [i.content.get("year") for i in items],
        [i.content.get("runtime") for i in items],
        [i.content.get("programme_id") for i in items],
        [i.content.get("season") for i in items],
        [i.content.get("episode") for i in items],
        [_json(i.content) for i in items],
    )
    return [(row["type"], row["id"], row["created"]) for row in rows]


async def replace_item_links(conn: asyncpg.Connection, items: list[ItemInput]) -> None:
    """People, categories and external ids of these items, as their content says."""
    if not items:
        return
    types, item_ids = [i.type for i in items], [i.id for i in items]
    for table in ("item_person", "item_category", "item_external_id"):
        await conn.execute(
            f"delete from catalog.{table} t using unnest($1::text[], $2::text[]) k(type, id) "
            "where t.item_type = k.type and t.item_id = k.id",
            types,
            item_ids,
        )
    credits = [
        (i.type, i.id, role, person)
        for i in items
        for role, field in (("director", "directors"), ("actor", "actors"))
        for person in i.content[field]
    ]
    if credits:
        await conn.execute(
            "insert into catalog.item_person (item_type, item_id, role, person_id) "
            "select * from unnest($1::text[], $2::text[], $3::text[], $4::text[]) on conflict do nothing",
            *_split(credits, 4),
        )
    filed = [(i.type, i.id, i.category_kind, category) for i in items for category in i.content["categories"]]
    if filed:
        await conn.execute(
            "insert into catalog.item_category (item_type, item_id, kind, category_id) "
            "select * from unnest($1::text[], $2::text[], $3::text[], $4::text[]) on conflict do nothing",
            *_split(filed, 4),
        )
    external = [(s, v, i.type, i.id) for i in items for s, v in i.content["external_ids"].items()]
    if external:
        await conn.execute(
            "insert into catalog.item_external_id (system, value, item_type, item_id) "
            "select * from unnest($1::text[], $2::text[], $3::text[], $4::text[])",
            *_split(external, 4),
        )


async def external_id_owners(conn: Conn, claims: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
    """(system, value, item type) -> the id of the item holding it."""
    if not claims:
        return {}
    rows = await conn.fetch(
        "select e.system, e.value, e.item_type, e.item_id from catalog.item_external_id e "
        "join unnest($1::text[], $2::text[], $3::text[]) c(system, value, item_type) "
        "using (system, value, item_type)",
        *_split(claims, 3),
    )
    return {(row["system"], row["value"], row["item_type"]): row["item_id"] for row in rows}


async def items_by_external_id(conn: Conn, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], list[ItemKey]]:
    if not pairs:
        return {}
    found: dict[tuple[str, str], list[ItemKey]] = {}
    for row in await conn.fetch(
        "select e.system, e.value, e.item_type, e.item_id from catalog.item_external_id e "
        "join unnest($1::text[], $2::text[]) p(system, value) using (system, value)",
        *_split(pairs, 2),
    ):
        found.setdefault((row["system"], row["value"]), []).append((row["item_type"], row["item_id"]))
    return found


async def existing_items(conn: Conn, keys: Iterable[ItemKey]) -> set[ItemKey]:
    key_list = list(keys)
    if not key_list:
        return set()
    rows = await conn.fetch(
        "select i.type, i.id from catalog.item i join unnest($1::text[], $2::text[]) k(type, id) using (type, id)",
        *_split(key_list, 2),
    )
    return {(row["type"], row["id"]) for row in rows}


async def item_views(conn: Conn, keys: list[ItemKey], with_instances: bool) -> asyncpg.Record | None:
    """Everything the items' public shapes need, in one round trip of set-wise parts: the items, the
    names of their people and categories, their sports ties, programmes' episodes, instances available now."""
    if not keys:
        return None
    return await conn.fetchrow(
        """
        with k (type, id) as (select * from unnest($1::text[], $2::text[])),
        i as (select i.type, i.id, i.content from catalog.item i join k using (type, id))
        select
            (select json_agg(json_build_array(type, id, content)) from i) as items,
            (select json_agg(json_build_array(p.id, p.name)) from catalog.person p where p.id in (
                select ip.person_id from catalog.item_person ip join i on ip.item_type = i.type and ip.item_id = i.id
            )) as people,
            (select json_agg(json_build_array(c.kind, c.id, c.name)) from catalog.category c where (c.kind, c.id) in (
                select ic.kind, ic.category_id from catalog.item_category ic
                join i on ic.item_type = i.type and ic.item_id = i.id
            )) as categories,
            (select json_agg(json_build_array(t.item_type, t.item_id, t.sport_id, t.team_id)
                             order by t.sport_id, t.team_id nulls first)
             from (select s.item_type, s.item_id, s.sport_id, null::text as team_id from catalog.sport_item s
                   join i on s.item_type = i.type and s.item_id = i.id
                   union all select t.item_type, t.item_id, t.sport_id, t.team_id from catalog.team_item t
                   join i on t.item_type = i.type and t.item_id = i.id) t) as sports,
            (select json_agg(json_build_array(e.programme_id, e.season, e.id)
                             order by e.programme_id, e.season nulls first, e.episode, e.id)
             from catalog.item e where e.type = 'episode'
             and e.programme_id in (select id from i where type = 'programme')) as episodes,
            case when $3 then
                (select json_agg(json_build_array(n.item_type, n.item_id, n.source_id, s.content->'display_name',
                        s.content->'country', n.url, extract(epoch from n.expires), n.price_rent, n.price_rent_hd,
                        n.price_buy, n.price_buy_hd, n.extra) order by n.source_id)
                 from catalog.instance n join i on n.item_type = i.type and n.item_id = i.id
                 join catalog.source s on s.id = n.source_id
                 where n.expires is null or n.expires > now())
            end as instances
        """,
        *_split(keys, 2),
        with_instances,
    )


async def save_shapes(conn: asyncpg.Connection, shapes: list[tuple[str, str, str]]) -> None:
    """(type, id, JSON text of the public shape) for items just rendered."""
    if shapes:
        await conn.execute(
            "update catalog.item i set shape = s.shape::json "
            "from unnest($1::text[], $2::text[], $3::text[]) s(type, id, shape) where i.type = s.type and i.id = s.id",
            *_split(shapes, 3),
        )


async def kept_shapes(conn: Conn, keys: list[ItemKey]) -> dict[ItemKey, str | None]:
    if not keys:
        return {}
    rows = await conn.fetch(
        "select i.type, i.id, i.shape::text as shape from catalog.item i "
        "join unnest($1::text[], $2::text[]) k(type, id) using (type, id)",
        *_split(keys, 2),
    )
    return {(row["type"], row["id"]): row["shape"] for row in rows}


async def item_documents(conn: Conn, keys: list[ItemKey]) -> list[asyncpg.Record]:
    """Stored shapes (as text) of the items among `keys`, with their instances available now."""
    if not keys:
        return []
    return await conn.fetch(
        """
        select i.type, i.id, i.shape::text as shape,
            (select json_agg(json_build_array(n.source_id, s.content->'display_name', s.content->'country', n.url,
                    extract(epoch from n.expires), n.price_rent, n.price_rent_hd, n.price_buy, n.price_buy_hd,
                    n.extra) order by n.source_id)
             from catalog.instance n join catalog.source s on s.id = n.source_id
             where n.item_type = i.type and n.item_id = i.id and (n.expires is null or n.expires > now())
            ) as instances
        from catalog.item i join unnest($1::text[], $2::text[]) k(type, id) using (type, id)
        """,
        *_split(keys, 2),
    )


async def programmes_of_episodes(conn: Conn, episode_ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        "select distinct programme_id from catalog.item where type = 'episode' and id = any($1::text[])", episode_ids
    )
    return {row["programme_id"] for row in rows}


async def items_by_title(conn: Conn, item_type: str, titles: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select id, match_title, year from catalog.item where type = $1 and match_title = any($2::text[]) order by id",
        item_type,
        titles,
    )


async def episodes_of(conn: Conn, programme_ids: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select id, programme_id, season, episode, match_title from catalog.item "
        "where type = 'episode' and programme_id = any($1::text[]) order by season nulls first, episode, id",
        programme_ids,
    )


async def item_ids(conn: Conn, item_type: str, start: int, count: int) -> list[str]:
    rows = await conn.fetch(
        "select id from catalog.item where type = $1 order by id offset $2 limit $3", item_type, start, count
    )
    return [row["id"] for row in rows]


async def delete_items(conn: asyncpg.Connection, keys: list[ItemKey]) -> None:
    if keys:
        await conn.execute(
            "delete from catalog.item i using unnest($1::text[], $2::text[]) k(type, id) "
            "where i.type = k.type and i.id = k.id",
            *_split(keys, 2),
        )


async def lock_items(conn: asyncpg.Connection, keys: list[ItemKey]) -> set[ItemKey]:
    if not keys:
        return set()
    rows = await conn.fetch(
        "select i.type, i.id from catalog.item i join unnest($1::text[], $2::text[]) k(type, id) using (type, id) "
        "order by i.type, i.id for update of i",
        *_split(keys, 2),
    )
    return {(row["type"], row["id"]) for row in rows}


# --- instances --------------------------------------------------------------------------------

_INSTANCE_COLUMNS = (
    "i.item_type, i.item_id, i.source_id, i.price_rent, i.price_rent_hd, i.price_buy, i.price_buy_hd, "
    "i.expires, i.url, i.extra, i.gone_announced, s.content->>'display_name' as source_name, "
    "s.content->>'country' as country"
)


async def lock_instances_of_items(conn: asyncpg.Connection, keys: list[ItemKey]) -> list[asyncpg.Record]:
    if not keys:
        return []
    return await conn.fetch(
        f"select {_INSTANCE_COLUMNS} from catalog.instance i join catalog.source s on s.id = i.source_id "
        "join unnest($1::text[], $2::text[]) k(type, id) on i.item_type = k.type and i.item_id = k.id "
        "order by i.item_type, i.item_id, i.source_id for update of i",
        *_split(keys, 2),
    )


async def lock_instances(conn: asyncpg.Connection, keys: list[InstanceKey]) -> list[asyncpg.Record]:
    if not keys:
        return []
    return await conn.fetch(
        f"select {_INSTANCE_COLUMNS} from catalog.instance i join catalog.source s on s.id = i.source_id "
        "join unnest($1::text[], $2::text[], $3::text[]) k(type, id, source) "
        "on i.item_type = k.type and i.item_id = k.id and i.source_id = k.source "
        "order by i.item_type, i.item_id, i.source_id for update of i",
        *_split(keys, 3),
    )


async def lock_source_instances(conn: asyncpg.Connection, source_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"select {_INSTANCE_COLUMNS} from catalog.instance i join catalog.source s on s.id = i.source_id "
        "where i.source_id = $1 order by i.item_type, i.item_id for update of i",
        source_id,
    )


async def upsert_instances(conn: asyncpg.Connection, rows: list[tuple[str, str, InstanceInput, bool]]) -> None:
    """(item type, item id, instance, gone_announced) written as given."""
    if not rows:
        return
    await conn.execute(
        """
        insert into catalog.instance (item_type, item_id, source_id, price_rent, price_rent_hd, price_buy,
                                      price_buy_hd, expires, url, extra, gone_announced)
        select t, i, s, pr, prh, pb, pbh, e, u, x::jsonb, g
        from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::int[],
                    $8::timestamptz[], $9::text[], $10::text[], $11::bool[]) as r(t, i, s, pr, prh, pb, pbh, e, u, x, g)
        on conflict (item_type, item_id, source_id) do update set
            price_rent = excluded.price_rent, price_rent_hd = excluded.price_rent_hd,
            price_buy = excluded.price_buy, price_buy_hd = excluded.price_buy_hd, expires = excluded.expires,
            url = excluded.url, extra = excluded.extra, gone_announced = excluded.gone_announced, updated_at = now()
        """,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2].source_id for r in rows],
        [r[2].price_rent for r in rows],
        [r[2].price_rent_hd for r in rows],
        [r[2].price_buy for r in rows],
        [r[2].price_buy_hd for r in rows],
        [r[2].expires for r in rows],
        [r[2].url for r in rows],
        [_json(r[2].extra) for r in rows],
        [r[3] for r in rows],
    )


async def delete_instances(conn: asyncpg.Connection, keys: list[InstanceKey]) -> None:
    if keys:
        await conn.execute(
            "delete from catalog.instance i using unnest($1::text[], $2::text[], $3::text[]) k(type, id, source) "
            "where i.item_type = k.type and i.item_id = k.id and i.source_id = k.source",
            *_split(keys, 3),
        )


async def claim_expired(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Instances past their expiry and not yet announced, locked; rows another replica holds are skipped."""
    return await conn.fetch(
        "select item_type, item_id, source_id from catalog.instance "
        "where not gone_announced and expires <= now() order by expires limit $1 for update skip locked",
        limit,
    )


async def mark_gone(conn: asyncpg.Connection, keys: list[InstanceKey]) -> None:
    await conn.execute(
        "update catalog.instance i set gone_announced = true "
        "from unnest($1::text[], $2::text[], $3::text[]) k(type, id, source) "
        "where i.item_type = k.type and i.item_id = k.id and i.source_id = k.source",
        *_split(keys, 3),
    )


# --- channels and schedule --------------------------------------------------------------------


async def channels(conn: Conn, channel_ids: list[str] | None = None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select id, content from catalog.channel where $1::text[] is null or id = any($1::text[]) "
        "order by number nulls last, id",
        channel_ids,
    )


async def channels_by_xmltv_id(conn: Conn, xmltv_ids: list[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "select id, xmltv_id from catalog.channel where xmltv_id = any($1::text[]) or id = any($1::text[])",
        xmltv_ids,
    )
    found: dict[str, str] = {}
    for row in rows:  # an explicit xmltv_id wins over an id that happens to equal it
        if row["xmltv_id"] in xmltv_ids:
            found[row["xmltv_id"]] = row["id"]
        else:
            found.setdefault(row["id"], row["id"])
    return found


async def xmltv_id_owner(conn: Conn, xmltv_id: str) -> str | None:
    owner: str | None = await conn.fetchval("select id from catalog.channel where xmltv_id = $1", xmltv_id)
    return owner


async def lock_channels(conn: asyncpg.Connection, channel_ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        "select id from catalog.channel where id = any($1::text[]) order by id for update", channel_ids
    )
    return {row["id"] for row in rows}


async def delete_channel(conn: asyncpg.Connection, channel_id: str) -> None:
    await conn.execute("delete from catalog.channel where id = $1", channel_id)


_SLOT_COLUMNS = (
    "s.channel_id, s.start, s.stop, s.item_type, s.item_id, s.hd, i.title, i.programme_id, i.season, i.episode, "
    "p.title as programme_title"
)
_SLOT_JOINS = (
    "join catalog.item i on i.type = s.item_type and i.id = s.item_id "
    "left join catalog.item p on p.type = 'programme' and p.id = i.programme_id"
)


async def slots_overlapping(conn: Conn, windows: list[tuple[str, datetime, datetime]]) -> list[asyncpg.Record]:
    """Slots of each (channel, start, end) window that overlap it, by channel and start."""
    if not windows:
        return []
    return await conn.fetch(
        f"select distinct {_SLOT_COLUMNS} from catalog.slot s {_SLOT_JOINS} "
        "join unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) w(channel_id, ws, we) "
        "on s.channel_id = w.channel_id and s.stop > w.ws and s.start < w.we "
        "order by s.channel_id, s.start",
        [w[0] for w in windows],
        [w[1] for w in windows],
        [w[2] for w in windows],
    )


async def replace_slots(
    conn: asyncpg.Connection,
    windows: list[tuple[str, datetime, datetime]],
    slots: list[tuple[str, SlotInput]],
) -> None:
    """Within each window, slots starting in it are replaced by the given ones."""
    if windows:
        await conn.execute(
            "delete from catalog.slot s using unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) "
            "w(channel_id, ws, we) where s.channel_id = w.channel_id and s.start >= w.ws and s.start < w.we",
            [w[0] for w in windows],
            [w[1] for w in windows],
            [w[2] for w in windows],
        )
    if slots:
        await conn.execute(
            "insert into catalog.slot (channel_id, start, stop, item_type, item_id, hd) "
            "select * from unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[], "
            "$6::bool[])",
            [channel for channel, _ in slots],
            [slot.start for _, slot in slots],
            [slot.stop for _, slot in slots],
            [slot.item_type for _, slot in slots],
            [slot.item_id for _, slot in slots],
            [slot.hd for _, slot in slots],
        )


async def slot_spans(conn: Conn, keys: list[ItemKey]) -> list[tuple[str, datetime, datetime]]:
    """Per channel, the span of the slots showing these items (or episodes of these programmes)."""
    if not keys:
        return []
    rows = await conn.fetch(
        "select s.channel_id, min(s.start) as ws, max(s.stop) as we from catalog.slot s "
        "join catalog.item i on i.type = s.item_type and i.id = s.item_id "
        "join unnest($1::text[], $2::text[]) k(type, id) "
        "on (i.type = k.type and i.id = k.id) or (k.type = 'programme' and i.programme_id = k.id) "
        "group by s.channel_id",
        *_split(keys, 2),
    )
    return [(row["channel_id"], row["ws"], row["we"]) for row in rows]


async def channel_slot_span(conn: Conn, channel_id: str) -> tuple[datetime, datetime] | None:
    row = await conn.fetchrow(
        "select min(start) as ws, max(stop) as we from catalog.slot where channel_id = $1", channel_id
    )
    return (row["ws"], row["we"]) if row and row["ws"] else None


# --- sports -----------------------------------------------------------------------------------


async def sports(conn: Conn, sport_ids: list[str] | None = None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select id, content from catalog.sport where $1::text[] is null or id = any($1::text[]) order by id",
        sport_ids,
    )


async def teams(conn: Conn, sport_id: str, team_ids: list[str] | None = None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select sport_id, id, content from catalog.team where sport_id = $1 "
        "and ($2::text[] is null or id = any($2::text[])) order by id",
        sport_id,
        team_ids,
    )


async def delete_sport(conn: asyncpg.Connection, sport_id: str) -> list[str]:
    """Delete the sport; return the ids of its teams, deleted with it."""
    rows = await conn.fetch("delete from catalog.team where sport_id = $1 returning id", sport_id)
    await conn.execute("delete from catalog.sport where id = $1", sport_id)
    return [row["id"] for row in rows]


async def delete_team(conn: asyncpg.Connection, sport_id: str, team_id: str) -> bool:
    deleted = await conn.fetchval(
        "delete from catalog.team where sport_id = $1 and id = $2 returning true", sport_id, team_id
    )
    return bool(deleted)


async def associate(conn: asyncpg.Connection, sport_id: str, team_id: str | None, key: ItemKey) -> bool:
    if team_id is None:
        added = await conn.fetchval(
            "insert into catalog.sport_item (sport_id, item_type, item_id) values ($1, $2, $3) "
            "on conflict do nothing returning true",
            sport_id,
            *key,
        )
    else:
        added = await conn.fetchval(
            "insert into catalog.team_item (sport_id, team_id, item_type, item_id) values ($1, $2, $3, $4) "
            "on conflict do nothing returning true",
            sport_id,
            team_id,
            *key,
        )
    return bool(added)


async def dissociate(conn: asyncpg.Connection, sport_id: str, team_id: str | None, key: ItemKey) -> bool:
    if team_id is None:
        removed = await conn.fetchval(
            "delete from catalog.sport_item where sport_id = $1 and item_type = $2 and item_id = $3 returning true",
            sport_id,
            *key,
        )
    else:
        removed = await conn.fetchval(
            "delete from catalog.team_item where sport_id = $1 and team_id = $2 and item_type = $3 "
            "and item_id = $4 returning true",
            sport_id,
            team_id,
            *key,
        )
    return bool(removed)


async def associated_items(conn: Conn, sport_id: str, team_id: str | None) -> list[ItemKey]:
    """Items tied to the sport (directly or through any of its teams), or to one team."""
    if team_id is None:
        rows = await conn.fetch(
            "select item_type, item_id from catalog.sport_item where sport_id = $1 "
            "union select item_type, item_id from catalog.team_item where sport_id = $1",
            sport_id,
        )
    else:
        rows = await conn.fetch(
            "select item_type, item_id from catalog.team_item where sport_id = $1 and team_id = $2",
            sport_id,
            team_id,
        )
    return [(row["item_type"], row["item_id"]) for row in rows]


async def airings(conn: Conn, keys: list[ItemKey], until: datetime) -> list[asyncpg.Record]:
    """Slots not yet over (and starting before `until`) that show these items or episodes of these programmes."""
    if not keys:
        return []
    return await conn.fetch(
        "select k.type as key_type, k.id as key_id, s.channel_id, s.start, s.stop, s.item_type, s.item_id, s.hd "
        "from catalog.slot s join catalog.item i on i.type = s.item_type and i.id = s.item_id "
        "join unnest($1::text[], $2::text[]) k(type, id) "
        "on (i.type = k.type and i.id = k.id) or (k.type = 'programme' and i.programme_id = k.id) "
        "where s.stop > now() and s.start < $3 order by s.start, s.channel_id",
        *_split(keys, 2),
        until,
    )


# --- collections ------------------------------------------------------------------------------


async def collections(conn: Conn, collection_ids: list[str] | None, start: int, count: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select id, content from catalog.collection where $1::text[] is null or id = any($1::text[]) "
        "order by id offset $2 limit $3",
        collection_ids,
        start,
        count,
    )


async def lock_collection(conn: asyncpg.Connection, collection_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("select id, content from catalog.collection where id = $1 for update", collection_id)


async def collection_items(conn: Conn, collection_ids: list[str]) -> dict[str, list[ItemKey]]:
    found: dict[str, list[ItemKey]] = {collection_id: [] for collection_id in collection_ids}
    for row in await conn.fetch(
        "select collection_id, item_type, item_id from catalog.collection_item "
        "where collection_id = any($1::text[]) order by collection_id, position",
        collection_ids,
    ):
        found[row["collection_id"]].append((row["item_type"], row["item_id"]))
    return found


async def write_collection(
    conn: asyncpg.Connection, collection_id: str, content: dict[str, Any], items: list[ItemKey]
) -> None:
    await conn.execute(
        "insert into catalog.collection (id, content) values ($1, $2) "
        "on conflict (id) do update set content = excluded.content, updated_at = now()",
        collection_id,
        content,
    )
    await conn.execute("delete from catalog.collection_item where collection_id = $1", collection_id)
    if items:
        await conn.execute(
            "insert into catalog.collection_item (collection_id, position, item_type, item_id) "
            "select $1, * from unnest($2::int[], $3::text[], $4::text[])",
            collection_id,
            list(range(len(items))),
            [key[0] for key in items],
            [key[1] for key in items],
        )


async def delete_collection(conn: asyncpg.Connection, collection_id: str) -> None:
    await conn.execute("delete from catalog.collection where id = $1", collection_id)


async def collections_holding(conn: asyncpg.Connection, keys: list[ItemKey]) -> list[str]:
    if not keys:
        return []
    rows = await conn.fetch(
        "select distinct c.collection_id from catalog.collection_item c "
        "join unnest($1::text[], $2::text[]) k(type, id) on c.item_type = k.type and c.item_id = k.id",
        *_split(keys, 2),
    )
    return [row["collection_id"] for row in rows]
