"""Live TV as pure functions: marks -> intervals -> minutes per slot -> inferred events."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from services.bookmarks import viewing
from services.bookmarks.viewing import Interval, Mark, Slot

CAP = timedelta(hours=4)


def at(hhmm: str, day: int = 1) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime(2026, 12, day, int(hours), int(minutes), tzinfo=UTC)


def start(hhmm: str, channel: str = "c1") -> Mark:
    return Mark(at(hhmm), "start", channel)


def end(hhmm: str, channel: str = "c1") -> Mark:
    return Mark(at(hhmm), "end", channel)


EVENING = [
    Slot("c1", at("20:00"), at("20:30"), "episode", "a"),
    Slot("c1", at("20:30"), at("21:00"), "episode", "b"),
    Slot("c1", at("21:00"), at("22:00"), "movie", "m"),
]


def summary(inferred: list[viewing.Inference]) -> list[tuple[str, str, int | None]]:
    return [(i.item_id, i.event, i.value) for i in inferred]


def test_an_interval_closes_at_its_end_the_next_start_or_the_cap() -> None:
    assert viewing.intervals([start("20:05"), end("21:10")], CAP) == [Interval("c1", at("20:05"), at("21:10"))]
    assert viewing.intervals([start("20:05"), start("20:40", "c2")], CAP) == [Interval("c1", at("20:05"), at("20:40"))]
    # An end on another channel closes nothing; the user's next activity after the cap means it ended there.
    assert viewing.intervals([start("10:00"), end("11:00", "c2"), start("15:00", "c2")], CAP)[0] == Interval(
        "c1", at("10:00"), at("14:00")
    )
    # Nothing after it yet: still open, unless the sweeper closed it at the cap.
    assert viewing.intervals([start("20:05")], CAP) == []
    assert viewing.intervals([Mark(at("20:05"), "start", "c1", settled=True)], CAP) == [
        Interval("c1", at("20:05"), at("00:05", day=2))
    ]


def test_the_order_marks_arrive_in_does_not_matter() -> None:
    marks = [start("20:05"), start("20:20", "c2"), start("20:22"), end("20:40"), end("20:21", "c2")]
    expected = viewing.intervals(marks, CAP)
    for _ in range(10):
        random.shuffle(marks)
        assert viewing.intervals(marks, CAP) == expected


def test_an_evening_across_three_slots() -> None:
    watched = viewing.intervals([start("20:05"), end("21:10")], CAP)
    assert summary(viewing.infer(EVENING, watched, 3, 0.9)) == [
        ("a", "progress", 25),  # 25 of 30 minutes: under 90%, no seen
        ("b", "progress", 30),
        ("b", "seen", None),
        ("m", "progress", 10),
    ]
    inferred = viewing.infer(EVENING, watched, 3, 0.9)
    assert inferred[0].at == at("20:30") and inferred[-1].at == at("21:10")


def test_zapping_away_and_back_adds_up_and_a_short_zap_counts_for_nothing() -> None:
    marks = [start("20:02"), start("20:10", "c2"), start("20:12"), end("20:30")]
    watched = viewing.intervals(marks, CAP)
    slots = [*EVENING[:1], Slot("c2", at("20:00"), at("21:00"), "episode", "other")]
    # 8 + 18 = 26 minutes of a; 2 minutes of the other channel count for nothing.
    assert summary(viewing.infer(slots, watched, 3, 0.9)) == [("a", "progress", 26)]
    assert summary(viewing.infer(slots, watched, 3, 0.85)) == [("a", "progress", 26), ("a", "seen", None)]


def test_a_slot_that_names_only_a_programme_gets_only_seen() -> None:
    slots = [Slot("c1", at("20:00"), at("20:30"), "programme", "p")]
    watched = viewing.intervals([start("20:00"), end("20:30")], CAP)
    assert summary(viewing.infer(slots, watched, 3, 0.9)) == [("p", "seen", None)]
    watched = viewing.intervals([start("20:00"), end("20:20")], CAP)
    assert summary(viewing.infer(slots, watched, 3, 0.9)) == []
