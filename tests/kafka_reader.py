"""Reads what really reached a Kafka topic, for tests that claim Kafka behaviour."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer


class TopicReader:
    """A consumer in a group of its own, reading a topic from the beginning."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"test-reader-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.seen: list[tuple[str, dict[str, Any]]] = []

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], within: float = 20.0
    ) -> list[dict[str, Any]]:
        """Poll until predicate(all payloads so far) holds; return the payloads."""
        deadline = time.monotonic() + within
        while True:
            payloads = [payload for _, payload in self.seen]
            if predicate(payloads):
                return payloads
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; saw {len(payloads)} messages: {payloads[-5:]}")
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    try:
                        payload = orjson.loads(record.value)
                    except orjson.JSONDecodeError:
                        continue  # another test's deliberate poison on a shared topic; never one of ours
                    self.seen.append(((record.key or b"").decode(), payload))
            await asyncio.sleep(0)
