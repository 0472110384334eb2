"""The bookmark rules of spec 5 as pure functions over a user's events and the catalog's facts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.bookmarks.settings import Settings

# The events bookmarks are made of; any other event leaves them as they are.
WATCH_EVENTS = frozenset({"progress", "seen", "hide"})
CONTENT_TYPES = frozenset({"movie", "programme", "episode"})

State = Literal["in_progress", "up_next"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    floor: float  # fraction of the runtime below which progress makes no bookmark
    seen_ratio: float  # fraction of the runtime from which progress counts as seen
    seen_within: float  # minutes before the end from which progress counts as seen

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(settings.progress_floor, settings.seen_ratio, settings.seen_within_minutes)


@dataclass(frozen=True, slots=True)
class Watched:
    """What a user's events say about one movie or episode."""

    progress: float | None = None
    progress_at: datetime | None = None
    seen_at: datetime | None = None  # when a `seen` event holds
    hidden: bool = False
    touched_at: datetime | None = None  # the newest event that holds


@dataclass(frozen=True, slots=True)
class Episode:
    item_id: str
    programme_id: str | None
    season: int | None
    episode: int | None
    runtime: int | None

    @property
    def order(self) -> tuple[int, int] | None:
        """(season, episode) in the "up next" order; None for specials (season 0) and unnumbered episodes."""
        if self.season is None or self.episode is None or self.season < 1:
            return None
        return (self.season, self.episode)


@dataclass(frozen=True, slots=True)
class Bookmark:
    item_type: str
    item_id: str
    state: State
    position: float
    runtime: int | None
    updated_at: datetime
    # A programme's bookmark names its episode; an episode's names its programme.
    episode_id: str | None = None
    programme_id: str | None = None
    season: int | None = None
    episode: int | None = None

    @property
    def listed(self) -> bool:
        """Episodes answer on their own but are listed through their programme, never twice."""
        return self.item_type != "episode"


def watched(events: Iterable[tuple[str, float | None, datetime]]) -> Watched:
    """Fold a user's current (not deleted) events on one item: (event, value, at)."""
    progress = progress_at = seen_at = touched_at = None
    hidden = False
    for event, value, at in events:
        touched_at = at if touched_at is None else max(touched_at, at)
        if event == "progress" and value is not None:
            progress, progress_at = value, at
        elif event == "seen":
            seen_at = at
        elif event == "hide":
            hidden = True
    return Watched(progress, progress_at, seen_at, hidden, touched_at)


def _past_seen_mark(progress: float, runtime: int | None, t: Thresholds) -> bool:
    if not runtime:
        return False
    return progress >= t.seen_ratio * runtime or progress >= runtime - t.seen_within


def is_seen(w: Watched, runtime: int | None, t: Thresholds) -> bool:
    return w.seen_at is not None or (w.progress is not None and _past_seen_mark(w.progress, runtime, t))


def in_progress(w: Watched, runtime: int | None, t: Thresholds) -> bool:
    """Progress between the floor and the seen mark, and newer than any `seen` (a rewatch is in progress again)."""
    if w.progress is None or w.progress_at is None:
        return False
    if w.seen_at is not None and w.seen_at >= w.progress_at:
        return False
    if not runtime:
        return w.progress > 0  # unknown runtime: kept as given
    return w.progress >= t.floor * runtime and not _past_seen_mark(w.progress, runtime, t)


def movie(movie_id: str, w: Watched, runtime: int | None, t: Thresholds) -> Bookmark | None:
    if w.hidden or not in_progress(w, runtime, t):
        return None
    assert w.progress is not None and w.touched_at is not None
    return Bookmark("movie", movie_id, "in_progress", w.progress, runtime, w.touched_at)


def episode(ep: Episode, w: Watched, programme_hidden: bool, t: Thresholds) -> Bookmark | None:
    """An episode's own answer: only while it is in progress."""
    if w.hidden or programme_hidden or not in_progress(w, ep.runtime, t):
        return None
    assert w.progress is not None and w.touched_at is not None
    return Bookmark(
        "episode",
        ep.item_id,
        "in_progress",
        w.progress,
        ep.runtime,
        w.touched_at,
        programme_id=ep.programme_id,
        season=ep.season,
        episode=ep.episode,
    )


def current_episode(episodes: Iterable[tuple[Episode, Watched]], t: Thresholds) -> tuple[Episode, Watched] | None:
    """The programme's episode in progress; of several, the one touched last."""
    started = [(ep, w) for ep, w in episodes if in_progress(w, ep.runtime, t)]
    if not started:
        return None
    return max(started, key=lambda pair: (pair[1].progress_at, pair[0].season or 0, pair[0].episode or 0))


def furthest_seen(episodes: Iterable[tuple[Episode, Watched]], t: Thresholds) -> tuple[int, int] | None:
    """(season, episode) of the furthest seen episode in order, specials left out."""
    seen = [order for ep, w in episodes if (order := ep.order) is not None and is_seen(w, ep.runtime, t)]
    return max(seen) if seen else None


def programme(
    programme_id: str,
    current: tuple[Episode, Watched] | None,
    next_episode: Episode | None,
    updated_at: datetime,
) -> Bookmark | None:
    """The episode in progress, else the next one after the furthest seen (found by the caller) as up next."""
    if current is not None:
        ep, w = current
        assert w.progress is not None
        return Bookmark(
            "programme",
            programme_id,
            "in_progress",
            w.progress,
            ep.runtime,
            updated_at,
            episode_id=ep.item_id,
            season=ep.season,
            episode=ep.episode,
        )
    if next_episode is None:
        return None
    return Bookmark(
        "programme",
        programme_id,
        "up_next",
        0,
        next_episode.runtime,
        updated_at,
        episode_id=next_episode.item_id,
        season=next_episode.season,
        episode=next_episode.episode,
    )
