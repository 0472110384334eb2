"""The gateway as a pure ASGI app: it sits on every request's path, so it stays thin."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import orjson
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Receive, Scope, Send

from gateway import openapi, store
from gateway.auth import Caller, KeyRegistry
from gateway.ratelimit import Decision, RateLimiter
from gateway.routing import READ_METHODS, ROUTES, SERVICES, Route
from gateway.settings import Settings
from gateway.upstream import HOP_BY_HOP, HttpUpstream, Upstream, UpstreamUnavailable
from shared import db
from shared import logging as platform_logging
from shared.errors import PROBLEM_CONTENT_TYPE, PUBLIC_PATH_PREFIX, problem_body
from shared.logging import redact_path
from shared.migrations import migrate
from shared.observability import HTTP_LATENCY, HTTP_REQUESTS, incoming_request_id
from shared.tenancy import ROLE_HEADER, TENANT_HEADER

log = structlog.get_logger(__name__)

_INTERNAL_PREFIX = b"x-tanktop-"
_API_PREFIX = "/api/1/"
_TITLES = {
    400: ("Bad request", "bad-request"),
    401: ("Unauthorized", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("Not found", "not-found"),
    413: ("Payload too large", "payload-too-large"),
    429: ("Too many requests", "rate-limited"),
    503: ("Service unavailable", "unavailable"),
}

Lifespan = Callable[[], AbstractAsyncContextManager[None]]


class Reply(Exception):
    """Ends a request early with a problem answer from the gateway itself."""

    def __init__(self, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or []


class Gateway:
    def __init__(
        self,
        settings: Settings,
        *,
        upstreams: dict[str, Upstream] | None = None,
        lifespan: Lifespan | None = None,
    ) -> None:
        self.settings = settings
        self.upstreams: dict[str, Upstream] = upstreams if upstreams is not None else self._http_upstreams(settings)
        self._extra_lifespan = lifespan
        self.limiter = RateLimiter()
        self.pool: asyncpg.Pool | None = None
        self.keys: KeyRegistry | None = None
        self._exit: contextlib.AsyncExitStack | None = None

    @staticmethod
    def _http_upstreams(settings: Settings) -> dict[str, Upstream]:
        urls = {service: getattr(settings, f"{service}_url") for service in SERVICES}
        return {service: HttpUpstream(url, settings.upstream_timeout_seconds) for service, url in urls.items() if url}

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if self._extra_lifespan is not None:
                await stack.enter_async_context(self._extra_lifespan())
            self.pool = await db.create_pool(self.settings.database_url, min_size=1, max_size=5)
            stack.push_async_callback(self.pool.close)
            await migrate(self.pool, store.SCHEMA, "gateway")
            self.keys = KeyRegistry(self.pool, self.settings.key_cache_seconds)
            for upstream in self.upstreams.values():
                await upstream.start()
                stack.push_async_callback(upstream.close)
            log.info("gateway.started", services=sorted(self.upstreams))
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        running = self.running()
        try:
            await running.__aenter__()
        except Exception as error:
            log.exception("gateway.startup.failed")
            await send({"type": "lifespan.startup.failed", "message": f"{type(error).__name__}: {error}"})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        await running.__aexit__(None, None, None)
        await send({"type": "lifespan.shutdown.complete"})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = incoming_request_id(scope)
        path: str = scope["path"]
        route_label = "local"
        status = 500
        tenant: str | None = None
        rate_headers: list[tuple[bytes, bytes]] = []
        try:
            if not path.startswith(_API_PREFIX):
                status = await self._local(scope, receive, send, request_id)
                return
            key, rest_raw = self._split(scope)
            route_label = rest_raw.split(b"/", 2)[1].decode("latin-1") if rest_raw.count(b"/") else ""
            route = ROUTES.get(route_label)
            if route is None:
                route_label = "unknown"
            try:
                caller = await self._authenticate(key)
                tenant = caller.tenant
                decision = self.limiter.take(caller.prefix, caller.rate_per_second, caller.burst)
                rate_headers = _rate_headers(decision)
                if not decision.allowed:
                    raise Reply(
                        429,
                        f"this key may make {decision.limit} requests at once and "
                        f"{caller.rate_per_second:g} a second; retry after {decision.retry_after_seconds} s",
                        [(b"retry-after", str(decision.retry_after_seconds).encode())],
                    )
                status = await self._forward(scope, receive, send, request_id, caller, route, rest_raw, rate_headers)
            except Reply as reply:
                status = reply.status
                extra = reply.headers + rate_headers
                await _send_problem(send, scope, request_id, reply.status, reply.detail, extra)
        finally:
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels("gateway", route_label, scope["method"], str(status)).inc()
            HTTP_LATENCY.labels("gateway", route_label, scope["method"]).observe(elapsed)
            log.debug(
                "request.done",
                method=scope["method"],
                route=route_label,
                status=status,
                tenant=tenant,
                ms=round(elapsed * 1000, 2),
                request_id=request_id,
            )

    @staticmethod
    def _split(scope: Scope) -> tuple[str, bytes]:
        """The key and the service path, taken from the raw path so encoded characters reach the service intact."""
        raw: bytes = scope.get("raw_path") or scope["path"].encode()
        parts = raw.split(b"/", 4)  # b"", b"api", b"1", key, rest
        key = parts[3].decode("latin-1") if len(parts) > 3 else ""
        rest = b"/" + parts[4] if len(parts) > 4 else b"/"
        return key, rest

    async def _authenticate(self, key: str) -> Caller:
        assert self.keys is not None
        if not key:
            raise Reply(401, "the URL carries no API key: call /api/1/{apikey}/...")
        try:
            caller = await self.keys.authenticate(key)
        except db.UNAVAILABLE_ERRORS:
            raise Reply(503, "the key store is unavailable; retry shortly", [(b"retry-after", b"1")]) from None
        if caller is None:
            raise Reply(401, "the API key is unknown or revoked")
        return caller

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request_id: str,
        caller: Caller,
        route: Route | None,
        rest_raw: bytes,
        rate_headers: list[tuple[bytes, bytes]],
    ) -> int:
        method: str = scope["method"]
        if route is not None and route.writes_need_admin and method not in READ_METHODS and caller.role != "admin":
            raise Reply(403, "writing here needs an admin key; this key's role is 'tenant'")
        if route is None or route.service not in self.upstreams:
            raise Reply(404, f"there is no resource at {PUBLIC_PATH_PREFIX}{rest_raw.decode('latin-1')}")
        if b"%2f" in rest_raw.lower():
            raise Reply(400, "identifiers cannot contain '/', not even encoded as %2F")
        body = await _read_body(scope, receive, route.max_body)
        headers = [
            (name, value)
            for name, value in scope["headers"]
            if not name.startswith(_INTERNAL_PREFIX) and name not in HOP_BY_HOP and name != b"x-request-id"
        ]
        headers += [
            (TENANT_HEADER.encode(), caller.tenant.encode()),
            (ROLE_HEADER.encode(), caller.role.encode()),
            (b"x-request-id", request_id.encode()),
        ]
        try:
            answer = await self.upstreams[route.service].forward(
                method, rest_raw, scope.get("query_string", b""), headers, body
            )
        except UpstreamUnavailable as error:
            log.warning("upstream.unavailable", service=route.service, error=str(error), request_id=request_id)
            raise Reply(
                503, f"the {route.service} service is unavailable; retry shortly", [(b"retry-after", b"1")]
            ) from None
        out = [_public_location(name, value, scope) for name, value in answer.headers if name != b"x-request-id"]
        out += rate_headers
        out += [(b"x-request-id", request_id.encode()), (b"content-length", str(len(answer.body)).encode())]
        await send({"type": "http.response.start", "status": answer.status, "headers": out})
        await send({"type": "http.response.body", "body": answer.body})
        return answer.status

    async def _local(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> int:
        path = scope["path"].rstrip("/") or "/"
        if path == "/healthz":
            return await _send_json(send, 200, {"status": "ok"}, request_id)
        if path == "/readyz":
            checks = {"database": self.pool is not None and await db.ping(self.pool)}
            ok = all(checks.values())
            return await _send_json(
                send,
                200 if ok else 503,
                {"status": "ok" if ok else "unavailable", "checks": checks},
                request_id,
            )
        if path == "/metrics":
            await _send_bytes(send, 200, generate_latest(), CONTENT_TYPE_LATEST.encode(), request_id)
            return 200
        if path == "/openapi.json":
            document = await openapi.aggregate(self.upstreams)
            return await _send_json(send, 200, document, request_id)
        if path == "/docs":
            await _send_bytes(send, 200, openapi.SWAGGER_PAGE, b"text/html; charset=utf-8", request_id)
            return 200
        await _send_problem(send, scope, request_id, 404, "API paths start /api/1/{apikey}/", [])
        return 404


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise Reply(413, f"the body is {int(value)} bytes; at most {limit} are accepted here")
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Reply(413, f"the body is over {limit} bytes, the most accepted here")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _rate_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(decision.reset_seconds).encode()),
    ]


def _public_location(name: bytes, value: bytes, scope: Scope) -> tuple[bytes, bytes]:
    """A service says where a new resource is from its own root; the client needs the full API path."""
    if name == b"location" and value.startswith(b"/") and not value.startswith(b"/api/"):
        raw: bytes = scope.get("raw_path") or scope["path"].encode()
        return name, b"/".join(raw.split(b"/", 4)[:4]) + value
    return name, value


async def _send_problem(
    send: Send, scope: Scope, request_id: str, status: int, detail: str, headers: list[tuple[bytes, bytes]]
) -> None:
    title, slug = _TITLES.get(status, ("Error", "error"))
    body = problem_body(
        status=status,
        title=title,
        slug=slug,
        detail=detail,
        instance=redact_path(scope["path"]),
        request_id=request_id,
    )
    await _send_bytes(send, status, orjson.dumps(body), PROBLEM_CONTENT_TYPE.encode(), request_id, headers)


async def _send_json(send: Send, status: int, value: Any, request_id: str) -> int:
    await _send_bytes(send, status, orjson.dumps(value), b"application/json", request_id)
    return status


async def _send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    request_id: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None) -> Gateway:
    settings = settings or Settings()
    platform_logging.configure(settings.log_level)
    return Gateway(settings)
