"""Live TV as pure functions: channel start/end marks -> viewing intervals -> minutes per slot -> inferred events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

# What a slot's item gets: `progress` exists only for movies and episodes (spec 3).
PROGRESS_TYPES = frozenset({"movie", "episode"})


@dataclass(frozen=True, slots=True)
class Mark:
    """A channel `start` or `end` of one user, at the moment the event names."""

    at: datetime
    kind: Literal["start", "end"]
    channel_id: str
    # A start the sweeper closed at the cap because nothing followed it in time.
    settled: bool = False


@dataclass(frozen=True, slots=True)
class Interval:
    channel_id: str
    start: datetime
    stop: datetime

    def overlaps(self, lo: datetime, hi: datetime) -> bool:
        return self.start < hi and self.stop > lo


@dataclass(frozen=True, slots=True)
class Slot:
    channel_id: str
    start: datetime
    stop: datetime
    item_type: str
    item_id: str


@dataclass(frozen=True, slots=True)
class Inference:
    channel_id: str
    slot_start: datetime
    event: Literal["progress", "seen"]
    item_type: str
    item_id: str
    value: int | None  # minutes watched, for `progress`
    at: datetime  # when the viewing inside the slot ended


def intervals(marks: Iterable[Mark], cap: timedelta) -> list[Interval]:
    """The closed viewing intervals.

    A start lasts until the next `end` on its channel, the user's next `start` on any channel, or
    `cap` later. A start that nothing has closed yet is still open and left out: its end may only
    be delayed (out-of-order delivery), and the sweeper closes it at the cap when none comes.
    """
    # At one instant an end comes before a start, so "end 20:00, start 20:00" is a new interval.
    ordered = sorted(marks, key=lambda m: (m.at, m.kind != "end", m.channel_id))
    found: list[Interval] = []
    for index, mark in enumerate(ordered):
        if mark.kind != "start":
            continue
        limit = mark.at + cap
        stop = limit if mark.settled else None
        for later in ordered[index + 1 :]:
            if later.at > limit:
                stop = limit  # the user did something after the cap, so the interval ended at it
                break
            if later.kind == "start" or later.channel_id == mark.channel_id:
                stop = later.at
                break
        if stop is not None:
            found.append(Interval(mark.channel_id, mark.at, stop))
    return found


def watched_seconds(slot: Slot, viewing: Sequence[Interval]) -> tuple[float, datetime | None]:
    """Total viewing inside the slot (zapping away and back adds up), and when the last of it ended."""
    seconds = 0.0
    last: datetime | None = None
    for interval in viewing:
        if interval.channel_id != slot.channel_id:
            continue
        start, stop = max(interval.start, slot.start), min(interval.stop, slot.stop)
        if stop > start:
            seconds += (stop - start).total_seconds()
            last = stop if last is None else max(last, stop)
    return seconds, last


def infer(slots: Iterable[Slot], viewing: Sequence[Interval], min_minutes: float, seen_ratio: float) -> list[Inference]:
    """Per slot: under `min_minutes` nothing; else `progress` (minutes watched) and `seen` from `seen_ratio` of it."""
    inferred: list[Inference] = []
    for slot in sorted(slots, key=lambda s: (s.start, s.channel_id)):
        seconds, last = watched_seconds(slot, viewing)
        if last is None or seconds < min_minutes * 60:
            continue
        if slot.item_type in PROGRESS_TYPES:
            minutes = int(seconds // 60)
            inferred.append(
                Inference(slot.channel_id, slot.start, "progress", slot.item_type, slot.item_id, minutes, last)
            )
        length = (slot.stop - slot.start).total_seconds()
        if length > 0 and seconds >= seen_ratio * length:
            inferred.append(Inference(slot.channel_id, slot.start, "seen", slot.item_type, slot.item_id, None, last))
    return inferred
