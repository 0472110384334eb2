from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, prefix


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=prefix("profiles"), extra="ignore")

    max_profile_bytes: int = 64 * 1024
    max_profile_depth: int = 32
