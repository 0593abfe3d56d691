"""Typed settings, read from ``WAIHU_*`` environment variables (and an optional ``.env``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    data = Path.home() / ".local" / "share" / "waihu"
    return f"sqlite:///{data / 'waihu.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAIHU_", env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    default_tenant: str = "default"
    timezone: str = "Asia/Shanghai"
    default_region: str = "CN"
    # keyed hash (blind index) for phone lookup and dedup: one key for the whole deployment
    blind_index_key: SecretStr = SecretStr("waihu-development-blind-index-key")
    master_key: SecretStr = SecretStr("waihu-development-master-key")
    log_level: str = "INFO"
    # API: signing key of the short-lived access tokens (JWT), lifetimes, limits
    jwt_secret: SecretStr = SecretStr("waihu-development-jwt-secret-change-me")
    access_token_seconds: int = 900
    refresh_token_seconds: int = 30 * 24 * 3600
    login_max_failures: int = 5
    lockout_seconds: int = 900
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 120
    webhook_max_attempts: int = 8
    webhook_timeout_seconds: float = 5.0
    sql_echo: bool = False

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, v: str) -> str:
        if v.startswith("postgresql://"):
            return "postgresql+psycopg://" + v[len("postgresql://"):]
        if v.startswith("postgres://"):
            return "postgresql+psycopg://" + v[len("postgres://"):]
        return v


def load_settings(**overrides: object) -> Settings:
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
