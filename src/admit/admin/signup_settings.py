"""A workspace's self-sign-up: whether its sign-in page offers "Create one now!", the defaults a
new member gets (permission type never above ``member``, department, job profile), the
departments a person may pick, the allowed email domains, approval by an administrator and a
cap on sign-ups per day; and the approval queue (approve or reject, with a notice to the person).

Settings need ``MANAGE_SETTINGS``; the queue needs ``MANAGE_PEOPLE``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from admit.domain.errors import Conflict, NotFound, ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import plausible_id
from admit.domain.login_policy import LoginPolicy
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record, Workspace
from admit.domain.roles import Permission, Role
from admit.shared.access import workspace_for
from admit.shared.context import Actor, Context, record

SIGN_UP_ROLES = (Role.MEMBER.value, Role.GUEST.value)  # never above member
DAILY_CAP_LIMIT = 100_000
DOMAIN_LIMIT = 50
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class SignUpSettings:
    enabled: bool = False
    default_role: str = Role.MEMBER.value
    default_department: str | None = None
    default_job_profile: str | None = None
    departments_pickable: list[str] = field(default_factory=list)
    allowed_domains: list[str] = field(default_factory=list)
    approval_required: bool = False
    daily_cap: int | None = None


def stored(uow: UnitOfWork, workspace: Workspace) -> SignUpSettings:
    """The workspace's settings; off (with the workspace's defaults) until first saved."""
    row = uow.signups.settings(workspace.id)
    if row is None:
        return SignUpSettings(
            default_department=workspace.default_department, default_job_profile=workspace.default_job_profile
        )
    return SignUpSettings(
        enabled=bool(row.enabled),
        default_role=row.default_role,
        default_department=row.default_department,
        default_job_profile=row.default_job_profile,
        departments_pickable=list(row.departments_pickable),
        allowed_domains=list(row.allowed_domains),
        approval_required=bool(row.approval_required),
        daily_cap=row.daily_cap,
    )


def get(ctx: Context, actor: Actor, workspace_id: str) -> SignUpSettings:
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
        return stored(uow, workspace)


def ensure_role(value: Any, field_name: str = "role") -> str:
    """A permission type a sign-up may give: ``member`` or ``guest``, never more."""
    if value not in SIGN_UP_ROLES:
        raise ValidationFailed(
            "a sign-up can give the permission type member or guest only", field=field_name, code="role_too_high"
        )
    return str(value)


def ensure_choice(value: Any, allowed: Sequence[str], field_name: str, what: str) -> str | None:
    """None, or one of the workspace's departments or job profiles (checked on the server)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in allowed:
        raise ValidationFailed(f"choose one of the workspace's {what}", field=field_name, code=f"unknown_{field_name}")
    return value


def _domains(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > DOMAIN_LIMIT:
        raise ValidationFailed(f"give at most {DOMAIN_LIMIT} email domains", field="allowed_domains")
    domains = []
    for item in value:
        domain = item.strip().casefold().lstrip("@") if isinstance(item, str) else ""
        if not _DOMAIN.match(domain):
            shown = item[:60] if isinstance(item, str) else "?"
            raise ValidationFailed(f"{shown!r} is not an email domain such as example.com", field="allowed_domains")
        if domain not in domains:
            domains.append(domain)
    return domains


def _cap(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= DAILY_CAP_LIMIT:
        raise ValidationFailed(f"the daily cap is a number from 1 to {DAILY_CAP_LIMIT}", field="daily_cap")
    return value


def validate(workspace: Workspace, given: dict[str, Any]) -> SignUpSettings:
    """The settings as given, checked against the workspace (``ValidationFailed`` with the field)."""
    departments, profiles = list(workspace.departments), list(workspace.job_profiles)
    pickable = given.get("departments_pickable") or []
    if not isinstance(pickable, list):
        raise ValidationFailed("choose departments from the workspace's list", field="departments_pickable")
    picked = [ensure_choice(d, departments, "departments_pickable", "departments") for d in pickable]
    settings = SignUpSettings(
        enabled=given.get("enabled") is True,
        default_role=ensure_role(given.get("default_role", Role.MEMBER.value), "default_role"),
        default_department=ensure_choice(
            given.get("default_department"), departments, "default_department", "departments"
        ),
        default_job_profile=ensure_choice(
            given.get("default_job_profile"), profiles, "default_job_profile", "job profiles"
        ),
        departments_pickable=list(dict.fromkeys(d for d in picked if d)),
        allowed_domains=_domains(given.get("allowed_domains") or []),
        approval_required=given.get("approval_required") is True,
        daily_cap=_cap(given.get("daily_cap")),
    )
    if settings.enabled and not LoginPolicy.of(workspace.login_methods, workspace.sso_required).password_allowed:
        raise Conflict(
            "this workspace requires single sign-on: people cannot sign up with a password",
            code="sso_required",
            field="enabled",
        )
    return settings


def save(
    ctx: Context, actor: Actor, workspace_id: str, given: dict[str, Any], *, partial: bool = False
) -> SignUpSettings:
    """Save the workspace's sign-up settings (``MANAGE_SETTINGS``), audited; ``partial``: only
    the settings given change."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
        settings = validate(workspace, {**stored(uow, workspace).__dict__, **given} if partial else given)
        uow.signups.save_settings(workspace.organization_id, workspace.id, **settings.__dict__, updated_at=now)
        scope = {"organization_id": workspace.organization_id, "workspace_id": workspace.id}
        record(
            uow,
            actor,
            EventType.SIGNUP_SETTINGS_UPDATED,
            "signup",
            workspace.id,
            now,
            **scope,
            enabled=settings.enabled,
        )
        uow.commit()
    return settings


# The approval queue


@dataclass(frozen=True)
class QueuedRequest:
    id: str
    first_name: str
    last_name: str
    email: str | None
    username: str | None
    phone: str | None
    department: str | None
    job_profile: str | None
    role: str
    link_id: str | None
    created_at: datetime


def _queued(row: Record) -> QueuedRequest:
    return QueuedRequest(**{name: getattr(row, name) for name in QueuedRequest.__dataclass_fields__})


def queue(ctx: Context, actor: Actor, workspace_id: str) -> list[QueuedRequest]:
    """Sign-ups awaiting an administrator's decision, oldest first (``MANAGE_PEOPLE``)."""
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
        rows = uow.signups.requests(workspace.organization_id, workspace.id, "pending_approval")
    return [_queued(row) for row in rows]


def pending_request(uow: UnitOfWork, actor: Actor, workspace_id: str, request_id: str) -> tuple[Workspace, Record]:
    """A request of this workspace awaiting a decision, locked; the actor may manage people."""
    workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
    row = uow.signups.request(workspace.organization_id, request_id, lock=True) if plausible_id(request_id) else None
    if row is None or row.workspace_id != workspace.id:
        raise NotFound("sign-up request not found")
    if row.state != "pending_approval":
        raise Conflict("this sign-up has already been decided", code="already_decided")
    return workspace, row
