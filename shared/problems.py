"""Renders every error a service can meet as problem+json, never leaking internals or keys."""

from __future__ import annotations

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from shared.db import UNAVAILABLE_ERRORS
from shared.errors import PROBLEM_CONTENT_TYPE, PUBLIC_PATH_PREFIX, ProblemError, problem_body
from shared.observability import request_id_var

log = structlog.get_logger(__name__)

_TITLES = {404: ("Not found", "not-found"), 405: ("Method not allowed", "method-not-allowed")}


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    slug: str,
    detail: str,
    extra: dict | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem_body(
        status=status,
        title=title,
        slug=slug,
        detail=detail,
        instance=PUBLIC_PATH_PREFIX + request.url.path,
        request_id=request_id_var.get(),
        extra=extra,
    )
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_CONTENT_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, error: ProblemError) -> Response:
        return problem_response(
            request,
            status=error.status,
            title=error.title,
            slug=error.slug,
            detail=error.detail,
            extra=error.extra,
            headers=error.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'] if part != 'body')}: {e['msg']}" for e in error.errors()
        )
        return problem_response(
            request,
            status=422,
            title="Unprocessable content",
            slug="unprocessable",
            detail=problems or "the request is not valid",
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> Response:
        title, slug = _TITLES.get(error.status_code, ("Error", "error"))
        detail = {
            404: f"there is no resource at {request.method} {PUBLIC_PATH_PREFIX}{request.url.path}",
            405: f"{request.method} is not allowed here",
        }.get(error.status_code, str(error.detail))
        return problem_response(
            request,
            status=error.status_code,
            title=title,
            slug=slug,
            detail=detail,
            headers=dict(error.headers or {}),
        )

    for error_type in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error_type, _on_unavailable)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, error: Exception) -> Response:
        log.exception("request.failed", path=request.url.path, error=type(error).__name__)
        return problem_response(
            request,
            status=500,
            title="Internal error",
            slug="internal",
            detail="the server failed; the request id helps us find out why",
        )


async def _on_unavailable(request: Request, error: Exception) -> Response:
    log.warning("dependency.unavailable", path=request.url.path, error=type(error).__name__)
    return problem_response(
        request,
        status=503,
        title="Service unavailable",
        slug="unavailable",
        detail="a dependency is unavailable; retry shortly",
        headers={"Retry-After": "1"},
    )
