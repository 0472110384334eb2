"""A requested change checked against the contract: identifiers (spec 1) and each event's value rules (spec 3).

Every entry point (a path, a batch item, an inferred event from Kafka) goes through here, so the
rules hold the same way whichever way a change arrives.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared import ids, timefmt
from shared.errors import BadRequest, Unprocessable
from shared.jsonbody import type_name

Value = float | int | str | None

CONTENT_TYPES = frozenset({"movie", "programme", "series", "episode"})
PROGRESS_TYPES = frozenset({"movie", "episode"})
MAX_TEXT = 64
# JSON numbers hold integers exactly only up to 2**53; larger ones are kept as floats.
_EXACT_INT = 2**53
# What "parses as a number" means for a value sent as text; Python's float() would also take
# "1_000", "nan" and "infinity", which are not numbers to a client.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_MAX_NUMBER_TEXT = 400  # longer digit strings are no client's number, and int() of thousands is slow


@dataclass(frozen=True, slots=True, order=True)
class Key:
    user_id: str
    event: str  # as stored: an alias is already resolved
    item_type: str
    item_id: str


@dataclass(frozen=True, slots=True)
class Change:
    key: Key
    value: Value
    deleted: bool


def key(user_id: str, event: str, item_type: str, item_id: str) -> Key:
    """The identifiers checked in path order, each a 400 that names its field."""
    owner = listing(user_id, event, item_type)
    return Key(owner.user_id, owner.event, owner.item_type, ids.item_id(item_id))


def listing(user_id: str, event: str, item_type: str) -> Key:
    """The identifiers of a GET, which names no item (its item_id is empty)."""
    user_id = ids.user_id(user_id)
    event = ids.name(event, "event")
    item_type = ids.name(item_type, "item type")
    return Key(user_id, stored_event(event, item_type), item_type, "")


def stored_event(event: str, item_type: str) -> str:
    # The original docs call a channel's end event `stop`; both names are one event.
    return "end" if item_type == "channel" and event == "stop" else event


def set_event(k: Key, raw: object, now: datetime) -> Change:
    return Change(k, stored_value(k.event, k.item_type, raw, now), deleted=False)


def delete_event(k: Key) -> Change:
    return Change(k, None, deleted=True)


def stored_value(event: str, item_type: str, raw: object, now: datetime) -> Value:
    """The value to store, or a 422 that says what the event expects."""
    return _rule(event, item_type)(event, item_type, _normalized(event, raw), now)


Rule = Callable[[str, str, Value, datetime], Value]


def _ignored(event: str, item_type: str, value: Value, now: datetime) -> Value:
    return None


def _rating(event: str, item_type: str, value: Value, now: datetime) -> Value:
    number = _as_number(value)
    if number is None:
        raise Unprocessable(
            f"{event!r} expects a finite number (negative for a dislike), for example .../{event}/{item_type}/1/4.5/; "
            f"got {_shown(value)}",
            extra={"field": "value"},
        )
    return number


def _progress(event: str, item_type: str, value: Value, now: datetime) -> Value:
    if item_type not in PROGRESS_TYPES:
        raise Unprocessable(
            f"'progress' applies to movies and episodes, not to a {item_type}: send the minutes watched "
            "on the movie or on the episode being watched",
            extra={"field": "item type"},
        )
    number = _as_number(value)
    if number is None or number < 0:
        raise Unprocessable(
            f"'progress' expects the number of minutes watched so far, a number >= 0; got {_shown(value)}",
            extra={"field": "value"},
        )
    return number


def _timestamp(event: str, item_type: str, value: Value, now: datetime) -> Value:
    """Channel start/end: the moment as Unix seconds, the server's time when none is given."""
    if value is None:
        return int(now.timestamp())
    try:
        moment = timefmt.parse(value)
    except ValueError as error:
        raise Unprocessable(
            f"{event!r} on a channel expects a timestamp (Unix seconds or ISO 8601 with an offset), "
            f"or no value for the server's time: {error}",
            extra={"field": "value"},
        ) from None
    seconds = moment.timestamp()
    return int(seconds) if seconds.is_integer() else seconds


def _custom(event: str, item_type: str, value: Value, now: datetime) -> Value:
    if isinstance(value, str):
        number = _as_number(value)
        if number is not None:
            return number
        if len(value) > MAX_TEXT or not value.isprintable():
            raise Unprocessable(
                f"the value of the custom event {event!r} is a number or a string of at most {MAX_TEXT} "
                f"printable characters; this one has {len(value)} characters",
                extra={"field": "value"},
            )
    return value


_CONTENT_RULES: dict[str, Rule] = {
    "watchlist": _ignored,
    "seen": _ignored,
    "hide": _ignored,
    "rated": _rating,
    "progress": _progress,
}
_CHANNEL_RULES: dict[str, Rule] = {"hide": _ignored, "start": _timestamp, "end": _timestamp}
# "As for content": the list-like ones take no value, `rated` a number; `displayed` takes none.
_SECTION_RULES: dict[str, Rule] = {
    **dict.fromkeys(("watchlist", "detail", "hide", "seen", "consumed", "displayed"), _ignored),
    "rated": _rating,
}


def _rule(event: str, item_type: str) -> Rule:
    if item_type in CONTENT_TYPES:
        return _CONTENT_RULES.get(event, _custom)
    if item_type == "channel":
        return _CHANNEL_RULES.get(event, _progress if event == "progress" else _custom)
    if item_type == "section":
        return _SECTION_RULES.get(event, _progress if event == "progress" else _custom)
    # `progress` means minutes of a movie or episode whatever the item type; other names are free.
    return _progress if event == "progress" else _custom


def _normalized(event: str, raw: object) -> Value:
    """A value as it came (path text, query text or JSON): a number, a string or None for none."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise Unprocessable(
            f"the value of {event!r} must be a number or a string, not {type(raw).__name__}",
            extra={"field": "value"},
        )
    if isinstance(raw, str):
        return raw
    return _as_number(raw) if math.isfinite(raw) else str(raw)


def _as_number(value: Value) -> int | float | None:
    """The value as a finite JSON number, or None when it is not one."""
    if isinstance(value, int):
        if abs(value) < _EXACT_INT:
            return value
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMBER_TEXT or not _NUMBER.fullmatch(text):
            return None
        if _INTEGER.fullmatch(text):
            return _as_number(int(text))
        number = float(text)
        return number if math.isfinite(number) else None
    return None


def _shown(value: Value) -> str:
    return "no value" if value is None else repr(value)[:80]


_BATCH_FIELDS = ("user_id", "event", "item_type", "item_id")
_BATCH_ACTIONS = ("set", "delete")


def from_json(item: object, now: datetime) -> Change:
    """One item of a batch: {"user_id", "event", "item_type", "item_id", "value"?, "action"?: "set" | "delete"}."""
    if not isinstance(item, dict):
        raise BadRequest(f"each item is a JSON object with {', '.join(_BATCH_FIELDS)}; this one is {type_name(item)}")
    unknown = sorted(set(item) - {*_BATCH_FIELDS, "value", "action"})
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}: an item has {', '.join(_BATCH_FIELDS)}, value and action")
    parts: list[str] = []
    for field in _BATCH_FIELDS:
        text = ids.from_json(item.get(field)) if field in ("user_id", "item_id") else item.get(field)
        if not isinstance(text, str):
            raise BadRequest(
                f"{field} is missing or not a string" + (" or an integer" if field.endswith("_id") else ""),
                extra={"field": field.replace("_", " ")},
            )
        parts.append(text)
    action = item.get("action", "set")
    if action not in _BATCH_ACTIONS:
        raise BadRequest(f"action is 'set' (the default) or 'delete', not {action!r}", extra={"field": "action"})
    k = key(*parts)
    if action == "delete":
        return delete_event(k)
    return set_event(k, item.get("value"), now)
