"""Factory and lifespan of the events service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

from services.events import consumer, routes, store
from services.events.service import Events
from services.events.settings import Settings
from shared.bus import Bus
from shared.contracts import INFERRED_EVENTS
from shared.runtime import Subscription, service_runtime
from shared.service_app import create_service_app


def create_app(settings: Settings | None = None, *, bus: Bus | None = None) -> FastAPI:
    settings = settings or Settings()

    def subscriptions(pool: asyncpg.Pool) -> list[Subscription]:
        app.state.events = Events(pool)
        return [Subscription(settings.consumer_group, (INFERRED_EVENTS,), consumer.on_inferred(app.state.events))]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(
            name="events",
            schema=store.SCHEMA,
            migrations_package="services.events",
            settings=settings,
            bus=bus,
            subscriptions=subscriptions,
        ) as runtime:
            app.state.runtime = runtime
            app.state.settings = settings
            yield

    app = create_service_app("events", lifespan=lifespan, routers=[routes.router], log_level=settings.log_level)
    return app
