"""Identifier rules of the contract, and the way ids are written out in JSON."""

from __future__ import annotations

import re

from shared.errors import BadRequest

_ITEM_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
_NAME = re.compile(r"[a-z0-9_\-]{1,32}")
# The original API wrote numeric ids as JSON numbers; only canonical ones round-trip safely.
_CANONICAL_INT = re.compile(r"0|[1-9][0-9]{0,17}")


def user_id(value: str, field: str = "user id") -> str:
    if not 1 <= len(value) <= 32 or not value.isprintable() or "/" in value or value in (".", ".."):
        raise BadRequest(
            f"{field} {value[:40]!r} is invalid: use 1 to 32 printable characters, no '/', not '.' or '..'",
            extra={"field": field},
        )
    return value


def item_id(value: str, field: str = "item id") -> str:
    if not _ITEM_ID.fullmatch(value):
        raise BadRequest(
            f"{field} {value[:80]!r} is invalid: use 1 to 64 characters of A-Z a-z 0-9 . _ : -",
            extra={"field": field},
        )
    return value


def name(value: str, field: str) -> str:
    """An event name or item type."""
    if not _NAME.fullmatch(value):
        raise BadRequest(
            f"{field} {value[:40]!r} is invalid: use 1 to 32 characters of a-z 0-9 _ -",
            extra={"field": field},
        )
    return value


def to_json(value: str) -> int | str:
    return int(value) if _CANONICAL_INT.fullmatch(value) else value


def from_json(value: object) -> str | None:
    """The text form of an id found in a JSON body, or None when it is not an id at all."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    return None
