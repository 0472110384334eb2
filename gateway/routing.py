"""The route table, as data: which service answers each first path segment, and its rules."""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Route:
    service: str
    writes_need_admin: bool = False
    max_body: int = 64 * KIB


_PROFILES = Route("profiles")
_EVENTS = Route("events")
_CATALOG = Route("catalog", writes_need_admin=True)
_BULK_CATALOG = Route("catalog", writes_need_admin=True, max_body=64 * MIB)
_RECS = Route("recs")

ROUTES: dict[str, Route] = {
    "user": _PROFILES,
    "event": _EVENTS,
    "events": Route("events", max_body=1 * MIB),
    "bookmark": Route("bookmarks"),
    "notification": Route("notifications"),
    **{
        segment: _CATALOG
        for segment in (
            "source",
            "movie",
            "programme",
            "series",
            "episode",
            "channel",
            "schedule",
            "sport",
            "collection",
            "category",
            "person",
            "instance",
        )
    },
    "ingest": _BULK_CATALOG,
    "epg": _BULK_CATALOG,
    **{segment: _RECS for segment in ("list", "fulllist", "recommendations", "popular", "sectiondef", "sectionlist")},
}

SERVICES = ("profiles", "events", "catalog", "bookmarks", "notifications", "recs")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
