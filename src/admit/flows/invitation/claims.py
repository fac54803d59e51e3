"""The invitee's side: accept or decline with the link's token, or, signed in, from the list of
pending invitations; claiming creates the account with a password under the workspace policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from admit.admin import licences
from admit.admin.invitations import InvitationView, view, view_as
from admit.domain import invitations as rules
from admit.domain import members as member_rules
from admit.domain import secrets
from admit.domain.branding import page_brand
from admit.domain.errors import (
    Conflict,
    LinkGone,
    NotFound,
    PermissionDenied,
    SecretAlreadyUsed,
    SecretRejected,
    ValidationFailed,
)
from admit.domain.events import EventType
from admit.domain.identifiers import IdentifierKind, normalise_email
from admit.domain.invitations import InvitationState
from admit.domain.login_policy import LoginPolicy, ensure_account_allowed
from admit.domain.members import MemberStatus, person_names
from admit.domain.passwords import PasswordPolicy
from admit.domain.ports import UnitOfWork
from admit.domain.records import Invitation, Member, Record, Workspace
from admit.domain.secrets import FlowKind
from admit.flows.signin.sessions import open_session, public_account
from admit.oidc_provider import entry
from admit.shared import flow_state
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.endings import end_invitation
from admit.shared.messages import enqueue

INVITATION = secrets.SecretPurpose.INVITATION
INVITEE = Actor(ActorKind.INVITEE, name="invitee")
SIGN_UP = ("sign_up", "choose")  # welcome modes that verify the invited address before a claim


GONE = {
    "expired": ("invitation_expired", "this invitation has expired"),
    "revoked": ("invitation_revoked", "this invitation was withdrawn"),
    "declined": ("invitation_declined", "this invitation was declined"),
    "replaced": ("invitation_replaced", "a newer invitation was sent; use the link in the newest message"),
}


def _by_token(uow: UnitOfWork, digest: str, now: datetime, *, lock: bool) -> tuple[Record, Invitation]:
    """The live secret and its invitation; ``SecretRejected`` for an unknown token, and for a
    real link that is over, ``LinkGone`` saying how (its holder sees the same on the pages)."""
    secret = uow.secrets.by_digest(digest, lock=lock)
    if secret is None or secret.purpose != INVITATION.value:
        raise SecretRejected("this link or token is not valid")
    invitation = uow.invitations.get(secret.organization_id, secret.subject_id, lock=lock)
    if invitation is None:
        raise SecretRejected("this link or token is not valid")
    _ensure_live(secret, invitation, now)
    return secret, invitation


def _ensure_live(secret: Record, invitation: Invitation, now: datetime) -> None:
    """``LinkGone`` (or ``SecretAlreadyUsed``) for a link that is over, saying how."""
    state = _link_state(secret, invitation, now)
    if state == InvitationState.ACCEPTED.value:
        raise SecretAlreadyUsed("this invitation has already been used")
    if state in GONE:
        code, message = GONE[state]
        raise LinkGone(message, code=code)
    secrets.ensure_usable(
        purpose=secrets.SecretPurpose(secret.purpose),
        expected=INVITATION,
        expires_at=secret.expires_at,
        consumed_at=secret.consumed_at,
        revoked_at=secret.revoked_at,
        now=now,
    )


def _link_state(secret: Record, invitation: Invitation, now: datetime) -> str:
    """``pending`` for a live link, else what became of it (``replaced``: resent since)."""
    state = rules.current_state(invitation.state, invitation.expires_at, now)
    if state is not InvitationState.PENDING:
        return state.value
    if secret.revoked_at is not None:
        return "replaced"
    if secret.expires_at is not None and now >= secret.expires_at:
        return InvitationState.EXPIRED.value
    return state.value


def link_state(ctx: Context, token: str) -> tuple[str, dict[str, Any]]:
    """What became of the invitation behind a link, for the page its holder sees: ``pending``,
    ``accepted``, ``declined``, ``expired``, ``revoked``, ``replaced`` (resent since) or
    ``invalid``; with the languages that page should speak (the member's, the workspace's).
    Reading it changes nothing."""
    state, languages, _ = welcome_facts(ctx, token, inspect=False)
    return state, languages


def welcome_facts(
    ctx: Context, token: str, *, inspect: bool = True
) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """:func:`link_state` and, for a pending link (with ``inspect``), what :func:`inspect_token`
    says, in one read: (state, languages, facts or None)."""
    try:
        digest = secrets.digest_for(token, INVITATION)
    except SecretRejected:
        return "invalid", {}, None
    now = ctx.clock.now()
    with ctx.uow() as uow:
        found = uow.invitations.by_link(digest)  # the secret, its invitation, member and workspace
        if found is None or found[0].purpose != INVITATION.value:
            return "invalid", {}, None
        secret, invitation, member, workspace = found
        state = _link_state(secret, invitation, now)
        facts = None
        if inspect and state == InvitationState.PENDING.value and member is not None and workspace is not None:
            facts = _inspect(uow, invitation, workspace, member, now, ctx.base_url)
    languages = {
        "member": {"language": member.language if member else None},
        "workspace": {
            "default_language": workspace.default_language if workspace else None,
            "name": workspace.name if workspace else None,
        },
    }
    return state, languages, facts


def inspect_token(ctx: Context, token: str) -> dict[str, Any]:
    """What a welcome page needs: the invitation, its workspace, whether an account exists, and
    how the workspace lets people in (its login policy and providers)."""
    digest = secrets.digest_for(token, INVITATION)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        found = uow.invitations.by_link(digest)  # the secret, its invitation, member and workspace
        if found is None or found[0].purpose != INVITATION.value:
            raise SecretRejected("this link or token is not valid")
        secret, invitation, member, workspace = found
        _ensure_live(secret, invitation, now)
        assert workspace is not None and member is not None
        return _inspect(uow, invitation, workspace, member, now, ctx.base_url)


def _inspect(
    uow: UnitOfWork, invitation: Invitation, workspace: Any, member: Member, now: datetime, issuer: str
) -> dict[str, Any]:
    account = uow.accounts.by_identifiers(_identifiers(member))
    policy = invitation_policy(workspace, invitation)
    providers = _providers(uow, workspace, policy)
    external = uow.external_accounts.by_email(invitation.email) if invitation.email and account is None else []
    issuers = {p["issuer"] for p in providers}
    mode = welcome_mode(member, has_account=account is not None)
    if not policy.password_allowed:
        mode = "sso"  # the workspace lets people in through its identity providers only
    elif external and not any(a.external_issuer in issuers for a in external):
        mode = "choose"  # an account through a provider this workspace does not allow
    return {
        "invitation": view(invitation, now),
        "workspace": dict(workspace._mapping),
        "brand": page_brand(uow, workspace),  # its logo and accent colour on the welcome pages
        "member": dict(member._mapping),
        "has_account": account is not None,
        "mode": mode,
        # where joining leads (the app's login URL, then the app): the welcome page's forms end there
        "leads_to": [url for url in (entry.destination(uow, workspace, issuer), workspace.app_url) if url],
        "login": {
            "password": policy.password_allowed,
            "sso_required": policy.sso_required,
            "providers": providers,
            "password_account": account is not None,
            "external_account": bool(external),
        },
    }


def invitation_policy(workspace: Any, invitation: Invitation) -> LoginPolicy:
    """How the invitee may join: the workspace's login policy, or, for an invitation that names
    its login method (a seller's, issue 17: admit.admin.sellers), that method alone, as a
    workspace requiring SSO forces its providers."""
    if invitation.login_method:
        return LoginPolicy.of([invitation.login_method], invitation.login_method != "password")
    return LoginPolicy.of(workspace.login_methods, workspace.sso_required)


def welcome_mode(member: Member, *, has_account: bool) -> str:
    """How the invited person gets in: ``sign_in`` with the account their address already has;
    ``activate`` a member whose profile the administrator entered (set a password); or
    ``sign_up``: someone invited by address alone verifies it with an emailed code, then
    chooses a password and gives their name."""
    if has_account:
        return "sign_in"
    if member.email and not (member.first_name and member.last_name):
        return "sign_up"
    return "activate"


def _providers(uow: UnitOfWork, workspace: Workspace, policy: LoginPolicy) -> list[dict[str, Any]]:
    rows = {r.id: r for r in uow.identity_providers.by_ids(workspace.organization_id, policy.providers)}
    return [
        {"id": r.id, "name": r.name, "kind": r.kind, "issuer": r.issuer} for p in policy.providers if (r := rows.get(p))
    ]


def ensure_login_method(uow: UnitOfWork, invitation: Invitation, account_id: str | None) -> None:
    """The workspace must allow the account's credential (``None``: a new password account)."""
    workspace = uow.workspaces.get(invitation.organization_id, invitation.workspace_id)
    assert workspace is not None
    policy = invitation_policy(workspace, invitation)
    if account_id is None:
        ensure_account_allowed(policy, "password", None, [])
        return
    account = uow.accounts.get(account_id)
    assert account is not None
    issuers = [p["issuer"] for p in _providers(uow, workspace, policy)]
    ensure_account_allowed(policy, account.credential_kind, account.external_issuer, issuers)


def accept_with_token(
    ctx: Context,
    token: str,
    *,
    account_id: str | None = None,
    password: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    names_required: bool = False,
) -> dict[str, Any]:
    """Accept an invitation. Signed in (``account_id``) the account joins; otherwise a new
    account is created with ``password`` under the workspace's policy (the claim), named as
    given or as the administrator entered (both names ``names_required`` for a sign-up)."""
    digest = secrets.digest_for(token, INVITATION)
    password_hash = None
    if account_id is None:
        password_hash, names = _hash_new_password(ctx, digest, password, first_name, last_name, names_required)
        first_name, last_name = (name or None for name in names)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        secret, invitation = _by_token(uow, digest, now, lock=True)
        if account_id is not None:
            _ensure_addressed_to(uow, account_id, invitation)
            result = join_with_account(uow, invitation, account_id, now)
        else:
            assert password_hash is not None
            result = claim_with_password(uow, invitation, password_hash, now, first_name, last_name)
        uow.secrets.consume(secret.id, now)
        uow.commit()
    return result


def claim_and_sign_in(
    ctx: Context,
    token: str,
    *,
    password: str | None,
    first_name: str | None = None,
    last_name: str | None = None,
    sign_up_flow: str | None = None,
) -> dict[str, Any]:
    """Claim an invitation with a new password account and start its session, in one
    transaction; the result carries the session token (``session``). When the welcome is a
    sign-up, the invited address must have been verified in ``sign_up_flow`` — a live sign-up
    flow of this invitation, for this address — which the claim ends; both names are required.
    ``PermissionDenied`` (``email_not_verified``) otherwise."""
    info = inspect_token(ctx, token)
    sign_up = info["mode"] in SIGN_UP
    if sign_up:
        with ctx.uow() as uow:  # refuse before hashing a password
            _verified_sign_up(uow, sign_up_flow, info["invitation"], ctx.clock.now())
    digest = secrets.digest_for(token, INVITATION)
    password_hash, names = _hash_new_password(ctx, digest, password, first_name, last_name, sign_up)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        secret, invitation = _by_token(uow, digest, now, lock=True)
        if sign_up:
            flow_state.end(uow, _verified_sign_up(uow, sign_up_flow, invitation, now, lock=True), now)
        result = claim_with_password(uow, invitation, password_hash, now, *(name or None for name in names))
        uow.secrets.consume(secret.id, now)
        session = open_session(uow, ctx.random, result["account_id"], now)
        uow.commit()
    return {**result, "session": session}


def _verified_sign_up(
    uow: UnitOfWork,
    handle: str | None,
    invitation: Invitation | InvitationView,
    now: datetime,
    *,
    lock: bool = False,
) -> flow_state.Flow:
    flow = flow_state.find(uow, handle, FlowKind.SIGN_UP, now, lock=lock)
    if (
        flow is None
        or flow.invitation_id != invitation.id
        or flow.data.get("verified") is not True
        or not invitation.email
        or flow.data.get("email") != normalise_email(invitation.email)
    ):
        raise PermissionDenied("verify your email address with the code we send first", code="email_not_verified")
    return flow


def claim_with_password(
    uow: UnitOfWork,
    invitation: Invitation,
    password_hash: str,
    now: datetime,
    first_name: str | None = None,
    last_name: str | None = None,
) -> dict[str, Any]:
    """Create the invited person's account with this password and accept the invitation, in the
    caller's transaction (the invitation link and the password-reset link both end here)."""
    rules.transition(invitation.state, invitation.expires_at, now, InvitationState.ACCEPTED)
    ensure_login_method(uow, invitation, None)
    member = _claimable_member(uow, invitation)
    account_id = _create_account(uow, member, password_hash, first_name, last_name, now)
    return _accept(uow, invitation, member, account_id, now)


def join_with_account(uow: UnitOfWork, invitation: Invitation, account_id: str, now: datetime) -> dict[str, Any]:
    """Accept the invitation with an existing account whose login method the workspace allows,
    in the caller's transaction."""
    rules.transition(invitation.state, invitation.expires_at, now, InvitationState.ACCEPTED)
    ensure_login_method(uow, invitation, account_id)
    member = _claimable_member(uow, invitation)
    return _accept(uow, invitation, member, account_id, now)


def decline_with_token(ctx: Context, token: str) -> InvitationView:
    """Decline: the invitation ends, the member awaits invitation again, any account is untouched."""
    digest = secrets.digest_for(token, INVITATION)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        secret, invitation = _by_token(uow, digest, now, lock=True)
        updated = _decline(uow, INVITEE, invitation, now)
        uow.secrets.consume(secret.id, now)
        uow.commit()
    return view(updated, now)


@dataclass(frozen=True, slots=True)
class AddressedInvitation(InvitationView):
    """A pending invitation addressed to a signed-in person, with its workspace's name."""

    workspace_name: str | None


def pending_for_account(ctx: Context, account_id: str) -> list[AddressedInvitation]:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        emails = sorted(v for k, v in _held(uow, account_id) if k == IdentifierKind.EMAIL)
        rows = uow.invitations.pending_for_emails(emails, now) if emails else []
        names = {w.id: w.name for w in (uow.workspaces.get(r.organization_id, r.workspace_id) for r in rows) if w}
    return [view_as(AddressedInvitation, row, now, workspace_name=names.get(row.workspace_id)) for row in rows]


def accept_for_account(ctx: Context, account_id: str, invitation_id: str) -> dict[str, Any]:
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        invitation = _addressed_invitation(uow, account_id, invitation_id)
        result = join_with_account(uow, invitation, account_id, now)
        uow.secrets.revoke_for(invitation.id, INVITATION.value, now)
        uow.commit()
    return result


def decline_for_account(ctx: Context, account_id: str, invitation_id: str) -> InvitationView:
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        invitation = _addressed_invitation(uow, account_id, invitation_id)
        updated = _decline(uow, Actor(ActorKind.ACCOUNT, id=account_id), invitation, now)
        uow.commit()
    return view(updated, now)


def _hash_new_password(
    ctx: Context,
    digest: str,
    password: str | None,
    first_name: str | None,
    last_name: str | None,
    names_required: bool,
) -> tuple[str, tuple[str, str]]:
    """The new account's password hash under the workspace's policy, and its names (given now, or
    the ones the administrator entered): a claim needs both."""
    if not password:
        raise ValidationFailed("choose a password to create your account", field="password", code="password_required")
    with ctx.uow() as uow:
        _, invitation = _by_token(uow, digest, ctx.clock.now(), lock=False)
        workspace = uow.workspaces.get(invitation.organization_id, invitation.workspace_id)
        member = uow.members.get(invitation.organization_id, invitation.member_id)
        assert workspace is not None and member is not None
        ensure_login_method(uow, invitation, None)  # no password into a workspace that requires SSO
        if uow.accounts.by_identifiers(_identifiers(member)) is not None:
            raise Conflict("you already have an account: sign in to accept this invitation", code="sign_in_required")
    names = person_names(first_name or member.first_name, last_name or member.last_name, required=names_required)
    context = [
        member.email,
        member.username,
        member.first_name,
        member.last_name,
        first_name,
        last_name,
        workspace.name,
    ]
    PasswordPolicy.named(workspace.password_policy).check(password, [c for c in context if c])
    return ctx.hasher.hash(password), names


def _identifiers(member: Member | Mapping[str, Any]) -> list[tuple[str, str]]:
    fields = member._mapping if isinstance(member, Member) else member
    pairs = [
        (IdentifierKind.EMAIL.value, fields["email"]),
        (IdentifierKind.USERNAME.value, fields["username"]),
        (IdentifierKind.PHONE.value, fields["phone"]),
    ]
    return [(kind, value) for kind, value in pairs if value]


def _claimable_member(uow: UnitOfWork, invitation: Invitation) -> Member:
    member = uow.members.get(invitation.organization_id, invitation.member_id, lock=True)
    assert member is not None
    member_rules.ensure_claimable(member.status)
    return member


def _addressed_invitation(uow: UnitOfWork, account_id: str, invitation_id: str) -> Invitation:
    """An invitation addressed to one of the account's emails; anyone else's is not found."""
    invitation = uow.invitations.get(None, invitation_id, lock=True)
    emails = {v for k, v in _held(uow, account_id) if k == IdentifierKind.EMAIL}
    if invitation is None or invitation.email not in emails:
        raise NotFound("invitation not found")
    return invitation


def _held(uow: UnitOfWork, account_id: str) -> set[tuple[str, str]]:
    """The account's identifiers, and for an external account the address its provider verified."""
    held = set(uow.accounts.identifiers(account_id))
    account = uow.accounts.get(account_id)
    if account is not None and account.external_email:
        held.add((IdentifierKind.EMAIL.value, account.external_email))
    return held


def _addressed(held: set[tuple[str, str]], email: str | None, phone: str | None) -> bool:
    """The rule: an invitation is for the account holding the address or number it was sent to."""
    return bool(held & {("email", email), ("phone", phone)})


def addressed_to(ctx: Context, account_id: str, email: str | None, phone: str | None) -> bool:
    """Whether an invitation sent to ``email``/``phone`` is for this account (what accepting it
    with the account checks), so a page can say so before any button."""
    with ctx.uow() as uow:
        return _addressed(_held(uow, account_id), email, phone)


def _ensure_addressed_to(uow: UnitOfWork, account_id: str, invitation: Invitation) -> None:
    if not _addressed(_held(uow, account_id), invitation.email, invitation.phone):
        raise Conflict("this invitation was sent to another address; sign in with that account", code="wrong_account")


def _create_account(
    uow: UnitOfWork,
    member: Member,
    password_hash: str,
    first_name: str | None,
    last_name: str | None,
    now: datetime,
) -> str:
    return create_account_for(uow, member._asdict(), password_hash, now, first_name=first_name, last_name=last_name)


def create_account_for(
    uow: UnitOfWork,
    member: Mapping[str, Any],
    password_hash: str,
    now: datetime,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    must_change_password: bool = False,
) -> str:
    """A password account with the member's identifiers (email, username, phone), in the
    caller's transaction. ``must_change_password``: an initial password set by an administrator."""
    account_id = uow.accounts.add(
        credential_kind="password",
        password_hash=password_hash,
        first_name=first_name or member["first_name"],
        last_name=last_name or member["last_name"],
        language=member["language"] or _workspace_language(uow, member),  # what the invitation spoke
        status="active",
        must_change_password=must_change_password,
        created_at=now,
    )
    identifiers = _identifiers(member)
    for kind, value in identifiers:
        uow.accounts.add_identifier(account_id, kind, value, now)
    record(
        uow,
        Actor(ActorKind.ACCOUNT, id=account_id),
        EventType.ACCOUNT_CREATED,
        "account",
        account_id,
        now,
        organization_id=member["organization_id"],
        workspace_id=member["workspace_id"],
        identifiers=[kind for kind, _ in identifiers],
        credential="password",
    )
    return account_id


def _accept(uow: UnitOfWork, invitation: Invitation, member: Member, account_id: str, now: datetime) -> dict[str, Any]:
    org = invitation.organization_id
    if not uow.invitations.move(org, invitation.id, "pending", state="accepted", account_id=account_id, updated_at=now):
        raise Conflict("this invitation has already been answered", code="invitation_changed")
    member_rules.transition(member.status, MemberStatus.ACTIVE)
    licences.ensure_seat(uow, org, (MemberStatus.ACTIVE.value, member.licence), (member.status, member.licence))
    if not uow.members.move(
        org,
        member.id,
        MemberStatus.INVITED,
        status=MemberStatus.ACTIVE,
        account_id=account_id,
        updated_at=now,
        **_missing_names(uow, member, account_id),
    ):
        raise Conflict("this membership changed meanwhile", code="member_changed")
    _record_acceptance(uow, invitation, member.id, account_id, now)
    _notify_inviter(uow, invitation, "invitation_accepted", now)
    return {
        "invitation_id": invitation.id,
        "member_id": member.id,
        "account_id": account_id,
        "workspace_id": invitation.workspace_id,
        "status": MemberStatus.ACTIVE.value,
    }


def _record_acceptance(uow: UnitOfWork, invitation: Invitation, member_id: str, account_id: str, now: datetime) -> None:
    actor = Actor(ActorKind.ACCOUNT, id=account_id)
    scope = {"organization_id": invitation.organization_id, "workspace_id": invitation.workspace_id}
    record(uow, actor, EventType.INVITATION_ACCEPTED, "invitation", invitation.id, now, **scope, member_id=member_id)
    record(uow, actor, EventType.MEMBER_ACTIVATED, "member", member_id, now, **scope, account_id=account_id)


def _missing_names(uow: UnitOfWork, member: Member, account_id: str) -> dict[str, str]:
    """The names the directory lacks, from the account that joins: someone invited by address
    alone gives them when signing up (with a code or through a provider)."""
    if member.first_name and member.last_name:
        return {}
    account = uow.accounts.get(account_id)
    names = {"first_name": account.first_name, "last_name": account.last_name} if account is not None else {}
    return {key: value for key, value in names.items() if value and not getattr(member, key)}


def _decline(uow: UnitOfWork, actor: Actor, invitation: Invitation, now: datetime) -> Invitation:
    updated = end_invitation(uow, actor, invitation, InvitationState.DECLINED, now)
    _notify_inviter(uow, invitation, "invitation_declined", now)
    return updated


def _notify_inviter(uow: UnitOfWork, invitation: Invitation, kind: str, now: datetime) -> None:
    """Tell an inviter who is a person (not an API token or the CLI) how their invitation ended."""
    if invitation.inviter_type != ActorKind.ACCOUNT or invitation.inviter_id is None:
        return
    inviter = uow.accounts.get(invitation.inviter_id)
    emails = [v for k, v in uow.accounts.identifiers(invitation.inviter_id) if k == "email"]
    workspace = uow.workspaces.get(invitation.organization_id, invitation.workspace_id)
    if inviter is None or not emails or workspace is None or not workspace.email_enabled:
        return
    enqueue(
        uow,
        kind=kind,
        channel="email",
        recipient=emails[0],
        language=inviter.language or "en",
        subject_id=invitation.id,
        organization_id=invitation.organization_id,
        workspace_id=invitation.workspace_id,
        now=now,
        payload={"invitee": invitation.email or invitation.phone, "workspace_name": workspace.name},
    )


def account_emails(ctx: Context, account_id: str) -> list[str]:
    with ctx.uow() as uow:
        return [value for kind, value in uow.accounts.identifiers(account_id) if kind == IdentifierKind.EMAIL]


def _workspace_language(uow: UnitOfWork, member: Mapping[str, Any]) -> str | None:
    workspace = uow.workspaces.get(member["organization_id"], member["workspace_id"])
    return workspace.default_language if workspace else None


def joined_workspace(ctx: Context, account_id: str, workspace_id: str) -> dict[str, Any] | None:
    """The workspace a person has just joined (name and where to go), if they are active in it."""
    with ctx.uow() as uow:
        workspace = uow.workspaces.get(None, workspace_id)
        if workspace is None:
            return None
        member = uow.members.for_account(workspace.organization_id, workspace.id, account_id)
        account = uow.accounts.get(account_id)
        if member is None or member.status != MemberStatus.ACTIVE:
            return None
        app_url = entry.destination(uow, workspace, ctx.base_url)
        brand = page_brand(uow, workspace)
    return {
        "id": workspace.id,
        "brand": brand,
        "name": workspace.name,
        "app_url": app_url,  # where "Let's go" leads: the app's login URL, or its address
        "default_language": workspace.default_language,
        "member_language": member.language,
        "account_language": account.language if account else None,
    }


def home(ctx: Context, account_id: str) -> dict[str, Any]:
    """A signed-in person's overview: who they are, their workspaces, their pending invitations."""
    with ctx.uow() as uow:
        account = uow.accounts.get(account_id)
        identifiers = uow.accounts.identifiers(account_id)
        workspaces = [dict(row._mapping) for row in uow.members.workspaces_of(account_id)]
    assert account is not None
    return {
        "account": public_account(account),
        "identifiers": [value for _, value in identifiers],
        "workspaces": workspaces,
        "pending": pending_for_account(ctx, account_id),
    }
