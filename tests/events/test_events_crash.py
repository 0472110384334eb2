"""The events service as its own process, killed with SIGKILL under load and restarted: every POST it
acknowledged reaches Kafka (duplicates only with the same event id), and each user's order holds."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway import auth
from gateway import store as gateway_store
from shared import db
from shared.contracts import EVENT_CHANGES
from shared.migrations import migrate
from tanktop.kafka import free_port
from tanktop.stack import Stack
from tests.api import ApiKey
from tests.kafka_reader import TopicReader

USERS = 8


@pytest.fixture
async def api_key_there(own_database: str) -> ApiKey:
    pool = await db.create_pool(own_database, min_size=1, max_size=1)
    try:
        await migrate(pool, gateway_store.SCHEMA, "gateway")
        tenant = f"crash-{uuid.uuid4().hex[:8]}"
        key, _ = await auth.create_key(pool, tenant, "tenant", 100_000, 100_000)
    finally:
        await pool.close()
    return ApiKey(key=key, tenant=tenant)


@pytest.fixture
async def stack(own_database: str, kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Stack]:
    # Started and stopped off the event loop: the session's in-process platform runs on it, and a loop
    # frozen mid-transaction would hold locks the starting processes wait for.
    running = Stack(
        own_database,
        kafka_bootstrap,
        gateway_port=free_port(),
        service_ports={"events": free_port()},
        log_dir=tmp_path / "logs",
        # A consumer group of its own: the in-process platform of the other tests keeps theirs.
        extra_env={"TANKTOP_EVENTS_CONSUMER_GROUP": f"events-crash-{uuid.uuid4().hex[:8]}"},
    )
    await asyncio.to_thread(running.start)
    yield running
    await asyncio.to_thread(running.stop)


class Load:
    """One sender per user, each POST after the last was answered; what was acknowledged, in order."""

    def __init__(self, http: httpx.AsyncClient, key: ApiKey) -> None:
        self.http = http
        self.key = key
        self.acknowledged: dict[str, list[int]] = {f"user{u}": [] for u in range(USERS)}
        self.failed = 0
        self.stopping = asyncio.Event()

    async def send(self, user: str) -> None:
        n = 0
        while not self.stopping.is_set():
            try:
                response = await self.http.post(self.key.path(f"event/{user}/tick/counter/n{n}/{n}/"))
                if response.status_code == 204:
                    self.acknowledged[user].append(n)
                else:
                    assert response.status_code == 503, response.text
                    self.failed += 1
                    await asyncio.sleep(0.02)
            except httpx.TransportError:
                self.failed += 1
                await asyncio.sleep(0.02)
            n += 1

    def total(self) -> int:
        return sum(len(values) for values in self.acknowledged.values())


async def wait_until(condition: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_sigkill_under_load_loses_no_acknowledged_event(
    stack: Stack, api_key_there: ApiKey, kafka_bootstrap: str
) -> None:
    key = api_key_there
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.gateway_port}", timeout=10) as http:
        load = Load(http, key)
        senders = [asyncio.create_task(load.send(user)) for user in load.acknowledged]
        try:
            await wait_until(lambda: load.total() >= 300, within=30)
            stack.kill("events")
            before_kill = load.total()
            await asyncio.sleep(0.5)  # requests now fail: the service is gone
            await asyncio.to_thread(stack.start_service, "events")
            await wait_until(lambda: load.total() >= before_kill + 300, within=30)
        finally:
            load.stopping.set()
            await asyncio.gather(*senders)
        assert load.failed > 0, "the kill was not felt"

        # The state holds every acknowledged value.
        for user, values in load.acknowledged.items():
            last = values[-1]
            response = await http.get(
                key.path(f"event/{user}/tick/counter/"), params={"id": [f"n{n}" for n in values[-50:]]}
            )
            assert response.json()["tick"][f"n{last}"] == last

    def complete(payloads: list[dict[str, Any]]) -> bool:
        seen: dict[str, set[int]] = {user: set() for user in load.acknowledged}
        for payload in payloads:
            if payload["tenant"] == key.tenant:
                seen[payload["user_id"]].add(payload["value"])
        return all(seen[user] >= set(values) for user, values in load.acknowledged.items())

    async with TopicReader(kafka_bootstrap, EVENT_CHANGES) as reader:
        await reader.wait_for(complete, within=60)
    mine = [(k, p) for k, p in reader.seen if p["tenant"] == key.tenant]

    first_by_id: dict[str, dict[str, Any]] = {}
    order: dict[str, list[int]] = {user: [] for user in load.acknowledged}
    for kafka_key, payload in mine:
        assert kafka_key == f"{key.tenant}:{payload['user_id']}"
        earlier = first_by_id.get(payload["event_id"])
        if earlier is not None:
            assert earlier == payload, "a duplicate is the same change with the same event id"
            continue
        first_by_id[payload["event_id"]] = payload
        order[payload["user_id"]].append(payload["value"])
    for user, values in load.acknowledged.items():
        published = order[user]
        assert published == sorted(published), f"{user}'s changes are out of order: {published}"
        # Extra ones may be there: committed, but the answer was lost in the kill.
        assert set(values) <= set(published)
