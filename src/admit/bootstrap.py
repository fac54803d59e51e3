"""Wiring: settings → engine, clock, randomness, hasher → the use cases' Context."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.engine import Engine

from admit.adapters.identity.hashing import Argon2Hasher
from admit.adapters.persistence.database import make_engine
from admit.adapters.persistence.unit_of_work import UnitOfWork
from admit.admin import rate_limits, scim_brake
from admit.config import Settings
from admit.domain.ports import UnitOfWorkFactory
from admit.scim import auth as scim_auth
from admit.shared import idempotency
from admit.shared.context import Context


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemRandom:
    def token(self, nbytes: int) -> str:
        return secrets.token_urlsafe(nbytes)

    def digits(self, count: int) -> str:
        return f"{secrets.randbelow(10**count):0{count}d}"


def make_uow_factory(engine: Engine) -> UnitOfWorkFactory:
    """Units of work on ``engine``, typed as the use cases' port (mypy checks that the persistence
    unit of work and its repositories implement it)."""

    def factory(*, write: bool = False, bulk: bool = False) -> UnitOfWork:
        return UnitOfWork(engine, write=write, bulk=bulk)

    return partial(factory)


def build_context(settings: Settings, engine: Engine | None = None, **overrides: object) -> Context:
    engine = engine or make_engine(settings.database_url, **settings.engine_options())
    scim_brake.configure(settings.scim_brake_percent, settings.scim_brake_minimum)
    scim_auth.configure(settings.scim_requests_per_minute)
    idempotency.configure(timedelta(seconds=settings.idempotency_stale_seconds))
    rate_limits.configure(
        invitations_per_inviter=settings.rate_invitations_per_inviter,
        invitations_per_workspace=settings.rate_invitations_per_workspace,
        invitations_per_organization=settings.rate_invitations_per_organization,
        resends_per_inviter=settings.rate_resends_per_inviter,
        resends_per_workspace=settings.rate_resends_per_workspace,
        resends_per_organization=settings.rate_resends_per_organization,
        resend_seconds=settings.rate_resend_seconds,
        sms_per_inviter=settings.rate_sms_per_inviter,
        sms_per_workspace=settings.rate_sms_per_workspace,
        sms_per_organization=settings.rate_sms_per_organization,
        sms_per_country=settings.rate_sms_per_country,
        sms_daily_cap=settings.sms_daily_cap_per_organization,
    )
    values: dict[str, object] = {
        "uow": make_uow_factory(engine),
        "clock": SystemClock(),
        "random": SystemRandom(),
        "hasher": Argon2Hasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib),
        "base_url": settings.base_url,
        "phone_region": settings.default_phone_region,
        "secret_key": settings.secret_key,
        "dev_mode": settings.dev_mode,
        "embedded_database": engine.dialect.name == "sqlite",
    }
    values.update(overrides)
    return Context(**values)  # type: ignore[arg-type]
