"""Work a service repeats in the background for as long as it runs (relays, watchers, sweepers)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class BackgroundLoop:
    """Runs `one_pass` then `wait`, over and over, from start() until stop().

    A pass that fails is logged, `recover` (if any) runs, and the loop goes on after `retry_seconds`:
    a dependency that is down must not end the loop, since what it works on waits in the database.
    """

    def __init__(
        self,
        name: str,
        one_pass: Callable[[], Awaitable[None]],
        wait: Callable[[], Awaitable[None]],
        *,
        recover: Callable[[], Awaitable[None]] | None = None,
        retry_seconds: float = 1.0,
    ) -> None:
        self._name = name
        self._one_pass = one_pass
        self._wait = wait
        self._recover = recover
        self._retry_seconds = retry_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._one_pass()
                await self._wait()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("background.pass.failed", loop=self._name, error=f"{type(error).__name__}: {error}")
                if self._recover is not None:
                    with contextlib.suppress(Exception):
                        await self._recover()
                await asyncio.sleep(self._retry_seconds)
