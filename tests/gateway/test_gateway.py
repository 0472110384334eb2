"""The gateway's own contract: keys, roles, rate limits, request ids, limits, and its answers when a service is down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx

from gateway import store as gateway_store
from gateway.app import Gateway
from gateway.settings import Settings
from gateway.upstream import HttpUpstream
from tanktop.kafka import free_port
from tests.api import ApiKey, assert_problem
from tests.conftest import make_key, serve


async def test_missing_and_unknown_keys_are_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/1//user/7/"), 401, mentions="key")
    assert_problem(await client.get("/api/1/not-a-key/user/7/"), 401, mentions="unknown")
    assert_problem(await client.get("/api/1/tk_aaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/user/7/"), 401)
    assert_problem(await client.get("/user/7/"), 404, mentions="/api/1/")


async def test_revoked_key_stops_working_within_five_seconds(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    key = await make_key(db_pool)
    assert (await client.put(key.path("user/r/"), json={})).status_code == 201
    prefix = key.key[3:11]
    assert await gateway_store.revoke_key(db_pool, prefix)
    revoked_at = time.monotonic()
    while (await client.get(key.path("user/r/"))).status_code != 401:
        assert time.monotonic() - revoked_at < 5, "a revoked key still worked after 5 s"
        await asyncio.sleep(0.1)
    assert_problem(await client.get(key.path("user/r/")), 401)


async def test_tenant_key_cannot_write_the_catalog(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    for method, path in (
        ("PUT", "movie/1/"),
        ("DELETE", "source/netflix/"),
        ("POST", "ingest/netflix/"),
        ("POST", "epg/xmltv"),
    ):
        assert_problem(await client.request(method, api_key.path(path), json={}), 403, mentions="admin")


async def test_burst_over_the_limit_gets_429_with_retry_after(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    key = await make_key(db_pool, rate=1, burst=5)
    answers = [await client.get(key.path("user/none/")) for _ in range(8)]
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [404] * 5  # within the burst: the service answers
    limited = [a for a in answers if a.status_code == 429]
    assert len(limited) >= 2
    body = assert_problem(limited[0], 429)
    assert int(limited[0].headers["retry-after"]) >= 1
    assert "retry after" in str(body["detail"])
    assert answers[0].headers["ratelimit-limit"] == "5"
    assert int(answers[0].headers["ratelimit-remaining"]) == 4
    assert "ratelimit-reset" in answers[0].headers


async def test_under_the_limit_nothing_is_limited(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    key = await make_key(db_pool, rate=1000, burst=100)
    answers = await asyncio.gather(*(client.get(key.path("user/none/")) for _ in range(60)))
    assert {a.status_code for a in answers} == {404}


async def test_request_ids_are_echoed_or_made(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    echoed = await client.put(api_key.path("user/rid/"), json={}, headers={"X-Request-ID": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"
    made = await client.get(api_key.path("user/rid/"))
    assert len(made.headers["x-request-id"]) == 32
    problem = assert_problem(await client.get(api_key.path("user/nobody/"), headers={"X-Request-ID": "t-9"}), 404)
    assert problem["request_id"] == "t-9"
    assert problem["instance"] == "/api/1/<redacted>/user/nobody"


async def test_clients_cannot_forge_the_tenant(
    client: httpx.AsyncClient, api_key: ApiKey, db_pool: asyncpg.Pool
) -> None:
    victim = await make_key(db_pool)
    await client.put(victim.path("user/v/"), json={"private": True})
    forged = await client.get(api_key.path("user/v/"), headers={"X-Tanktop-Tenant": victim.tenant})
    assert_problem(forged, 404)


async def test_both_slash_forms_answer_without_redirect(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    for path in ("user/s1", "user/s1/"):
        response = await client.put(api_key.path(path), json={"p": path})
        assert response.status_code in (200, 201)
        assert "location" not in response.headers


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    assert_problem(await client.put(api_key.path("user/huge/"), content=b"{" + b" " * 70_000 + b"}"), 413)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    assert_problem(await client.put(api_key.path("user/huge/"), content=chunks()), 413)


async def test_unknown_resources_are_404_problems(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    assert_problem(await client.get(api_key.path("nothing-here/1/")), 404)
    assert_problem(await client.get(api_key.path("")), 404)


async def test_health_metrics_and_docs(client: httpx.AsyncClient, api_key: ApiKey) -> None:
    await client.get(api_key.path("user/m/"))
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] is True
    metrics = (await client.get("/metrics")).text
    assert 'tanktop_http_requests_total{method="GET",route="user",service="gateway",status="404"}' in metrics
    assert 'service="profiles"' in metrics and 'route="/user/{user_id}"' in metrics
    assert "tk_" not in metrics
    document = (await client.get("/openapi.json")).json()
    assert "/api/1/{apikey}/user/{user_id}/" in document["paths"]
    assert "put" in document["paths"]["/api/1/{apikey}/user/{user_id}/"]
    assert "swagger-ui" in (await client.get("/docs")).text


async def test_a_service_that_is_down_gives_503_and_recovery_needs_nothing(
    postgres_url: str, db_pool: asyncpg.Pool
) -> None:
    """The gateway answers 503 while the service's port is closed, and serves again once it listens."""
    key = await make_key(db_pool)
    service_port = free_port()
    gateway = Gateway(
        Settings(database_url=postgres_url),
        upstreams={"profiles": HttpUpstream(f"http://127.0.0.1:{service_port}", timeout_seconds=5)},
    )
    gateway_port = free_port()
    gateway_server, gateway_task = await serve(gateway, gateway_port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}") as http:
            down = await http.get(key.path("user/x/"))
            assert_problem(down, 503, mentions="unavailable")
            assert down.headers["retry-after"] == "1"

            from services.profiles.app import create_app
            from services.profiles.settings import Settings as ProfilesSettings

            service_server, service_task = await serve(
                create_app(ProfilesSettings(database_url=postgres_url)), service_port
            )
            try:
                assert_problem(await http.get(key.path("user/x/")), 404)
            finally:
                service_server.should_exit = True
                await service_task
    finally:
        gateway_server.should_exit = True
        await gateway_task
