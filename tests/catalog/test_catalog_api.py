"""Spec section 4 through the gateway: every entity round-trips in the original shapes; only admins write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared.contracts import CATALOG_AVAILABILITY_CHANGES, CATALOG_ITEM_CHANGES, CATALOG_SCHEDULE_CHANGES
from tests.api import ApiKey, assert_problem
from tests.kafka_reader import TopicReader


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def put_ok(client: httpx.AsyncClient, key: ApiKey, path: str, body: object, status: int = 201) -> dict:
    response = await client.put(key.path(path), json=body)
    assert response.status_code == status, response.text
    return response.json()


async def test_sources_round_trip(client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str) -> None:
    body = {"payment_model": "P", "country": "gb", "display_name": "Virgin Online Movies", "name": "VirginTV"}
    created = await put_ok(client, admin_key, f"source/src-{unique}/", body)
    expected = {"id": f"src-{unique}", **body, "country": "GB"}
    assert created == {"sources": [expected]}
    again = await client.put(admin_key.path(f"source/src-{unique}/"), json=created["sources"][0])
    assert again.status_code == 200 and again.json() == created
    assert (await client.get(api_key.path(f"source/src-{unique}"))).json() == created
    listed = (await client.get(api_key.path("source/"))).json()["sources"]
    assert expected in listed
    numeric = await put_ok(
        client, admin_key, f"source/9{unique[:6].translate(str.maketrans('abcdef', '123456'))}/", {"name": "BBC"}
    )
    assert isinstance(numeric["sources"][0]["id"], int)
    assert numeric["sources"][0] == {**numeric["sources"][0], "payment_model": "U", "display_name": "BBC"}


async def test_movie_round_trip_in_the_original_shape(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str
) -> None:
    number = str(int(unique[:8], 16))
    await put_ok(client, admin_key, f"source/s{unique}/", {"payment_model": "P", "country": "GB", "name": "Film4oD"})
    movie = {
        "title": "North by Northwest",
        "year": 1959,
        "runtime": 136,
        "director_id": 586,
        "director_name": "Alfred Hitchcock",
        "actors": [{"id": 1967, "name": "James Mason"}, {"id": 2125, "name": "Cary Grant"}],
        "categories": [{"id": 6, "name": "Mystery & Suspense"}, {"id": 14, "name": "Classics"}],
        "imdb_id": "0053125",
        "rt_id": 18639,
        "url": "http://www.rottentomatoes.com/m/north-by-northwest/",
        "instances": [{"source_id": f"s{unique}", "price_rent": 249, "price_buy_hd": 999, "expires": None}],
    }
    created = await put_ok(client, admin_key, f"movie/{number}/", movie)
    [shape] = created["movies"]
    assert shape["id"] == int(number)
    assert shape["director_id"] == 586 and shape["director_name"] == "Alfred Hitchcock"
    assert shape["directors"] == [{"id": 586, "name": "Alfred Hitchcock"}]
    assert shape["actors"] == movie["actors"] and shape["categories"] == movie["categories"]
    assert shape["imdb_id"] == "0053125" and shape["rt_id"] == 18639
    assert shape["external_ids"] == {"imdb": "0053125", "rt": 18639}
    assert shape["url"] == movie["url"] and shape["runtime"] == 136 and shape["year"] == 1959
    assert shape["instances"] == [
        {
            "source_id": f"s{unique}",
            "source_name": "Film4oD",
            "country": "GB",
            "url": None,
            "expires": None,
            "price_rent": 249,
            "price_rent_hd": None,
            "price_buy": None,
            "price_buy_hd": 999,
        }
    ]
    fetched = await client.get(api_key.path(f"movie/{number}"))
    assert fetched.status_code == 200 and fetched.json() == created
    # What GET gives can be PUT back unchanged.
    again = await client.put(admin_key.path(f"movie/{number}/"), json=shape)
    assert again.status_code == 200 and again.json() == created
    many = await client.get(api_key.path(f"movie/?id={number}&id=never-{unique}&id={number}"))
    assert many.json() == created


async def test_programme_episode_and_instance_endpoints(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str
) -> None:
    await put_ok(client, admin_key, f"source/n{unique}/", {"payment_model": "S", "country": "GB", "name": "Netflix"})
    programme = {
        "title": "Breaking Bad",
        "tvdb_id": 81189,
        "imdb_id": "tt0903747",
        "synopsis": "A chemistry teacher turns to crime.",
        "rating": 9.3,
        "actors": [{"id": f"p{unique}", "name": "Bryan Cranston"}],
        "categories": [{"id": "drama", "name": "Drama"}],
    }
    [shape] = (await put_ok(client, admin_key, f"programme/bb{unique}/", programme))["programmes"]
    assert shape["tvdb_id"] == 81189 and shape["rating"] == 9.3 and shape["series"] == []
    for season, episode in ((1, 2), (1, 1), (2, 1)):
        body = {"programme_id": f"bb{unique}", "season": season, "episode": episode, "runtime": 47}
        [ep] = (await put_ok(client, admin_key, f"episode/bb{unique}-{season}-{episode}/", body))["episodes"]
        assert ep == {**ep, "programme_id": f"bb{unique}", "season": season, "episode": episode, "runtime": 47}
    instance = await client.put(
        admin_key.path(f"programme/bb{unique}/instance/n{unique}/"), json={"price_rent": -1, "series": [1, 2]}
    )
    assert instance.status_code == 201
    assert instance.json()["instances"][0] == {**instance.json()["instances"][0], "price_rent": -1, "series": [1, 2]}
    same = await client.put(
        admin_key.path(f"programme/bb{unique}/instance/n{unique}/"), json={"price_rent": -1, "series": [1, 2]}
    )
    assert same.status_code == 200
    [fetched] = (await client.get(api_key.path(f"programme/?id=bb{unique}"))).json()["programmes"]
    assert fetched["series"] == [
        {"season": 1, "episodes": [f"bb{unique}-1-1", f"bb{unique}-1-2"]},
        {"season": 2, "episodes": [f"bb{unique}-2-1"]},
    ]
    assert [i["source_id"] for i in fetched["instances"]] == [f"n{unique}"]
    episode = (await client.get(api_key.path(f"episode/bb{unique}-2-1/"))).json()
    assert episode["episodes"][0]["programme_id"] == f"bb{unique}"
    assert (await client.delete(admin_key.path(f"programme/bb{unique}/instance/n{unique}/"))).status_code == 204
    assert_problem(await client.delete(admin_key.path(f"programme/bb{unique}/instance/n{unique}/")), 404)
    assert (await client.get(api_key.path(f"programme/bb{unique}/"))).json()["programmes"][0]["instances"] == []
    # Deleting the programme takes its episodes with it.
    assert (await client.delete(admin_key.path(f"programme/bb{unique}/"))).status_code == 204
    assert_problem(await client.get(api_key.path(f"episode/bb{unique}-1-1/")), 404)
    assert_problem(await client.get(api_key.path(f"programme/bb{unique}/")), 404)


async def test_people_and_categories(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str
) -> None:
    assert (await put_ok(client, admin_key, f"person/a{unique}/", {"name": "Ann Actor"})) == {
        "people": [{"id": f"a{unique}", "name": "Ann Actor"}]
    }
    assert (await put_ok(client, admin_key, f"category/movie/c{unique}/", {"name": "Noir"}))["categories"] == [
        {"id": f"c{unique}", "kind": "movie", "name": "Noir"}
    ]
    movie = {"title": "Credits", "actors": [f"a{unique}"], "categories": [f"c{unique}"]}
    [shape] = (await put_ok(client, admin_key, f"movie/m{unique}/", movie))["movies"]
    assert shape["actors"] == [{"id": f"a{unique}", "name": "Ann Actor"}]
    assert shape["categories"] == [{"id": f"c{unique}", "name": "Noir"}]
    # A rename shows on every item that credits the person, and is published for them.
    await put_ok(client, admin_key, f"person/a{unique}/", {"name": "Ann B. Actor"}, status=200)
    [shape] = (await client.get(api_key.path(f"movie/m{unique}/"))).json()["movies"]
    assert shape["actors"] == [{"id": f"a{unique}", "name": "Ann B. Actor"}]
    assert_problem(await client.delete(admin_key.path(f"person/a{unique}/")), 409, mentions="credited")
    assert_problem(await client.delete(admin_key.path(f"category/movie/c{unique}/")), 409)
    # The same id is another category among programmes.
    assert_problem(await client.get(api_key.path(f"category/programme/c{unique}/")), 404)
    listed = (await client.get(api_key.path("category/movie/"))).json()["categories"]
    assert {"id": f"c{unique}", "kind": "movie", "name": "Noir"} in listed
    unknown = await client.put(admin_key.path(f"movie/m2{unique}/"), json={"title": "X", "actors": [f"z{unique}"]})
    assert_problem(unknown, 422, mentions="unknown")
    assert (await client.get(api_key.path(f"person/?id=a{unique}"))).json()["people"][0]["name"] == "Ann B. Actor"
    assert (await client.delete(admin_key.path(f"movie/m{unique}/"))).status_code == 204
    assert (await client.delete(admin_key.path(f"person/a{unique}/"))).status_code == 204
    assert_problem(await client.get(api_key.path(f"person/a{unique}/")), 404)


async def test_channels_and_schedule(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str, kafka_bootstrap: str
) -> None:
    channel = {"name": "BBC One", "number": 101, "country": "GB", "hd": True, "logo": "http://x.invalid/1.png"}
    [shape] = (await put_ok(client, admin_key, f"channel/ch{unique}/", channel))["channels"]
    assert shape == {"id": f"ch{unique}", **channel, "source_id": None, "xmltv_id": None}
    assert shape in (await client.get(api_key.path("channel/"))).json()["channels"]
    await put_ok(client, admin_key, f"programme/pr{unique}/", {"title": "Gardeners' World"})
    await put_ok(client, admin_key, f"episode/ep{unique}/", {"programme_id": f"pr{unique}", "season": 3, "episode": 1})
    await put_ok(client, admin_key, f"movie/mv{unique}/", {"title": "Late Movie", "runtime": 95})
    day = datetime(2031, 5, 1, tzinfo=UTC)
    slots = [
        {"start": iso(day + timedelta(hours=19)), "item_type": "episode", "item_id": f"ep{unique}", "hd": True},
        {
            "start": int((day + timedelta(hours=20)).timestamp()),
            "stop": iso(day + timedelta(hours=21, minutes=40)),
            "item_type": "movie",
            "item_id": f"mv{unique}",
        },
    ]
    body = {"from": iso(day), "to": iso(day + timedelta(days=1)), "slots": slots}
    written = await client.put(admin_key.path(f"schedule/ch{unique}/"), json=body)
    assert written.status_code == 200, written.text
    fetched = await client.get(
        api_key.path(f"schedule/ch{unique}/"), params={"from": iso(day), "to": iso(day + timedelta(days=1))}
    )
    assert fetched.json() == written.json()
    assert fetched.json()["slots"] == [
        {
            "start": "2031-05-01T19:00:00Z",
            "stop": "2031-05-01T20:00:00Z",
            "item_type": "episode",
            "item_id": f"ep{unique}",
            "hd": True,
            "title": None,
            "programme_id": f"pr{unique}",
            "programme_title": "Gardeners' World",
            "season": 3,
            "episode": 1,
        },
        {
            "start": "2031-05-01T20:00:00Z",
            "stop": "2031-05-01T21:40:00Z",
            "item_type": "movie",
            "item_id": f"mv{unique}",
            "hd": False,
            "title": "Late Movie",
        },
    ]
    # The same schedule again changes nothing and publishes nothing; then one change is told once.
    assert (await client.put(admin_key.path(f"schedule/ch{unique}/"), json=body)).status_code == 200
    body["slots"] = slots[:1]
    assert (await client.put(admin_key.path(f"schedule/ch{unique}/"), json=body)).status_code == 200
    async with TopicReader(kafka_bootstrap, CATALOG_SCHEDULE_CHANGES) as reader:
        payloads = await reader.wait_for(lambda ps: len([p for p in ps if p["channel_id"] == f"ch{unique}"]) >= 2)
    mine = [p for p in payloads if p["channel_id"] == f"ch{unique}"]
    assert len(mine) == 2
    assert [len(p["slots"]) for p in mine] == [2, 1]
    assert mine[0]["slots"][0] == {
        "start": "2031-05-01T19:00:00Z",
        "stop": "2031-05-01T20:00:00Z",
        "item_type": "episode",
        "item_id": f"ep{unique}",
        "programme_id": f"pr{unique}",
        "hd": True,
    }
    assert (mine[0]["window_start"], mine[0]["window_end"]) == ("2031-05-01T00:00:00Z", "2031-05-02T00:00:00Z")
    overlapping = {
        **body,
        "slots": [
            {**slots[1], "stop": iso(day + timedelta(hours=23))},
            {**slots[0], "start": iso(day + timedelta(hours=22))},
        ],
    }
    assert_problem(
        await client.put(admin_key.path(f"schedule/ch{unique}/"), json=overlapping), 422, mentions="overlaps"
    )
    outside = {"from": iso(day), "to": iso(day + timedelta(hours=1)), "slots": slots[:1]}
    assert_problem(await client.put(admin_key.path(f"schedule/ch{unique}/"), json=outside), 422, mentions="window")
    assert_problem(await client.get(api_key.path(f"schedule/none{unique}/")), 404)
    assert_problem(await client.get(api_key.path(f"schedule/ch{unique}/"), params={"from": "yesterday"}), 400)


async def test_sports_teams_and_current_content(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str
) -> None:
    sport = f"football{unique}"
    assert (await put_ok(client, admin_key, f"sport/{sport}/", {"name": "Football"}))["sports"] == [
        {"id": sport, "name": "Football"}
    ]
    await put_ok(client, admin_key, f"sport/{sport}/team/arsenal/", {"name": "Arsenal"})
    await put_ok(client, admin_key, f"sport/{sport}/team/42/", {"name": "Chelsea"})
    assert (await client.get(api_key.path(f"sport/{sport}/team/"))).json() == {
        "teams": [
            {"id": 42, "sport_id": sport, "name": "Chelsea"},
            {"id": "arsenal", "sport_id": sport, "name": "Arsenal"},
        ]
    }
    assert {"id": sport, "name": "Football"} in (await client.get(api_key.path("sport/"))).json()["sports"]
    await put_ok(client, admin_key, f"channel/sc{unique}/", {"name": "Sports 1"})
    await put_ok(client, admin_key, f"programme/match{unique}/", {"title": "Arsenal v Chelsea"})
    await put_ok(client, admin_key, f"movie/doc{unique}/", {"title": "Invincibles"})
    await put_ok(client, admin_key, f"source/ss{unique}/", {"name": "Sky", "payment_model": "S"})
    now = datetime.now(UTC).replace(microsecond=0)
    slot = {
        "start": iso(now + timedelta(hours=1)),
        "stop": iso(now + timedelta(hours=3)),
        "item_type": "programme",
        "item_id": f"match{unique}",
    }
    assert (await client.put(admin_key.path(f"schedule/sc{unique}/"), json={"slots": [slot]})).status_code == 200
    await client.put(admin_key.path(f"movie/doc{unique}/instance/ss{unique}/"), json={"price_rent": -1})
    for path in (
        f"sport/{sport}/team/arsenal/programme/match{unique}/",
        f"sport/{sport}/team/42/programme/match{unique}/",
    ):
        assert (await client.post(admin_key.path(path))).status_code == 204
    assert (await client.put(admin_key.path(f"sport/{sport}/movie/doc{unique}/"))).status_code == 204
    assert (await client.put(admin_key.path(f"sport/{sport}/movie/doc{unique}/"))).status_code == 204
    content = (await client.get(api_key.path(f"sport/{sport}/"))).json()
    assert content["sport"] == {"id": sport, "name": "Football"}
    assert [(c["item_type"], c["item_id"]) for c in content["content"]] == [
        ("movie", f"doc{unique}"),
        ("programme", f"match{unique}"),
    ]
    match = content["content"][1]
    assert match["airings"] == [
        {
            "channel_id": f"sc{unique}",
            "start": slot["start"],
            "stop": slot["stop"],
            "item_type": "programme",
            "item_id": f"match{unique}",
            "hd": False,
        }
    ]
    assert content["content"][0]["available_on"] == [f"ss{unique}"]
    team = (await client.get(api_key.path(f"sport/{sport}/team/42/"))).json()
    assert team["team"]["name"] == "Chelsea" and [c["item_id"] for c in team["content"]] == [f"match{unique}"]
    [programme] = (await client.get(api_key.path(f"programme/match{unique}/"))).json()["programmes"]
    assert programme["sports"] == [{"sport_id": sport, "team_id": 42}, {"sport_id": sport, "team_id": "arsenal"}]
    assert (await client.delete(admin_key.path(f"sport/{sport}/team/42/programme/match{unique}/"))).status_code == 204
    team = (await client.get(api_key.path(f"sport/{sport}/team/42/"))).json()
    assert team["content"] == []
    assert_problem(await client.get(api_key.path(f"sport/none{unique}/")), 404)
    assert_problem(await client.get(api_key.path(f"sport/{sport}/team/none/")), 404)
    assert_problem(await client.put(admin_key.path(f"sport/{sport}/movie/none{unique}/")), 404)
    assert (await client.delete(admin_key.path(f"sport/{sport}/"))).status_code == 204
    assert_problem(await client.get(api_key.path(f"sport/{sport}/team/")), 404)


async def test_collections(client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str) -> None:
    for n in range(3):
        await put_ok(client, admin_key, f"movie/col{unique}-{n}/", {"title": f"Pick {n}"})
    body = {
        "title": "Staff picks",
        "description": "Our favourites",
        "items": [
            {"item_type": "movie", "item_id": f"col{unique}-1"},
            {"item_type": "movie", "item_id": f"col{unique}-0"},
        ],
    }
    [shape] = (await put_ok(client, admin_key, f"collection/c{unique}/", body))["collections"]
    assert shape == {"id": f"c{unique}", **body}
    assert (await client.get(api_key.path(f"collection/c{unique}"))).json() == {"collections": [shape]}
    patched = await client.patch(
        admin_key.path(f"collection/c{unique}/"),
        json={
            "items": [
                {"item_type": "movie", "item_id": f"col{unique}-2"},
                {"item_type": "movie", "item_id": f"col{unique}-1"},
            ]
        },
    )
    assert [i["item_id"] for i in patched.json()["collections"][0]["items"]] == [f"col{unique}-{n}" for n in (1, 0, 2)]
    created = await client.post(admin_key.path("collection/"), json={"title": "New", "items": []})
    assert created.status_code == 201
    assert created.headers["location"] == admin_key.path(f"collection/{created.json()['collections'][0]['id']}/")
    # Deleting an item takes it out of collections.
    assert (await client.delete(admin_key.path(f"movie/col{unique}-0/"))).status_code == 204
    items = (await client.get(api_key.path(f"collection/c{unique}/"))).json()["collections"][0]["items"]
    assert [i["item_id"] for i in items] == [f"col{unique}-1", f"col{unique}-2"]
    assert any(c["id"] == f"c{unique}" for c in (await client.get(api_key.path("collection/"))).json()["collections"])
    missing = {"title": "Bad", "items": [{"item_type": "movie", "item_id": f"nothing{unique}"}]}
    assert_problem(await client.put(admin_key.path(f"collection/x{unique}/"), json=missing), 422)
    assert (await client.delete(admin_key.path(f"collection/c{unique}/"))).status_code == 204
    assert_problem(await client.get(api_key.path(f"collection/c{unique}/")), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "source/x/"),
        ("PUT", "movie/x/"),
        ("DELETE", "movie/x/"),
        ("PUT", "programme/x/"),
        ("PUT", "episode/x/"),
        ("PUT", "movie/x/instance/y/"),
        ("PUT", "channel/x/"),
        ("PUT", "schedule/x/"),
        ("PUT", "category/movie/x/"),
        ("PUT", "person/x/"),
        ("PUT", "sport/x/"),
        ("POST", "sport/x/movie/y/"),
        ("PUT", "collection/x/"),
        ("POST", "ingest/x/"),
        ("POST", "epg/xmltv"),
    ],
)
async def test_tenant_keys_cannot_write(client: httpx.AsyncClient, api_key: ApiKey, method: str, path: str) -> None:
    response = await client.request(method, api_key.path(path), json={"name": "x", "title": "x"})
    assert_problem(response, 403, mentions="admin")


async def test_unknown_ids_are_404(client: httpx.AsyncClient, api_key: ApiKey, admin_key: ApiKey, unique: str) -> None:
    for path in ("movie", "programme", "episode", "source", "channel", "collection", "sport", "person"):
        assert_problem(await client.get(api_key.path(f"{path}/nothing-{unique}/")), 404)
    for path in ("movie", "source", "channel", "collection", "sport"):
        assert_problem(await client.delete(admin_key.path(f"{path}/nothing-{unique}/")), 404)
    assert (await client.get(api_key.path(f"movie/?id=nothing-{unique}"))).json() == {"movies": []}


@pytest.mark.parametrize(
    ("path", "body", "status", "mentions"),
    [
        ("movie/m{u}/", {"year": 2000}, 422, "title"),
        ("movie/m{u}/", {"title": "T", "year": "1999"}, 422, "year"),
        ("movie/m{u}/", {"title": "T", "runtime": -5}, 422, "runtime"),
        ("movie/m{u}/", {"title": "T", "actors": "Cary Grant"}, 422, "actors"),
        ("movie/m{u}/", {"title": "T", "actors": [{"id": "bad id"}]}, 400, "actors[0].id"),
        ("movie/m{u}/", {"title": "T", "id": "other"}, 400, "differs"),
        ("movie/m{u}/", {"title": "T", "_private": 1}, 422, "_private"),
        ("movie/m{u}/", {"title": "T", "instances": [{"source_id": "nosuch{u}", "price_rent": 1}]}, 422, "source"),
        ("movie/m{u}/", {"title": "T", "instances": [{"source_id": "s", "price_rent": -2}]}, 422, "price_rent"),
        ("movie/m{u}/", {"title": "T", "instances": [{"source_id": "s", "expires": "soon"}]}, 422, "expires"),
        ("movie/m{u}/", {"title": "T", "programme_id": "p"}, 422, "episodes"),
        ("movie/bad%20id/", {"title": "T"}, 400, "movie id"),
        ("episode/e{u}/", {"title": "T"}, 422, "programme_id"),
        ("episode/e{u}/", {"programme_id": "none{u}"}, 422, "unknown"),
        ("source/s{u}/", {"name": "S", "payment_model": "X"}, 422, "payment_model"),
        ("source/s{u}/", {"name": "S", "country": "Britain"}, 422, "country"),
        ("source/s{u}/", {}, 422, "name"),
        ("channel/c{u}/", {}, 422, "name"),
        ("channel/c{u}/", {"name": "C", "hd": "yes"}, 422, "hd"),
        ("sport/s{u}/", {"name": 5}, 422, "name"),
        ("collection/c{u}/", {"title": "C", "items": [{"item_type": "book", "item_id": 1}]}, 422, "item_type"),
        ("category/film/c{u}/", {"name": "C"}, 404, "kinds"),
        ("schedule/none{u}/", {"slots": []}, 422, "window"),
    ],
)
async def test_bad_input_is_a_clear_4xx(
    client: httpx.AsyncClient, admin_key: ApiKey, unique: str, path: str, body: dict, status: int, mentions: str
) -> None:
    rendered = path.format(u=unique)
    payload: dict[str, Any] = {k: (v.format(u=unique) if isinstance(v, str) else v) for k, v in body.items()}
    if "instances" in payload:
        payload["instances"] = [
            {k: (v.format(u=unique) if isinstance(v, str) else v) for k, v in i.items()} for i in payload["instances"]
        ]
    assert_problem(await client.put(admin_key.path(rendered), json=payload), status, mentions=mentions)


async def test_malformed_bodies(client: httpx.AsyncClient, admin_key: ApiKey, unique: str) -> None:
    for body, status in ((b"{nope", 400), (b"[1]", 400), (b'"x"', 400)):
        response = await client.put(
            admin_key.path(f"movie/mb{unique}/"), content=body, headers={"content-type": "application/json"}
        )
        assert_problem(response, status)
    form = await client.put(
        admin_key.path(f"movie/mb{unique}/"), content=b"a=1", headers={"content-type": "text/plain"}
    )
    assert_problem(form, 415)
    assert_problem(await client.get(admin_key.path("movie/?start=-1")), 400)
    assert_problem(await client.get(admin_key.path("movie/?" + "&".join(["id=1"] * 1001))), 400)


async def test_changes_are_published_once(
    client: httpx.AsyncClient, admin_key: ApiKey, unique: str, kafka_bootstrap: str
) -> None:
    await put_ok(client, admin_key, f"source/pub{unique}/", {"name": "Pub", "payment_model": "P"})
    await put_ok(client, admin_key, f"programme/pp{unique}/", {"title": "Show", "runtime": 30})
    episode = {"programme_id": f"pp{unique}", "season": 1, "episode": 2, "runtime": 31}
    await put_ok(client, admin_key, f"episode/pe{unique}/", episode)
    await put_ok(client, admin_key, f"episode/pe{unique}/", episode, status=200)  # unchanged: nothing published
    await put_ok(client, admin_key, f"episode/pe{unique}/", {**episode, "runtime": 32}, status=200)
    instance = {"price_rent": 199, "price_rent_hd": 299}
    await client.put(admin_key.path(f"episode/pe{unique}/instance/pub{unique}/"), json=instance)
    await client.put(admin_key.path(f"episode/pe{unique}/instance/pub{unique}/"), json=instance)
    await client.put(
        admin_key.path(f"episode/pe{unique}/instance/pub{unique}/"), json={**instance, "price_rent_hd": None}
    )
    await client.delete(admin_key.path(f"episode/pe{unique}/"))

    def mine(payloads: list[dict]) -> list[dict]:
        return [p for p in payloads if str(p["item_id"]).endswith(unique)]

    async with TopicReader(kafka_bootstrap, CATALOG_ITEM_CHANGES) as reader:
        items = mine(await reader.wait_for(lambda ps: len(mine(ps)) >= 7))
    # Order holds per item (its key), not across items.
    told_items: dict[tuple[str, str], list[tuple[bool, int | None]]] = {
        (p["item_type"], p["item_id"]): [] for p in items
    }
    for p in items:
        told_items[(p["item_type"], p["item_id"])].append((p["deleted"], p["runtime"]))
    assert told_items == {
        ("source", f"pub{unique}"): [(False, None)],
        # Created; its series gained the episode; lost it again. The episode's new runtime leaves it alike.
        ("programme", f"pp{unique}"): [(False, 30), (False, 30), (False, 30)],
        ("episode", f"pe{unique}"): [(False, 31), (False, 32), (True, None)],
    }
    first = next(p for p in items if p["item_type"] == "episode")
    assert (first["programme_id"], first["season"], first["episode"]) == (f"pp{unique}", 1, 2)
    assert first["item"]["programme_id"] == f"pp{unique}" and "instances" not in first["item"]
    async with TopicReader(kafka_bootstrap, CATALOG_AVAILABILITY_CHANGES) as reader:
        told = mine(await reader.wait_for(lambda ps: len(mine(ps)) >= 3))
    assert [(p["source_id"], p["instance"] and p["instance"]["price_rent_hd"]) for p in told] == [
        (f"pub{unique}", 299),
        (f"pub{unique}", None),
        (f"pub{unique}", None),
    ]
    assert told[1]["instance"] is not None and told[2]["instance"] is None
