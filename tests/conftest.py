"""One real PostgreSQL and one real Kafka broker per test session, and the platform in front of them.

The platform runs as the single-machine default does (every service in-process behind the gateway)
but on the Kafka bus, served by uvicorn on a loopback port, so tests call it over HTTP as users do.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer

from gateway import auth
from gateway import store as gateway_store
from shared import db
from shared.migrations import migrate
from tanktop.kafka import KafkaBroker, free_port
from tanktop.local import build_platform
from tanktop.postgres import embedded_server
from tests.api import ApiKey


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server, url = embedded_server(tmp_path_factory.mktemp("postgres") / "data")
    yield url
    server.cleanup()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka") / "broker")
    broker.start()
    yield broker.bootstrap
    broker.stop()


@pytest.fixture(scope="session")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    """For tests that play another service: they publish contract messages to the real broker."""
    kafka = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.fixture(scope="session")
async def db_pool(postgres_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(postgres_url, min_size=1, max_size=4)
    await migrate(pool, gateway_store.SCHEMA, "gateway")
    yield pool
    await pool.close()


@pytest.fixture
async def own_database(postgres_url: str, db_pool: asyncpg.Pool) -> AsyncIterator[str]:
    """A database of the test's own: no relay of the session's platform can publish its outbox rows."""
    name = f"own_{uuid.uuid4().hex[:10]}"
    await db_pool.execute(f"create database {name}")
    yield urlunsplit(urlsplit(postgres_url)._replace(path=f"/{name}"))
    await db_pool.execute(f"drop database {name} with (force)")


async def serve(app: object, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning", access_log=False)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    # Ctrl-C stops pytest, not just this server: the test process keeps its own signal handlers.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign, assignment]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped during start-up")
        await asyncio.sleep(0.05)
    return server, task


@pytest.fixture(scope="session")
async def platform_url(postgres_url: str, kafka_bootstrap: str) -> AsyncIterator[str]:
    port = free_port()
    server, task = await serve(build_platform(postgres_url, kafka_bootstrap, key_cache_seconds=1.0), port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def client(platform_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform_url, timeout=30) as http:
        yield http


async def make_key(pool: asyncpg.Pool, role: str = "tenant", rate: float = 10_000, burst: int = 10_000) -> ApiKey:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    key, _ = await auth.create_key(pool, tenant, role, rate, burst)
    return ApiKey(key=key, tenant=tenant)


@pytest.fixture
async def api_key(db_pool: asyncpg.Pool) -> ApiKey:
    """A key of a tenant of its own, so tests never see each other's data."""
    return await make_key(db_pool)


@pytest.fixture
async def admin_key(db_pool: asyncpg.Pool) -> ApiKey:
    return await make_key(db_pool, role="admin")


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]
