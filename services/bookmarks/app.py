"""Factory and lifespan of the bookmarks service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

from services.bookmarks import consumer, routes, store
from services.bookmarks.service import Bookmarks
from services.bookmarks.settings import Settings
from shared.background import BackgroundLoop
from shared.bus import Bus
from shared.runtime import Subscription, service_runtime
from shared.service_app import create_service_app

_FORGET_EVERY_SECONDS = 3600.0


def create_app(settings: Settings | None = None, *, bus: Bus | None = None) -> FastAPI:
    settings = settings or Settings()

    def subscriptions(pool: asyncpg.Pool) -> list[Subscription]:
        app.state.bookmarks = Bookmarks(pool, settings)
        return consumer.subscriptions(app.state.bookmarks, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(
            name="bookmarks",
            schema=store.SCHEMA,
            migrations_package="services.bookmarks",
            settings=settings,
            bus=bus,
            subscriptions=subscriptions,
        ) as runtime:
            app.state.runtime = runtime
            sweep = Sweep(app.state.bookmarks)
            # The database may be down; the open intervals wait for the next pass.
            sweeper = BackgroundLoop(
                "bookmarks.sweep",
                sweep.one_pass,
                sweep.pause(settings.sweep_seconds),
                retry_seconds=settings.sweep_seconds,
            )
            sweeper.start()
            try:
                yield
            finally:
                await sweeper.stop()

    app = create_service_app("bookmarks", lifespan=lifespan, routers=[routes.router], log_level=settings.log_level)
    return app


class Sweep:
    """Close the viewings nothing closed; once an hour, forget viewing past the horizon."""

    def __init__(self, bookmarks: Bookmarks) -> None:
        self._bookmarks = bookmarks
        self._forgotten_at = 0.0

    async def one_pass(self) -> None:
        while await self._bookmarks.sweep():
            pass
        if time.monotonic() - self._forgotten_at > _FORGET_EVERY_SECONDS:
            await self._bookmarks.forget_old_viewing()
            self._forgotten_at = time.monotonic()

    @staticmethod
    def pause(seconds: float) -> Callable[[], Awaitable[None]]:
        return lambda: asyncio.sleep(seconds)
