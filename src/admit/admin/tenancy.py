"""Organizations and workspaces."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from admit.admin.identity_providers import check_login_policy
from admit.domain.branding import accent_color
from admit.domain.errors import NotFound, PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.invitations import lifetime, reminder_days
from admit.domain.passwords import PasswordPolicy
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record, Workspace
from admit.domain.roles import Permission, Role, parse_role
from admit.domain.workspaces import DEFAULTS, SCIM_IDENTIFIER_CHANGES
from admit.shared.access import organization_scope, workspace_for
from admit.shared.context import Actor, ActorKind, Context, record

PLANS = ("free", "pro", "business", "enterprise")
LANGUAGES = ("en", "de", "fr")
MEMBER_FIELDS = ("first_name", "last_name", "job_profile", "department", "language", "external_id")
LISTS = ("departments", "job_profiles", "jit_domains", "login_methods")  # of short names
MAX_ITEMS = 500  # names in one list
MAX_ITEM = 200  # characters in one of them
MAX_URL = 500
MAX_COUNT = 2**31 - 1  # a count the databases store as INTEGER


@dataclass
class WorkspaceSettings:
    invitation_lifetime_days: int = DEFAULTS.invitation_lifetime_days
    reminder_days: int | None = None  # one reminder this many days before an invitation expires
    password_policy: str = DEFAULTS.password_policy
    login_methods: list[str] = field(default_factory=lambda: ["password"])
    sso_required: bool = False
    app_url: str | None = None
    default_language: str = DEFAULTS.default_language
    email_enabled: bool = DEFAULTS.email_enabled
    sms_enabled: bool = DEFAULTS.sms_enabled
    auto_invite: bool = DEFAULTS.auto_invite
    sms_daily_cap: int = DEFAULTS.sms_daily_cap
    departments: list[str] = field(default_factory=list)
    job_profiles: list[str] = field(default_factory=list)
    required_fields: list[str] = field(default_factory=list)
    jit_enabled: bool = False
    jit_domains: list[str] = field(default_factory=list)
    default_role: str = "member"
    default_department: str | None = None
    default_job_profile: str | None = None
    accent_color: str | None = None  # "#rrggbb" on invitee pages and in emails; None: Admit's own
    access_code_lifetime_days: int = 30  # access codes (members without email): 1 to 90 days
    # A new email, username or phone from SCIM for a claimed account: "verify" (the person confirms
    # it; the old address is told) or "trust" (it signs in at once; the old address is told).
    scim_identifier_changes: str = DEFAULTS.scim_identifier_changes

    def validate(self) -> None:
        self._validate_shapes()
        self.accent_color = accent_color(self.accent_color)  # lower case; readable under white text
        lifetime(self.invitation_lifetime_days)
        if not 1 <= self.access_code_lifetime_days <= 90:
            raise ValidationFailed("access codes are valid for 1 to 90 days", field="access_code_lifetime_days")
        reminder_days(self.reminder_days, self.invitation_lifetime_days)
        if self.scim_identifier_changes not in SCIM_IDENTIFIER_CHANGES:
            raise ValidationFailed(
                "scim_identifier_changes must be 'verify' (the person confirms a new address or number"
                " from SCIM) or 'trust' (it signs in at once)",
                field="scim_identifier_changes",
            )
        PasswordPolicy.named(self.password_policy)
        check_language(self.default_language, field="default_language")
        unknown = sorted(set(self.required_fields) - set(MEMBER_FIELDS))
        if unknown:
            raise ValidationFailed(
                f"unknown required field(s) {', '.join(unknown)}; choose from {', '.join(MEMBER_FIELDS)}",
                field="required_fields",
            )
        if self.sms_daily_cap < 0:
            raise ValidationFailed("the daily SMS limit cannot be negative", field="sms_daily_cap")
        if self.app_url is not None and not self.app_url.startswith(("https://", "http://")):
            raise ValidationFailed("the app URL must start with https:// or http://", field="app_url")
        self._validate_just_in_time()

    def _validate_shapes(self) -> None:
        """What any door may hand over (a page's text, a CLI option): whole numbers where counts
        are, short printable names in the lists, a URL without spaces or control characters."""
        for name, most in (
            ("invitation_lifetime_days", None),
            ("sms_daily_cap", MAX_COUNT),
            ("access_code_lifetime_days", None),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or (most is not None and value > most):
                raise ValidationFailed(f"{name.replace('_', ' ')} must be a whole number", field=name)
        for name in LISTS:
            items = getattr(self, name)
            if not isinstance(items, list) or len(items) > MAX_ITEMS:
                raise ValidationFailed(f"list at most {MAX_ITEMS} entries", field=name)
            for item in items:
                if not isinstance(item, str) or not item.strip() or len(item) > MAX_ITEM or _unprintable(item):
                    raise ValidationFailed(
                        f"each entry must be 1 to {MAX_ITEM} printable characters on one line", field=name
                    )
        url = self.app_url
        if url is not None and (len(url) > MAX_URL or _unprintable(url) or any(c.isspace() for c in url)):
            raise ValidationFailed(f"the app URL must be at most {MAX_URL} characters without spaces", field="app_url")
        for name in ("default_department", "default_job_profile"):
            value = getattr(self, name)
            if value is not None and (len(value) > MAX_ITEM or _unprintable(value)):
                raise ValidationFailed(f"at most {MAX_ITEM} printable characters on one line", field=name)

    def _validate_just_in_time(self) -> None:
        if parse_role(self.default_role) is Role.OWNER:
            raise ValidationFailed("just-in-time members cannot be owners", field="default_role")
        if any("@" in d.strip("@") or "." not in d or " " in d for d in self.jit_domains):
            raise ValidationFailed("list domains such as example.com", field="jit_domains")
        if self.default_department is not None and self.default_department not in self.departments:
            raise ValidationFailed("the default department must be one of the departments", field="default_department")
        if self.default_job_profile is not None and self.default_job_profile not in self.job_profiles:
            raise ValidationFailed(
                "the default job profile must be one of the job profiles", field="default_job_profile"
            )

    def check_providers(self, uow: UnitOfWork, organization_id: str) -> None:
        """The login methods name real providers; just-in-time members need one of the organization's."""
        check_login_policy(uow, organization_id, self.login_methods, self.sso_required)
        if self.jit_enabled and not any(m.startswith("sso:") for m in self.login_methods):
            raise ValidationFailed(
                "just-in-time members need one of the organization's identity providers in the login methods",
                field="jit_enabled",
            )


def check_language(value: str, *, field: str = "language") -> str:
    if value not in LANGUAGES:
        raise ValidationFailed(f"unsupported language {value!r}; use one of {', '.join(LANGUAGES)}", field=field)
    return value


def _unprintable(text: str) -> bool:
    """Control characters (NUL, line breaks, escapes) have no place in a one-line name."""
    return any(unicodedata.category(c) == "Cc" for c in text)


def _name(value: str, field: str = "name") -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > 200 or _unprintable(value):
        raise ValidationFailed("a name of 1 to 200 characters is required", field=field)
    return value


def create_organization(
    ctx: Context,
    actor: Actor,
    name: str,
    *,
    plan: str = "free",
    seats: int = 10,
    parent_id: str | None = None,
) -> Record:
    if actor.kind is not ActorKind.OPERATOR:
        raise PermissionDenied("only an operator can create organizations")
    if plan not in PLANS:
        raise ValidationFailed(f"unknown plan {plan!r}; use one of {', '.join(PLANS)}", field="plan")
    if seats < 0:
        raise ValidationFailed("seats cannot be negative", field="seats")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        if parent_id is not None and uow.organizations.get(parent_id) is None:
            raise NotFound("parent organization not found", field="parent_id")
        org_id = uow.organizations.add(name=_name(name), plan=plan, seats=seats, parent_id=parent_id, created_at=now)
        record(
            uow, actor, EventType.ORGANIZATION_CREATED, "organization", org_id, now, organization_id=org_id, plan=plan
        )
        org = uow.organizations.get(org_id)
        uow.commit()
    assert org is not None
    return org


def get_organization(ctx: Context, actor: Actor, organization_id: str) -> Record:
    organization_scope(actor, organization_id)
    with ctx.uow() as uow:
        org = uow.organizations.get(organization_id)
    if org is None:
        raise NotFound("organization not found")
    return org


def list_organizations(ctx: Context, actor: Actor) -> list[Record]:
    scope = None if actor.kind is ActorKind.OPERATOR else actor.organization_id
    if actor.kind is not ActorKind.OPERATOR and (scope is None or actor.workspace_id is not None):
        return []
    with ctx.uow() as uow:
        return list(uow.organizations.list(scope))


def create_workspace(
    ctx: Context, actor: Actor, organization_id: str, name: str, settings: WorkspaceSettings | None = None
) -> Workspace:
    organization_scope(actor, organization_id)
    if actor.role is None or not actor.role.allows(Permission.MANAGE_SETTINGS):
        raise PermissionDenied("creating a workspace needs the manage settings permission")
    settings = settings or WorkspaceSettings()
    settings.validate()
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        if uow.organizations.get(organization_id) is None:
            raise NotFound("organization not found")
        settings.check_providers(uow, organization_id)
        ws_id = uow.workspaces.add(organization_id=organization_id, name=_name(name), created_at=now, **vars(settings))
        record(
            uow,
            actor,
            EventType.WORKSPACE_CREATED,
            "workspace",
            ws_id,
            now,
            organization_id=organization_id,
            workspace_id=ws_id,
        )
        workspace = uow.workspaces.get(organization_id, ws_id)
        uow.commit()
    assert workspace is not None
    return workspace


def get_workspace(ctx: Context, actor: Actor, workspace_id: str) -> Workspace:
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.VIEW_DIRECTORY)
    return workspace


def list_workspaces(ctx: Context, actor: Actor, organization_id: str) -> list[Workspace]:
    organization_scope(actor, organization_id)
    with ctx.uow() as uow:
        return list(uow.workspaces.list(organization_id))


@dataclass(frozen=True)
class LoginChoice:
    """A login method a workspace may allow: ``password``, ``sso:<id>`` or ``personal:<id>``."""

    method: str
    kind: str  # password, sso or personal
    name: str


def settings_of(ctx: Context, actor: Actor, workspace_id: str) -> tuple[Workspace, list[LoginChoice]]:
    """The workspace's settings for someone who may change them (manage settings), with the
    login methods it may allow: a password, the organization's providers, the instance's
    personal ones."""
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
        providers = [*uow.identity_providers.list(workspace.organization_id), *uow.identity_providers.list(None)]
    choices = [LoginChoice("password", "password", "")]
    choices += [LoginChoice(f"{row.kind}:{row.id}", row.kind, row.name) for row in providers]
    return workspace, choices


def apply_changes(
    uow: UnitOfWork, actor: Actor, workspace: Workspace, values: dict[str, Any], now: datetime, **why: Any
) -> None:
    """Write checked settings to a workspace and audit which fields changed (``why``: more to
    record, such as the use case that changed them), in the caller's transaction."""
    uow.workspaces.update(workspace.organization_id, workspace.id, **values)
    record(
        uow,
        actor,
        EventType.WORKSPACE_UPDATED,
        "workspace",
        workspace.id,
        now,
        organization_id=workspace.organization_id,
        workspace_id=workspace.id,
        fields=sorted(values),
        **why,
    )


def update_workspace(ctx: Context, actor: Actor, workspace_id: str, changes: dict[str, Any]) -> Workspace:
    """Change a workspace's name or settings (communication, lifetime, policy, ...)."""
    allowed = {"name", *WorkspaceSettings.__dataclass_fields__}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(unknown)}", field=unknown[0])
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
        current = {name: workspace._mapping[name] for name in WorkspaceSettings.__dataclass_fields__}
        merged = WorkspaceSettings(**{**current, **{k: v for k, v in changes.items() if k != "name"}})
        merged.validate()
        merged.check_providers(uow, workspace.organization_id)
        values = {k: v for k, v in vars(merged).items() if current[k] != v}
        if "name" in changes and _name(changes["name"]) != workspace.name:
            values["name"] = _name(changes["name"])
        if values:
            apply_changes(uow, actor, workspace, values, now)
        updated = uow.workspaces.get(workspace.organization_id, workspace.id)
        uow.commit()
    assert updated is not None
    return updated
