"""In-process bus: partitioned logs in memory with consumer groups, for the single-machine default.

Messages live as long as the process. The outbox keeps every change in Postgres, so the state is
never lost; deliveries not yet consumed when the process stops are (use Kafka where that matters).
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from dataclasses import replace

from shared.bus import Handler, Message
from shared.bus.retry import deliver


class MemoryBus:
    def __init__(self, partitions: int = 6) -> None:
        self._partitions = partitions
        self._logs: dict[str, list[list[Message]]] = {}
        self._subscriptions: list[tuple[str, tuple[str, ...], Handler]] = []
        self._tasks: dict[str, list[asyncio.Task[None]]] = {}
        # A group's committed offsets outlive its consumers, as in Kafka.
        self._committed: dict[tuple[str, str, int], int] = {}
        self._appended = asyncio.Condition()
        self._stopping = asyncio.Event()
        self._started = False

    def _log(self, topic: str) -> list[list[Message]]:
        return self._logs.setdefault(topic, [[] for _ in range(self._partitions)])

    def partition_for(self, key: str) -> int:
        return zlib.crc32(key.encode()) % self._partitions

    async def publish(self, messages: Sequence[Message]) -> None:
        async with self._appended:
            for message in messages:
                partition = self.partition_for(message.key)
                log = self._log(message.topic)[partition]
                log.append(replace(message, partition=partition, offset=len(log)))
            self._appended.notify_all()

    def subscribe(self, group: str, topics: Sequence[str], handler: Handler) -> None:
        self._subscriptions.append((group, tuple(topics), handler))
        if self._started:
            self._start_subscription(group, tuple(topics), handler)

    async def start(self) -> None:
        self._started = True
        self._stopping.clear()
        for group, topics, handler in self._subscriptions:
            self._start_subscription(group, topics, handler)

    def _start_subscription(self, group: str, topics: tuple[str, ...], handler: Handler) -> None:
        for topic in topics:
            for partition in range(self._partitions):
                task = asyncio.create_task(self._consume(group, topic, partition, handler))
                self._tasks.setdefault(group, []).append(task)

    async def _consume(self, group: str, topic: str, partition: int, handler: Handler) -> None:
        position = (group, topic, partition)
        while not self._stopping.is_set():
            async with self._appended:
                await self._appended.wait_for(
                    lambda: (
                        self._stopping.is_set() or len(self._log(topic)[partition]) > self._committed.get(position, 0)
                    )
                )
            if self._stopping.is_set():
                return
            message = self._log(topic)[partition][self._committed.get(position, 0)]
            await deliver(handler, message, group, self._stopping)
            # A message is done only once its handler returned.
            self._committed[position] = message.offset + 1

    async def unsubscribe(self, group: str) -> None:
        self._subscriptions = [s for s in self._subscriptions if s[0] != group]
        tasks = self._tasks.pop(group, [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        self._stopping.set()
        async with self._appended:
            self._appended.notify_all()
        tasks = [task for group in self._tasks.values() for task in group]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._started = False

    async def ready(self) -> bool:
        return self._started
