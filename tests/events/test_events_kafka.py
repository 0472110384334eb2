"""What reaches Kafka: every committed change per user in order, and inferred events applied once."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from shared.contracts import EVENT_CHANGES, INFERRED_EVENTS, InferredEvent
from tests.api import ApiKey
from tests.kafka_reader import TopicReader


def of_tenant(tenant: str, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in payloads if p["tenant"] == tenant]


async def test_every_committed_change_is_published_per_user_in_order(
    client: httpx.AsyncClient, api_key: ApiKey, kafka_bootstrap: str
) -> None:
    expected: dict[str, list[tuple[str, str, str, Any, bool]]] = {}

    async def user_story(user: str) -> None:
        steps: list[tuple[str, str, str, Any, bool]] = [
            ("watchlist", "movie", "1", None, False),
            ("rated", "movie", "1", 4, False),
            ("start", "channel", "bbc1", 1733320000, False),
            ("watchlist", "movie", "1", None, True),
            ("rated", "movie", "1", -1, False),
            ("end", "channel", "bbc1", 1733320600, False),
        ]
        for event, item_type, item_id, value, deleted in steps:
            path = api_key.path(f"event/{user}/{event}/{item_type}/{item_id}/")
            response = await (client.delete(path) if deleted else client.post(path, params={"value": value or ""}))
            assert response.status_code == 204
        batch = [
            {"user_id": user, "event": "seen", "item_type": "episode", "item_id": f"e{n}", "value": None}
            for n in range(5)
        ]
        assert (await client.post(api_key.path("events/"), json=batch)).status_code == 200
        expected[user] = steps + [("seen", "episode", f"e{n}", None, False) for n in range(5)]

    users = [f"order-{n}" for n in range(4)]
    await asyncio.gather(*(user_story(user) for user in users))  # users in parallel, each in sequence

    async with TopicReader(kafka_bootstrap, EVENT_CHANGES) as reader:
        payloads = await reader.wait_for(lambda ps: len(of_tenant(api_key.tenant, ps)) >= 4 * 11)
    mine = of_tenant(api_key.tenant, payloads)
    assert len({p["event_id"] for p in mine}) == len(mine) == 4 * 11
    for user in users:
        seen = [p for p in mine if p["user_id"] == user]
        assert [(p["event"], p["item_type"], p["item_id"], p["value"], p["deleted"]) for p in seen] == expected[user]
        assert all(p["origin"] == "api" for p in seen)
        # One key's versions rise in the order its changes were published.
        for key in {(p["event"], p["item_type"], p["item_id"]) for p in seen}:
            versions = [p["version"] for p in seen if (p["event"], p["item_type"], p["item_id"]) == key]
            assert versions == sorted(versions) and len(set(versions)) == len(versions)
    key_of = {key for key, payload in reader.seen if payload["tenant"] == api_key.tenant}
    assert key_of == {f"{api_key.tenant}:{user}" for user in users}


async def test_what_is_published_is_what_changed(
    client: httpx.AsyncClient, api_key: ApiKey, kafka_bootstrap: str
) -> None:
    """A delete of what is not there publishes nothing; a batch publishes each key's net change, in order."""
    user = "net"
    assert (await client.delete(api_key.path(f"event/{user}/seen/movie/absent/"))).status_code == 204
    await client.post(api_key.path(f"event/{user}/seen/movie/there/"))
    await client.delete(api_key.path(f"event/{user}/seen/movie/there/"))
    await client.delete(api_key.path(f"event/{user}/seen/movie/there/"))  # gone already: nothing more
    batch = [
        {"user_id": user, "event": "rated", "item_type": "movie", "item_id": "k", "value": 1},
        {"user_id": user, "event": "rated", "item_type": "movie", "item_id": "b", "value": 5},
        {"user_id": user, "event": "rated", "item_type": "movie", "item_id": "k", "value": 2},
        {"user_id": user, "event": "rated", "item_type": "movie", "item_id": "a", "action": "delete"},
        {"user_id": user, "event": "rated", "item_type": "movie", "item_id": "b", "action": "delete"},
        {"user_id": user, "event": "rated", "item_type": "movie", "item_id": "c", "value": 3},
    ]
    assert (await client.post(api_key.path("events/"), json=batch)).status_code == 200
    await client.post(api_key.path(f"event/{user}/rated/movie/end/9/"))  # published after all of the above

    async with TopicReader(kafka_bootstrap, EVENT_CHANGES) as reader:
        payloads = await reader.wait_for(lambda ps: any(p["item_id"] == "end" for p in of_tenant(api_key.tenant, ps)))
    published = [(p["event"], p["item_id"], p["value"], p["deleted"]) for p in of_tenant(api_key.tenant, payloads)]
    assert published == [
        ("seen", "there", None, False),
        ("seen", "there", None, True),
        ("rated", "k", 2, False),  # the batch's last word on k, once
        ("rated", "c", 3, False),  # b was set and deleted inside the batch: nobody ever saw it
        ("rated", "end", 9, False),
    ]


async def wait_for_value(client: httpx.AsyncClient, url: str, item_id: str, within: float = 20) -> Any:
    deadline = time.monotonic() + within
    while True:
        body = (await client.get(url, params={"id": item_id})).json()
        found = next(iter(body.values()))
        if item_id in found:
            return found[item_id]
        assert time.monotonic() < deadline, f"{item_id} never appeared at {url}"
        await asyncio.sleep(0.1)


def inferred(tenant: str, user: str, event: str, item_type: str, item_id: str, value: Any) -> InferredEvent:
    return InferredEvent(
        event_id=uuid.uuid4().hex,
        tenant=tenant,
        user_id=user,
        event=event,
        item_type=item_type,
        item_id=item_id,
        value=value,
        at=datetime(2026, 12, 4, 15, 0, tzinfo=UTC),
    )


async def publish(producer: AIOKafkaProducer, message: InferredEvent | bytes, key: str) -> None:
    value = message if isinstance(message, bytes) else message.model_dump_json().encode()
    await producer.send_and_wait(INFERRED_EVENTS, value, key=key.encode())


async def test_an_inferred_event_delivered_twice_changes_the_state_once(
    client: httpx.AsyncClient, api_key: ApiKey, kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    user = "viewer"
    kafka_key = f"{api_key.tenant}:{user}"
    progress = inferred(api_key.tenant, user, "progress", "episode", "ep-9", 37)
    await publish(producer, progress, kafka_key)
    await publish(producer, progress, kafka_key)  # the same event id again: a redelivery
    # Behind the duplicate on the same partition, so once it is applied the duplicate was handled.
    marker = inferred(api_key.tenant, user, "seen", "episode", "ep-9", None)
    await publish(producer, marker, kafka_key)

    url = api_key.path(f"event/{user}/progress/episode/")
    assert await wait_for_value(client, url, "ep-9") == 37
    await wait_for_value(client, api_key.path(f"event/{user}/seen/episode/"), "ep-9")
    listed = (await client.get(url)).json()
    assert listed == {"progress": {"ep-9": 37}}

    async with TopicReader(kafka_bootstrap, EVENT_CHANGES) as reader:
        await reader.wait_for(lambda ps: len(of_tenant(api_key.tenant, ps)) >= 2)
        # Keep reading a while: a change published for the duplicate would show up now.
        with contextlib.suppress(AssertionError):
            await reader.wait_for(lambda ps: len(of_tenant(api_key.tenant, ps)) > 2, within=2)
    mine = of_tenant(api_key.tenant, [payload for _, payload in reader.seen])
    assert [(p["event"], p["item_id"], p["value"], p["origin"]) for p in mine] == [
        ("progress", "ep-9", 37, "live"),
        ("seen", "ep-9", None, "live"),
    ]
    assert mine[0]["at"].startswith("2026-12-04T15:00:00")


async def test_a_post_after_an_inferred_event_replaces_it(
    client: httpx.AsyncClient, api_key: ApiKey, producer: AIOKafkaProducer
) -> None:
    await publish(producer, inferred(api_key.tenant, "u", "progress", "movie", "m1", 12.5), f"{api_key.tenant}:u")
    url = api_key.path("event/u/progress/movie/")
    assert await wait_for_value(client, url, "m1") == 12.5
    assert (await client.post(api_key.path("event/u/progress/movie/m1/20/"))).status_code == 204
    assert (await client.get(url, params={"id": "m1"})).json() == {"progress": {"m1": 20}}


async def test_invalid_inferred_events_are_skipped_and_the_rest_applied(
    client: httpx.AsyncClient, api_key: ApiKey, producer: AIOKafkaProducer
) -> None:
    kafka_key = f"{api_key.tenant}:p"
    await publish(producer, b"not json at all", kafka_key)
    await publish(producer, b'{"event_id": "x"}', kafka_key)
    await publish(producer, inferred(api_key.tenant, "p", "progress", "programme", "prog", 10), kafka_key)
    await publish(producer, inferred(api_key.tenant, "p", "Bad Name", "movie", "m", None), kafka_key)
    await publish(producer, inferred(api_key.tenant, "p", "progress", "movie", "m", -3), kafka_key)
    await publish(producer, inferred(api_key.tenant, "p", "seen", "programme", "prog", None), kafka_key)
    assert await wait_for_value(client, api_key.path("event/p/seen/programme/"), "prog") is None
    assert (await client.get(api_key.path("event/p/progress/programme/"))).json() == {"progress": {}}
    assert (await client.get(api_key.path("event/p/progress/movie/"))).json() == {"progress": {}}
