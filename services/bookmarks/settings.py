from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, prefix


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=prefix("bookmarks"), extra="ignore")

    # Bookmark rules (spec 5); each is a fraction of the runtime or a number of minutes.
    progress_floor: float = Field(default=0.05, ge=0, le=1)
    seen_ratio: float = Field(default=0.90, gt=0, le=1)
    seen_within_minutes: float = Field(default=1.0, ge=0)
    stale_after_days: int = Field(default=365, ge=1)

    # Live TV: how long an interval with no end lasts, and what a slot must be watched for.
    viewing_cap_hours: float = Field(default=4.0, gt=0)
    live_min_minutes: float = Field(default=3.0, ge=0)
    live_seen_ratio: float = Field(default=0.90, gt=0, le=1)
    # How often intervals that nothing closed are closed at the cap, and how long after its start
    # arrived one waits for the end first (an end may arrive late, or after its start in a replay).
    sweep_seconds: float = Field(default=10.0, gt=0)
    sweep_grace_seconds: float = Field(default=900.0, ge=0)
    # Viewing older than this is forgotten, and a replay of it ignored, so the live-TV tables stay bounded.
    viewing_keep_days: int = Field(default=30, ge=1)

    # Consumer groups are "<prefix>-events" and "<prefix>-catalog"; another prefix replays every topic.
    consumer_group_prefix: str = "bookmarks"
