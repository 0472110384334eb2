"""Factory and lifespan of the catalog service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.catalog import routes, store
from services.catalog.expiry import ExpiryWatcher
from services.catalog.service import Catalog
from services.catalog.settings import Settings
from shared.bus import Bus
from shared.runtime import service_runtime
from shared.service_app import create_service_app


def create_app(settings: Settings | None = None, *, bus: Bus | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(
            name="catalog",
            schema=store.SCHEMA,
            migrations_package="services.catalog",
            settings=settings,
            bus=bus,
        ) as runtime:
            app.state.runtime = runtime
            app.state.catalog = Catalog(runtime.pool, settings)
            app.state.settings = settings
            watcher = ExpiryWatcher(runtime.pool, settings.expiry_check_seconds, settings.expiry_batch)
            watcher.start()
            try:
                yield
            finally:
                await watcher.stop()

    return create_service_app("catalog", lifespan=lifespan, routers=[routes.router], log_level=settings.log_level)
