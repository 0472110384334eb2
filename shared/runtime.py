"""What a service process holds while it runs: its pool, the bus, its outbox relay and consumers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import structlog

from shared import db, inbox
from shared.background import BackgroundLoop
from shared.bus import Bus, Handler
from shared.bus.kafka import KafkaBus
from shared.bus.memory import MemoryBus
from shared.contracts import ALL_TOPICS
from shared.migrations import migrate
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

INBOX_PRUNE_SECONDS = 600.0


@dataclass(frozen=True)
class Subscription:
    group: str
    topics: tuple[str, ...]
    handler: Handler


@dataclass
class Runtime:
    name: str
    schema: str
    pool: asyncpg.Pool
    bus: Bus

    async def ready(self) -> dict[str, bool]:
        return {"database": await db.ping(self.pool), "bus": await self.bus.ready()}


async def _prune_inbox(pool: asyncpg.Pool, schema: str, keep_hours: float) -> None:
    forgotten = await inbox.forget_older_than(pool, schema, keep_hours)
    if forgotten:
        log.info("inbox.pruned", schema=schema, rows=forgotten)


def create_bus(settings: ServiceSettings, client_id: str) -> Bus:
    if settings.kafka_bootstrap:
        return KafkaBus(
            settings.kafka_bootstrap,
            topics=ALL_TOPICS,
            partitions=settings.kafka_partitions,
            client_id=client_id,
        )
    return MemoryBus(partitions=settings.kafka_partitions)


@asynccontextmanager
async def service_runtime(
    *,
    name: str,
    schema: str,
    migrations_package: str,
    settings: ServiceSettings,
    bus: Bus | None = None,
    subscriptions: Callable[[asyncpg.Pool], Sequence[Subscription]] = lambda _: (),
) -> AsyncIterator[Runtime]:
    """A bus passed in is shared (in-process mode), started before and stopped after by its owner."""
    pool = await db.create_pool(settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    owns_bus = bus is None
    active_bus: Bus = bus if bus is not None else create_bus(settings, client_id=name)
    relay = OutboxRelay(pool, schema, active_bus)
    inbox_pruner = BackgroundLoop(
        f"inbox.prune.{schema}",
        lambda: _prune_inbox(pool, schema, settings.inbox_keep_hours),
        lambda: asyncio.sleep(INBOX_PRUNE_SECONDS),
    )
    groups: list[str] = []
    try:
        await migrate(pool, schema, migrations_package)
        if owns_bus:
            await active_bus.start()
        for subscription in subscriptions(pool):
            active_bus.subscribe(subscription.group, subscription.topics, subscription.handler)
            groups.append(subscription.group)
        if isinstance(active_bus, MemoryBus):
            requeued = await relay.requeue_recent(settings.memory_bus_replay_seconds)
            log.info("outbox.requeued", schema=schema, rows=requeued)
        relay.start()
        inbox_pruner.start()
        log.info("service.started", service=name, bus=type(active_bus).__name__)
        yield Runtime(name=name, schema=schema, pool=pool, bus=active_bus)
    finally:
        for group in groups:
            await active_bus.unsubscribe(group)
        await inbox_pruner.stop()
        await relay.stop()
        if owns_bus:
            await active_bus.stop()
        await pool.close()
        log.info("service.stopped", service=name)
