"""POST events/: many sets and deletes in one transaction, each answered as a single call would be."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from tests.api import ApiKey, assert_problem


def item(user_id: object, event: str, item_type: str, item_id: object, **extra: Any) -> dict[str, Any]:
    return {"user_id": user_id, "event": event, "item_type": item_type, "item_id": item_id, **extra}


async def values(client: httpx.AsyncClient, key: ApiKey, rest: str, ids: list[str]) -> Any:
    response = await client.get(key.path(rest), params={"id": ids})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_batch_applies_every_valid_item_and_explains_the_others(
    client: httpx.AsyncClient, api_key: ApiKey
) -> None:
    batch = [
        item(7, "watchlist", "movie", 1),
        item("7", "rated", "movie", "1", value=4.5),
        item(7, "rated", "movie", 2, value="lovely"),  # not a number: 422 as a single call
        item(7, "progress", "programme", 3, value=10),  # progress on a programme: 422
        item("bad/user", "seen", "movie", 1),  # bad identifier: 400
        item(7, "custom", "movie", 4, value="z" * 65),  # too long: 422
        item(7, "start", "channel", "bbc1", value=1733320000),
        item(8, "seen", "episode", "e1", value=None),
        item(7, "watchlist", "movie", 24),
        item(7, "watchlist", "movie", 24, action="delete"),
        item(7, "note", "movie", 5, value=[1]),  # not a number or string: 422
        "not an object",
        {"user_id": 7, "event": "seen", "item_type": "movie"},  # no item_id
        item(7, "seen", "movie", 6, extra=True),
        item(7, "seen", "movie", 6, action="toggle"),
    ]
    response = await client.post(api_key.path("events/"), json=batch)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == len(batch)
    statuses = [result["status"] for result in results]
    assert statuses == [204, 204, 422, 422, 400, 422, 204, 204, 204, 204, 422, 400, 400, 400, 400]
    for result in results:
        if result["status"] != 204:
            assert result["type"].startswith("urn:tanktop:problem:") and result["title"] and result["detail"]
            assert result["request_id"] == response.headers["x-request-id"]
    assert "finite number" in results[2]["detail"]
    assert "movies and episodes" in results[3]["detail"]
    assert results[4]["field"] == "user id"
    assert "at most 64" in results[5]["detail"]
    assert "item_id" in results[12]["detail"]
    assert "'extra'" in results[13]["detail"]
    assert "delete" in results[14]["detail"]

    # The same problem detail a single call gets.
    single = await client.post(api_key.path("event/7/rated/movie/2/lovely/"))
    assert_problem(single, 422)
    assert {k: v for k, v in single.json().items() if k not in ("instance", "request_id")} == {
        k: v for k, v in results[2].items() if k not in ("instance", "request_id")
    }

    assert await values(client, api_key, "event/7/watchlist/movie/", ["1", "24"]) == {"watchlist": {"1": None}}
    assert await values(client, api_key, "event/7/rated/movie/", ["1", "2"]) == {"rated": {"1": 4.5}}
    assert await values(client, api_key, "event/7/start/channel/", ["bbc1"]) == {"start": {"bbc1": 1733320000}}
    assert await values(client, api_key, "event/8/seen/episode/", ["e1"]) == {"seen": {"e1": None}}
    assert await values(client, api_key, "event/7/progress/programme/", ["3"]) == {"progress": {}}


async def test_the_last_change_to_a_key_in_a_batch_wins(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    batch = [
        item("w", "rated", "movie", "m", value=1),
        item("w", "rated", "movie", "m", value=2),
        item("w", "rated", "movie", "gone", value=1),
        item("w", "rated", "movie", "gone", action="delete"),
        item("w", "rated", "movie", "back", action="delete"),
        item("w", "rated", "movie", "back", value=3),
    ]
    response = await client.post(api_key.path("events"), json=batch)
    assert [r["status"] for r in response.json()["results"]] == [204] * 6
    body = await values(client, api_key, "event/w/rated/movie/", ["m", "gone", "back"])
    assert body == {"rated": {"m": 2, "back": 3}}


async def test_a_batch_of_1000_is_taken_and_1001_is_refused(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    batch = [item(f"b{n % 10}", "rated", "movie", n, value=n % 5) for n in range(1000)]
    response = await client.post(api_key.path("events/"), json=batch)
    assert response.status_code == 200
    assert response.json() == {"results": [{"status": 204}] * 1000}
    listed = await client.get(api_key.path("event/b3/rated/movie/"))
    assert len(listed.json()["rated"]) == 100

    too_many = [*batch, item("b0", "rated", "movie", "x", value=1)]
    assert_problem(await client.post(api_key.path("events/"), json=too_many), 413, mentions="at most 1000")
    assert (await values(client, api_key, "event/b0/rated/movie/", ["x"])) == {"rated": {}}


async def test_a_malformed_batch_is_a_clear_4xx(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    url = api_key.path("events/")
    assert_problem(await client.post(url, json={"user_id": 1}), 400, mentions="array")
    assert_problem(
        await client.post(url, content=b"[{", headers={"content-type": "application/json"}), 400, mentions="JSON"
    )
    assert_problem(await client.post(url, content=b"[]", headers={"content-type": "text/plain"}), 415)
    huge = orjson.dumps([item("u", "note", "movie", n, value="v" * 60) for n in range(9000)])
    assert len(huge) > 1024 * 1024
    assert_problem(await client.post(url, content=huge, headers={"content-type": "application/json"}), 413)
    assert (await client.post(url, json=[])).json() == {"results": []}
