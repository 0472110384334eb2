"""Spec section 3 through the gateway, against real PostgreSQL and Kafka."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.api import ApiKey, assert_problem


async def get_json(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def test_the_seed_example_holds_exactly(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    assert (await client.post(api_key.path("event/7/watchlist/movie/1/"))).status_code == 204
    assert (await client.post(api_key.path("event/7/watchlist/movie/24/"))).status_code == 204
    response = await client.get(api_key.path("event/7/watchlist/movie/?id=1&id=24&id=72"))
    assert response.status_code == 200
    assert response.text == '{"watchlist":{"1":null,"24":null}}'
    assert response.json() == {"watchlist": {"1": None, "24": None}}


async def test_post_answers_204_with_no_body_with_and_without_slash(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    for path in (
        "event/u1/seen/movie/5/",
        "event/u1/seen/movie/6",
        "event/u1/rated/movie/5/4/",
        "event/u1/rated/movie/6/3",
    ):
        response = await client.post(api_key.path(path))
        assert response.status_code == 204, response.text
        assert response.content == b""
    assert await get_json(client, api_key.path("event/u1/seen/movie"), id=["5", "6"]) == {
        "seen": {"5": None, "6": None}
    }
    assert await get_json(client, api_key.path("event/u1/rated/movie/"), id=["5", "6"]) == {"rated": {"5": 4, "6": 3}}


async def test_a_new_post_replaces_the_value_and_delete_removes_it(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    url = api_key.path("event/r/rated/episode/")
    await client.post(api_key.path("event/r/rated/episode/e1/5/"))
    await client.post(api_key.path("event/r/rated/episode/e1/"), params={"value": "-2.5"})
    assert await get_json(client, url, id="e1") == {"rated": {"e1": -2.5}}
    for _ in range(2):  # idempotent: 204 even when there is nothing to delete
        response = await client.delete(api_key.path("event/r/rated/episode/e1/"))
        assert response.status_code == 204
    assert await get_json(client, url, id="e1") == {"rated": {}}
    assert (await client.delete(api_key.path("event/never/rated/episode/x"))).status_code == 204


@pytest.mark.parametrize("item_type", ["movie", "programme", "series", "episode"])
@pytest.mark.parametrize("event", ["watchlist", "seen", "hide"])
async def test_list_events_on_content_ignore_a_value(
    client: httpx.AsyncClient, api_key: ApiKey, event: str, item_type: str
) -> None:
    assert (await client.post(api_key.path(f"event/v/{event}/{item_type}/1/anything/"))).status_code == 204
    assert (
        await client.post(api_key.path(f"event/v/{event}/{item_type}/2/"), params={"value": "9"})
    ).status_code == 204
    body = await get_json(client, api_key.path(f"event/v/{event}/{item_type}/"), id=["1", "2"])
    assert body == {event: {"1": None, "2": None}}


@pytest.mark.parametrize("item_type", ["movie", "programme", "series", "episode", "section"])
async def test_ratings_are_finite_numbers_negative_for_dislike(
    client: httpx.AsyncClient, api_key: ApiKey, item_type: str
) -> None:
    for item, value in (("a", "5"), ("b", "-1"), ("c", "4.5"), ("d", "0"), ("e", "1e2")):
        assert (await client.post(api_key.path(f"event/rt/rated/{item_type}/{item}/{value}/"))).status_code == 204
    body = await get_json(client, api_key.path(f"event/rt/rated/{item_type}/"), id=list("abcde"))
    assert body == {"rated": {"a": 5, "b": -1, "c": 4.5, "d": 0, "e": 100.0}}
    for bad in ("good", "nan", "inf", "1_000", "0x10", "1e999"):
        response = await client.post(api_key.path(f"event/rt/rated/{item_type}/a/{bad}/"))
        assert_problem(response, 422, mentions="rated' expects a finite number")
    assert_problem(await client.post(api_key.path(f"event/rt/rated/{item_type}/a/")), 422, mentions="no value")
    body = await get_json(client, api_key.path(f"event/rt/rated/{item_type}/"), id="a")
    assert body == {"rated": {"a": 5}}, "a rejected rating leaves the stored one alone"


async def test_progress_is_minutes_on_movies_and_episodes_only(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    assert (await client.post(api_key.path("event/p/progress/movie/m1/42/"))).status_code == 204
    assert (
        await client.post(api_key.path("event/p/progress/episode/e1/"), params={"value": "12.5"})
    ).status_code == 204
    assert (await client.post(api_key.path("event/p/progress/episode/e2/0/"))).status_code == 204
    assert await get_json(client, api_key.path("event/p/progress/movie/"), id="m1") == {"progress": {"m1": 42}}
    body = await get_json(client, api_key.path("event/p/progress/episode/"), id=["e1", "e2"])
    assert body == {"progress": {"e1": 12.5, "e2": 0}}
    for item_type in ("programme", "series", "channel", "section"):
        response = await client.post(api_key.path(f"event/p/progress/{item_type}/x/10/"))
        assert_problem(response, 422, mentions="applies to movies and episodes")
    for bad in ("-1", "-0.5", "half", ""):
        response = await client.post(api_key.path("event/p/progress/movie/m1/"), params={"value": bad})
        assert_problem(response, 422, mentions="minutes watched")
    assert await get_json(client, api_key.path("event/p/progress/movie/"), id="m1") == {"progress": {"m1": 42}}
    assert await get_json(client, api_key.path("event/p/progress/programme/"), id="x") == {"progress": {}}


async def test_channel_start_and_end_take_a_timestamp_or_the_server_time(
    client: httpx.AsyncClient, api_key: ApiKey
) -> None:
    before = time.time()
    assert (await client.post(api_key.path("event/tv/start/channel/bbc1/"))).status_code == 204
    after = time.time()
    assert (await client.post(api_key.path("event/tv/start/channel/itv/1733320000/"))).status_code == 204
    assert (await client.post(api_key.path("event/tv/end/channel/itv/2024-12-04T13:50:00Z/"))).status_code == 204
    iso_with_offset = {"value": "2024-12-04T14:00:00.5+01:00"}
    assert (await client.post(api_key.path("event/tv/start/channel/ch4/"), params=iso_with_offset)).status_code == 204
    # `stop`, the original docs' name, is the same event as `end`.
    assert (await client.post(api_key.path("event/tv/stop/channel/bbc1/1733320000.25/"))).status_code == 204

    starts = (await get_json(client, api_key.path("event/tv/start/channel/"), id=["bbc1", "itv", "ch4"]))["start"]
    assert isinstance(starts["bbc1"], int) and int(before) <= starts["bbc1"] <= after
    assert starts["itv"] == 1733320000
    assert starts["ch4"] == 1733317200.5
    ends = await get_json(client, api_key.path("event/tv/end/channel/"), id=["itv", "bbc1"])
    assert ends == {"end": {"itv": 1733320200, "bbc1": 1733320000.25}}
    assert await get_json(client, api_key.path("event/tv/stop/channel/"), id="bbc1") == {
        "stop": {"bbc1": 1733320000.25}
    }
    assert (await client.delete(api_key.path("event/tv/stop/channel/bbc1/"))).status_code == 204
    assert await get_json(client, api_key.path("event/tv/end/channel/"), id="bbc1") == {"end": {}}

    for bad in ("yesterday", "2024-12-04T14:00:00", "-5", "99999999999999"):
        response = await client.post(api_key.path("event/tv/start/channel/itv/"), params={"value": bad})
        assert_problem(response, 422, mentions="expects a timestamp")
    assert (await get_json(client, api_key.path("event/tv/start/channel/"), id="itv"))["start"]["itv"] == 1733320000

    assert (await client.post(api_key.path("event/tv/hide/channel/shop/whatever/"))).status_code == 204
    assert await get_json(client, api_key.path("event/tv/hide/channel/"), id="shop") == {"hide": {"shop": None}}


@pytest.mark.parametrize("event", ["watchlist", "detail", "hide", "seen", "consumed", "displayed"])
async def test_section_events_take_no_value(client: httpx.AsyncClient, api_key: ApiKey, event: str) -> None:
    assert (await client.post(api_key.path(f"event/s/{event}/section/home-1/ignored/"))).status_code == 204
    assert await get_json(client, api_key.path(f"event/s/{event}/section/"), id="home-1") == {event: {"home-1": None}}


async def test_custom_events_store_numbers_and_short_strings(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    values = {"n1": ("3", 3), "n2": ("-0.25", -0.25), "s1": ("great show", "great show"), "s2": ("x" * 64, "x" * 64)}
    for item_id, (sent, _) in values.items():
        assert (
            await client.post(api_key.path(f"event/c/shared/podcast/{item_id}/"), params={"value": sent})
        ).status_code == 204
    assert (await client.post(api_key.path("event/c/shared/podcast/none/"))).status_code == 204
    assert (await client.post(api_key.path("event/c/start/movie/m1/later/"))).status_code == 204  # only channels time
    body = await get_json(client, api_key.path("event/c/shared/podcast/"), id=[*values, "none"])
    assert body == {"shared": {**{item_id: stored for item_id, (_, stored) in values.items()}, "none": None}}
    assert await get_json(client, api_key.path("event/c/start/movie/"), id="m1") == {"start": {"m1": "later"}}

    too_long = "y" * 65
    for response in (
        await client.post(api_key.path(f"event/c/shared/podcast/s1/{too_long}/")),
        await client.post(api_key.path("event/c/shared/podcast/s1/"), params={"value": too_long}),
    ):
        assert_problem(response, 422, mentions="at most 64")
    assert (await get_json(client, api_key.path("event/c/shared/podcast/"), id="s1"))["shared"]["s1"] == "great show"


async def test_value_in_path_and_query_must_agree(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    assert (await client.post(api_key.path("event/q/rated/movie/1/4/"), params={"value": "4"})).status_code == 204
    assert_problem(
        await client.post(api_key.path("event/q/rated/movie/1/4/"), params={"value": "5"}), 400, mentions="once"
    )


async def test_get_without_ids_lists_newest_first_with_paging(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    for n in range(7):
        assert (await client.post(api_key.path(f"event/pg/rated/movie/m{n}/{n}/"))).status_code == 204
    await client.post(api_key.path("event/pg/rated/movie/m2/20/"))  # re-rated: now the newest
    await client.post(api_key.path("event/pg/seen/movie/other/"))

    everything = await client.get(api_key.path("event/pg/rated/movie/"))
    assert "link" not in everything.headers
    assert list(everything.json()["rated"].items()) == [
        ("m2", 20), ("m6", 6), ("m5", 5), ("m4", 4), ("m3", 3), ("m1", 1), ("m0", 0),
    ]  # fmt: skip

    url = api_key.path("event/pg/rated/movie/?count=3")
    pages = []
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        pages.append(list(response.json()["rated"]))
        link = response.headers.get("link")
        if link is None:
            break
        assert link.endswith('>; rel="next"') and "tk_" not in link
        url = urljoin(str(response.url), link[1 : link.index(">")])
    assert pages == [["m2", "m6", "m5"], ["m4", "m3", "m1"], ["m0"]]
    assert (await get_json(client, api_key.path("event/pg/rated/movie/"), start=7)) == {"rated": {}}
    assert await get_json(client, api_key.path("event/nobody/rated/movie/")) == {"rated": {}}


async def test_get_with_ids_keeps_the_order_asked_and_allows_1000(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    for item_id in ("c", "a", "b"):
        await client.post(api_key.path(f"event/o/watchlist/movie/{item_id}/"))
    assert list(
        (await get_json(client, api_key.path("event/o/watchlist/movie/"), id=["b", "x", "a", "b", "c"]))["watchlist"]
    ) == ["b", "a", "c"]
    thousand = [str(n) for n in range(1000)]
    assert await get_json(client, api_key.path("event/o/watchlist/movie/"), id=thousand) == {"watchlist": {}}
    response = await client.get(api_key.path("event/o/watchlist/movie/"), params={"id": [*thousand, "1000"]})
    assert_problem(response, 400, mentions="at most 1000")


async def test_numeric_looking_ids_stay_strings_as_object_keys(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    for item_id in ("007", "12345678901234567890", "a:b.c-d_e"):
        assert (await client.post(api_key.path(f"event/42/watchlist/episode/{item_id}/"))).status_code == 204
    body = await get_json(client, api_key.path("event/42/watchlist/episode/"))
    assert set(body["watchlist"]) == {"007", "12345678901234567890", "a:b.c-d_e"}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("event/%2E/seen/movie/1/", "user id"),
        ("event/%2E%2E/seen/movie/1/", "user id"),
        (f"event/{'u' * 33}/seen/movie/1/", "user id"),
        ("event/tab%09user/seen/movie/1/", "user id"),
        ("event/u/Seen/movie/1/", "event"),
        (f"event/u/{'e' * 33}/movie/1/", "event"),
        ("event/u/se%20en/movie/1/", "event"),
        ("event/u/seen.x/movie/1/", "event"),
        ("event/u/seen/Movie/1/", "item type"),
        (f"event/u/seen/{'t' * 33}/1/", "item type"),
        ("event/u/seen/mo%24vie/1/", "item type"),
        (f"event/u/seen/movie/{'i' * 65}/", "item id"),
        ("event/u/seen/movie/a%20b/", "item id"),
        ("event/u/seen/movie/%C3%A9/", "item id"),
        ("event/u/seen/movie/a%2Cb/", "item id"),
    ],
)
async def test_bad_identifiers_are_400_naming_the_field(
    client: httpx.AsyncClient, api_key: ApiKey, path: str, field: str
) -> None:
    for method in ("POST", "DELETE"):
        body = assert_problem(await client.request(method, api_key.path(path)), 400, mentions=field)
        assert body["field"] == field
    listing = path.rsplit("/", 2)[0] + "/"
    if field != "item id":
        assert_problem(await client.get(api_key.path(listing)), 400, mentions=field)


async def test_good_identifiers_at_the_limits_are_accepted(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    user = "Zoë 😀 !@$&()+,;=" + "u" * 16
    assert len(user) == 32
    item = "A-z_0.9:" + "i" * 56
    for path in (f"event/{user}/{'e' * 32}/{'t' * 32}/{item}/", f"event/{user}/a-b_c/x-y_z/{item}/"):
        assert (await client.post(api_key.path(path))).status_code == 204, path
    assert await get_json(client, api_key.path(f"event/{user}/a-b_c/x-y_z/"), id=item) == {"a-b_c": {item: None}}


async def test_bad_paging_and_bad_ids_in_get(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    url = api_key.path("event/g/seen/movie/")
    for params, mentions in (
        ({"count": "0"}, "count"),
        ({"count": "1001"}, "count"),
        ({"count": "ten"}, "count"),
        ({"start": "-1"}, "start"),
        ({"start": "²"}, "start"),
        ({"start": "9" * 5000}, "start"),
        ({"id": ["ok", "not ok"]}, "id"),
        ({"id": "i" * 65}, "id"),
    ):
        assert_problem(await client.get(url, params=params), 400, mentions=mentions)


async def test_tenants_cannot_see_or_touch_each_other(
    client: httpx.AsyncClient, api_key: ApiKey, admin_key: ApiKey
) -> None:
    other = admin_key  # another tenant, even with an admin key
    await client.post(api_key.path("event/7/rated/movie/1/5/"))
    assert await get_json(client, other.path("event/7/rated/movie/"), id="1") == {"rated": {}}
    assert await get_json(client, other.path("event/7/rated/movie/")) == {"rated": {}}
    assert (await client.delete(other.path("event/7/rated/movie/1/"))).status_code == 204
    await client.post(other.path("event/7/rated/movie/1/-3/"))
    assert await get_json(client, api_key.path("event/7/rated/movie/"), id="1") == {"rated": {"1": 5}}
    assert await get_json(client, other.path("event/7/rated/movie/"), id="1") == {"rated": {"1": -3}}
    batch = await client.post(
        other.path("events/"),
        json=[{"user_id": 7, "event": "rated", "item_type": "movie", "item_id": 1, "action": "delete"}],
    )
    assert batch.json() == {"results": [{"status": 204}]}
    assert await get_json(client, api_key.path("event/7/rated/movie/"), id="1") == {"rated": {"1": 5}}


async def test_unknown_key_and_method(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    assert_problem(await client.post("/api/1/tk_nope/event/7/seen/movie/1/"), 401)
    assert_problem(await client.put(api_key.path("event/7/seen/movie/1/")), 405)
