"""Event contracts between services: topic names and payload models, versioned in the topic name.

The only domain code services share. A breaking change gets a new topic (`.v2`), published beside
the old one until every consumer has moved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

PROFILE_CHANGES = "tanktop.profiles.changes.v1"
SPORT_PREFERENCE_CHANGES = "tanktop.profiles.sport-preferences.v1"
EVENT_CHANGES = "tanktop.events.changes.v1"
INFERRED_EVENTS = "tanktop.events.inferred.v1"
CATALOG_ITEM_CHANGES = "tanktop.catalog.items.v1"
CATALOG_AVAILABILITY_CHANGES = "tanktop.catalog.availability.v1"
CATALOG_SCHEDULE_CHANGES = "tanktop.catalog.schedule.v1"

ALL_TOPICS = (
    PROFILE_CHANGES,
    SPORT_PREFERENCE_CHANGES,
    EVENT_CHANGES,
    INFERRED_EVENTS,
    CATALOG_ITEM_CHANGES,
    CATALOG_AVAILABILITY_CHANGES,
    CATALOG_SCHEDULE_CHANGES,
)


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str  # stable per change: consumers drop a message whose id they have seen


class ProfileChanged(Contract):
    tenant: str
    user_id: str
    change: Literal["created", "updated", "deactivated"]
    version: int
    at: datetime


class SportPreferenceChanged(Contract):
    tenant: str
    user_id: str
    sport_id: str
    team_id: str | None
    change: Literal["added", "removed"]
    at: datetime


class EventChanged(Contract):
    """A user's event set or deleted; `value` is null for a delete and for events that take none."""

    tenant: str
    user_id: str
    event: str
    item_type: str
    item_id: str
    value: float | int | str | None
    deleted: bool
    origin: Literal["api", "live"]
    version: int
    at: datetime


class InferredEvent(Contract):
    """An event the platform inferred (from live TV viewing), for the events service to apply."""

    tenant: str
    user_id: str
    event: str
    item_type: str
    item_id: str
    value: float | int | str | None
    at: datetime


class CatalogItemChanged(Contract):
    """A catalog item created, changed or deleted. `item` is its public JSON shape (None when deleted).

    The facts other services index are lifted out: runtime for bookmarks' thresholds, and for an
    episode its programme, season and episode number (bookmarks' "up next" order).
    """

    item_type: Literal["movie", "programme", "episode", "channel", "source", "sport", "team", "collection"]
    item_id: str
    deleted: bool
    item: dict[str, Any] | None
    runtime: int | None = None  # minutes
    programme_id: str | None = None
    season: int | None = None
    episode: int | None = None
    at: datetime


class AvailabilityChanged(Contract):
    """An instance of a movie or programme on a source appeared, changed price or quality, or went away."""

    item_type: Literal["movie", "programme", "episode"]
    item_id: str
    source_id: str
    # The instance as the catalog lists it (price_rent, price_rent_hd, price_buy, price_buy_hd, expires),
    # or None when it is gone or expired.
    instance: dict[str, Any] | None
    at: datetime


class ScheduleSlot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    start: datetime
    stop: datetime
    item_type: Literal["movie", "programme", "episode"]
    item_id: str
    programme_id: str | None = None  # set when item_type is "episode"
    hd: bool = False


class ScheduleChanged(Contract):
    """The complete set of a channel's slots overlapping [window_start, window_end) after a change."""

    channel_id: str
    window_start: datetime
    window_end: datetime
    slots: list[ScheduleSlot]
    at: datetime
