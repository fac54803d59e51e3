"""An organization's apps (OpenID clients): where Admit may send a person back with a code, and
how the app proves itself at the token endpoint. A confidential client proves itself with a
secret (generated here, shown once and stored as a digest) or, with ``private_key_jwt``, with
assertions signed by a key whose public part it registered (``jwks``); a public client (a
single-page or native app) has neither and must use PKCE. Only a confidential client may be
registered for the ``refresh_token`` grant.

Who manages apps: an organization-level actor (an API token of the organization, not limited to
one workspace, with the manage settings permission; an operator) manages every app. A person
signed in to the console (an account) acts from one workspace (``workspace_id``) where they hold
manage settings; they see the apps serving it (bound to it, or to every workspace) and may
register, and remove, an app only when it is bound to workspaces where they hold manage settings
in every one. An app for every workspace is shown to them read-only (``manageable`` is False):
only organization-level actors manage it. Another workspace's app is not found from here."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from admit.domain import secrets
from admit.domain.errors import NotFound, PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.domain.roles import Permission
from admit.oidc_provider import assertions
from admit.shared import hosts
from admit.shared.access import organization_scope, workspace_for
from admit.shared.context import Actor, ActorKind, Context, record

SCOPES = ("openid", "profile", "email", "workspace")
CLIENT_TYPES = ("confidential", "public")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
AUTHENTICATED_METHODS = (*SECRET_METHODS, assertions.METHOD)  # token, revocation and introspection
AUTH_METHODS = {"confidential": AUTHENTICATED_METHODS, "public": ("none",)}
GRANT_TYPES = ("authorization_code", "refresh_token")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_URIS = 20


def check_uri(uri: str, name: str, *, dev_mode: bool) -> None:
    """An absolute https URL without a fragment (http only on loopback in dev mode)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        parts = urlsplit("")
    secure = parts.scheme == "https" or (dev_mode and parts.scheme == "http" and parts.hostname in LOOPBACK)
    unprintable = any(c.isspace() or not c.isprintable() for c in uri)
    if not secure or not hosts.is_host(parts.hostname) or "#" in uri or len(uri) > 500 or unprintable:
        hint = " (http:// only on loopback, in dev mode)" if not dev_mode else " (or http:// on loopback)"
        raise ValidationFailed(
            f"{uri!r} must be an https:// URL of one host (no wildcard) without a fragment{hint}", field=name
        )


@dataclass
class ClientInput:
    name: str
    redirect_uris: list[str]
    client_type: str = "confidential"
    token_endpoint_auth_method: str | None = None
    workspace_ids: list[str] = field(default_factory=list)
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    backchannel_logout_uri: str | None = None
    allowed_scopes: list[str] = field(default_factory=lambda: list(SCOPES))
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code"])
    jwks: dict[str, Any] | None = None
    initiate_login_uri: str | None = None
    jwks_uri: str | None = None

    def validate(self, dev_mode: bool) -> None:
        if not self.name.strip() or len(self.name) > 100 or any(unicodedata.category(c) == "Cc" for c in self.name):
            raise ValidationFailed("a name of 1 to 100 characters is required", field="name")
        if self.client_type not in CLIENT_TYPES:
            raise ValidationFailed("the type is confidential or public", field="client_type")
        self._validate_authentication()
        self._validate_uris(dev_mode)
        if "openid" not in self.allowed_scopes or not set(self.allowed_scopes) <= set(SCOPES):
            raise ValidationFailed(f"scopes include openid, from {', '.join(SCOPES)}", field="allowed_scopes")

    def _validate_authentication(self) -> None:
        """The method fits the type, keys come with private_key_jwt only (and are public keys),
        refresh tokens go to confidential clients only."""
        if self.token_endpoint_auth_method not in AUTH_METHODS[self.client_type]:
            allowed = ", ".join(AUTH_METHODS[self.client_type])
            raise ValidationFailed(
                f"a {self.client_type} client authenticates with {allowed}", field="token_endpoint_auth_method"
            )
        if self.token_endpoint_auth_method == assertions.METHOD:
            if self.jwks_uri is not None and self.jwks is not None:
                raise ValidationFailed(
                    "give the keys (jwks) or the address where the app publishes them (jwks_uri), not both",
                    field="jwks_uri",
                )
            if self.jwks_uri is None:
                self.jwks = assertions.client_keys(self.jwks)
        elif self.jwks is not None:
            raise ValidationFailed(f"keys are registered with {assertions.METHOD} only", field="jwks")
        elif self.jwks_uri is not None:
            raise ValidationFailed(f"a jwks_uri is registered with {assertions.METHOD} only", field="jwks_uri")
        if "authorization_code" not in self.grant_types or not set(self.grant_types) <= set(GRANT_TYPES):
            raise ValidationFailed(
                f"grant types include authorization_code, from {', '.join(GRANT_TYPES)}", field="grant_types"
            )
        if "refresh_token" in self.grant_types and self.client_type != "confidential":
            raise ValidationFailed("only a confidential client gets refresh tokens", field="grant_types")

    def _validate_uris(self, dev_mode: bool) -> None:
        if not self.redirect_uris or len(self.redirect_uris) > MAX_URIS:
            raise ValidationFailed(f"1 to {MAX_URIS} redirect URIs are required", field="redirect_uris")
        for name in ("redirect_uris", "post_logout_redirect_uris"):
            for uri in getattr(self, name):
                check_uri(uri, name, dev_mode=dev_mode)
        for name in ("backchannel_logout_uri", "initiate_login_uri", "jwks_uri"):
            if getattr(self, name):
                check_uri(getattr(self, name), name, dev_mode=dev_mode)

    def normalise(self) -> None:
        if self.jwks_uri is not None and not self.jwks_uri.strip():
            self.jwks_uri = None  # an empty address (the CLI's --jwks-uri "") is none
        if self.token_endpoint_auth_method is None:
            self.token_endpoint_auth_method = AUTH_METHODS.get(self.client_type, ("",))[0]
        self.name = self.name.strip()
        self.redirect_uris = list(dict.fromkeys(self.redirect_uris))
        self.workspace_ids = list(dict.fromkeys(self.workspace_ids))
        self.grant_types = [g for g in GRANT_TYPES if g in self.grant_types] + [
            g for g in self.grant_types if g not in GRANT_TYPES
        ]
        self.allowed_scopes = [s for s in SCOPES if s in self.allowed_scopes] + [
            s for s in self.allowed_scopes if s not in SCOPES
        ]


def view(row: Record) -> dict[str, Any]:
    """A client as the API shows it: never its secret's digest."""
    values = dict(row._mapping)
    values["client_id"] = values.pop("id")
    values["client_secret_set"] = values.pop("secret_digest") is not None
    return values


def _scope(uow: UnitOfWork, actor: Actor, organization_id: str) -> None:
    organization_scope(actor, organization_id)
    if actor.role is None or not actor.role.allows(Permission.MANAGE_SETTINGS):
        raise PermissionDenied("managing apps needs the manage settings permission")
    if uow.organizations.get(organization_id) is None:
        raise NotFound("organization not found")


def _enter(uow: UnitOfWork, actor: Actor, organization_id: str, workspace_id: str | None) -> None:
    """Check that the actor may manage apps here: an organization-level actor in the
    organization (and ``workspace_id``, if given, one of its workspaces), or an account with the
    manage settings permission in ``workspace_id``, a workspace of this organization."""
    if actor.kind is not ActorKind.ACCOUNT:
        _scope(uow, actor, organization_id)
        if workspace_id is not None and uow.workspaces.get(organization_id, workspace_id) is None:
            raise NotFound("workspace not found")
        return
    if workspace_id is None:
        raise PermissionDenied("a person manages apps from a workspace they administer")
    workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
    if workspace.organization_id != organization_id:
        raise NotFound("organization not found")


def _manageable(uow: UnitOfWork, actor: Actor, workspace_ids: list[str]) -> bool:
    """Whether the actor may manage an app bound to ``workspace_ids`` (none: every workspace)."""
    if actor.kind is not ActorKind.ACCOUNT:
        return True
    if not workspace_ids:
        return False
    for workspace_id in workspace_ids:
        try:
            workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
        except (NotFound, PermissionDenied):
            return False
    return True


def _serves(row: Record, workspace_id: str | None) -> bool:
    return workspace_id is None or not row.workspace_ids or workspace_id in row.workspace_ids


def _app(uow: UnitOfWork, actor: Actor, organization_id: str, client_id: str, workspace_id: str | None) -> Record:
    """The app, if it serves the workspace the actor acts from; else ``NotFound``."""
    row = uow.oidc_clients.get(organization_id, client_id)
    if row is None or not _serves(row, workspace_id):
        raise NotFound("app not found")
    return row


def create(
    ctx: Context, actor: Actor, organization_id: str, given: ClientInput, *, workspace_id: str | None = None
) -> tuple[dict[str, Any], str | None]:
    """The new client and its secret (None for a public client or one with keys): the only time
    it is shown. A person registers it from ``workspace_id``, bound to workspaces they manage."""
    given.normalise()
    given.validate(ctx.dev_mode)
    with_secret = given.token_endpoint_auth_method in SECRET_METHODS
    secret = secrets.issue(secrets.SecretPurpose.CLIENT_SECRET, ctx.random) if with_secret else None
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        _enter(uow, actor, organization_id, workspace_id)
        for bound in given.workspace_ids:
            if uow.workspaces.get(organization_id, bound) is None:
                raise ValidationFailed(f"no workspace {bound} in this organization", field="workspace_ids")
        if not _manageable(uow, actor, given.workspace_ids):
            raise PermissionDenied("an app is registered for workspaces where you manage settings only")
        client_id = uow.oidc_clients.add(
            organization_id=organization_id,
            secret_digest=secret.digest if secret else None,
            created_at=now,
            **{name: getattr(given, name) for name in ClientInput.__dataclass_fields__},
        )
        record(
            uow, actor, EventType.CLIENT_CREATED, "client", client_id, now,
            organization_id=organization_id, workspace_id=workspace_id, name=given.name,
        )  # fmt: skip
        row = uow.oidc_clients.get(organization_id, client_id)
        uow.commit()
    assert row is not None
    return view(row), secret.plaintext if secret else None


def list_clients(
    ctx: Context, actor: Actor, organization_id: str, *, workspace_id: str | None = None
) -> list[dict[str, Any]]:
    """The organization's apps (with ``workspace_id``: those serving it), each saying whether
    the actor may remove it (``manageable``)."""
    with ctx.uow() as uow:
        _enter(uow, actor, organization_id, workspace_id)
        rows = [row for row in uow.oidc_clients.list(organization_id) if _serves(row, workspace_id)]
        return [{**view(row), "manageable": _manageable(uow, actor, row.workspace_ids)} for row in rows]


def get(
    ctx: Context, actor: Actor, organization_id: str, client_id: str, *, workspace_id: str | None = None
) -> dict[str, Any]:
    with ctx.uow() as uow:
        _enter(uow, actor, organization_id, workspace_id)
        row = _app(uow, actor, organization_id, client_id, workspace_id)
        return {**view(row), "manageable": _manageable(uow, actor, row.workspace_ids)}


def remove(
    ctx: Context, actor: Actor, organization_id: str, client_id: str, *, workspace_id: str | None = None
) -> None:
    """Remove the app: its codes stop working; the access tokens issued to it stop at userinfo."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        _enter(uow, actor, organization_id, workspace_id)
        row = _app(uow, actor, organization_id, client_id, workspace_id)
        if not _manageable(uow, actor, row.workspace_ids):
            raise PermissionDenied("this app also serves workspaces where you do not manage settings")
        uow.oidc_clients.remove(organization_id, client_id)
        record(
            uow, actor, EventType.CLIENT_REMOVED, "client", client_id, now,
            organization_id=organization_id, workspace_id=workspace_id, name=row.name,
        )  # fmt: skip
        uow.commit()


# What may change after registration. The type (confidential or public) may not: a secret or keys
# would appear or vanish under the app; register a new app instead.
EDITABLE = tuple(name for name in ClientInput.__dataclass_fields__ if name != "client_type")
# Changes after which the app's refresh tokens stop: what they were issued for is no longer allowed.
NARROWING = ("allowed_scopes", "grant_types", "workspace_ids", "token_endpoint_auth_method", "jwks", "jwks_uri")


def update(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    client_id: str,
    changes: dict[str, Any],
    *,
    workspace_id: str | None = None,
) -> dict[str, Any]:
    """Change an app's registration (the fields given; the rest kept), checked as at
    registration. A person may move an app only between workspaces they manage. Switching
    between a secret and keys (``private_key_jwt``) is refused: the secret is never shown again,
    so register a new app. Narrowing what the app may do (scopes, grants, workspaces, keys, its
    authentication method) revokes its refresh tokens: its people sign in again."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        _enter(uow, actor, organization_id, workspace_id)
        row = _app(uow, actor, organization_id, client_id, workspace_id)
        unknown = sorted(name for name in changes if name not in EDITABLE and changes[name] != getattr(row, name, None))
        if unknown:
            raise ValidationFailed(f"these cannot be changed: {', '.join(unknown)}", field=unknown[0])
        if not _manageable(uow, actor, row.workspace_ids):
            raise PermissionDenied("this app also serves workspaces where you do not manage settings")
        given = ClientInput(**{name: getattr(row, name) for name in ClientInput.__dataclass_fields__})
        for name in EDITABLE:
            if name in changes:
                setattr(given, name, changes[name])
        if changes.get("jwks_uri") and "jwks" not in changes:
            given.jwks = None  # keys at an address replace the registered ones
        if changes.get("jwks") is not None and "jwks_uri" not in changes:
            given.jwks_uri = None  # and registered keys the address
        given.normalise()
        was_secret = row.token_endpoint_auth_method in SECRET_METHODS
        if was_secret != (given.token_endpoint_auth_method in SECRET_METHODS):
            raise ValidationFailed(
                "an app cannot switch between a secret and keys; register a new app",
                field="token_endpoint_auth_method",
            )
        given.validate(ctx.dev_mode)
        for bound in given.workspace_ids:
            if uow.workspaces.get(organization_id, bound) is None:
                raise ValidationFailed(f"no workspace {bound} in this organization", field="workspace_ids")
        if not _manageable(uow, actor, given.workspace_ids):
            raise PermissionDenied("an app is bound to workspaces where you manage settings only")
        changed = {name: getattr(given, name) for name in EDITABLE if getattr(given, name) != getattr(row, name)}
        if changed:
            uow.oidc_clients.update(organization_id, client_id, **changed)
            revoked = 0
            if set(changed) & set(NARROWING):
                revoked = uow.oidc_refresh_tokens.revoke_for_client(organization_id, client_id, now)
            record(
                uow, actor, EventType.CLIENT_UPDATED, "client", client_id, now,
                organization_id=organization_id, workspace_id=workspace_id, name=given.name,
                changed=sorted(changed), revoked_refresh_tokens=revoked,
            )  # fmt: skip
        updated = uow.oidc_clients.get(organization_id, client_id)
        assert updated is not None
        result = {**view(updated), "manageable": _manageable(uow, actor, updated.workspace_ids)}
        uow.commit()
    return result


def rotate_secret(
    ctx: Context, actor: Actor, organization_id: str, client_id: str, *, workspace_id: str | None = None
) -> str:
    """A new secret for an app that authenticates with one, shown this once; the old one stops
    working at once (an app that cannot afford that gap is registered twice and switched over)."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        _enter(uow, actor, organization_id, workspace_id)
        row = _app(uow, actor, organization_id, client_id, workspace_id)
        if not _manageable(uow, actor, row.workspace_ids):
            raise PermissionDenied("this app also serves workspaces where you do not manage settings")
        if row.token_endpoint_auth_method not in SECRET_METHODS:
            raise ValidationFailed("this app has no secret (it is public or uses keys)", field="client_secret")
        secret = secrets.issue(secrets.SecretPurpose.CLIENT_SECRET, ctx.random)
        uow.oidc_clients.update(organization_id, client_id, secret_digest=secret.digest)
        record(
            uow, actor, EventType.CLIENT_SECRET_ROTATED, "client", client_id, now,
            organization_id=organization_id, workspace_id=workspace_id, name=row.name,
        )  # fmt: skip
        uow.commit()
    return secret.plaintext
