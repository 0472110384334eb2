"""Kafka adapter: idempotent producer with acks=all, consumer groups committing after the handler."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from shared.bus import Handler, Message
from shared.bus.retry import deliver

log = structlog.get_logger(__name__)

# A broker that is not there yet is tried again after 0.5 s, then at doubling waits of at most 5 s.
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 5.0


class KafkaBus:
    def __init__(
        self, bootstrap: str, *, topics: Sequence[str], partitions: int = 6, client_id: str = "tanktop"
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = tuple(topics)
        self._partitions = partitions
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._subscriptions: list[tuple[str, tuple[str, ...], Handler]] = []
        self._groups: dict[str, list[tuple[AIOKafkaConsumer, asyncio.Task[None]]]] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._connecting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect now if the broker answers, else go on trying in the background.

        A service must come up without its broker: its changes wait in the outbox, /readyz reports the
        bus down, and it joins the broker when that appears, as it rides out one that goes away later.
        """
        self._stopping.clear()
        try:
            await self._connect()
        except (KafkaError, OSError) as error:
            log.warning("bus.unreachable", bootstrap=self._bootstrap, error=f"{type(error).__name__}: {error}")
            self._connecting = asyncio.create_task(self._keep_connecting())

    async def _keep_connecting(self) -> None:
        delay = RECONNECT_FIRST_SECONDS
        while not self._stopping.is_set():
            await asyncio.sleep(delay)
            try:
                await self._connect()
            except (KafkaError, OSError) as error:
                log.warning("bus.unreachable", bootstrap=self._bootstrap, error=f"{type(error).__name__}: {error}")
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
            else:
                log.info("bus.connected", bootstrap=self._bootstrap)
                return

    async def _connect(self) -> None:
        await self._ensure_topics()
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            # A partition takes one batch at a time; at the 16 KiB default a relay pass of 1000 rows waits
            # for several produce round trips in a row. Under the broker's 1 MiB message.max.bytes.
            max_batch_size=512 * 1024,
            request_timeout_ms=15000,
        )
        try:
            await producer.start()
            self._producer = producer
            # Subscriptions made from here on start their own consumers (see subscribe).
            for group, topics, handler in list(self._subscriptions):
                await self._start_consumer(group, topics, handler)
        except BaseException:
            await self._disconnect(producer)
            raise

    async def _ensure_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-admin")
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [NewTopic(t, self._partitions, 1) for t in self._topics if t not in existing]
            if missing:
                # Another process may create them between our look and our create.
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(missing)
        finally:
            await admin.close()

    def subscribe(self, group: str, topics: Sequence[str], handler: Handler) -> None:
        self._subscriptions.append((group, tuple(topics), handler))
        if self._producer is not None:
            starting = asyncio.create_task(self._start_consumer(group, tuple(topics), handler))
            self._pending.add(starting)
            starting.add_done_callback(self._pending.discard)

    async def unsubscribe(self, group: str) -> None:
        self._subscriptions = [s for s in self._subscriptions if s[0] != group]
        await asyncio.gather(*self._pending, return_exceptions=True)
        await self._stop_group(self._groups.pop(group, []))

    @staticmethod
    async def _stop_group(members: list[tuple[AIOKafkaConsumer, asyncio.Task[None]]]) -> None:
        for _, task in members:
            task.cancel()
        await asyncio.gather(*(task for _, task in members), return_exceptions=True)
        for consumer, _ in members:
            await consumer.stop()

    async def _start_consumer(self, group: str, topics: tuple[str, ...], handler: Handler) -> None:
        consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-{group}",
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
        )
        await consumer.start()
        task = asyncio.create_task(self._consume(consumer, group, handler))
        self._groups.setdefault(group, []).append((consumer, task))

    async def _consume(self, consumer: AIOKafkaConsumer, group: str, handler: Handler) -> None:
        while not self._stopping.is_set():
            try:
                batches = await consumer.getmany(timeout_ms=200)
            except KafkaError as error:
                log.warning("bus.poll.failed", group=group, error=str(error))
                await asyncio.sleep(1)
                continue
            # Partitions are independent (order is per key, and a key stays on one partition), so their
            # records are handled side by side, as the in-process bus does: one slow handler's waits on
            # the database do not hold up every other key.
            await asyncio.gather(
                *(self._drain(consumer, group, handler, partition, records) for partition, records in batches.items())
            )

    async def _drain(
        self, consumer: AIOKafkaConsumer, group: str, handler: Handler, partition: TopicPartition, records: list[Any]
    ) -> None:
        for record in records:
            message = Message(
                topic=record.topic,
                key=(record.key or b"").decode(),
                value=record.value or b"",
                partition=record.partition,
                offset=record.offset,
                headers=tuple(record.headers or ()),
            )
            await deliver(handler, message, group, self._stopping)
        # Committed only now: every handler for these records has committed its own transaction.
        try:
            await consumer.commit({TopicPartition(partition.topic, partition.partition): records[-1].offset + 1})
        except KafkaError as error:
            # A rebalance took the partition; its new owner redelivers, and handlers are idempotent.
            log.warning("bus.commit.failed", group=group, error=str(error))

    async def publish(self, messages: Sequence[Message]) -> None:
        if self._producer is None:
            raise KafkaConnectionError("not connected to Kafka (yet): the outbox keeps the messages")
        futures = [
            await self._producer.send(m.topic, m.value, key=m.key.encode(), headers=list(m.headers) or None)
            for m in messages
        ]
        await asyncio.gather(*futures)

    async def stop(self) -> None:
        self._stopping.set()
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
            self._connecting = None
        await asyncio.gather(*self._pending, return_exceptions=True)
        await self._disconnect(self._producer)

    async def _disconnect(self, producer: AIOKafkaProducer | None) -> None:
        for members in self._groups.values():
            await self._stop_group(members)
        self._groups.clear()
        self._producer = None
        if producer is not None:
            with contextlib.suppress(KafkaError, OSError):
                await producer.stop()

    async def ready(self) -> bool:
        if self._producer is None:
            return False
        try:
            async with asyncio.timeout(2):
                await self._producer.client.fetch_all_metadata()
            return True
        except (KafkaError, TimeoutError, OSError):
            return False
