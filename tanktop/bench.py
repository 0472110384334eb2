"""`make bench`: the production topology on this machine (a process per service, real Kafka and
PostgreSQL), driven from this process over loopback. Prints requests/s, p50 and p99 per scenario."""

from __future__ import annotations

import asyncio
import importlib
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import uvloop

from gateway import auth
from shared import db
from shared.migrations import migrate
from shared.tenancy import TENANT_HEADER
from tanktop.kafka import KafkaBroker, free_port
from tanktop.postgres import embedded_server
from tanktop.registry import SERVICES
from tanktop.stack import Stack

# Each module in tanktop/benchmarks exposes `async def run(ctx: BenchContext) -> list[Result]`.
SCENARIOS = (
    "tanktop.benchmarks.profiles",
    "tanktop.benchmarks.events",
    "tanktop.benchmarks.catalog",
    "tanktop.benchmarks.bookmarks",
)


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


RequestFactory = Callable[[int], Request]


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    note: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=1000, method="inclusive")[int(p * 10) - 1]


@dataclass
class BenchContext:
    gateway_url: str
    service_urls: dict[str, str]
    key: str
    tenant: str
    admin_key: str
    kafka_bootstrap: str
    database_url: str
    seconds: float
    rate: int
    session: aiohttp.ClientSession

    def api(self, rest: str, key: str | None = None) -> str:
        return f"{self.gateway_url}/api/1/{key or self.key}/{rest.lstrip('/')}"

    def direct(self, service: str, rest: str) -> tuple[str, dict[str, str]]:
        """A URL on the service itself, with the tenant header the gateway would add."""
        return f"{self.service_urls[service]}/{rest.lstrip('/')}", {TENANT_HEADER: self.tenant}

    async def send(self, request: Request) -> tuple[int, bytes]:
        async with self.session.request(
            request.method, request.url, data=request.body, headers=request.headers
        ) as response:
            return response.status, await response.read()

    async def throughput(self, name: str, make: RequestFactory, concurrency: int = 32) -> Result:
        """Closed loop: `concurrency` clients back to back for ctx.seconds."""
        latencies: list[float] = []
        errors = 0
        counter = 0
        deadline = time.perf_counter() + self.seconds

        async def client() -> None:
            nonlocal errors, counter
            while time.perf_counter() < deadline:
                counter += 1
                request = make(counter)
                began = time.perf_counter()
                try:
                    status, _ = await self.send(request)
                    errors += status >= 400
                except aiohttp.ClientError:
                    errors += 1
                latencies.append((time.perf_counter() - began) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return Result(name, len(latencies), errors, time.perf_counter() - began, latencies, f"{concurrency} clients")

    async def fixed_rate(self, name: str, make: RequestFactory, rate: int | None = None) -> Result:
        """Open loop at a fixed rate; latency counts from when a request was due, so queueing shows."""
        rate = rate or self.rate
        total = int(rate * self.seconds)
        latencies: list[float] = []
        errors = 0
        start = time.perf_counter()

        async def one(i: int) -> None:
            nonlocal errors
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                status, _ = await self.send(make(i))
                errors += status >= 400
            except aiohttp.ClientError:
                errors += 1
            latencies.append((time.perf_counter() - due) * 1000)

        await asyncio.gather(*(one(i) for i in range(total)))
        return Result(name, total, errors, time.perf_counter() - start, latencies, f"offered {rate}/s")


async def prepare(stack: Stack, database_url: str) -> tuple[str, str, str]:
    pool = await db.create_pool(database_url, min_size=1, max_size=2)
    try:
        await migrate(pool, "gateway", "gateway")
        key, record = await auth.create_key(pool, "bench", "tenant", 1_000_000, 1_000_000)
        admin, _ = await auth.create_key(pool, "bench-admin", "admin", 1_000_000, 1_000_000)
    finally:
        await pool.close()
    return key, record.tenant, admin


def print_results(results: list[Result]) -> None:
    print(f"\n{'scenario':<52} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  note")
    for r in results:
        print(
            f"{r.name:<52} {r.requests:>9} {r.errors:>7} {r.rps:>9.0f} {r.percentile(50):>8.2f} "
            f"{r.percentile(99):>8.2f}  {r.note}"
        )


async def _run(seconds: float, rate: int, workdir: Path) -> None:
    server, database_url = embedded_server(workdir / "postgres")
    broker = KafkaBroker(workdir / "kafka")
    broker.start()
    ports = {spec.name: free_port() for spec in SERVICES}
    stack = Stack(
        database_url,
        broker.bootstrap,
        gateway_port=free_port(),
        service_ports=ports,
        log_dir=workdir / "logs",
        extra_env={"TANKTOP_GATEWAY_LOG_LEVEL": "warning"},
    )
    try:
        stack.start()
        key, tenant, admin = await prepare(stack, database_url)
        # Below uvicorn's 5 s keep-alive, so a pooled connection is never one the server just closed.
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=4)
        async with aiohttp.ClientSession(connector=connector) as session:
            ctx = BenchContext(
                gateway_url=f"http://127.0.0.1:{stack.gateway_port}",
                service_urls={name: f"http://127.0.0.1:{port}" for name, port in ports.items()},
                key=key,
                tenant=tenant,
                admin_key=admin,
                kafka_bootstrap=broker.bootstrap,
                database_url=database_url,
                seconds=seconds,
                rate=rate,
                session=session,
            )
            results: list[Result] = []
            for module_name in SCENARIOS:
                scenario: Callable[[BenchContext], Awaitable[list[Result]]] = importlib.import_module(module_name).run
                results += await scenario(ctx)
            print_results(results)
    finally:
        stack.stop()
        broker.stop()
        server.cleanup()


def run_bench(seconds: float, rate: int) -> None:
    with tempfile.TemporaryDirectory(prefix="tanktop-bench-") as workdir:
        uvloop.run(_run(seconds, rate, Path(workdir)))
