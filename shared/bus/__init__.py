"""The bus contract: keyed messages, per-key order, consumer groups, at-least-once delivery.

Two adapters keep it: `kafka.KafkaBus` (production, and every test that claims Kafka behaviour)
and `memory.MemoryBus` (the single-machine default when no broker is configured).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    key: str
    value: bytes
    partition: int = 0
    offset: int = 0
    headers: tuple[tuple[str, bytes], ...] = field(default=())


Handler = Callable[[Message], Awaitable[None]]


class PoisonMessage(Exception):
    """A handler raises this for a message that can never be processed; the bus logs it and moves on."""


class Bus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, messages: Sequence[Message]) -> None:
        """Return once every message is acknowledged; messages with one key stay in the given order."""
        ...

    def subscribe(self, group: str, topics: Sequence[str], handler: Handler) -> None:
        """Each group sees every message; its offset moves only after the handler returns.

        Before start() it is registered; after, the group starts consuming at once.
        """
        ...

    async def unsubscribe(self, group: str) -> None:
        """Stop the group's consumers in this process (its committed offsets stay)."""
        ...

    async def ready(self) -> bool: ...
