"""Spec section 2 through the gateway, against real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from shared.contracts import PROFILE_CHANGES, SPORT_PREFERENCE_CHANGES
from tests.api import ApiKey, assert_problem
from tests.kafka_reader import TopicReader


async def test_put_creates_then_replaces(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    created = await client.put(api_key.path("user/7/"), json={"name": "Ann", "langs": ["en"]})
    assert created.status_code == 201
    assert created.json() == {"id": 7, "name": "Ann", "langs": ["en"]}
    assert created.headers["etag"]

    replaced = await client.put(api_key.path("user/7"), json={"id": "7", "name": "Bo"})
    assert replaced.status_code == 200
    assert replaced.json() == {"id": 7, "name": "Bo"}
    assert replaced.headers["etag"] != created.headers["etag"]

    fetched = await client.get(api_key.path("user/7/"))
    assert fetched.status_code == 200
    assert fetched.json() == {"id": 7, "name": "Bo"}
    assert fetched.headers["etag"] == replaced.headers["etag"]


async def test_non_numeric_ids_are_strings(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    for user_id in ("007", "ann@example.com", "Zoë 😀", "1234567890123456789"):
        response = await client.put(api_key.path(f"user/{user_id}/"), json={})
        assert response.status_code == 201, response.text
        assert response.json()["id"] == user_id
        assert (await client.get(api_key.path(f"user/{user_id}/"))).json()["id"] == user_id


async def test_post_chooses_the_id(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    response = await client.post(api_key.path("user/"), json={"plan": "free"})
    assert response.status_code == 201
    user_id = response.json()["id"]
    assert len(str(user_id)) == 32
    location = response.headers["location"]
    assert location == api_key.path(f"user/{user_id}/")
    assert (await client.get(location)).json() == {"id": user_id, "plan": "free"}
    assert_problem(await client.post(api_key.path("user/"), json={"id": "mine"}), 400, mentions="PUT")


async def test_patch_and_post_update_merge(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    await client.put(api_key.path("user/m1/"), json={"a": {"b": 1, "c": 2}, "tags": [1, 2], "gone": True})
    patched = await client.patch(api_key.path("user/m1/"), json={"a": {"c": None, "d": 3}, "tags": [9], "gone": None})
    assert patched.status_code == 200
    assert patched.json() == {"id": "m1", "a": {"b": 1, "d": 3}, "tags": [9]}
    posted = await client.post(api_key.path("user/m1/"), json={"a": "flat"})
    assert posted.json() == {"id": "m1", "a": "flat", "tags": [9]}
    assert (await client.get(api_key.path("user/m1/"))).json() == posted.json()
    assert_problem(await client.patch(api_key.path("user/nobody/"), json={"a": 1}), 404)
    assert_problem(await client.patch(api_key.path("user/m1/"), json={"id": None}), 400, mentions="id")


async def test_deactivate_keeps_the_profile_for_reactivation(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    await client.put(api_key.path("user/d1/"), json={"x": 1})
    assert (await client.delete(api_key.path("user/d1/"))).status_code == 204
    assert (await client.delete(api_key.path("user/d1/"))).status_code == 204
    assert_problem(await client.get(api_key.path("user/d1/")), 404)
    assert_problem(await client.patch(api_key.path("user/d1/"), json={"x": 2}), 404)
    assert_problem(await client.delete(api_key.path("user/never/")), 404)
    again = await client.put(api_key.path("user/d1/"), json={"x": 3})
    assert again.status_code == 201
    assert (await client.get(api_key.path("user/d1/"))).json() == {"id": "d1", "x": 3}


async def test_if_match_and_if_none_match(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    created = await client.put(api_key.path("user/e1/"), json={"v": 1})
    etag = created.headers["etag"]
    assert_problem(await client.put(api_key.path("user/e1/"), json={"v": 2}, headers={"If-None-Match": "*"}), 412)
    assert_problem(await client.put(api_key.path("user/e1/"), json={"v": 2}, headers={"If-Match": '"999"'}), 412)
    assert_problem(await client.patch(api_key.path("user/e1/"), json={"v": 2}, headers={"If-Match": f"W/{etag}"}), 412)
    ok = await client.patch(api_key.path("user/e1/"), json={"v": 2}, headers={"If-Match": etag})
    assert ok.status_code == 200
    assert_problem(await client.delete(api_key.path("user/e1/"), headers={"If-Match": etag}), 412)
    assert (await client.delete(api_key.path("user/e1/"), headers={"If-Match": ok.headers["etag"]})).status_code == 204
    fresh = await client.put(api_key.path("user/e2/"), json={}, headers={"If-None-Match": "*"})
    assert fresh.status_code == 201
    assert_problem(await client.put(api_key.path("user/e3/"), json={}, headers={"If-Match": "*"}), 412)
    assert (await client.get(api_key.path("user/e1/"))).status_code == 404


async def test_racing_writers_with_one_etag_exactly_one_wins(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    etag = (await client.put(api_key.path("user/race/"), json={"n": 0})).headers["etag"]
    answers = await asyncio.gather(
        *(client.patch(api_key.path("user/race/"), json={"n": n}, headers={"If-Match": etag}) for n in range(1, 9))
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [412] * 7
    winner = next(answer for answer in answers if answer.status_code == 200)
    assert (await client.get(api_key.path("user/race/"))).json() == winner.json()


@pytest.mark.parametrize(
    ("body", "headers", "status", "mentions"),
    [
        (b"{not json", {"content-type": "application/json"}, 400, "not valid JSON"),
        (b"[1, 2]", {"content-type": "application/json"}, 400, "JSON object"),
        (b'"text"', {"content-type": "application/json"}, 400, "JSON object"),
        (b'{"id": "other"}', {"content-type": "application/json"}, 400, "differs"),
        (b'{"_secret": 1}', {"content-type": "application/json"}, 400, "_secret"),
        (b'{"a": ' * 40 + b"1" + b"}" * 40, {"content-type": "application/json"}, 400, "nested"),
        (b'{"a": "' + b"x" * 70_000 + b'"}', {"content-type": "application/json"}, 413, "bytes"),
        (b"a=1", {"content-type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        (b"\xff\xfe", {"content-type": "application/json"}, 400, "not valid JSON"),
    ],
)
async def test_bad_input_is_a_clear_4xx_and_harms_nothing(
    client: httpx.AsyncClient, api_key: ApiKey, body: bytes, headers: dict[str, str], status: int, mentions: str
) -> None:
    stored = await client.put(api_key.path("user/keep/"), json={"safe": True})
    for method in ("PUT", "PATCH", "POST"):
        response = await client.request(method, api_key.path("user/keep/"), content=body, headers=headers)
        assert_problem(response, status, mentions=mentions)
    after = await client.get(api_key.path("user/keep/"))
    assert after.json() == {"id": "keep", "safe": True}
    assert after.headers["etag"] == stored.headers["etag"]


@pytest.mark.parametrize("user_id", ["%2E%2E", "%2E", "x" * 33, "a%2Fb", "tab%09here"])
async def test_bad_user_ids_are_400(client: httpx.AsyncClient, api_key: ApiKey, user_id: str) -> None:
    response = await client.put(api_key.path(f"user/{user_id}/"), json={})
    assert_problem(response, 400)


async def test_profile_too_large_after_merge_is_413(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    await client.put(api_key.path("user/big/"), json={"a": "x" * 40_000})
    response = await client.patch(api_key.path("user/big/"), json={"b": "y" * 40_000})
    assert_problem(response, 413)
    assert (await client.get(api_key.path("user/big/"))).json() == {"id": "big", "a": "x" * 40_000}


async def test_tenants_cannot_see_or_touch_each_other(
    client: httpx.AsyncClient, api_key: ApiKey, admin_key: ApiKey
) -> None:
    await client.put(api_key.path("user/shared-name/"), json={"owner": "first"})
    other = admin_key  # another tenant, even with an admin key
    assert_problem(await client.get(other.path("user/shared-name/")), 404)
    assert_problem(await client.patch(other.path("user/shared-name/"), json={"owner": "evil"}), 404)
    assert_problem(await client.delete(other.path("user/shared-name/")), 404)
    assert (await client.put(other.path("user/shared-name/"), json={"owner": "second"})).status_code == 201
    assert (await client.get(api_key.path("user/shared-name/"))).json()["owner"] == "first"
    assert (await client.get(other.path("user/shared-name/"))).json()["owner"] == "second"


async def test_sports_preferences(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    assert (await client.get(api_key.path("user/fan/sport/"))).json() == {"sports": []}
    for path in (
        "user/fan/sport/football/",
        "user/fan/sport/football/arsenal/",
        "user/fan/sport/football/42/",
        "user/fan/sport/tennis/",
        "user/fan/sport/tennis/",
    ):
        assert (await client.post(api_key.path(path))).status_code == 204
    assert (await client.get(api_key.path("user/fan/sport/"))).json() == {
        "sports": [{"sport_id": "football", "teams": ["arsenal", 42]}, {"sport_id": "tennis", "teams": []}]
    }
    assert (await client.delete(api_key.path("user/fan/sport/football/arsenal/"))).status_code == 204
    assert (await client.delete(api_key.path("user/fan/sport/tennis/"))).status_code == 204
    assert (await client.delete(api_key.path("user/fan/sport/tennis/"))).status_code == 204
    assert (
        await client.get(api_key.path("user/fan/sport")).json()
        if False
        else (await client.get(api_key.path("user/fan/sport"))).json()
    ) == {"sports": [{"sport_id": "football", "teams": [42]}]}
    assert_problem(await client.post(api_key.path("user/fan/sport/bad sport/")), 400, mentions="sport id")


async def test_changes_are_published_to_kafka(client: httpx.AsyncClient, api_key: ApiKey, kafka_bootstrap: str) -> None:
    await client.put(api_key.path("user/pub/"), json={"a": 1})
    await client.patch(api_key.path("user/pub/"), json={"a": 2})
    await client.delete(api_key.path("user/pub/"))
    await client.post(api_key.path("user/pub/sport/golf/"))
    mine = lambda payloads: [p for p in payloads if p["tenant"] == api_key.tenant]  # noqa: E731
    async with TopicReader(kafka_bootstrap, PROFILE_CHANGES) as reader:
        payloads = await reader.wait_for(lambda ps: len(mine(ps)) >= 3)
    assert [(p["change"], p["version"]) for p in mine(payloads)] == [("created", 1), ("updated", 2), ("deactivated", 3)]
    async with TopicReader(kafka_bootstrap, SPORT_PREFERENCE_CHANGES) as reader:
        payloads = await reader.wait_for(lambda ps: len(mine(ps)) >= 1)
    assert [(p["sport_id"], p["team_id"], p["change"]) for p in mine(payloads)] == [("golf", None, "added")]
