"""XMLTV import through the API: a real-world-shaped guide, matching, idempotence, and hostile documents."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from services.catalog import xmltv
from shared.contracts import CATALOG_SCHEDULE_CHANGES
from tests.api import ApiKey, assert_problem
from tests.kafka_reader import TopicReader

GUIDE = (Path(__file__).parent / "guide.xml").read_bytes()
XML = {"content-type": "application/xml"}
DAY = {"from": "2030-03-01T00:00:00Z", "to": "2030-03-02T00:00:00Z"}


def slot_summary(slots: list[dict]) -> list[tuple]:
    return [
        (
            s["start"][11:16],
            s["stop"][11:16],
            s["item_type"],
            s.get("programme_title") or s["title"],
            s.get("season"),
            s.get("episode"),
            s["hd"],
        )
        for s in slots
    ]


async def test_a_real_world_guide_imports_and_reimports_idempotently(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, kafka_bootstrap: str
) -> None:
    answer = await client.post(admin_key.path("epg/xmltv"), content=GUIDE, headers=XML)
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert summary["channels"] == {"in_guide": 4, "created": 4}
    assert (summary["programmes"], summary["slots"], summary["matched"]) == (12, 11, 0)
    assert summary["created"] == {"movie": 1, "programme": 6, "episode": 6}
    assert summary["skipped"]["count"] == 1 and "Late Film Club" in summary["skipped"]["examples"][0]

    channels = {c["xmltv_id"]: c for c in (await client.get(api_key.path("channel/"))).json()["channels"]}
    one = channels["fixture-one.example.uk"]
    assert one == {
        **one,
        "id": "fixture-one.example.uk",
        "name": "Fixture One",
        "icon_url": "http://example.invalid/logos/one.png",
    }
    two = channels["Fixture Two HD"]
    assert two["id"].startswith("epg-c-") and two["name"] == "Fixture Two HD"
    assert channels["fixture-four.example.uk"]["name"] == "fixture-four.example.uk"

    first = (await client.get(api_key.path("schedule/fixture-one.example.uk/"), params=DAY)).json()["slots"]
    assert slot_summary(first) == [
        ("06:00", "06:30", "programme", "Fixture Morning News", None, None, False),
        ("06:30", "07:30", "episode", "The Lighthouse Keepers", 2, 5, True),  # xmltv_ns 1.4 is S2E5; no stop
        ("07:30", "09:30", "movie", "The Glass Orchard", None, None, False),
        ("09:30", "10:25", "episode", "The Lighthouse Keepers", 2, 6, False),  # onscreen S02E06; no stop
        ("10:25", "11:00", "programme", "Fixture Morning News", None, None, False),
    ]
    second = (await client.get(api_key.path(f"schedule/{two['id']}/"), params=DAY)).json()["slots"]
    assert slot_summary(second) == [
        ("07:00", "08:00", "episode", "Garden Rescue Squad", 1, 1, False),  # +0100 local times
        ("08:00", "09:00", "episode", "Garden Rescue Squad", 1, 2, True),  # overlapping stop cut to the next start
        ("09:00", "10:00", "episode", "Garden Rescue Squad", 1, 3, False),
        ("10:00", "10:30", "programme", "Fixture Weather", None, None, False),
    ]
    third = (await client.get(api_key.path("schedule/fixture-three.example.uk/"), params=DAY)).json()["slots"]
    assert slot_summary(third) == [("12:00", "13:00", "episode", "Quiz of Tides", None, 12, False)]

    [episode] = (await client.get(api_key.path(f"episode/{first[1]['item_id']}/"))).json()["episodes"]
    assert episode["title"] == "Storm Warning" and episode["runtime"] == 55 and episode["first_aired"] == "2029-01-14"
    assert episode["external_ids"] == {"dd_progid": "EP00FIX01.0205"}
    assert [d["name"] for d in episode["directors"]] == ["Ada Quill"]
    assert [a["name"] for a in episode["actors"]] == ["Ben Harrow", "Cara Vell"]
    [movie] = (await client.get(api_key.path(f"movie/{first[2]['item_id']}/"))).json()["movies"]
    assert (movie["year"], movie["runtime"], movie["director_name"]) == (1987, 110, "Dee Marsh")
    assert [c["name"] for c in movie["categories"]] == ["Movie", "Drama"]
    [show] = (await client.get(api_key.path(f"programme/{first[1]['programme_id']}/"))).json()["programmes"]
    assert [c["name"] for c in show["categories"]] == ["Drama"]
    assert [s["season"] for s in show["series"]] == [2] and len(show["series"][0]["episodes"]) == 2

    async with TopicReader(kafka_bootstrap, CATALOG_SCHEDULE_CHANGES) as reader:
        told = await reader.wait_for(lambda ps: any(p["channel_id"] == "fixture-one.example.uk" for p in ps))
    [day_one] = [p for p in told if p["channel_id"] == "fixture-one.example.uk"]
    assert (day_one["window_start"], day_one["window_end"]) == ("2030-03-01T06:00:00Z", "2030-03-01T11:00:00Z")
    assert [s["item_type"] for s in day_one["slots"]] == ["programme", "episode", "movie", "episode", "programme"]
    assert day_one["slots"][1]["programme_id"] == first[1]["programme_id"] and day_one["slots"][1]["hd"] is True

    again = (await client.post(admin_key.path("epg/xmltv/"), content=GUIDE, headers=XML)).json()
    assert again["created"] == {"movie": 0, "programme": 0, "episode": 0}
    assert (again["matched"], again["schedule_changes"], again["channels"]["created"]) == (11, 0, 0)
    assert (await client.get(api_key.path("schedule/fixture-one.example.uk/"), params=DAY)).json()["slots"] == first


async def test_programmes_match_catalog_items_by_external_id_or_title_season_episode(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, unique: str
) -> None:
    await client.put(admin_key.path(f"programme/op{unique}/"), json={"title": f"Ocean Patrol {unique}"})
    await client.put(
        admin_key.path(f"episode/op{unique}-1-3/"), json={"programme_id": f"op{unique}", "season": 1, "episode": 3}
    )
    await client.put(
        admin_key.path(f"episode/op{unique}-pilot/"), json={"programme_id": f"op{unique}", "title": "The Pilot"}
    )
    await client.put(
        admin_key.path(f"movie/mv{unique}/"),
        json={"title": "Known Elsewhere", "external_ids": {"dd_progid": f"MV{unique}"}},
    )
    guide = f"""<?xml version="1.0"?>
<tv>
  <programme start="20300401180000 +0000" stop="20300401183000 +0000" channel="match-{unique}">
    <title>OCEAN PATROL {unique}!</title><episode-num system="onscreen">S01E03</episode-num>
  </programme>
  <programme start="20300401183000 +0000" stop="20300401190000 +0000" channel="match-{unique}">
    <title>Ocean Patrol {unique}</title><sub-title>The pilot</sub-title>
  </programme>
  <programme start="20300401190000 +0000" stop="20300401210000 +0000" channel="match-{unique}">
    <title>A Different Title Entirely</title><episode-num system="dd_progid">MV{unique}</episode-num>
  </programme>
  <programme start="20300401210000 +0000" stop="20300401220000 +0000" channel="match-{unique}">
    <title>Ocean Patrol {unique}</title><episode-num system="xmltv_ns">0.4.</episode-num>
  </programme>
</tv>""".encode()
    summary = (
        await client.post(admin_key.path("epg/xmltv"), content=guide, headers={"content-type": "text/xml"})
    ).json()
    assert summary["matched"] == 3 and summary["created"] == {"movie": 0, "programme": 0, "episode": 1}
    slots = (
        await client.get(api_key.path(f"schedule/match-{unique}/"), params={"from": "2030-04-01T00:00:00Z"})
    ).json()["slots"]
    assert [(s["item_type"], s["item_id"]) for s in slots[:3]] == [
        ("episode", f"op{unique}-1-3"),
        ("episode", f"op{unique}-pilot"),
        ("movie", f"mv{unique}"),
    ]
    assert (slots[3]["programme_id"], slots[3]["season"], slots[3]["episode"]) == (f"op{unique}", 1, 5)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE tv [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<tv><programme start="20300101000000" stop="20300101010000" channel="evil"><title>&lol4;</title></programme></tv>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE tv [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<tv><channel id="evil"><display-name>&secret;</display-name></channel></tv>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE tv [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<tv></tv>"""


@pytest.mark.parametrize(
    "document", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY], ids=["laughs", "xxe", "param"]
)
async def test_hostile_documents_are_refused(
    client: httpx.AsyncClient, admin_key: ApiKey, api_key: ApiKey, document: bytes
) -> None:
    response = await client.post(admin_key.path("epg/xmltv"), content=document, headers=XML)
    assert_problem(response, 400, mentions="entities")
    channels = (await client.get(api_key.path("channel/"))).json()["channels"]
    assert not any(c["xmltv_id"] == "evil" for c in channels)


@pytest.mark.parametrize(
    ("body", "headers", "status", "mentions"),
    [
        (b"<tv><programme", XML, 400, "well-formed"),
        (b"", XML, 400, "empty"),
        (b"<schedule></schedule>", XML, 400, "<tv>"),
        (b"<tv></tv>", {"content-type": "application/json"}, 415, "application/xml"),
    ],
)
async def test_bad_documents_are_4xx(
    client: httpx.AsyncClient, admin_key: ApiKey, body: bytes, headers: dict, status: int, mentions: str
) -> None:
    assert_problem(
        await client.post(admin_key.path("epg/xmltv"), content=body, headers=headers), status, mentions=mentions
    )


async def test_unusable_programmes_are_skipped_not_fatal(
    client: httpx.AsyncClient, admin_key: ApiKey, unique: str
) -> None:
    guide = f"""<tv>
      <programme start="not a time" channel="sk-{unique}"><title>Bad Time</title></programme>
      <programme start="20300501000000 +0000" stop="20300501010000 +0000" channel="sk-{unique}"></programme>
      <programme start="20300501010000 +0000" stop="20300501020000 +0000" channel="sk-{unique}">
        <title>Fine</title>
      </programme>
    </tv>""".encode()
    summary = (await client.post(admin_key.path("epg/xmltv"), content=guide, headers=XML)).json()
    assert (summary["slots"], summary["skipped"]["count"]) == (1, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.4.0/1", (2, 5)),
        ("0.0.", (1, 1)),
        (" 0 . 2 . 0/2 ", (1, 3)),
        (".9.", (None, 10)),
        ("2/5.9/24.", (3, 10)),
        ("..0/1", (None, None)),
        ("", (None, None)),
    ],
)
def test_xmltv_ns_numbers_are_zero_based(text: str, expected: tuple) -> None:
    assert xmltv.xmltv_ns(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("S01E02", (1, 2)),
        ("S2 E5", (2, 5)),
        ("s10e110", (10, 110)),
        ("Season 3, Episode 7", (3, 7)),
        ("3x07", (3, 7)),
        ("Episode 12", (None, 12)),
        ("Ep. 4", (None, 4)),
        ("Part One", None),
    ],
)
def test_onscreen_numbers(text: str, expected: tuple | None) -> None:
    assert xmltv.onscreen_numbers(text) == expected


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("20300301063000 +0000", "2030-03-01T06:30:00+00:00"),
        ("20300301080000 +0100", "2030-03-01T07:00:00+00:00"),
        ("203003010800 -0500", "2030-03-01T13:00:00+00:00"),
        ("20300301080000", "2030-03-01T08:00:00+00:00"),
        ("20300301080000 BST", "2030-03-01T07:00:00+00:00"),
    ],
)
def test_xmltv_times(text: str, utc: str) -> None:
    assert xmltv.parse_time(text).isoformat() == utc


def test_the_fixture_parses_as_expected() -> None:
    guide = xmltv.parse(io.BytesIO(GUIDE))
    assert [c.xmltv_id for c in guide.channels] == [
        "fixture-one.example.uk",
        "Fixture Two HD",
        "fixture-three.example.uk",
    ]
    kinds = [(p.title, p.kind) for p in guide.programmes]
    assert ("The Glass Orchard", "movie") in kinds and ("Fixture Weather", "programme") in kinds
    storm = next(p for p in guide.programmes if p.sub_title == "Storm Warning")
    assert (storm.season, storm.episode, storm.hd, storm.external_ids) == (2, 5, True, {"dd_progid": "EP00FIX01.0205"})
