from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import prefix


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=prefix("gateway"), extra="ignore")

    database_url: str
    # Base URLs of the services; an empty one means that part is not deployed (its routes answer 404).
    profiles_url: str = ""
    events_url: str = ""
    catalog_url: str = ""
    bookmarks_url: str = ""
    notifications_url: str = ""
    recs_url: str = ""
    # A revoked key stops working within this many seconds.
    key_cache_seconds: float = Field(default=2.0, ge=0, le=5)
    default_rate_per_second: float = Field(default=200.0, gt=0)
    default_burst: int = Field(default=400, ge=1)
    upstream_timeout_seconds: float = Field(default=30.0, gt=0)
    log_level: str = "info"
