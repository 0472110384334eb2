"""The single-machine default: every service in one process behind the gateway, no network hops."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gateway.app import Gateway
from gateway.settings import Settings as GatewaySettings
from gateway.upstream import AsgiUpstream, Upstream
from shared.runtime import create_bus
from shared.settings import ServiceSettings
from tanktop.registry import SERVICES


def build_platform(database_url: str, kafka_bootstrap: str = "", **gateway_options: object) -> Gateway:
    """The gateway with every service mounted in-process, sharing one bus (in-memory unless Kafka is given)."""
    bus = create_bus(ServiceSettings(database_url=database_url, kafka_bootstrap=kafka_bootstrap), "tanktop")
    apps: dict[str, FastAPI] = {}
    for spec in SERVICES:
        module = spec.load()
        settings = module.Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap)
        apps[spec.name] = module.create_app(settings, bus=bus)

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            await bus.start()
            stack.push_async_callback(bus.stop)
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    upstreams: dict[str, Upstream] = {name: AsgiUpstream(app) for name, app in apps.items()}
    settings = GatewaySettings(database_url=database_url, **gateway_options)  # type: ignore[arg-type]
    return Gateway(settings, upstreams=upstreams, lifespan=lifespan)
