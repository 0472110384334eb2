"""The bookmark rules of spec 5, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.bookmarks import rules
from services.bookmarks.rules import Episode, Watched
from services.bookmarks.settings import Settings

T = rules.Thresholds.of(Settings(database_url="unused"))
NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)


def progress(minutes: float, at: datetime = NOON) -> Watched:
    return rules.watched([("progress", minutes, at)])


def test_defaults_are_the_spec() -> None:
    assert (T.floor, T.seen_ratio, T.seen_within) == (0.05, 0.90, 1.0)


def test_progress_band_of_a_movie() -> None:
    assert rules.movie("m", progress(4.9), 100, T) is None  # under 5%
    assert rules.movie("m", progress(5), 100, T) is not None
    assert rules.movie("m", progress(89.9), 100, T) is not None
    assert rules.movie("m", progress(90), 100, T) is None  # 90%: seen
    # A short film: within a minute of the end counts as seen before 90% does.
    assert rules.movie("m", progress(7), 8, T) is None
    assert rules.movie("m", progress(6.9), 8, T) is not None


def test_unknown_runtime_keeps_progress_as_given() -> None:
    found = rules.movie("m", progress(500), None, T)
    assert found is not None and found.position == 500 and found.runtime is None
    assert rules.movie("m", progress(0), None, T) is None


def test_seen_and_hide() -> None:
    seen_after = rules.watched([("progress", 30, NOON), ("seen", None, NOON + timedelta(minutes=1))])
    assert rules.movie("m", seen_after, 100, T) is None
    same_moment = rules.watched([("progress", 30, NOON), ("seen", None, NOON)])
    assert rules.movie("m", same_moment, 100, T) is None
    # Started again after it was seen: a rewatch is in progress.
    rewatch = rules.watched([("seen", None, NOON), ("progress", 30, NOON + timedelta(days=1))])
    assert rules.movie("m", rewatch, 100, T) is not None
    hidden = rules.watched([("progress", 30, NOON), ("hide", None, NOON)])
    assert rules.movie("m", hidden, 100, T) is None


def ep(item_id: str, season: int | None, number: int | None, runtime: int | None = 30) -> Episode:
    return Episode(item_id, "p", season, number, runtime)


SEEN = rules.watched([("seen", None, NOON)])


def test_current_episode_is_the_one_touched_last() -> None:
    episodes = [
        (ep("e1", 1, 1), progress(10, NOON)),
        (ep("e2", 1, 2), progress(12, NOON + timedelta(hours=1))),
        (ep("e3", 1, 3), progress(1, NOON + timedelta(hours=2))),  # under the floor
    ]
    current = rules.current_episode(episodes, T)
    assert current is not None and current[0].item_id == "e2"


def test_furthest_seen_orders_by_season_then_episode_and_skips_specials() -> None:
    episodes = [
        (ep("s1e9", 1, 9), SEEN),
        (ep("s2e1", 2, 1), progress(29.5)),  # seen by the threshold
        (ep("s0e5", 0, 5), SEEN),
        (ep("s3e0", None, None), SEEN),
    ]
    assert rules.furthest_seen(episodes, T) == (2, 1)
    assert rules.furthest_seen([(ep("s0e1", 0, 1), SEEN)], T) is None


def test_programme_bookmark_shapes() -> None:
    current = (ep("e2", 1, 2), progress(12))
    found = rules.programme("p", current, None, NOON)
    assert found is not None
    assert (found.state, found.position, found.episode_id, found.season, found.episode) == (
        "in_progress",
        12,
        "e2",
        1,
        2,
    )
    following = rules.programme("p", None, ep("e3", 2, 1, 45), NOON)
    assert following is not None
    assert (following.state, following.position, following.runtime, following.episode_id) == ("up_next", 0, 45, "e3")
    assert rules.programme("p", None, None, NOON) is None


def test_an_episode_answers_only_while_in_progress() -> None:
    assert rules.episode(ep("e1", 1, 1), progress(10), False, T) is not None
    assert rules.episode(ep("e1", 1, 1), progress(10), True, T) is None  # its programme is hidden
    assert rules.episode(ep("e1", 1, 1), SEEN, False, T) is None
