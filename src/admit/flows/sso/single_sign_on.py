"""Single sign-on flows: start (a POST: state, nonce and PKCE verifier are made here and kept in
the person's browser, the state's digest in the database), complete (the callback: every check,
then the identity), and what an identity may do: join the workspace it was invited to, enter a
workspace it is a member of, or become a just-in-time member.

Accounts with an external credential are keyed by (issuer, subject) only. The provider's email
is kept only when the provider says it is verified, and it never links to another account."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any

from admit.adapters.identity import oidc
from admit.adapters.identity.sealing import unseal
from admit.admin import groups, identity_providers, licences
from admit.admin.identity_providers import DEFAULT_CLAIMS
from admit.domain import login_policy, secrets
from admit.domain.errors import NotFound, PermissionDenied, SecretRejected
from admit.domain.events import EventType
from admit.domain.identifiers import normalise_email
from admit.domain.login_policy import LoginPolicy
from admit.domain.members import MemberStatus, person_names
from admit.domain.ports import UnitOfWork
from admit.domain.records import Invitation, Record, Workspace
from admit.domain.secrets import FlowKind
from admit.flows.invitation import claims
from admit.shared import flow_state
from admit.shared.context import Actor, ActorKind, Context, record

STATE = secrets.SecretPurpose.SSO_STATE
CALLBACK = "/sso/callback"
TEST = "test"  # the purpose of an administrator's test of a provider (its callback only shows the claims)


def policy_of(workspace: Workspace | dict[str, Any]) -> LoginPolicy:
    values = workspace if isinstance(workspace, dict) else workspace._mapping
    return LoginPolicy.of(values["login_methods"], values["sso_required"])


def allowed_providers(uow: UnitOfWork, workspace: Workspace | dict[str, Any]) -> list[Record]:
    """The providers a workspace allows, in its order (personal ones not when SSO is required)."""
    values = workspace if isinstance(workspace, dict) else workspace._mapping
    wanted = policy_of(workspace).providers
    rows = {r.id: r for r in uow.identity_providers.by_ids(values["organization_id"], wanted)}
    return [rows[p] for p in wanted if p in rows]


def _client(ctx: Context, provider: Record) -> oidc.Client:
    return oidc.Client(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=unseal(ctx.secret_key, provider.client_secret),
        scopes=tuple(provider.scopes),
    )


def start(ctx: Context, provider_id: str, target: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """Begin a flow with a provider the target allows. ``target`` is ``{"invitation": token}``
    or ``{"workspace": id}``. Returns the provider's authorization URL and the flow state the
    browser keeps (signed, short-lived). A provider that cannot be reached fails closed."""
    with ctx.uow() as uow:
        workspace = _target_workspace(uow, ctx, target)
        provider = _allowed(uow, workspace, provider_id)
    return _begin(ctx, provider, workspace["organization_id"])


def _begin(ctx: Context, provider: Record, organization_id: str | None) -> tuple[str, dict[str, Any]]:
    discovery = oidc.discover(provider.issuer)
    client = _client(ctx, provider)
    issued = secrets.issue(STATE, ctx.random)
    nonce, verifier = ctx.random.token(32), ctx.random.token(48)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        uow.secrets.add(
            purpose=STATE.value,
            digest=issued.digest,
            organization_id=organization_id,
            subject_id=provider.id,
            created_at=now,
            expires_at=secrets.expiry(STATE, now),
        )
        uow.commit()
    url = oidc.authorization_url(
        discovery, client, redirect_uri=ctx.link(CALLBACK), state=issued.plaintext, nonce=nonce, verifier=verifier
    )
    return url, {"state": issued.plaintext, "nonce": nonce, "verifier": verifier, "provider": provider.id}


def start_test(
    ctx: Context, actor: Actor, workspace_id: str | None, provider_id: str, session: str
) -> tuple[str, dict[str, Any]]:
    """Begin a test of a provider by someone who may manage it: a real sign-in at the provider
    whose callback only shows what came back. The flow names its purpose, the account and the
    browser session (``session``, a digest of it) that started it."""
    with ctx.uow() as uow:
        provider = identity_providers.manageable(ctx, uow, actor, provider_id, workspace_id)
    url, flow = _begin(ctx, provider, provider.organization_id)
    return url, {**flow, "purpose": TEST, "account": actor.id, "session": session}


def complete_test(
    ctx: Context, actor: Actor, workspace_id: str | None, flow: dict[str, Any], params: dict[str, str], session: str
) -> dict[str, Any]:
    """The callback of a test: only for the account and browser session that started it, only while
    they may manage the provider. Every check of a sign-in, then the claims received and what they
    map to; no account, member or session is created or changed."""
    if flow.get("purpose") != TEST or flow.get("account") != actor.id or flow.get("session") != session:
        raise oidc.SsoRejected("this test was not started by you in this session")
    now = _check_state(ctx, flow, params)
    with ctx.uow() as uow:
        provider = identity_providers.manageable(ctx, uow, actor, str(flow.get("provider")), workspace_id)
    found = _exchange(ctx, provider, flow, params, now)
    return {"provider": provider.id, "claims": found, "identity": identity(provider, found)}


def _target_workspace(uow: UnitOfWork, ctx: Context, target: dict[str, str]) -> dict[str, Any]:
    if "invitation" in target:
        digest = secrets.digest_for(target["invitation"], claims.INVITATION)
        _, invitation = claims._by_token(uow, digest, ctx.clock.now(), lock=False)
        workspace = uow.workspaces.get(invitation.organization_id, invitation.workspace_id)
        if workspace is not None and invitation.login_method:  # a seller's invitation names the one way in
            policy = claims.invitation_policy(workspace, invitation)
            return {**workspace._mapping, "login_methods": [str(m) for m in policy.methods], "sso_required": True}
    else:
        workspace = uow.workspaces.get(None, target.get("workspace", ""))
    if workspace is None:
        raise NotFound("workspace not found")
    return dict(workspace._mapping)


def _allowed(uow: UnitOfWork, workspace: dict[str, Any], provider_id: str) -> Record:
    for provider in allowed_providers(uow, workspace):
        if provider.id == provider_id:
            return provider
    raise PermissionDenied(
        "this workspace does not allow signing in with this identity provider", code="login_method_not_allowed"
    )


def complete(ctx: Context, flow: dict[str, Any], target: dict[str, str], params: dict[str, str]) -> dict[str, Any]:
    """The callback: the state must be this browser's and unused, the provider's answer must pass
    every check, the target must still allow the provider; returns the identity (issuer, subject,
    verified email or None, names)."""
    if flow.get("purpose") == TEST:
        raise oidc.SsoRejected("this was a test of the identity provider, not a sign-in")
    now = _check_state(ctx, flow, params)
    with ctx.uow() as uow:
        workspace = _target_workspace(uow, ctx, target)
        provider = _allowed(uow, workspace, str(flow.get("provider")))
    return identity(provider, _exchange(ctx, provider, flow, params, now))


def _check_state(ctx: Context, flow: dict[str, Any], params: dict[str, str]) -> datetime:
    """The state is this browser's and is used up now; the provider did not answer with an error."""
    state = params.get("state", "")
    if not isinstance(flow.get("state"), str) or not hmac.compare_digest(state.encode(), flow["state"].encode()):
        raise oidc.SsoRejected("this sign-in was not started in this browser (state mismatch)")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        _consume_state(uow, state, now)
        uow.commit()
    if params.get("error"):
        raise oidc.SsoRejected(f"the identity provider did not sign you in ({params['error'][:60]})")
    return now


def _exchange(
    ctx: Context, provider: Record, flow: dict[str, Any], params: dict[str, str], now: datetime
) -> dict[str, Any]:
    """The code for the checked claims of the ID token (and the userinfo endpoint)."""
    if "iss" in params and params["iss"] != provider.issuer:
        raise oidc.SsoRejected("the answer came from another identity provider")
    discovery = oidc.discover(provider.issuer)
    return oidc.complete(
        discovery,
        _client(ctx, provider),
        code=params.get("code", ""),
        redirect_uri=ctx.link(CALLBACK),
        verifier=str(flow.get("verifier", "")),
        nonce=str(flow.get("nonce", "")),
        now=now,
    )


def _consume_state(uow: UnitOfWork, state: str, now: datetime) -> None:
    try:
        digest = secrets.digest_for(state, STATE)
    except SecretRejected:
        raise oidc.SsoRejected("this sign-in is not valid; start again") from None
    row = uow.secrets.by_digest(digest, lock=True)
    if row is None:
        raise oidc.SsoRejected("this sign-in is not valid; start again")
    try:
        secrets.ensure_usable(
            purpose=secrets.SecretPurpose(row.purpose),
            expected=STATE,
            expires_at=row.expires_at,
            consumed_at=row.consumed_at,
            revoked_at=row.revoked_at,
            now=now,
        )
    except SecretRejected:
        raise oidc.SsoRejected("this sign-in has expired or was used already; start again") from None
    if not uow.secrets.consume(row.id, now):
        raise oidc.SsoRejected("this sign-in was used already; start again")


def identity(provider: Record, found: dict[str, Any]) -> dict[str, Any]:
    """The provider's claims through its mapping. The email only when verified."""
    mapping = {**DEFAULT_CLAIMS, **(provider.claims or {})}

    def text(name: str, limit: int) -> str | None:
        value = found.get(mapping[name])
        return value.strip()[:limit] or None if isinstance(value, str) else None

    verified = found.get("email_verified") is True or found.get("email_verified") == "true"
    email = text("email", 320)
    groups = found.get(mapping["groups"])
    return {
        "provider": provider.id,
        "kind": provider.kind,
        "issuer": provider.issuer,
        "subject": str(found["sub"]),
        "email": _clean_email(email) if verified and email else None,
        "email_verified": verified,
        "first_name": text("first_name", 100),
        "last_name": text("last_name", 100),
        "groups": [g for g in groups if isinstance(g, str)][:50] if isinstance(groups, list) else [],
    }


def _clean_email(email: str) -> str | None:
    try:
        return normalise_email(email)
    except Exception:  # a provider's malformed address is simply not kept
        return None


def existing_account(ctx: Context, who: dict[str, Any]) -> str | None:
    with ctx.uow() as uow:
        row = uow.external_accounts.by_identity(who["issuer"], who["subject"])
    return None if row is None else str(row.id)


def _account_for(uow: UnitOfWork, who: dict[str, Any], names: tuple[str | None, str | None], now: datetime) -> str:
    """The account of this (issuer, subject), created if new (never found by email)."""
    row = uow.external_accounts.by_identity(who["issuer"], who["subject"])
    if row is not None:
        if row.status != "active":
            raise PermissionDenied("this account is not active", code="account_inactive")
        return str(row.id)
    account_id = uow.accounts.add(
        credential_kind="external",
        external_issuer=who["issuer"],
        external_subject=who["subject"],
        external_email=who["email"],
        first_name=names[0],
        last_name=names[1],
        status="active",
        created_at=now,
    )
    record(
        uow,
        Actor(ActorKind.ACCOUNT, id=account_id),
        EventType.ACCOUNT_CREATED,
        "account",
        account_id,
        now,
        organization_id=None,
        credential="external",
        provider_id=who["provider"],
    )
    return account_id


def join_invitation(
    ctx: Context, token: str, who: dict[str, Any], first_name: str | None = None, last_name: str | None = None
) -> dict[str, Any]:
    """Accept an invitation with an external identity (creating its account with the confirmed
    names if it is new). The workspace must allow the identity's provider."""
    return _join(ctx, token, lambda uow, invitation, now: who, first_name, last_name)


def hold_profile(ctx: Context, token: str, who: dict[str, Any]) -> str:
    """Keep a provider's profile, for a new account, on the server until the person confirms
    their names: a flow of the invitation, whose handle the browser keeps."""
    digest = secrets.digest_for(token, claims.INVITATION)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        _, invitation = claims._by_token(uow, digest, now, lock=False)
        handle, _ = flow_state.start(
            uow,
            ctx.random,
            now,
            FlowKind.SSO_PROFILE,
            who,
            organization_id=invitation.organization_id,
            invitation_id=invitation.id,
        )
        uow.commit()
    return handle


def held_profile(ctx: Context, token: str, handle: str | None) -> dict[str, Any] | None:
    """The profile awaiting confirmation in this flow, if the flow belongs to this invitation."""
    digest = secrets.digest_for(token, claims.INVITATION)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        _, invitation = claims._by_token(uow, digest, now, lock=False)
        found = flow_state.find(uow, handle, FlowKind.SSO_PROFILE, now)
    return found.data if found is not None and found.invitation_id == invitation.id else None


def join_with_profile(
    ctx: Context, token: str, handle: str | None, first_name: str | None, last_name: str | None
) -> dict[str, Any]:
    """``join_invitation`` with the profile held in a flow of this invitation, which ends."""

    def profile(uow: UnitOfWork, invitation: Invitation, now: datetime) -> dict[str, Any]:
        found = flow_state.find(uow, handle, FlowKind.SSO_PROFILE, now, lock=True)
        if found is None or found.invitation_id != invitation.id:
            raise SecretRejected("this sign-in is over; start again")
        flow_state.end(uow, found, now)
        return found.data

    return _join(ctx, token, profile, first_name, last_name)


def _join(
    ctx: Context,
    token: str,
    profile: Callable[[UnitOfWork, Invitation, datetime], dict[str, Any]],
    first_name: str | None,
    last_name: str | None,
) -> dict[str, Any]:
    digest = secrets.digest_for(token, claims.INVITATION)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        secret, invitation = claims._by_token(uow, digest, now, lock=True)
        who = profile(uow, invitation, now)
        workspace = uow.workspaces.get(invitation.organization_id, invitation.workspace_id)
        assert workspace is not None
        _allowed(uow, dict(workspace._mapping), who["provider"])
        names: tuple[str | None, str | None] = (None, None)
        if uow.external_accounts.by_identity(who["issuer"], who["subject"]) is None:  # a new account
            names = person_names(first_name or who["first_name"], last_name or who["last_name"])
        account_id = _account_for(uow, who, names, now)
        result = claims.join_with_account(uow, invitation, account_id, now)
        _sync_groups(uow, invitation.organization_id, invitation.member_id, who, account_id, now)
        uow.secrets.consume(secret.id, now)
        uow.commit()
    return result


def enter_workspace(ctx: Context, workspace_id: str, who: dict[str, Any]) -> dict[str, Any]:
    """Sign in to a workspace through one of its providers: a member enters; with just-in-time
    members on, a verified address in an allowed domain becomes a member with the defaults."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace = uow.workspaces.get(None, workspace_id)
        if workspace is None:
            raise NotFound("workspace not found")
        _allowed(uow, dict(workspace._mapping), who["provider"])
        row = uow.external_accounts.by_identity(who["issuer"], who["subject"])
        member = None if row is None else uow.members.for_account(workspace.organization_id, workspace.id, row.id)
        if member is not None:
            if member.status != MemberStatus.ACTIVE:
                raise PermissionDenied("your membership of this workspace is not active", code="not_a_member")
            _sync_groups(uow, workspace.organization_id, member.id, who, row.id, now)  # type: ignore[union-attr]
            uow.commit()
            return {"account_id": row.id, "workspace_id": workspace.id, "created": False}  # type: ignore[union-attr]
        result = _just_in_time(uow, workspace, who, now)
        _sync_groups(uow, workspace.organization_id, result["member_id"], who, result["account_id"], now)
        uow.commit()
    return result


def _sync_groups(
    uow: UnitOfWork, organization_id: str, member_id: str, who: dict[str, Any], account_id: str, now: datetime
) -> None:
    """The member's single sign-on groups follow the provider's ``groups`` claim at each sign-in
    (an organization's own provider: a personal one, such as a public account, names no groups)."""
    if who.get("kind") != "sso":
        return
    actor = Actor(ActorKind.ACCOUNT, id=account_id)
    groups.sync_sso_groups(uow, organization_id, member_id, who.get("groups") or [], now, actor)


def _just_in_time(uow: UnitOfWork, workspace: Workspace, who: dict[str, Any], now: datetime) -> dict[str, Any]:
    if not workspace.jit_enabled or who["kind"] != "sso":
        raise PermissionDenied("you are not a member of this workspace; ask for an invitation", code="not_a_member")
    if not who["email_verified"] or not who["email"]:
        raise PermissionDenied("your identity provider has not verified your email address", code="email_unverified")
    login_policy.ensure_email_domain(who["email"], workspace.jit_domains)
    if uow.members.find_live(workspace.organization_id, workspace.id, email=who["email"]) is not None:
        raise PermissionDenied(
            "someone with this address is already in the workspace's directory; ask for an invitation",
            code="member_exists",
        )
    licences.ensure_seat(uow, workspace.organization_id, (MemberStatus.ACTIVE.value, licences.LICENSED))
    account_id = _account_for(uow, who, (who["first_name"], who["last_name"]), now)
    values = {
        "organization_id": workspace.organization_id,
        "workspace_id": workspace.id,
        "account_id": account_id,
        "status": MemberStatus.ACTIVE.value,
        "role": workspace.default_role,
        "first_name": who["first_name"],
        "last_name": who["last_name"],
        "email": who["email"],
        "department": workspace.default_department,
        "job_profile": workspace.default_job_profile,
        "created_at": now,
        "updated_at": now,
    }
    member_id = uow.members.add(**values)
    record(
        uow,
        Actor(ActorKind.ACCOUNT, id=account_id),
        EventType.MEMBER_CREATED_JUST_IN_TIME,
        "member",
        member_id,
        now,
        organization_id=workspace.organization_id,
        workspace_id=workspace.id,
        provider_id=who["provider"],
        role=workspace.default_role,
    )
    return {"account_id": account_id, "workspace_id": workspace.id, "member_id": member_id, "created": True}


def workspace_sign_in(ctx: Context, workspace_id: str) -> dict[str, Any]:
    """What a workspace's sign-in page shows: its name and the providers it allows (members of
    every kind sign in here; just-in-time members come through the organization's own)."""
    with ctx.uow() as uow:
        workspace = uow.workspaces.get(None, workspace_id)
        if workspace is None:
            raise NotFound("workspace not found")
        providers = allowed_providers(uow, workspace)
    return {
        "workspace": dict(workspace._mapping),
        "providers": [{"id": p.id, "name": p.name, "issuer": p.issuer} for p in providers],
    }
