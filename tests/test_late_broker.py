"""A service started before its Kafka broker serves anyway, says it is not ready, and joins the broker
when that appears, publishing what it acknowledged meanwhile."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx

from services.profiles.app import create_app
from services.profiles.settings import Settings
from shared.contracts import PROFILE_CHANGES
from shared.tenancy import TENANT_HEADER
from tanktop.kafka import KafkaBroker, free_port
from tests.conftest import serve
from tests.kafka_reader import TopicReader


async def test_a_service_started_before_its_broker_catches_up_by_itself(own_database: str, tmp_path: Path) -> None:
    broker = KafkaBroker(tmp_path / "late-broker")  # its ports are chosen now; nothing listens on them yet
    tenant = f"late-{uuid.uuid4().hex[:8]}"
    # A database of its own, so only this service's relay can publish the change, and only to this broker.
    app = create_app(Settings(database_url=own_database, kafka_bootstrap=broker.bootstrap))
    port = free_port()
    server, serving = await serve(app, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={TENANT_HEADER: tenant}) as http:
            created = await http.put("/user/early/", json={"n": 1})
            assert created.status_code == 201, "writes go on: the change waits in the outbox"
            not_ready = await http.get("/readyz")
            assert not_ready.status_code == 503
            assert not_ready.json()["checks"] == {"database": True, "bus": False}

            await asyncio.to_thread(broker.start)
            deadline = time.monotonic() + 60
            while (await http.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, "the service never joined the broker"
                await asyncio.sleep(0.2)

        async with TopicReader(broker.bootstrap, PROFILE_CHANGES) as reader:
            changes = await reader.wait_for(lambda ps: any(p["tenant"] == tenant for p in ps), within=30)
        assert [(p["user_id"], p["change"]) for p in changes if p["tenant"] == tenant] == [("early", "created")]
    finally:
        server.should_exit = True
        await serving
        await asyncio.to_thread(broker.stop)
