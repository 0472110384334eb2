"""The production topology (a process per service, real Kafka and PostgreSQL): a crashed service
gives 503 at the gateway, comes back by itself when restarted, and loses nothing it acknowledged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.contracts import PROFILE_CHANGES
from tanktop.kafka import free_port
from tanktop.stack import Stack
from tests.api import assert_problem
from tests.conftest import make_key
from tests.kafka_reader import TopicReader


@pytest.fixture(scope="module")
async def stack(
    postgres_url: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    # Started and stopped off the event loop: the session's in-process platform runs on it, and a loop
    # frozen mid-transaction would hold locks the starting processes wait for.
    running = Stack(
        postgres_url,
        kafka_bootstrap,
        gateway_port=free_port(),
        service_ports={"profiles": free_port()},
        log_dir=Path(tmp_path_factory.mktemp("stack-logs")),
    )
    await asyncio.to_thread(running.start)
    yield running
    await asyncio.to_thread(running.stop)


async def test_killed_service_gives_503_then_recovers_with_nothing_lost(
    stack: Stack, db_pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    key = await make_key(db_pool)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.gateway_port}", timeout=10) as http:
        acknowledged = []
        for n in range(50):
            response = await http.put(key.path(f"user/crash{n}/"), json={"n": n})
            assert response.status_code == 201
            acknowledged.append(f"crash{n}")
        stack.kill("profiles")  # at once: the relay may not have published these yet

        assert_problem(await http.get(key.path("user/crash0/")), 503)

        await asyncio.to_thread(stack.start_service, "profiles")
        deadline = time.monotonic() + 30
        while (await http.get(key.path("user/crash0/"))).status_code != 200:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        assert (await http.get(key.path("user/crash49/"))).json() == {"id": "crash49", "n": 49}

    async with TopicReader(kafka_bootstrap, PROFILE_CHANGES) as reader:
        payloads = await reader.wait_for(
            lambda ps: {p["user_id"] for p in ps if p["tenant"] == key.tenant} >= set(acknowledged), within=30
        )
    created = [p for p in payloads if p["tenant"] == key.tenant and p["change"] == "created"]
    assert {p["user_id"] for p in created} == set(acknowledged)
    # A republished change (relay killed before mark-sent) carries the same event id: receivers can drop it.
    assert {p["event_id"] for p in created} == {f"profile:{key.tenant}:{user}:1" for user in acknowledged}


async def test_service_readiness_reports_its_dependencies(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for port in stack.ports.values():
            ready = await http.get(f"http://127.0.0.1:{port}/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"database": True, "bus": True}
