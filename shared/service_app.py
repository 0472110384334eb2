"""The FastAPI app every service builds on: problem+json, health and metrics, slash tolerance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from shared import logging as platform_logging
from shared import problems
from shared.observability import ServiceMiddleware, health_router
from shared.runtime import Runtime


async def _ready(request: Request) -> dict[str, bool]:
    runtime: Runtime = request.app.state.runtime
    return await runtime.ready()


def create_service_app(name: str, *, lifespan: Any, routers: Sequence[APIRouter], log_level: str = "info") -> FastAPI:
    platform_logging.configure(log_level)
    app = FastAPI(
        title=f"Tank Top {name}",
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)
    app.include_router(health_router(_ready))
    for router in routers:
        app.include_router(router)
    app.add_middleware(ServiceMiddleware, service=name)
    return app


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
