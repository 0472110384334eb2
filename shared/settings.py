"""Settings every service process reads; each service subclasses with its own env prefix."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # Required: no default, so a process without a database refuses to start.
    database_url: str
    # Empty means the in-process bus of the single-machine default.
    kafka_bootstrap: str = ""
    kafka_partitions: int = Field(default=6, ge=1)
    # With the in-process bus only: changes published this recently are published again at start-up,
    # since that bus does not outlive its process. Kafka keeps them itself.
    memory_bus_replay_seconds: float = Field(default=900, ge=0)
    # A consumer's record of message ids it has handled. A redelivery can only come from what Kafka still
    # holds (7 days by default), so ids kept a day longer than that still catch every duplicate.
    inbox_keep_hours: float = Field(default=192, gt=0)
    db_pool_min: int = Field(default=2, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    log_level: str = "info"


def prefix(service: str) -> str:
    return f"TANKTOP_{service.upper()}_"
