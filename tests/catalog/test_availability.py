"""Availability: ingest replaces a source's contents and tells exactly the difference; expiry is told unprompted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.catalog import expiry
from shared.contracts import CATALOG_AVAILABILITY_CHANGES, CATALOG_ITEM_CHANGES
from tests.api import ApiKey, assert_problem
from tests.kafka_reader import TopicReader


def on_source(source_id: str) -> Any:
    return lambda payloads: [p for p in payloads if p["source_id"] == source_id]


def fill(value: Any, unique: str) -> Any:
    """The parametrized body with this test's unique id put in for {u}."""
    if isinstance(value, dict):
        return {key: fill(item, unique) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, unique) for item in value]
    return value.replace("{u}", unique) if isinstance(value, str) else value


async def assert_no_more(reader: TopicReader, predicate: Any, count: int) -> None:
    """Nothing beyond `count` matching messages arrives in the next moments."""
    with pytest.raises(AssertionError, match="timed out"):
        await reader.wait_for(lambda ps: len(predicate(ps)) > count, within=2.0)


async def test_ingest_replaces_a_sources_contents_and_publishes_the_difference(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str, kafka_bootstrap: str
) -> None:
    source = f"ing{unique}"
    assert (
        await client.put(admin_key.path(f"source/{source}/"), json={"name": "Ingested", "country": "GB"})
    ).status_code == 201
    assert (
        await client.put(admin_key.path(f"movie/c{unique}/"), json={"title": "Catalogued Already"})
    ).status_code == 201
    first = {
        "movies": [
            {"id": f"a{unique}", "title": "Alpha", "year": 2001, "instance": {"price_rent": 199}},
            {"id": f"b{unique}", "title": "Beta", "instance": {"price_rent": 299, "price_buy_hd": 999}},
        ],
        "programmes": [{"id": f"p{unique}", "title": "Programme", "instance": {"price_rent": -1, "series": [1]}}],
        "episodes": [{"id": f"e{unique}", "programme_id": f"p{unique}", "season": 1, "episode": 1, "instance": {}}],
    }
    answer = await client.post(admin_key.path(f"ingest/{source}/"), json=first)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "source_id": source,
        "items": {"created": 4, "changed": 0, "unchanged": 0, "metadata_absent": 0},
        "instances": {"added": 4, "changed": 0, "removed": 0, "unchanged": 0, "published": 4},
    }
    second = {
        "movies": [
            {"id": f"a{unique}", "title": "Alpha", "year": 2001, "instance": {"price_rent": 199}},
            {
                "id": f"b{unique}",
                "title": "Beta (Director's Cut)",
                "instance": {"price_rent": 349, "price_buy_hd": 999},
            },
            {"id": f"c{unique}", "instance": {"price_buy": 500, "url": "http://example.invalid/c"}},
        ],
        "episodes": [{"id": f"e{unique}", "instance": {}}],
    }
    answer = await client.post(admin_key.path(f"ingest/{source}"), json=second)
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"] == {"created": 0, "changed": 1, "unchanged": 1, "metadata_absent": 2}
    assert answer.json()["instances"] == {"added": 1, "changed": 1, "removed": 1, "unchanged": 2, "published": 3}

    [beta] = (await client.get(api_key.path(f"movie/b{unique}/"))).json()["movies"]
    assert beta["title"] == "Beta (Director's Cut)" and beta["instances"][0]["price_rent"] == 349
    assert (await client.get(api_key.path(f"programme/p{unique}/"))).json()["programmes"][0]["instances"] == []
    [catalogued] = (await client.get(api_key.path(f"movie/c{unique}/"))).json()["movies"]
    assert (
        catalogued["title"] == "Catalogued Already" and catalogued["instances"][0]["url"] == "http://example.invalid/c"
    )

    mine = on_source(source)
    async with TopicReader(kafka_bootstrap, CATALOG_AVAILABILITY_CHANGES) as reader:
        told = mine(await reader.wait_for(lambda ps: len(mine(ps)) >= 7))
        await assert_no_more(reader, mine, 7)
    by_item: dict[str, list[Any]] = {}
    for p in told:
        by_item.setdefault(f"{p['item_type']}:{p['item_id']}", []).append(
            p["instance"] and p["instance"].get("price_rent")
        )
    assert by_item == {
        f"movie:a{unique}": [199],
        f"movie:b{unique}": [299, 349],
        f"programme:p{unique}": [-1, None],
        f"episode:e{unique}": [None],  # available, with no price known
        f"movie:c{unique}": [None],
    }
    gone = next(p for p in told if p["item_id"] == f"p{unique}" and p["instance"] is None)
    assert gone["item_type"] == "programme"
    appeared = next(p for p in told if p["item_id"] == f"c{unique}")
    assert appeared["instance"] == {
        "source_id": source,
        "source_name": "Ingested",
        "country": "GB",
        "url": "http://example.invalid/c",
        "expires": None,
        "price_rent": None,
        "price_rent_hd": None,
        "price_buy": 500,
        "price_buy_hd": None,
    }

    item_changes = lambda ps: [p for p in ps if str(p["item_id"]).endswith(unique)]  # noqa: E731
    async with TopicReader(kafka_bootstrap, CATALOG_ITEM_CHANGES) as reader:
        items = item_changes(await reader.wait_for(lambda ps: len(item_changes(ps)) >= 7))
        await assert_no_more(reader, item_changes, 7)
    assert sorted((p["item_type"], p["item_id"]) for p in items) == sorted(
        [
            ("movie", f"c{unique}"),
            ("movie", f"a{unique}"),
            ("movie", f"b{unique}"),
            ("movie", f"b{unique}"),
            ("programme", f"p{unique}"),
            ("episode", f"e{unique}"),
            ("source", source),
        ]
    )

    # The same contents again change nothing.
    again = await client.post(admin_key.path(f"ingest/{source}/"), json=second)
    assert again.json()["instances"] == {"added": 0, "changed": 0, "removed": 0, "unchanged": 4, "published": 0}


@pytest.mark.parametrize(
    ("body", "status", "mentions"),
    [
        ({"films": []}, 422, "films"),
        ({"movies": {}}, 422, "array"),
        ({"movies": [{"title": "No id"}]}, 400, "id"),
        ({"movies": [{"id": "nothing-{u}"}]}, 422, "not in the catalog"),
        ({"movies": [{"id": "d{u}", "title": "T"}, {"id": "d{u}", "title": "T"}]}, 422, "twice"),
        ({"movies": [{"id": "d{u}", "title": "T", "instances": []}]}, 422, "instance"),
        ({"movies": [{"id": "d{u}", "title": "T", "instance": {"price_rent": "cheap"}}]}, 422, "price_rent"),
    ],
)
async def test_bad_ingest_changes_nothing(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str, body: dict, status: int, mentions: str
) -> None:
    source = f"bad{unique}"
    await client.put(admin_key.path(f"source/{source}/"), json={"name": "Bad"})
    payload = fill(body, unique)
    assert_problem(await client.post(admin_key.path(f"ingest/{source}/"), json=payload), status, mentions=mentions)
    assert_problem(await client.get(api_key.path(f"movie/d{unique}/")), 404)
    assert_problem(await client.post(admin_key.path(f"ingest/none{unique}/"), json={}), 404)


async def test_expiry_is_announced_without_any_write(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str, kafka_bootstrap: str
) -> None:
    source = f"exp{unique}"
    await client.put(admin_key.path(f"source/{source}/"), json={"name": "Expiring"})
    await client.put(admin_key.path(f"movie/x{unique}/"), json={"title": "Last Chance"})
    expires = datetime.now(UTC) + timedelta(seconds=2)
    put = await client.put(
        admin_key.path(f"movie/x{unique}/instance/{source}/"), json={"price_rent": 99, "expires": expires.isoformat()}
    )
    assert put.status_code == 201
    [listed] = (await client.get(api_key.path(f"movie/x{unique}/"))).json()["movies"][0]["instances"]
    assert listed["expires"] == expires.isoformat(timespec="seconds").replace("+00:00", "Z")
    # Written already expired (in the original's milliseconds): never listed, never told as available.
    await client.put(admin_key.path(f"movie/y{unique}/"), json={"title": "Long Gone"})
    await client.put(
        admin_key.path(f"movie/y{unique}/instance/{source}/"), json={"price_rent": 1, "expires": 1401577200000.0}
    )
    assert (await client.get(api_key.path(f"movie/y{unique}/"))).json()["movies"][0]["instances"] == []

    mine = on_source(source)
    async with TopicReader(kafka_bootstrap, CATALOG_AVAILABILITY_CHANGES) as reader:
        told = mine(await reader.wait_for(lambda ps: len(mine(ps)) >= 2, within=20))
        await assert_no_more(reader, mine, 2)
    assert [(p["item_id"], p["instance"] is not None) for p in told] == [(f"x{unique}", True), (f"x{unique}", False)]
    assert datetime.fromisoformat(told[1]["at"]) >= expires - timedelta(seconds=1)
    assert (await client.get(api_key.path(f"movie/x{unique}/"))).json()["movies"][0]["instances"] == []
    # Made available again, it is told again.
    later = datetime.now(UTC) + timedelta(days=30)
    await client.put(
        admin_key.path(f"movie/x{unique}/instance/{source}/"), json={"price_rent": 99, "expires": later.timestamp()}
    )
    async with TopicReader(kafka_bootstrap, CATALOG_AVAILABILITY_CHANGES) as reader:
        told = mine(await reader.wait_for(lambda ps: len(mine(ps)) >= 3))
    assert told[2]["instance"]["price_rent"] == 99


async def test_deleting_a_source_takes_its_instances(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str, kafka_bootstrap: str
) -> None:
    source = f"del{unique}"
    await client.put(admin_key.path(f"source/{source}/"), json={"name": "Short-lived"})
    await client.post(
        admin_key.path(f"ingest/{source}/"),
        json={"movies": [{"id": f"z{unique}", "title": "Z", "instance": {"price_buy": 5}}]},
    )
    assert (await client.delete(admin_key.path(f"source/{source}/"))).status_code == 204
    assert (await client.get(api_key.path(f"movie/z{unique}/"))).json()["movies"][0]["instances"] == []
    mine = on_source(source)
    async with TopicReader(kafka_bootstrap, CATALOG_AVAILABILITY_CHANGES) as reader:
        told = mine(await reader.wait_for(lambda ps: len(mine(ps)) >= 2))
    assert [p["instance"] is None for p in told] == [False, True]


async def test_expiry_is_announced_once_with_several_watchers(
    client: httpx.AsyncClient, admin_key: ApiKey, unique: str, kafka_bootstrap: str, db_pool: asyncpg.Pool
) -> None:
    """Other replicas' watchers (here: extra passes racing the platform's own) never announce an expiry twice."""
    source = f"rep{unique}"
    await client.put(admin_key.path(f"source/{source}/"), json={"name": "Replicated"})
    expires = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    movies = [
        {"id": f"r{n}{unique}", "title": f"R{n}", "instance": {"price_rent": n, "expires": expires}} for n in range(40)
    ]
    assert (await client.post(admin_key.path(f"ingest/{source}/"), json={"movies": movies})).status_code == 200
    await asyncio.sleep(2)

    async def watcher() -> int:
        announced = 0
        for _ in range(20):
            announced += await expiry.announce_due(db_pool, 7)
        return announced

    await asyncio.gather(*(watcher() for _ in range(3)))
    mine = on_source(source)
    async with TopicReader(kafka_bootstrap, CATALOG_AVAILABILITY_CHANGES) as reader:
        told = mine(await reader.wait_for(lambda ps: len(mine(ps)) >= 80))
        await assert_no_more(reader, mine, 80)
    gone = [p["item_id"] for p in told if p["instance"] is None]
    assert sorted(gone) == sorted(str(m["id"]) for m in movies)
