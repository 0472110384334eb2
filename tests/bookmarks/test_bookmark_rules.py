"""Spec 5 bookmark rules, driven through the topics bookmarks consumes, read through the gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests.api import ApiKey, assert_problem
from tests.bookmarks.feed import Feed, bookmarks, consumed, known, poll, settled, shape
from tests.conftest import make_key


def movie(item_id: str, position: float, runtime: int | None) -> dict[str, object]:
    return {"item_type": "movie", "item_id": item_id, "state": "in_progress", "position": position, "runtime": runtime}


async def test_a_movie_in_progress_is_a_bookmark_and_seen_it_is_gone(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, db_pool: asyncpg.Pool, unique: str
) -> None:
    film = f"m-{unique}"
    await feed.movie(film, 100)
    await known(db_pool, [film])
    await feed.event("u1", "progress", "movie", film, 30)
    [listed] = await settled(client, api_key, "u1", [movie(film, 30, 100)])
    assert listed["updated_at"].endswith("Z")
    one = await client.get(api_key.path(f"bookmark/u1/movie/{film}/"))
    assert one.status_code == 200 and one.json() == listed
    assert (await client.get(api_key.path(f"bookmark/u1/movie/{film}"))).json() == listed

    await feed.event("u1", "progress", "movie", film, 90)  # 90% of the runtime: seen
    await settled(client, api_key, "u1", [])
    assert_problem(await client.get(api_key.path(f"bookmark/u1/movie/{film}/")), 404, mentions=film)


async def test_under_the_floor_and_within_the_last_minute_make_no_bookmark(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, db_pool: asyncpg.Pool, unique: str
) -> None:
    long, short = f"long-{unique}", f"short-{unique}"
    await feed.movie(long, 100)
    await feed.movie(short, 8)
    await known(db_pool, [long, short])
    await feed.event("u1", "progress", "movie", long, 4.9)  # under 5%
    await feed.event("u1", "progress", "movie", short, 7)  # 87.5%, but within a minute of the end
    await consumed(db_pool, await feed.event("u1", "progress", "movie", f"probe-{unique}", 1))
    assert shape(await bookmarks(client, api_key, "u1")) == [movie(f"probe-{unique}", 1, None)]
    await feed.event("u1", "progress", "movie", long, 5)
    await feed.event("u1", "progress", "movie", short, 6.5)
    found = await settled(
        client, api_key, "u1", [movie(short, 6.5, 8), movie(long, 5, 100), movie(f"probe-{unique}", 1, None)]
    )
    assert found[0]["updated_at"] >= found[1]["updated_at"] >= found[2]["updated_at"]


async def test_unknown_runtime_keeps_progress_as_given_until_the_catalog_tells(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, db_pool: asyncpg.Pool, unique: str
) -> None:
    film = f"m-{unique}"
    await feed.event("u1", "progress", "movie", film, 500)
    await settled(client, api_key, "u1", [movie(film, 500, None)])
    await feed.movie(film, 520)  # now 500 of 520 minutes is seen
    await settled(client, api_key, "u1", [])
    await feed.movie(film, 1000)  # a correction of the runtime brings it back
    await settled(client, api_key, "u1", [movie(film, 500, 1000)])


async def test_a_seen_event_counts_as_seen_and_deleting_it_undoes_that(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, db_pool: asyncpg.Pool, unique: str
) -> None:
    film = f"m-{unique}"
    await feed.movie(film, 100)
    await known(db_pool, [film])
    await feed.event("u1", "progress", "movie", film, 40)
    await settled(client, api_key, "u1", [movie(film, 40, 100)])
    await feed.event("u1", "seen", "movie", film)
    await settled(client, api_key, "u1", [])
    await feed.event("u1", "seen", "movie", film, deleted=True)
    await settled(client, api_key, "u1", [movie(film, 40, 100)])
    await feed.event("u1", "progress", "movie", film, deleted=True)
    await settled(client, api_key, "u1", [])


async def test_hidden_items_are_left_out(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, db_pool: asyncpg.Pool, unique: str
) -> None:
    film, show, first = f"m-{unique}", f"p-{unique}", f"e-{unique}"
    await feed.movie(film, 100)
    await feed.episode(first, show, 1, 1)
    await known(db_pool, [film, first])
    await feed.event("u1", "progress", "movie", film, 40)
    await feed.event("u1", "progress", "episode", first, 10)
    await poll_count(client, api_key, "u1", 2)
    await feed.event("u1", "hide", "movie", film)
    await feed.event("u1", "hide", "programme", show)
    await settled(client, api_key, "u1", [])
    assert_problem(await client.get(api_key.path(f"bookmark/u1/episode/{first}/")), 404)
    await feed.event("u1", "hide", "programme", show, deleted=True)
    await settled(client, api_key, "u1", [programme(show, "in_progress", 10, first, 1, 1)])
    assert (await client.get(api_key.path(f"bookmark/u1/episode/{first}/"))).status_code == 200


async def poll_count(client: httpx.AsyncClient, key: ApiKey, user_id: str, count: int) -> list[dict[str, Any]]:
    return await poll(lambda: bookmarks(client, key, user_id), lambda found: len(found) == count)


def programme(
    item_id: str, state: str, position: float, episode_id: str, season: int, number: int, runtime: int = 30
) -> dict[str, object]:
    return {
        "item_type": "programme",
        "item_id": item_id,
        "state": state,
        "position": position,
        "runtime": runtime,
        "episode_id": episode_id,
        "season": season,
        "episode": number,
    }


async def test_a_programme_is_its_episode_in_progress_else_the_next_one_crossing_seasons(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, db_pool: asyncpg.Pool, unique: str
) -> None:
    show = f"p-{unique}"
    s1e1, s1e2, s2e1, s2e2, special = (f"{unique}-{name}" for name in ("s1e1", "s1e2", "s2e1", "s2e2", "s0e1"))
    for episode_id, season, number in ((s1e1, 1, 1), (s1e2, 1, 2), (s2e1, 2, 1), (s2e2, 2, 2), (special, 0, 1)):
        await feed.episode(episode_id, show, season, number, runtime=40 if season == 2 else 30)
    await known(db_pool, [s1e1, s1e2, s2e1, s2e2, special])

    await feed.event("u1", "seen", "episode", s1e2)  # the last of season 1: next is season 2
    await settled(client, api_key, "u1", [programme(show, "up_next", 0, s2e1, 2, 1, runtime=40)])
    one = await client.get(api_key.path(f"bookmark/u1/programme/{show}/"))
    assert shape([one.json()]) == [programme(show, "up_next", 0, s2e1, 2, 1, runtime=40)]
    assert_problem(await client.get(api_key.path(f"bookmark/u1/episode/{s2e1}/")), 404)

    await feed.event("u1", "progress", "episode", s2e1, 12)
    await settled(client, api_key, "u1", [programme(show, "in_progress", 12, s2e1, 2, 1, runtime=40)])
    # The episode in progress also answers on its own (and is listed once, through its programme).
    own = await client.get(api_key.path(f"bookmark/u1/episode/{s2e1}/"))
    assert shape([own.json()]) == [
        {
            "item_type": "episode",
            "item_id": s2e1,
            "state": "in_progress",
            "position": 12,
            "runtime": 40,
            "programme_id": show,
            "season": 2,
            "episode": 1,
        }
    ]

    await feed.event("u1", "seen", "episode", special)  # specials are out of the order
    await feed.event("u1", "progress", "episode", s2e1, 36)  # 90%: seen
    await settled(client, api_key, "u1", [programme(show, "up_next", 0, s2e2, 2, 2, runtime=40)])
    assert_problem(await client.get(api_key.path(f"bookmark/u1/episode/{s2e1}/")), 404)

    await feed.event("u1", "seen", "episode", s2e2)  # the last one known: no bookmark
    await settled(client, api_key, "u1", [])
    s2e3 = f"{unique}-s2e3"
    await feed.episode(s2e3, show, 2, 3, runtime=40)  # until the catalog adds one
    await settled(client, api_key, "u1", [programme(show, "up_next", 0, s2e3, 2, 3, runtime=40)])


async def test_specials_alone_make_no_up_next(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, db_pool: asyncpg.Pool, unique: str
) -> None:
    show, special, first = f"p-{unique}", f"{unique}-s0e1", f"{unique}-s1e1"
    await feed.episode(special, show, 0, 1)
    await feed.episode(first, show, 1, 1)
    await known(db_pool, [special, first])
    await consumed(db_pool, await feed.event("u1", "seen", "episode", special))
    assert await bookmarks(client, api_key, "u1") == []
    # An episode in progress is a bookmark, even a special.
    await feed.event("u1", "progress", "episode", special, 10)
    await settled(client, api_key, "u1", [programme(show, "in_progress", 10, special, 0, 1)])


async def test_items_untouched_for_a_year_drop_off(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, db_pool: asyncpg.Pool, unique: str
) -> None:
    old, recent = f"old-{unique}", f"recent-{unique}"
    now = datetime.now(UTC)
    await feed.event("u1", "progress", "movie", old, 10, at=now - timedelta(days=366))
    await feed.event("u1", "progress", "movie", recent, 10, at=now - timedelta(days=364))
    await settled(client, api_key, "u1", [movie(recent, 10, None)])
    assert_problem(await client.get(api_key.path(f"bookmark/u1/movie/{old}/")), 404)
    await feed.event("u1", "progress", "movie", old, 11)  # touched again
    await settled(client, api_key, "u1", [movie(old, 11, None), movie(recent, 10, None)])


async def test_newest_first_with_start_and_count(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, unique: str
) -> None:
    now = datetime.now(UTC)
    films = [f"{unique}-{n}" for n in range(3)]
    for minutes_ago, film in zip((30, 10, 20), films, strict=True):
        await feed.event("7", "progress", "movie", film, 5, at=now - timedelta(minutes=minutes_ago))
    newest_first = [films[1], films[2], films[0]]
    await settled(client, api_key, "7", [movie(film, 5, None) for film in newest_first])

    page = await client.get(api_key.path("bookmark/7/?count=2"))
    assert [b["item_id"] for b in page.json()["bookmarks"]] == newest_first[:2]
    assert page.headers["link"] == '<?start=2&count=2>; rel="next"'
    last = await client.get(api_key.path("bookmark/7/?start=2&count=2"))
    assert [b["item_id"] for b in last.json()["bookmarks"]] == newest_first[2:]
    assert "link" not in last.headers


async def test_ids_go_out_as_the_original_api_wrote_them(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, unique: str
) -> None:
    number = str(int(unique, 16) % 10**12 + 1)
    await feed.event("42", "progress", "movie", number, 5)
    await feed.event("42", "progress", "movie", f"0{number}", 6)
    found = await poll_count(client, api_key, "42", 2)
    assert {b["item_id"] for b in found} == {int(number), f"0{number}"}


async def test_bad_requests_are_problems(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    assert_problem(await client.get(api_key.path("bookmark/u1/channel/c1/")), 422, mentions="movie, programme")
    assert_problem(await client.get(api_key.path("bookmark/u1/Movie/c1/")), 400, mentions="item type")
    assert_problem(await client.get(api_key.path("bookmark/u1/movie/bad*id/")), 400, mentions="item id")
    assert_problem(await client.get(api_key.path(f"bookmark/{'u' * 33}/")), 400, mentions="user id")
    assert_problem(await client.get(api_key.path("bookmark/u1/?count=0")), 400, mentions="count")
    assert_problem(await client.get(api_key.path("bookmark/u1/?count=1001")), 400, mentions="count")
    assert_problem(await client.get(api_key.path("bookmark/u1/?start=-1")), 400, mentions="start")
    assert_problem(await client.get(api_key.path("bookmark/u1/?start=%C2%B2")), 400, mentions="start")
    assert_problem(await client.get(api_key.path("bookmark/nobody/movie/m1/")), 404)
    assert (await client.get(api_key.path("bookmark/nobody/"))).json() == {"bookmarks": []}


async def test_a_tenant_sees_only_its_own_bookmarks(
    client: httpx.AsyncClient, api_key: ApiKey, feed: Feed, db_pool: asyncpg.Pool, unique: str
) -> None:
    film = f"m-{unique}"
    await feed.event("u1", "progress", "movie", film, 5)
    await settled(client, api_key, "u1", [movie(film, 5, None)])
    other = await make_key(db_pool)
    assert await bookmarks(client, other, "u1") == []
    assert_problem(await client.get(other.path(f"bookmark/u1/movie/{film}/")), 404)
