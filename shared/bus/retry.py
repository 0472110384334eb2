"""How both adapters run a handler: retry until it succeeds, except for poison."""

from __future__ import annotations

import asyncio

import structlog

from shared.bus import Handler, Message, PoisonMessage

log = structlog.get_logger(__name__)


async def deliver(handler: Handler, message: Message, group: str, stopping: asyncio.Event) -> None:
    """At-least-once: a failing handler is retried with backoff; the offset never skips it unless it is poison."""
    attempt = 0
    while True:
        try:
            await handler(message)
            return
        except PoisonMessage as error:
            log.error(
                "bus.message.poison",
                group=group,
                topic=message.topic,
                offset=message.offset,
                error=str(error),
            )
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            attempt += 1
            log.warning(
                "bus.handler.failed",
                group=group,
                topic=message.topic,
                offset=message.offset,
                attempt=attempt,
                error=f"{type(error).__name__}: {error}",
            )
            if stopping.is_set():
                raise
            await asyncio.sleep(min(0.1 * 2**attempt, 5.0))
