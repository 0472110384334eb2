"""The outbox never loses a committed change, and an inbox makes a redelivery change nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import orjson
import pytest

from shared import inbox, outbox
from shared.bus.kafka import KafkaBus
from shared.contracts import PROFILE_CHANGES, ProfileChanged
from shared.inbox import first_delivery
from shared.migrations import migrate
from tests.kafka_reader import TopicReader


@pytest.fixture(scope="module")
async def schema(db_pool: asyncpg.Pool) -> AsyncIterator[str]:
    # A schema of the test's own, migrated like a service's (the kit tables come with every schema).
    name = f"outboxtest_{uuid.uuid4().hex[:8]}"
    await migrate(db_pool, name, "services.profiles")
    yield name


def change(tenant: str, version: int) -> ProfileChanged:
    return ProfileChanged(
        event_id=f"{tenant}:{version}",
        tenant=tenant,
        user_id="u",
        change="updated",
        version=version,
        at=datetime.now(UTC),
    )


class RelayCrashed(Exception):
    pass


async def test_relay_dying_between_publish_and_mark_sent_loses_nothing(
    db_pool: asyncpg.Pool, schema: str, kafka_bootstrap: str
) -> None:
    tenant = f"crash-{uuid.uuid4().hex[:8]}"
    async with db_pool.acquire() as conn, conn.transaction():
        for version in (1, 2, 3):
            await outbox.enqueue(conn, schema, PROFILE_CHANGES, f"{tenant}:u", change(tenant, version))

    bus = KafkaBus(kafka_bootstrap, topics=[PROFILE_CHANGES])
    await bus.start()
    try:

        async def crash(ids: list[int]) -> None:
            raise RelayCrashed  # the bus has the messages; the process dies before marking them sent

        with pytest.raises(RelayCrashed):
            await outbox.OutboxRelay(db_pool, schema, bus, after_publish=crash).publish_pending()
        unsent = await db_pool.fetchval(f"select count(*) from {schema}.outbox where sent_at is null")
        assert unsent == 3, "a crash before mark-sent must leave the rows to publish again"

        assert await outbox.OutboxRelay(db_pool, schema, bus).publish_pending() == 3
        assert await db_pool.fetchval(f"select count(*) from {schema}.outbox where sent_at is null") == 0
        assert await outbox.OutboxRelay(db_pool, schema, bus).publish_pending() == 0
    finally:
        await bus.stop()

    async with TopicReader(kafka_bootstrap, PROFILE_CHANGES) as reader:
        payloads = await reader.wait_for(lambda ps: len([p for p in ps if p["tenant"] == tenant]) >= 6)
    versions = [p["version"] for p in payloads if p["tenant"] == tenant]
    assert versions == [1, 2, 3, 1, 2, 3], "each change arrives at least once, in order"


async def test_only_one_relay_publishes_at_a_time(db_pool: asyncpg.Pool, schema: str, kafka_bootstrap: str) -> None:
    tenant = f"lock-{uuid.uuid4().hex[:8]}"
    async with db_pool.acquire() as conn, conn.transaction():
        await outbox.enqueue(conn, schema, PROFILE_CHANGES, f"{tenant}:u", change(tenant, 1))
    bus = KafkaBus(kafka_bootstrap, topics=[PROFILE_CHANGES])
    await bus.start()
    try:
        async with db_pool.acquire() as holder, holder.transaction():
            await holder.execute("select pg_advisory_xact_lock(hashtext($1))", f"relay:{schema}")
            assert await outbox.OutboxRelay(db_pool, schema, bus).publish_pending() == 0
        assert await outbox.OutboxRelay(db_pool, schema, bus).publish_pending() == 1
    finally:
        await bus.stop()


async def test_a_redelivered_message_changes_nothing(db_pool: asyncpg.Pool, schema: str) -> None:
    """A consumer built the house way: inbox check and state change in one transaction."""
    await db_pool.execute(f"create table if not exists {schema}.counter (name text primary key, n int not null)")

    async def handle(payload: bytes) -> None:
        event = orjson.loads(payload)
        async with db_pool.acquire() as conn, conn.transaction():
            if not await first_delivery(conn, schema, "counter", event["event_id"]):
                return
            await conn.execute(
                f"insert into {schema}.counter values ($1, 1) on conflict (name) do update set n = counter.n + 1",
                event["tenant"],
            )

    message = orjson.dumps({"event_id": "e-1", "tenant": "redelivery"})
    for _ in range(3):
        await handle(message)
    await handle(orjson.dumps({"event_id": "e-2", "tenant": "redelivery"}))
    assert await db_pool.fetchval(f"select n from {schema}.counter where name = 'redelivery'") == 2


async def test_in_process_bus_gets_recent_changes_again_after_a_restart(db_pool: asyncpg.Pool, schema: str) -> None:
    """The in-process bus forgets on restart; the outbox sends what was recent again, in order."""
    from shared.bus import Message
    from shared.bus.memory import MemoryBus

    tenant = f"restart-{uuid.uuid4().hex[:8]}"
    before = MemoryBus(partitions=2)
    async with db_pool.acquire() as conn, conn.transaction():
        for version in (1, 2):
            await outbox.enqueue(conn, schema, PROFILE_CHANGES, f"{tenant}:u", change(tenant, version))
    while await outbox.OutboxRelay(db_pool, schema, before).publish_pending():
        pass  # published to a bus whose process then "dies" before anyone consumed them

    after = MemoryBus(partitions=2)
    relay = outbox.OutboxRelay(db_pool, schema, after)
    assert await relay.requeue_recent(900) >= 2
    while await relay.publish_pending():
        pass
    seen: list[int] = []

    async def collect(message: Message) -> None:
        payload = orjson.loads(message.value)
        if payload["tenant"] == tenant:
            seen.append(payload["version"])

    after.subscribe("late-consumer", [PROFILE_CHANGES], collect)
    await after.start()
    for _ in range(100):
        if seen == [1, 2]:
            break
        await asyncio.sleep(0.05)
    await after.stop()
    assert seen == [1, 2]


async def test_a_restart_migrates_while_a_write_is_open(db_pool: asyncpg.Pool, schema: str) -> None:
    """A replica starting on a live database must not wait for (or hold up) the writes in flight."""
    async with db_pool.acquire() as writer, writer.transaction():
        await outbox.enqueue(writer, schema, PROFILE_CHANGES, "open:u", change("open", 1))
        async with asyncio.timeout(5):
            assert await migrate(db_pool, schema, "services.profiles") == []


async def test_the_inbox_forgets_only_what_no_broker_can_deliver_again(db_pool: asyncpg.Pool, schema: str) -> None:
    async with db_pool.acquire() as conn, conn.transaction():
        assert await first_delivery(conn, schema, "pruned", "old")
        assert await first_delivery(conn, schema, "pruned", "recent")
    await db_pool.execute(
        f"update {schema}.inbox set received_at = now() - interval '9 days' "
        "where consumer = 'pruned' and message_id = 'old'"
    )
    assert await inbox.forget_older_than(db_pool, schema, hours=192) == 1
    async with db_pool.acquire() as conn, conn.transaction():
        assert not await first_delivery(conn, schema, "pruned", "recent"), "a recent id still stops a duplicate"
        assert await first_delivery(conn, schema, "pruned", "old")
