"""The whole pipeline through the gateway: the catalog written with an admin key, events posted with a
tenant's key, live viewing inferred by bookmarks and applied by the events service (origin `live`).

Staleness needs events a year old, which the API cannot backdate; test_bookmark_rules covers it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.bookmarks.app import create_app
from services.bookmarks.settings import Settings
from shared import timefmt
from shared.contracts import CATALOG_ITEM_CHANGES, CATALOG_SCHEDULE_CHANGES, EVENT_CHANGES, INFERRED_EVENTS
from tests.api import ApiKey
from tests.bookmarks.feed import caught_up, evening, poll, settled
from tests.kafka_reader import TopicReader


class Platform:
    """What a test does through the gateway: write the catalog as the admin, post events as the tenant."""

    def __init__(self, client: httpx.AsyncClient, tenant: ApiKey, admin: ApiKey, unique: str) -> None:
        self.client, self.tenant, self.admin, self.unique = client, tenant, admin, unique

    async def put(self, path: str, body: dict[str, Any]) -> None:
        response = await self.client.put(self.admin.path(path), json=body)
        assert response.status_code in (200, 201), response.text

    async def post(self, path: str) -> None:
        response = await self.client.post(self.tenant.path(path))
        assert response.status_code == 204, response.text

    async def delete(self, path: str) -> None:
        response = await self.client.delete(self.tenant.path(path))
        assert response.status_code == 204, response.text

    async def series(self) -> tuple[str, dict[str, str]]:
        """A programme with two seasons of two episodes and a special; episode ids by "s1e1" and so on."""
        programme = f"p-{self.unique}"
        await self.put(f"programme/{programme}/", {"title": "Tank Top Tales"})
        episodes = {}
        for season, number in ((1, 1), (1, 2), (2, 1), (2, 2), (0, 1)):
            name = f"s{season}e{number}"
            episodes[name] = f"{self.unique}-{name}"
            await self.episode(episodes[name], programme, season, number)
        return programme, episodes

    async def episode(self, item_id: str, programme: str, season: int, number: int) -> None:
        body = {"programme_id": programme, "season": season, "episode": number, "runtime": 30}
        await self.put(f"episode/{item_id}/", body)

    async def movie(self, runtime: int = 100) -> str:
        movie = f"m-{self.unique}"
        await self.put(f"movie/{movie}/", {"title": "The Long Film", "runtime": runtime})
        return movie

    async def channel(self, name: str, slots: list[tuple[str, str, str, str]]) -> str:
        """A channel with (start, stop, item type, item id) slots on yesterday evening."""
        channel = f"{name}-{self.unique}"
        await self.put(f"channel/{channel}/", {"name": name})
        await self.schedule(channel, slots)
        return channel

    async def schedule(self, channel: str, slots: list[tuple[str, str, str, str]]) -> None:
        body = {
            "slots": [
                {"start": moment(start), "stop": moment(stop), "item_type": item_type, "item_id": item_id}
                for start, stop, item_type, item_id in slots
            ]
        }
        await self.put(f"schedule/{channel}/", body)

    async def watch(self, user_id: str, *marks: tuple[str, str, str]) -> None:
        for event, channel, hhmm in marks:
            await self.post(f"event/{user_id}/{event}/channel/{channel}/{int(evening(hhmm).timestamp())}/")

    async def values(self, user_id: str, event: str, item_type: str, item_ids: list[str]) -> dict[str, Any]:
        query = "&".join(f"id={item_id}" for item_id in item_ids)
        response = await self.client.get(self.tenant.path(f"event/{user_id}/{event}/{item_type}/?{query}"))
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()[event]
        return found

    async def eventually(self, user_id: str, event: str, item_type: str, expected: dict[str, Any]) -> None:
        await poll(lambda: self.values(user_id, event, item_type, list(expected) or ["none"]), expected.__eq__)


def moment(hhmm: str) -> str:
    return timefmt.format(evening(hhmm))


@pytest.fixture
def platform(client: httpx.AsyncClient, api_key: ApiKey, admin_key: ApiKey, unique: str) -> Platform:
    return Platform(client, api_key, admin_key, unique)


def movie(item_id: str, position: float, runtime: int = 100) -> dict[str, object]:
    return {"item_type": "movie", "item_id": item_id, "state": "in_progress", "position": position, "runtime": runtime}


def programme(item_id: str, state: str, position: float, episode_id: str, season: int, number: int) -> dict[str, Any]:
    return {
        "item_type": "programme",
        "item_id": item_id,
        "state": state,
        "position": position,
        "runtime": 30,
        "episode_id": episode_id,
        "season": season,
        "episode": number,
    }


async def test_each_bookmark_rule_through_the_platform(platform: Platform, api_key: ApiKey) -> None:
    client = platform.client
    show, ep = await platform.series()
    film = await platform.movie(runtime=100)

    # A movie under 5% makes no bookmark; a user's events are taken in order, so once the episode
    # posted after it shows, the movie's progress has been taken in too.
    await platform.post(f"event/u1/progress/movie/{film}/4/")
    await platform.post(f"event/u1/progress/episode/{ep['s1e1']}/10/")
    await settled(client, api_key, "u1", [programme(show, "in_progress", 10, ep["s1e1"], 1, 1)])

    await platform.post(f"event/u1/progress/movie/{film}/30/")
    await settled(client, api_key, "u1", [movie(film, 30), programme(show, "in_progress", 10, ep["s1e1"], 1, 1)])
    # Seen, the movie is gone; undoing the seen brings it back; 90% of its runtime is seen too.
    await platform.post(f"event/u1/seen/movie/{film}/")
    await settled(client, api_key, "u1", [programme(show, "in_progress", 10, ep["s1e1"], 1, 1)])
    await platform.delete(f"event/u1/seen/movie/{film}/")
    await settled(client, api_key, "u1", [movie(film, 30), programme(show, "in_progress", 10, ep["s1e1"], 1, 1)])
    await platform.post(f"event/u1/progress/movie/{film}/90/")
    await settled(client, api_key, "u1", [programme(show, "in_progress", 10, ep["s1e1"], 1, 1)])

    # The episode after the furthest seen, crossing into season 2; specials are left out.
    await platform.post(f"event/u1/seen/episode/{ep['s1e2']}/")
    await platform.post(f"event/u1/seen/episode/{ep['s0e1']}/")
    await platform.post(f"event/u1/seen/episode/{ep['s1e1']}/")
    await settled(client, api_key, "u1", [programme(show, "up_next", 0, ep["s2e1"], 2, 1)])

    # Hidden, it is left out.
    await platform.post(f"event/u1/hide/programme/{show}/")
    await settled(client, api_key, "u1", [])
    await platform.delete(f"event/u1/hide/programme/{show}/")
    await settled(client, api_key, "u1", [programme(show, "up_next", 0, ep["s2e1"], 2, 1)])

    # Finished: no bookmark until the catalog adds an episode.
    await platform.post(f"event/u1/progress/episode/{ep['s2e1']}/29/")
    await platform.post(f"event/u1/seen/episode/{ep['s2e2']}/")
    await settled(client, api_key, "u1", [])
    new = f"{platform.unique}-s2e3"
    await platform.episode(new, show, 2, 3)
    [listed] = await settled(client, api_key, "u1", [programme(show, "up_next", 0, new, 2, 3)])
    one = await client.get(api_key.path(f"bookmark/u1/programme/{show}/"))
    assert one.json() == listed


async def test_a_live_evening_becomes_progress_and_seen(
    platform: Platform, api_key: ApiKey, kafka_bootstrap: str, postgres_url: str
) -> None:
    show, ep = await platform.series()
    film = await platform.movie(runtime=100)
    channel = await platform.channel(
        "one",
        [
            ("20:00", "20:30", "episode", ep["s1e1"]),
            ("20:30", "21:00", "episode", ep["s1e2"]),
            ("21:00", "22:00", "movie", film),
        ],
    )
    async with TopicReader(kafka_bootstrap, INFERRED_EVENTS) as reader:
        await platform.watch("u1", ("start", channel, "20:05"), ("end", channel, "21:10"))
        await platform.eventually("u1", "progress", "episode", {ep["s1e1"]: 25, ep["s1e2"]: 30})
        await platform.eventually("u1", "seen", "episode", {ep["s1e2"]: None})
        await platform.eventually("u1", "progress", "movie", {film: 10})
        assert await platform.values("u1", "seen", "episode", [ep["s1e1"]]) == {}
        expected = [movie(film, 10), programme(show, "in_progress", 25, ep["s1e1"], 1, 1)]
        listed = await settled(platform.client, api_key, "u1", expected)
        assert listed[0]["updated_at"] == moment("21:10")  # when the viewing ended, not when it was told
        inferred = await _inferred(reader, api_key.tenant, 4)

        # Everything consumed again from the beginning by another consumer group changes nothing.
        replaying = Settings(
            database_url=postgres_url, kafka_bootstrap=kafka_bootstrap, consumer_group_prefix=f"again-{platform.unique}"
        )
        app = create_app(replaying)
        async with app.router.lifespan_context(app):
            await caught_up(kafka_bootstrap, f"again-{platform.unique}-events", [EVENT_CHANGES])
            await caught_up(
                kafka_bootstrap, f"again-{platform.unique}-catalog", [CATALOG_ITEM_CHANGES, CATALOG_SCHEDULE_CHANGES]
            )
        # A last viewing, after the rest: once its inference is out, any repeated one would be too.
        other = await platform.channel("two", [("23:00", "23:30", "episode", ep["s2e1"])])
        await platform.watch("u1", ("start", other, "23:00"), ("end", other, "23:20"))
        await platform.eventually("u1", "progress", "episode", {ep["s2e1"]: 20})
        assert await _inferred(reader, api_key.tenant, 5) == [*inferred, ("progress", ep["s2e1"], 20)]
        await settled(
            platform.client, api_key, "u1", [programme(show, "in_progress", 20, ep["s2e1"], 2, 1), movie(film, 10)]
        )


async def _inferred(reader: TopicReader, tenant: str, count: int) -> list[tuple[str, str, Any]]:
    """The tenant's inferred events on the topic, once there are `count` of them."""
    payloads = await reader.wait_for(lambda seen: sum(p.get("tenant") == tenant for p in seen) >= count)
    return [(p["event"], p["item_id"], p["value"]) for p in payloads if p.get("tenant") == tenant]


async def test_a_channel_change_without_end_and_a_short_zap(platform: Platform) -> None:
    _, ep = await platform.series()
    film = await platform.movie()
    first = await platform.channel(
        "one", [("20:00", "20:30", "episode", ep["s1e1"]), ("20:30", "21:00", "episode", ep["s1e2"])]
    )
    zapped = await platform.channel("two", [("20:00", "21:00", "movie", film)])
    third = await platform.channel("three", [("20:30", "21:00", "episode", ep["s2e1"])])
    await platform.watch(
        "u1",
        ("start", first, "20:05"),
        ("start", zapped, "20:10"),  # two minutes on another channel count for nothing
        ("start", first, "20:12"),
        ("start", third, "20:40"),  # no end on the first channel: the change closes it
        ("end", third, "20:55"),
    )
    # 5 + 18 minutes of the first slot (zapping back adds up), 10 of the second, 15 on the third channel.
    await platform.eventually("u1", "progress", "episode", {ep["s1e1"]: 23, ep["s1e2"]: 10, ep["s2e1"]: 15})
    assert await platform.values("u1", "progress", "movie", [film]) == {}
    assert await platform.values("u1", "seen", "episode", list(ep.values())) == {}


async def test_out_of_order_arrival_gives_the_same_result(platform: Platform) -> None:
    _, ep = await platform.series()
    film = await platform.movie()
    channel = f"late-{platform.unique}"
    await platform.put(f"channel/{channel}/", {"name": "late"})
    # The end told before its start, and the schedule written only after the viewing.
    await platform.watch("u1", ("end", channel, "21:10"), ("start", channel, "20:05"))
    await platform.schedule(
        channel,
        [
            ("20:00", "20:30", "episode", ep["s1e1"]),
            ("20:30", "21:00", "episode", ep["s1e2"]),
            ("21:00", "22:00", "movie", film),
        ],
    )
    await platform.eventually("u1", "progress", "episode", {ep["s1e1"]: 25, ep["s1e2"]: 30})
    await platform.eventually("u1", "seen", "episode", {ep["s1e2"]: None})
    await platform.eventually("u1", "progress", "movie", {film: 10})
