"""How the gateway reaches a service: over HTTP (aiohttp, chosen by measurement) or in-process (ASGI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

import aiohttp
from starlette.types import ASGIApp, Message
from yarl import URL

# Headers that describe one hop, not the message; never forwarded.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
    }
)

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    headers: Headers
    body: bytes


class UpstreamUnavailable(Exception):
    """The service could not be reached or did not answer in time."""


class Upstream(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def forward(
        self, method: str, raw_path: bytes, query: bytes, headers: Headers, body: bytes
    ) -> UpstreamResponse: ...


class HttpUpstream:
    def __init__(self, base_url: str, timeout_seconds: float) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=2)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            # Keep-alive below uvicorn's 5 s, so a pooled connection is never one the service just closed.
            connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=4, ttl_dns_cache=300),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def forward(
        self, method: str, raw_path: bytes, query: bytes, headers: Headers, body: bytes
    ) -> UpstreamResponse:
        assert self._session is not None, "start() first"
        target = self._base + raw_path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")
        try:
            async with self._session.request(
                method,
                URL(target, encoded=True),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
                data=body or None,
                allow_redirects=False,
            ) as response:
                content = await response.read()
                return UpstreamResponse(
                    response.status,
                    [(k.lower(), v) for k, v in response.raw_headers if k.lower() not in HOP_BY_HOP],
                    content,
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise UpstreamUnavailable(type(error).__name__) from error


class AsgiUpstream:
    """Calls a service app in the same process: the single-machine default, with no network hop."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def forward(
        self, method: str, raw_path: bytes, query: bytes, headers: Headers, body: bytes
    ) -> UpstreamResponse:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(raw_path.decode("latin-1")),
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
        }
        sent = False
        status = 500
        response_headers: Headers = []
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = [
                    (k.lower(), v) for k, v in message.get("headers", ()) if k.lower() not in HOP_BY_HOP
                ]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, receive, send)
        return UpstreamResponse(status, response_headers, b"".join(chunks))
