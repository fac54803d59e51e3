"""Settings, read once from ``ADMIT_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from typing import Literal

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
    log_format: Literal["json", "console"] | None = Field(
        None, description="json (one object a line) or console; overrides ADMIT_LOG_JSON when set."
    )
    db_pool_size: int = Field(
        10,
        ge=1,
        le=1000,
        description="PostgreSQL connections each process keeps (processes x (pool + overflow) <= max_connections).",
    )
    db_max_overflow: int = Field(
        10, ge=0, le=1000, description="Extra PostgreSQL connections a process opens under load."
    )
    db_connect_timeout: int = Field(
        5,
        ge=1,
        le=300,
        description="Seconds a PostgreSQL connection attempt may take before the database counts as down.",
    )
    db_pgbouncer: bool = Field(
        False,
        description="PostgreSQL is reached through PgBouncer in transaction mode: no server-side prepared statements.",
    )
    metrics_token: str | None = Field(
        None, description="Bearer token /metrics asks for; unset: /metrics answers only loopback clients."
    )
    expiry_sweep_seconds: float = Field(60.0, description="How often `serve` marks lapsed invitations expired.")
    telemetry: bool = Field(
        False, description="FastAPI's OpenTelemetry traces, metrics and logs, to the global providers you configure."
    )

    argon2_memory_kib: int = Field(19456, ge=1024, description="Argon2id memory per hash (OWASP: 19 MiB).")
    argon2_time_cost: int = Field(2, ge=1, description="Argon2id iterations (OWASP: 2 with 19 MiB).")

    # Delivery (the outbox worker)
    mail_from: str = Field("Admit <no-reply@admit.invalid>", description="Sender of every email.")
    smtp_host: str | None = Field(None, description="SMTP server; unset in dev mode = capture only.")
    smtp_port: int = 587
    smtp_security: Literal["plain", "starttls", "tls"] = Field("starttls", description="plain, starttls or tls.")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = Field(
        30.0, gt=0, description="Seconds the worker waits for the SMTP server (connecting, each reply) before retrying."
    )
    smtp_ca_file: str | None = Field(None, description="CA bundle to trust for the SMTP server (else the system's).")
    sms_provider: Literal["none", "webhook", "twilio"] = Field("none", description="SMS gateway kind.")
    sms_url: str | None = Field(None, description="Webhook URL, or the Twilio-compatible API base URL.")
    sms_token: str | None = Field(None, description="Bearer token for the webhook gateway.")
    sms_account_sid: str | None = None
    sms_auth_token: str | None = None
    sms_from: str | None = Field(None, description="Sender number or name for SMS.")
    sms_timeout: float = Field(
        15.0, gt=0, description="Seconds the worker waits for the SMS gateway (connecting, answering) before retrying."
    )
    delivery_max_attempts: int = Field(8, ge=1, description="Attempts before a message is abandoned.")
    delivery_backoff_seconds: float = Field(30.0, gt=0, description="First retry delay; doubles per attempt.")
    delivery_lease_seconds: float = Field(120.0, gt=0, description="How long a claimed message stays locked.")
    delivery_batch: int = Field(50, ge=1, le=1000, description="Messages a worker claims at once.")
    delivery_poll_seconds: float = Field(1.0, gt=0, description="Idle worker polling interval.")
    scim_brake_percent: int = Field(
        20, ge=1, le=100, description="SCIM brake: hold deactivations past this % of a workspace per hour (100: off)."
    )
    scim_requests_per_minute: int = Field(
        6000,
        ge=0,
        description="SCIM requests a minute per token, all processes together; then 429 (0 = no limit).",
    )
    scim_brake_minimum: int = Field(
        10, ge=0, description="SCIM deprovisioning brake: never brake a workspace of at most this many members."
    )
    # Rate limits (admit.admin.rate_limits): per hour unless said otherwise; 0 = no limit
    rate_invitations_per_inviter: int = Field(300, ge=0, description="Invitations an hour per inviter.")
    rate_invitations_per_workspace: int = Field(1000, ge=0, description="Invitations an hour per workspace.")
    rate_invitations_per_organization: int = Field(3000, ge=0, description="Invitations an hour per organization.")
    rate_resends_per_inviter: int = Field(100, ge=0, description="Resends an hour per inviter.")
    rate_resends_per_workspace: int = Field(300, ge=0, description="Resends an hour per workspace.")
    rate_resends_per_organization: int = Field(1000, ge=0, description="Resends an hour per organization.")
    rate_resend_seconds: int = Field(60, ge=0, description="One resend per invitation per this many seconds.")
    rate_sms_per_inviter: int = Field(100, ge=0, description="Invitation SMS an hour per inviter.")
    rate_sms_per_workspace: int = Field(300, ge=0, description="Invitation SMS an hour per workspace.")
    rate_sms_per_organization: int = Field(1000, ge=0, description="SMS of any kind an hour per organization.")
    rate_sms_per_country: int = Field(300, ge=0, description="SMS of any kind an hour per organization and country.")
    sms_daily_cap_per_organization: int = Field(
        2000, ge=0, description="SMS of any kind a UTC day per organization, bulk jobs included (a count)."
    )
    job_lease_seconds: float = Field(
        300.0,
        gt=0,
        description="How long a job stays with its runner after each chunk; a dead runner's job resumes after it.",
    )
    idempotency_stale_seconds: float = Field(
        300.0,
        gt=0,
        description="How long an Idempotency-Key stays in flight before a retry may take it over (its process died).",
    )
    worker_in_serve: bool = Field(True, description="Run the outbox worker and the job runner inside `admit serve`.")

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
        if not self.dev_mode and self.argon2_memory_kib * self.argon2_time_cost < 19456 * 2:
            raise ValueError(
                "ADMIT_ARGON2_MEMORY_KIB x ADMIT_ARGON2_TIME_COST is below OWASP's minimum (19456 KiB x 2) outside "
                "dev mode"
            )
        return self

    @property
    def json_logs(self) -> bool:
        if self.log_format is not None:
            return self.log_format == "json"
        return (not self.dev_mode) if self.log_json is None else self.log_json

    def engine_options(self) -> dict[str, object]:
        """How each process connects (PostgreSQL: its pool; PgBouncer: nothing prepared server-side)."""
        if not self.database_url.startswith("postgres"):
            return {}
        connect: dict[str, object] = {"connect_timeout": self.db_connect_timeout}
        if self.db_pgbouncer:
            # psycopg prepares a statement after 5 runs on a connection; behind PgBouncer in
            # transaction mode the next transaction may get another server connection without it.
            connect["prepare_threshold"] = None
        return {"pool_size": self.db_pool_size, "max_overflow": self.db_max_overflow, "connect_args": connect}
