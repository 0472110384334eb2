"""Factory and lifespan of the bookmarks service."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import structlog
from fastapi import FastAPI

from services.bookmarks import consumer, routes, store
from services.bookmarks.service import Bookmarks
from services.bookmarks.settings import Settings
from shared.bus import Bus
from shared.runtime import Subscription, service_runtime
from shared.service_app import create_service_app

log = structlog.get_logger(__name__)
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
            sweeper = asyncio.create_task(_sweep_forever(app.state.bookmarks, settings.sweep_seconds))
            try:
                yield
            finally:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper

    app = create_service_app("bookmarks", lifespan=lifespan, routers=[routes.router], log_level=settings.log_level)
    return app


async def _sweep_forever(bookmarks: Bookmarks, every: float) -> None:
    """Close the viewings nothing closed; once an hour, forget viewing past the horizon."""
    forgotten_at = 0.0
    while True:
        try:
            while await bookmarks.sweep():
                pass
            if time.monotonic() - forgotten_at > _FORGET_EVERY_SECONDS:
                await bookmarks.forget_old_viewing()
                forgotten_at = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # The database may be down; the open intervals wait for the next pass.
            log.warning("viewing.sweep.failed", error=f"{type(error).__name__}: {error}")
        await asyncio.sleep(every)
