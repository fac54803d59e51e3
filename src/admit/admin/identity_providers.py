"""Identity providers (OpenID Connect) and the login policy that names them.

An organization's own providers (``sso``) are an enterprise-plan feature; the instance's
``personal`` providers (a personal Microsoft account, or any OIDC provider) are configured by
the operator and any workspace may allow them. Client secrets are stored encrypted and never
returned."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from admit.adapters.identity import oidc
from admit.adapters.identity.sealing import seal
from admit.domain import login_policy
from admit.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.domain.roles import Permission
from admit.shared import hosts
from admit.shared.access import organization_scope, workspace_for
from admit.shared.context import Actor, ActorKind, Context, record

CLAIM_FIELDS = ("first_name", "last_name", "email", "groups")
DEFAULT_CLAIMS = {"first_name": "given_name", "last_name": "family_name", "email": "email", "groups": "groups"}
DEFAULT_SCOPES = ("openid", "email", "profile")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class ProviderInput:
    name: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPES))
    claims: dict[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        texts = {"name": [self.name], "issuer": [self.issuer], "client_id": [self.client_id]}
        texts |= {"client_secret": [self.client_secret], "scopes": self.scopes, "claims": list(self.claims.values())}
        for name, values in texts.items():
            if any("\x00" in value for value in values):
                raise ValidationFailed("text cannot contain NUL characters", field=name)
        if not self.name.strip() or len(self.name) > 100:
            raise ValidationFailed("a name of 1 to 100 characters is required", field="name")
        parts = urlsplit(self.issuer)
        secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)
        if not secure or not hosts.is_host(parts.hostname) or parts.query or parts.fragment or len(self.issuer) > 500:
            raise ValidationFailed(
                "the issuer must be an https:// URL of one host (http:// only on this machine's loopback)",
                field="issuer",
            )
        if not self.client_id.strip() or len(self.client_id) > 255:
            raise ValidationFailed("a client id is required", field="client_id")
        if not self.client_secret:
            raise ValidationFailed("a client secret is required", field="client_secret")
        if "openid" not in self.scopes or any(not s or " " in s for s in self.scopes):
            raise ValidationFailed("the scopes must include 'openid' (and contain no spaces)", field="scopes")
        if len(self.client_secret) > 2000 or len(self.scopes) > 50 or any(len(s) > 200 for s in self.scopes):
            raise ValidationFailed("the client secret or the scopes are too long", field=_longest(self))
        if any(not claim.strip() or len(claim) > 200 for claim in self.claims.values()):
            raise ValidationFailed("each claim name has 1 to 200 characters", field="claims")
        unknown = sorted(set(self.claims) - set(CLAIM_FIELDS))
        if unknown:
            raise ValidationFailed(
                f"unknown claim mapping {', '.join(unknown)}; map {', '.join(CLAIM_FIELDS)}", field="claims"
            )


def _longest(given: ProviderInput) -> str:
    return "client_secret" if len(given.client_secret) > 2000 else "scopes"


@dataclass(frozen=True, slots=True)
class ProviderView:
    """A provider as the administrator sees it (the API's ``IdentityProviderOut``): never its client
    secret, only that one is set; the claim mapping with the defaults filled in."""

    id: str
    organization_id: str | None
    kind: str
    name: str
    issuer: str
    client_id: str
    client_secret_set: bool
    scopes: list[str]
    claims: dict[str, str]
    created_at: datetime


def view(row: Record) -> ProviderView:
    return ProviderView(
        id=row.id,
        organization_id=row.organization_id,
        kind=row.kind,
        name=row.name,
        issuer=row.issuer,
        client_id=row.client_id,
        client_secret_set=True,  # the column is required: every provider has one
        scopes=row.scopes,
        claims={**DEFAULT_CLAIMS, **(row.claims or {})},
        created_at=row.created_at,
    )


def _scope(
    ctx: Context, uow: UnitOfWork, actor: Actor, organization_id: str | None, workspace_id: str | None = None
) -> None:
    """Who may manage which providers: the operator the personal ones; an organization's
    settings managers its own, on the enterprise plan: an organization-level actor, or a person
    with the manage settings permission in ``workspace_id``, a workspace of this organization."""
    if organization_id is None:
        if actor.kind is not ActorKind.OPERATOR:
            raise PermissionDenied("only an operator can manage personal identity providers")
        return
    if actor.kind is ActorKind.ACCOUNT:
        workspace, _ = workspace_for(uow, actor, workspace_id or "", Permission.MANAGE_SETTINGS)
        if workspace.organization_id != organization_id:
            raise NotFound("organization not found")
        return
    organization_scope(actor, organization_id)
    if actor.role is None or not actor.role.allows(Permission.MANAGE_SETTINGS):
        raise PermissionDenied("managing identity providers needs the manage settings permission")
    if uow.organizations.get(organization_id) is None:
        raise NotFound("organization not found")


def _may_create(
    ctx: Context, uow: UnitOfWork, actor: Actor, organization_id: str | None, workspace_id: str | None
) -> None:
    _scope(ctx, uow, actor, organization_id, workspace_id)
    if organization_id is not None:
        organization = uow.organizations.get(organization_id)
        assert organization is not None
        if organization.plan != "enterprise":
            raise PermissionDenied(
                "single sign-on providers are an enterprise-plan feature", code="plan_required", field="plan"
            )


def check_discovery(ctx: Context, actor: Actor, issuer: str) -> None:
    """The issuer's metadata, fetched live: it must be there, be JSON and name this very issuer.
    Only the operator (or dev mode) may name an address on this machine or a private network."""
    allow_private = ctx.dev_mode or actor.kind is ActorKind.OPERATOR
    try:
        oidc.discover(issuer, allow_private=allow_private)
    except oidc.ProviderUnavailable as exc:
        raise ValidationFailed(
            f"the issuer's discovery document cannot be used: {exc.message}", field="issuer", code="discovery_failed"
        ) from None


def create(
    ctx: Context, actor: Actor, organization_id: str | None, given: ProviderInput, *, workspace_id: str | None = None
) -> ProviderView:
    """Add a provider once its discovery document, fetched now, names its issuer. A person adds
    one from ``workspace_id``, where they manage settings."""
    given.validate()
    with ctx.uow() as uow:
        _may_create(ctx, uow, actor, organization_id, workspace_id)  # no request goes out for someone refused
    check_discovery(ctx, actor, given.issuer)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        _may_create(ctx, uow, actor, organization_id, workspace_id)
        provider_id = uow.identity_providers.add(
            organization_id=organization_id,
            kind="sso" if organization_id is not None else "personal",
            name=given.name.strip(),
            issuer=given.issuer,
            client_id=given.client_id.strip(),
            client_secret=seal(ctx.secret_key, given.client_secret),
            scopes=list(given.scopes),
            claims=dict(given.claims),
            created_at=now,
        )
        record(
            uow,
            actor,
            EventType.IDENTITY_PROVIDER_CREATED,
            "identity_provider",
            provider_id,
            now,
            organization_id=organization_id,
            issuer=given.issuer,
        )
        row = uow.identity_providers.get(organization_id, provider_id)
        uow.commit()
    assert row is not None
    return view(row)


def list_providers(
    ctx: Context, actor: Actor, organization_id: str | None, *, workspace_id: str | None = None
) -> list[ProviderView]:
    with ctx.uow() as uow:
        if organization_id is not None:
            _scope(ctx, uow, actor, organization_id, workspace_id)
        return [view(row) for row in uow.identity_providers.list(organization_id)]


def get(ctx: Context, actor: Actor, provider_id: str, *, workspace_id: str | None = None) -> ProviderView:
    with ctx.uow() as uow:
        row = manageable(ctx, uow, actor, provider_id, workspace_id)
    return view(row)


def manageable(ctx: Context, uow: UnitOfWork, actor: Actor, provider_id: str, workspace_id: str | None) -> Record:
    """A provider the actor may manage (and so test), else ``NotFound``/``PermissionDenied``."""
    row = _own(uow, actor, provider_id, workspace_id)
    _scope(ctx, uow, actor, row.organization_id, workspace_id)
    return row


def _own(uow: UnitOfWork, actor: Actor, provider_id: str, workspace_id: str | None) -> Record:
    """The provider, in the organization the actor acts in (a person: the workspace's)."""
    scope = None if actor.kind is ActorKind.OPERATOR else actor.organization_id
    if actor.kind is ActorKind.ACCOUNT:
        workspace = uow.workspaces.get(None, workspace_id) if workspace_id else None
        scope = None if workspace is None else workspace.organization_id
    if actor.kind is not ActorKind.OPERATOR and scope is None:
        raise NotFound("identity provider not found")
    row = uow.identity_providers.get(scope, provider_id, personal=False)
    if row is None:
        raise NotFound("identity provider not found")
    return row


def remove(ctx: Context, actor: Actor, provider_id: str, *, workspace_id: str | None = None) -> None:
    """Remove a provider no workspace allows any more."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = manageable(ctx, uow, actor, provider_id, workspace_id)
        method = f"{row.kind}:{row.id}"
        organizations = [row.organization_id] if row.organization_id else [o.id for o in uow.organizations.list()]
        for organization_id in organizations:
            if any(method in w.login_methods for w in uow.workspaces.list(organization_id)):
                raise Conflict(
                    "a workspace still allows this provider; change its login methods first", code="provider_in_use"
                )
        uow.identity_providers.remove(row.id)
        record(
            uow,
            actor,
            EventType.IDENTITY_PROVIDER_REMOVED,
            "identity_provider",
            row.id,
            now,
            organization_id=row.organization_id,
        )
        uow.commit()


def check_login_policy(uow: UnitOfWork, organization_id: str, login_methods: list[str], sso_required: bool) -> None:
    """Every provider a workspace names must exist: ``sso:`` ones belong to its organization
    (and need the enterprise plan), ``personal:`` ones are the instance's."""
    policy = login_policy.LoginPolicy.of(login_methods, sso_required)
    policy.validate()
    named = [*policy.sso_providers, *policy.personal_providers]
    found = {row.id: row for row in uow.identity_providers.by_ids(organization_id, named)}
    for method in policy.methods:
        if method.provider_id is None:
            continue
        row = found.get(method.provider_id)
        if row is None or row.kind != method.kind:
            raise ValidationFailed(f"no such identity provider for {method}", field="login_methods")
    if policy.sso_providers:
        organization = uow.organizations.get(organization_id)
        if organization is None or organization.plan != "enterprise":
            raise PermissionDenied(
                "single sign-on providers are an enterprise-plan feature", code="plan_required", field="plan"
            )
