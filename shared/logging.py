"""Structured JSON logs; API keys and secrets are redacted before anything is written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_FIELDS = frozenset({"apikey", "api_key", "key", "secret", "webhook_secret", "authorization", "password"})
_KEY_IN_PATH = re.compile(r"/api/1/[^/?#\s]+")


def redact_path(text: str) -> str:
    return _KEY_IN_PATH.sub("/api/1/<redacted>", text)


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for field, value in list(event.items()):
        if field.lower() in _SECRET_FIELDS:
            event[field] = "<redacted>"
        elif isinstance(value, str) and "/api/1/" in value:
            event[field] = redact_path(value)
    return event


def _stderr_logger(*_: Any) -> structlog.PrintLogger:
    # sys.stderr looked up when a logger is made, not at configure time, so a swapped stream is followed.
    return structlog.PrintLogger(sys.stderr)


def configure(level: str = "info") -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=True,
    )
    # Library loggers (aiokafka, uvicorn errors) go through the same redaction by way of stdlib.
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, format="%(name)s %(message)s")
    # Access logs would print request paths, which carry the API key; the gateway logs its own, redacted.
    logging.getLogger("uvicorn.access").disabled = True
