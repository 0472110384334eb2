"""Factory and lifespan of the profiles service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.profiles import routes, store
from services.profiles.service import Profiles
from services.profiles.settings import Settings
from shared.bus import Bus
from shared.runtime import service_runtime
from shared.service_app import create_service_app


def create_app(settings: Settings | None = None, *, bus: Bus | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(
            name="profiles",
            schema=store.SCHEMA,
            migrations_package="services.profiles",
            settings=settings,
            bus=bus,
        ) as runtime:
            app.state.runtime = runtime
            app.state.profiles = Profiles(runtime.pool, settings)
            yield

    return create_service_app("profiles", lifespan=lifespan, routers=[routes.router], log_level=settings.log_level)
