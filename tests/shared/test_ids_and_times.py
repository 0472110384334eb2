from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import ids, timefmt
from shared.errors import BadRequest


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("0", 0),
        ("7", 7),
        ("123456789012345678", 123456789012345678),
        ("007", "007"),
        ("-1", "-1"),
        ("1234567890123456789", "1234567890123456789"),
        ("1e3", "1e3"),
        ("abc", "abc"),
        ("١٢", "١٢"),
    ],
)
def test_ids_are_numbers_only_when_canonical(text: str, written: int | str) -> None:
    assert ids.to_json(text) == written
    assert type(ids.to_json(text)) is type(written)


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "x" * 33, "tab\there", "nl\n"])
def test_bad_user_ids_name_the_field(bad: str) -> None:
    with pytest.raises(BadRequest) as raised:
        ids.user_id(bad)
    assert raised.value.extra["field"] == "user id"


@pytest.mark.parametrize("good", ["7", "Zoë", "a b", "x" * 32, "...", "ann@example.com"])
def test_good_user_ids(good: str) -> None:
    assert ids.user_id(good) == good


@pytest.mark.parametrize("bad", ["", "a b", "x" * 65, "é", "a/b", "a?b"])
def test_bad_item_ids(bad: str) -> None:
    with pytest.raises(BadRequest):
        ids.item_id(bad, "item id")


@pytest.mark.parametrize("bad", ["Watchlist", "a.b", "x" * 33, ""])
def test_bad_names(bad: str) -> None:
    with pytest.raises(BadRequest):
        ids.name(bad, "event")


@pytest.mark.parametrize(
    "text",
    ["1796396400", "1796396400.0", 1796396400, "2026-12-04T15:00:00Z", "2026-12-04T16:00:00+01:00"],
)
def test_times_in_every_accepted_form(text: str | int) -> None:
    assert timefmt.parse(text) == datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert timefmt.format(timefmt.parse(text)) == "2026-12-04T15:00:00Z"


@pytest.mark.parametrize("bad", ["2026-12-04T15:00:00", "yesterday", "nan", "-5", "1e30"])
def test_bad_times_say_what_to_send(bad: str) -> None:
    with pytest.raises(ValueError, match=r"Unix|offset|time"):
        timefmt.parse(bad)
