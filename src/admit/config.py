"""Settings, read once from ``ADMIT_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-secret-key-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ADMIT_", env_file=".env", extra="ignore")

    dev_mode: bool = Field(False, description="Development conveniences; never in production.")
    database_url: str = Field("sqlite:///admit.db", description="SQLAlchemy URL (sqlite or postgresql+psycopg).")
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL that every link is built from.")
    secret_key: str = Field(DEV_SECRET_KEY, description="Signs short-lived flow state; 32+ characters.")
    default_phone_region: str | None = Field(None, description="Region for phone numbers without +, e.g. DE.")
    log_level: str = "info"
    log_json: bool | None = Field(None, description="JSON logs; defaults to on outside dev mode.")
    expiry_sweep_seconds: float = Field(60.0, description="How often `serve` marks lapsed invitations expired.")

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("ADMIT_BASE_URL must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if not self.dev_mode and (self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32):
            raise ValueError(
                "ADMIT_SECRET_KEY must be set to a random value of 32+ characters outside "
                "dev mode (python -c 'import secrets; print(secrets.token_urlsafe(32))'), "
                "or set ADMIT_DEV_MODE=true for local development"
            )
        return self

    @property
    def json_logs(self) -> bool:
        return (not self.dev_mode) if self.log_json is None else self.log_json
