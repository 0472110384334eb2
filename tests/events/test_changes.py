"""The value rules of spec section 3, on their own: what each event stores for what it is sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.events import changes
from shared.errors import BadRequest, Unprocessable

NOW = datetime(2026, 12, 4, 15, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("3", 3),
        ("+3", 3),
        (" 3 ", 3),
        ("-0.5", -0.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("9007199254740993", 9007199254740992.0),  # past 2**53: kept as the float JSON can hold
        (7, 7),
        (2.5, 2.5),
        ("1e999", "1e999"),  # not finite: a string
        ("nan", "nan"),
        ("1_000", "1_000"),
        ("0x10", "0x10"),
        ("9" * 500, "9" * 500),  # digits past any number a client means: a string (then too long, below)
        ("", None),
        (None, None),
    ],
)
def test_custom_values_are_numbers_when_they_read_as_one(sent: object, stored: object) -> None:
    if isinstance(stored, str) and len(stored) > changes.MAX_TEXT:
        with pytest.raises(Unprocessable, match="at most 64"):
            changes.stored_value("likes", "podcast", sent, NOW)
        return
    assert changes.stored_value("likes", "podcast", sent, NOW) == stored


@pytest.mark.parametrize("sent", [True, [1], {"a": 1}])
def test_a_value_is_a_number_or_a_string(sent: object) -> None:
    with pytest.raises(Unprocessable, match="a number or a string"):
        changes.stored_value("likes", "podcast", sent, NOW)


def test_text_values_are_printable() -> None:
    with pytest.raises(Unprocessable, match="printable"):
        changes.stored_value("note", "movie", "line\nbreak", NOW)


def test_channel_times_are_unix_seconds() -> None:
    assert changes.stored_value("start", "channel", None, NOW) == 1796396400
    assert changes.stored_value("end", "channel", "2026-12-04T16:00:00+01:00", NOW) == 1796396400
    assert changes.stored_value("end", "channel", 1796396400.5, NOW) == 1796396400.5
    assert changes.key("u", "stop", "channel", "bbc1").event == "end"
    assert changes.key("u", "stop", "movie", "1").event == "stop"  # only a channel's stop is its end


def test_progress_and_rated_rules() -> None:
    assert changes.stored_value("progress", "episode", "0", NOW) == 0
    assert changes.stored_value("rated", "section", "-3", NOW) == -3
    for item_type in ("programme", "series", "channel", "section", "podcast"):
        with pytest.raises(Unprocessable, match="movies and episodes"):
            changes.stored_value("progress", item_type, "5", NOW)
    with pytest.raises(Unprocessable, match="finite number"):
        changes.stored_value("rated", "movie", "1e999", NOW)


def test_identifiers_are_checked_in_path_order() -> None:
    with pytest.raises(BadRequest) as raised:
        changes.key("x" * 33, "BAD", "BAD", "bad id")
    assert raised.value.extra == {"field": "user id"}
    with pytest.raises(BadRequest) as raised:
        changes.key("u", "ok", "BAD", "bad id")
    assert raised.value.extra == {"field": "item type"}


def test_batch_items() -> None:
    change = changes.from_json({"user_id": 7, "event": "rated", "item_type": "movie", "item_id": 12, "value": 4}, NOW)
    assert change == changes.Change(changes.Key("7", "rated", "movie", "12"), 4, deleted=False)
    gone = changes.from_json(
        {"user_id": "7", "event": "seen", "item_type": "movie", "item_id": "1", "action": "delete"}, NOW
    )
    assert gone.deleted and gone.value is None
    for item, mentions in (
        ([], "JSON object"),
        ({"user_id": True, "event": "seen", "item_type": "movie", "item_id": "1"}, "user_id"),
        ({"user_id": "7", "event": 5, "item_type": "movie", "item_id": "1"}, "event"),
        ({"user_id": "7", "event": "seen", "item_type": "movie", "item_id": 1.5}, "item_id"),
        ({"user_id": "7", "event": "seen", "item_type": "movie", "item_id": "1", "colour": "red"}, "colour"),
    ):
        with pytest.raises(BadRequest, match=mentions):
            changes.from_json(item, NOW)
