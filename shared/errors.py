"""One error hierarchy, rendered once as RFC 9457 problem+json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Services sit behind the gateway at /api/1/{apikey}/...; errors name the path without the key.
PUBLIC_PATH_PREFIX = "/api/1/<redacted>"


class ProblemError(Exception):
    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self, *, instance: str, request_id: str | None) -> dict[str, Any]:
        return problem_body(
            status=self.status,
            title=self.title,
            slug=self.slug,
            detail=self.detail,
            instance=instance,
            request_id=request_id,
            extra=self.extra,
        )


class BadRequest(ProblemError):
    pass


class Unauthorized(ProblemError):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(ProblemError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(ProblemError):
    status, title, slug = 404, "Not found", "not-found"


class MethodNotAllowed(ProblemError):
    status, title, slug = 405, "Method not allowed", "method-not-allowed"


class Conflict(ProblemError):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(ProblemError):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PayloadTooLarge(ProblemError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(ProblemError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class Unprocessable(ProblemError):
    status, title, slug = 422, "Unprocessable content", "unprocessable"


class TooManyRequests(ProblemError):
    status, title, slug = 429, "Too many requests", "rate-limited"


class ServiceUnavailable(ProblemError):
    status, title, slug = 503, "Service unavailable", "unavailable"


def problem_body(
    *,
    status: int,
    title: str,
    slug: str,
    detail: str,
    instance: str,
    request_id: str | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:tanktop:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": request_id,
    }
    if extra:
        body.update(extra)
    return body
