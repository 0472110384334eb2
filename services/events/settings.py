from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, prefix


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=prefix("events"), extra="ignore")

    # The Kafka consumer group that applies inferred events; replicas share it.
    consumer_group: str = "events"
    max_ids: int = Field(default=1000, ge=1)
    max_batch: int = Field(default=1000, ge=1)
    max_batch_bytes: int = Field(default=1024 * 1024, ge=1024)
