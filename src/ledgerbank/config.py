"""Settings, read from the environment (prefix LEDGERBANK_) and an optional `.env` file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGERBANK_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("data")
    database_url: str = ""
    jwt_secret: str = ""
    token_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"

    # identity
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    pin_max_failures: int = 5
    pin_lock_minutes: int = 15
    password_min_length: int = 8

    # ledger
    max_amount: str = "1000000000.00"
    db_pool_size: int = 10

    # LedgerGPT
    llm_base_url: str = ""
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str = ""
    llm_timeout_seconds: float = 20.0
    query_timeout_seconds: float = 5.0
    query_row_limit: int = 1000

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ledgerbank.db').resolve()}"

    def signing_secret(self) -> str:
        """The JWT secret: from settings, else generated once into the data folder."""
        return self.jwt_secret or _generated_secret(self.data_dir.resolve())


@lru_cache
def _generated_secret(data_dir: Path) -> str:
    path = data_dir / "jwt-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
