"""`make bench`: the production topology on this machine (a process per service, real Kafka and
PostgreSQL) under load from vegeta over loopback; what HTTP answers cannot show (an acknowledged change
reaching Kafka, a viewing becoming `seen`) is timed from this process. Prints requests/s, p50 and p99."""

from __future__ import annotations

import asyncio
import importlib
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import uvloop
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from gateway import auth
from shared import db
from shared.contracts import EVENT_CHANGES
from shared.migrations import migrate
from shared.tenancy import TENANT_HEADER
from tanktop import loadgen
from tanktop.kafka import KafkaBroker, free_port
from tanktop.loadgen import Request
from tanktop.postgres import embedded_server
from tanktop.registry import SERVICES
from tanktop.stack import Stack

# Each module tanktop/benchmarks/<name>.py exposes `async def run(ctx: BenchContext) -> list[Result]`.
SCENARIOS = ("profiles", "events", "catalog", "bookmarks")


RequestFactory = Callable[[int], Request]


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    note: str = ""

    @classmethod
    def of(
        cls, name: str, requests: int, errors: int, seconds: float, latencies_ms: list[float], note: str = ""
    ) -> Result:
        """From latencies measured here (the pipeline scenarios time what HTTP answers cannot show)."""
        return cls(name, requests, errors, seconds, _percentile(latencies_ms, 50), _percentile(latencies_ms, 99), note)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _percentile(latencies_ms: list[float], p: float) -> float:
    if len(latencies_ms) < 2:
        return latencies_ms[0] if latencies_ms else float("nan")
    return statistics.quantiles(latencies_ms, n=1000, method="inclusive")[int(p * 10) - 1]


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

    async def throughput(
        self, name: str, make: RequestFactory, concurrency: int = 32, distinct: int = 20_000
    ) -> Result:
        """Closed loop: `concurrency` clients back to back for ctx.seconds, over `distinct` requests in turn."""
        report = await loadgen.attack((make(i) for i in range(distinct)), seconds=self.seconds, workers=concurrency)
        return self._result(name, report, f"{concurrency} clients")

    async def fixed_rate(self, name: str, make: RequestFactory, rate: int | None = None) -> Result:
        """Open loop at a fixed rate: a request goes out when due, however many are still unanswered."""
        rate = rate or self.rate
        report = await loadgen.attack(
            (make(i) for i in range(int(rate * self.seconds))), seconds=self.seconds, rate=rate
        )
        return self._result(name, report, f"offered {rate}/s")

    @staticmethod
    def _result(name: str, report: loadgen.Report, note: str) -> Result:
        return Result(name, report.requests, report.errors, report.seconds, report.p50_ms, report.p99_ms, note)


async def settle(ctx: BenchContext, group: str, within: float = 600.0) -> float:
    """Wait until the consumer group has committed up to the end of the events topic; return the seconds taken.

    A phase that starts while a consumer still works off an earlier phase's backlog measures both at once."""
    began = time.perf_counter()
    admin = AIOKafkaAdminClient(bootstrap_servers=ctx.kafka_bootstrap)
    probe = AIOKafkaConsumer(bootstrap_servers=ctx.kafka_bootstrap)
    await admin.start()
    await probe.start()
    try:
        [described] = await admin.describe_topics([EVENT_CHANGES])
        partitions = [TopicPartition(EVENT_CHANGES, p["partition"]) for p in described["partitions"]]
        ends = await probe.end_offsets(partitions)
        while time.perf_counter() - began < within:
            try:
                committed = {tp: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(group)).items()}
            except KafkaError:
                committed = {}
            if all(committed.get(tp, 0) >= end for tp, end in ends.items()):
                break
            await asyncio.sleep(0.2)
    finally:
        await probe.stop()
        await admin.close()
    return time.perf_counter() - began


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
        print(f"{r.name:<52} {r.requests:>9} {r.errors:>7} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}  {r.note}")


async def _run(seconds: float, rate: int, scenarios: Sequence[str], workdir: Path) -> None:
    loadgen.ensure_vegeta()  # before anything starts: a first run builds it
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
            for name in scenarios:
                module = importlib.import_module(f"tanktop.benchmarks.{name}")
                scenario: Callable[[BenchContext], Awaitable[list[Result]]] = module.run
                results += await scenario(ctx)
            print_results(results)
    finally:
        stack.stop()
        broker.stop()
        server.cleanup()


def run_bench(seconds: float, rate: int, scenarios: Sequence[str] = SCENARIOS) -> None:
    with tempfile.TemporaryDirectory(prefix="tanktop-bench-") as workdir:
        uvloop.run(_run(seconds, rate, scenarios, Path(workdir)))
