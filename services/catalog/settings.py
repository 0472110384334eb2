from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, prefix


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=prefix("catalog"), extra="ignore")

    # How often the service looks for instances whose `expires` has passed, to announce them gone.
    expiry_check_seconds: float = Field(default=1.0, gt=0, le=3600)
    expiry_batch: int = Field(default=1000, ge=1)
    # Bulk bodies: POST ingest/{sourceid}/ and POST epg/xmltv (the gateway allows 64 MiB there).
    max_bulk_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    max_ids: int = Field(default=1000, ge=1)
    max_schedule_days: int = Field(default=31, ge=1)
