"""Self-sign-up: a person creates their own membership, from a workspace's sign-in page ("Don't
have an account? Create one now!", when the workspace enabled it) or from a department link.

1. ``form``: what the form offers (the departments to pick from, or the link's department).
2. ``request``: names and an email address, or a username and a phone number, and a department
   (checked on the server: one the settings allow, or the link's). A six-digit code goes to the
   address or number through the outbox; the request's handle is returned to the caller only.
3. ``verify``: the code, at most ``CODE_ATTEMPTS`` wrong tries, compared in constant time with a
   digest bound to the handle. An address or username that already belongs to an account is
   never attached: the request ends as ``existing`` and the person is told to sign in.
4. ``complete``: a password under the workspace's policy. The member is created active (and
   signed in), or waits for an administrator (``approve`` / ``reject``, each with a notice).

The permission type is the settings' or the link's, never above ``member``. Allowed email
domains and the daily cap apply to both doors."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from admit.admin import licences
from admit.admin.signup_links import LINK, link_state
from admit.admin.signup_settings import SignUpSettings, ensure_choice, pending_request, stored
from admit.domain import secrets, throttling
from admit.domain.errors import Conflict, InvalidCode, PermissionDenied, SecretRejected, ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import IdentifierKind, normalise_email, normalise_phone, normalise_username, plausible_id
from admit.domain.login_policy import LoginPolicy, ensure_account_allowed
from admit.domain.members import MemberStatus, person_names
from admit.domain.passwords import PasswordPolicy
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record, Workspace
from admit.flows.invitation.claims import create_account_for
from admit.flows.signin.sessions import open_session, throttle_key
from admit.i18n import pick_language
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.messages import enqueue

FLOW = secrets.SecretPurpose.FLOW
COUNTED = ("pending_approval", "approved", "rejected")  # sign-ups that count against the daily cap


@dataclass(frozen=True)
class SignUpForm:
    workspace_id: str
    workspace_name: str
    departments: list[str]  # to pick from; empty: the fixed department (or none)
    department: str | None  # the link's or the default department
    by_email: bool
    by_phone: bool
    via_link: bool


@dataclass(frozen=True)
class Door:
    workspace: Workspace
    settings: SignUpSettings
    link: Record | None


def _closed(message: str, code: str) -> SecretRejected:
    return SecretRejected(message, code=code)


def _door(
    uow: UnitOfWork, workspace_id: str | None, link_token: str | None, now: datetime, *, lock: bool = False
) -> Door:
    """The workspace and settings behind a sign-up (the sign-in page's form or a link), or a
    refusal a page can answer kindly: ``signup_closed``, ``link_invalid``, ``link_paused``,
    ``link_expired``, ``link_used_up``, ``daily_cap``, ``sso_required``."""
    link = None
    if link_token is not None:
        try:
            digest = secrets.digest_for(link_token, LINK)
        except SecretRejected:
            raise _closed("this sign-up link is not valid", "link_invalid") from None
        link = uow.signups.link_by_digest(digest, lock=lock)
        if link is None:
            raise _closed("this sign-up link is not valid", "link_invalid")
        state = link_state(link, now)
        if state != "active":
            raise _closed(f"this sign-up link is {state.replace('_', ' ')}", f"link_{state}")
        workspace_id = link.workspace_id
    workspace = uow.workspaces.get(None, workspace_id) if plausible_id(workspace_id) else None
    if workspace is None:
        raise _closed("sign-up is not open here", "signup_closed")
    settings = stored(uow, workspace)
    if link is None and not settings.enabled:
        raise _closed("sign-up is not open here", "signup_closed")
    if not LoginPolicy.of(workspace.login_methods, workspace.sso_required).password_allowed:
        raise _closed("this workspace requires single sign-on", "sso_required")
    if settings.daily_cap is not None and _today(uow, workspace.id, now) >= settings.daily_cap:
        raise _closed("no more sign-ups today; try again tomorrow", "daily_cap")
    return Door(workspace, settings, link)


def _today(uow: UnitOfWork, workspace_id: str, now: datetime) -> int:
    midnight = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
    return uow.signups.count_since(workspace_id, midnight, COUNTED)


def form(ctx: Context, *, workspace_id: str | None = None, link_token: str | None = None) -> SignUpForm:
    with ctx.uow() as uow:
        door = _door(uow, workspace_id, link_token, ctx.clock.now())
    w, s = door.workspace, door.settings
    fixed = (
        door.link.department if door.link is not None else (None if s.departments_pickable else s.default_department)
    )
    return SignUpForm(
        workspace_id=w.id,
        workspace_name=w.name,
        departments=[] if door.link is not None else list(s.departments_pickable),
        department=fixed,
        by_email=bool(w.email_enabled),
        by_phone=bool(w.sms_enabled),
        via_link=door.link is not None,
    )


def _department(door: Door, given: Any) -> str | None:
    """The department a sign-up joins: the link's, else one of the pickable ones, else the default."""
    if door.link is not None:
        if given not in (None, "", door.link.department):
            raise ValidationFailed("this link is for another department", field="department", code="unknown_department")
        return str(door.link.department)
    if door.settings.departments_pickable:
        picked = ensure_choice(given, door.settings.departments_pickable, "department", "departments")
        if picked is None:
            raise ValidationFailed("choose your department", field="department", code="department_required")
        return picked
    if given not in (None, "", door.settings.default_department):
        raise ValidationFailed(
            "choose one of the workspace's departments", field="department", code="unknown_department"
        )
    return door.settings.default_department


def _contact(ctx: Context, door: Door, email: Any, username: Any, phone: Any) -> dict[str, str | None]:
    """An email address (when the workspace sends email), or a username and a phone number (when it
    sends SMS); the address's domain must be an allowed one."""
    if isinstance(email, str) and email.strip():
        if not door.workspace.email_enabled:
            raise ValidationFailed("this workspace does not send email; sign up with a phone number", field="email")
        address = normalise_email(email)
        domains = door.settings.allowed_domains
        if domains and address.rpartition("@")[2] not in domains:
            raise ValidationFailed(
                "sign up with an address of an allowed domain: " + ", ".join(domains),
                field="email",
                code="domain_not_allowed",
            )
        return {"email": address, "username": None, "phone": None}
    if not door.workspace.sms_enabled:
        raise ValidationFailed("enter your email address", field="email", code="email_required")
    if not isinstance(username, str) or not username.strip():
        raise ValidationFailed("choose a username", field="username", code="username_required")
    if not isinstance(phone, str) or not phone.strip():
        raise ValidationFailed("enter your mobile number", field="phone", code="phone_required")
    return {
        "email": None,
        "username": normalise_username(username),
        "phone": normalise_phone(phone, region=ctx.phone_region),
    }


def request(
    ctx: Context,
    *,
    workspace_id: str | None = None,
    link_token: str | None = None,
    first_name: Any = None,
    last_name: Any = None,
    email: Any = None,
    username: Any = None,
    phone: Any = None,
    department: Any = None,
    language: str | None = None,
) -> str:
    """Check the details, send a verification code and return the request's handle (once)."""
    names = person_names(
        first_name if isinstance(first_name, str) else None, last_name if isinstance(last_name, str) else None
    )
    for field_name, name in zip(("first_name", "last_name"), names, strict=True):
        if any(unicodedata.category(c) == "Cc" for c in name):  # NUL, line breaks, escapes
            raise ValidationFailed(
                "a name cannot contain control characters", field=field_name, code="name_unprintable"
            )
    now = ctx.clock.now()
    handle = secrets.issue(FLOW, ctx.random)
    with ctx.uow(write=True) as uow:
        door = _door(uow, workspace_id, link_token, now)
        chosen = _department(door, department)
        contact = _contact(ctx, door, email, username, phone)
        w, link = door.workspace, door.link
        request_id = uow.signups.add_request(
            organization_id=w.organization_id,
            workspace_id=w.id,
            link_id=link.id if link is not None else None,
            handle_digest=handle.digest,
            first_name=names[0],
            last_name=names[1],
            **contact,
            language=pick_language(language, w.default_language),
            department=chosen,
            job_profile=link.job_profile if link is not None else door.settings.default_job_profile,
            role=link.role if link is not None else door.settings.default_role,
            state="pending_verification",
            attempts=0,
            created_at=now,
        )
        scope = {"organization_id": w.organization_id, "workspace_id": w.id}
        record(
            uow,
            Actor(ActorKind.INVITEE),
            EventType.SIGNUP_REQUESTED,
            "signup",
            request_id,
            now,
            **scope,
            link_id=link.id if link else None,
        )
        _send_code(ctx, uow, handle.plaintext, w.organization_id, request_id, now)
        uow.commit()
    return handle.plaintext


def _send_code(
    ctx: Context, uow: UnitOfWork, handle: str, organization_id: str, request_id: str, now: datetime
) -> None:
    """A new code for the request (the previous one stops working), throttled per recipient."""
    row = uow.signups.request(organization_id, request_id)
    assert row is not None
    recipient = row.email or row.phone
    key = throttle_key("signup-send", recipient)
    throttle = uow.throttles.get(key)
    throttling.ensure_allowed(throttle.blocked_until if throttle else None, now)
    wait = throttling.wait_after(uow.throttles.add_failure(key, now))
    uow.throttles.block_until(key, now + wait if wait else None)
    code = ctx.random.digits(secrets.CODE_DIGITS)
    lifetime = secrets.fixed_lifetime(secrets.SecretPurpose.EMAIL_VERIFICATION)
    uow.signups.update_request(
        row.id, code_digest=secrets.code_digest(handle, recipient, code), code_expires_at=now + lifetime, attempts=0
    )
    enqueue(
        uow,
        kind="email_verification",
        channel="email" if row.email else "sms",
        recipient=recipient,
        language=row.language,
        subject_id=row.id,
        organization_id=row.organization_id,
        workspace_id=row.workspace_id,
        now=now,
        payload={"code": code, "first_name": row.first_name, "expires_minutes": int(lifetime.total_seconds() // 60)},
    )


def _live(uow: UnitOfWork, handle: Any, now: datetime, *, lock: bool = False) -> Record:
    """The request this handle belongs to, while its flow lives (an hour)."""
    if not isinstance(handle, str):
        raise SecretRejected("this sign-up has expired; start again", code="signup_expired")
    row = uow.signups.request_by_handle(secrets.digest_for(handle, FLOW), lock=lock)
    lifetime = secrets.fixed_lifetime(FLOW)
    if row is None or now >= row.created_at + lifetime:
        raise SecretRejected("this sign-up has expired; start again", code="signup_expired")
    return row


def resend(ctx: Context, handle: str) -> None:
    """A new code for a request still waiting for one (throttled: a few, then growing waits)."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _live(uow, handle, now, lock=True)
        if row.state != "pending_verification":
            raise Conflict("this address is already verified", code="already_verified")
        _send_code(ctx, uow, handle, row.organization_id, row.id, now)
        uow.commit()


def state(ctx: Context, handle: Any) -> dict[str, Any]:
    """Where the request stands (``pending_verification``, ``verified``, ``existing``,
    ``pending_approval``, ``approved``, ``rejected``) and what a page shows of it."""
    with ctx.uow() as uow:
        row = _live(uow, handle, ctx.clock.now())
        workspace = uow.workspaces.get(row.organization_id, row.workspace_id)
    assert workspace is not None
    return {
        "state": row.state,
        "sent_to": row.email or row.phone,
        "by_sms": row.email is None,
        "workspace_name": workspace.name,
    }


def verify(ctx: Context, handle: str, code: Any) -> str:
    """Accept the code once: the request becomes ``verified`` (or ``existing``: the address or
    username belongs to an account, which a sign-up never attaches; the person signs in). Wrong
    codes: ``InvalidCode`` with the attempts left, then ``SecretRejected`` (ask for a new one)."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _live(uow, handle, now, lock=True)
        if row.state != "pending_verification":
            return str(row.state)
        if row.code_digest is None or row.code_expires_at is None or now >= row.code_expires_at:
            raise SecretRejected("this code has expired; ask for a new one", code="code_expired")
        typed = code.strip()[:20] if isinstance(code, str) else ""
        if not secrets.same_digest(row.code_digest, secrets.code_digest(handle, row.email or row.phone, typed)):
            left = secrets.CODE_ATTEMPTS - row.attempts - 1
            uow.signups.update_request(
                row.id, attempts=row.attempts + 1, **({"code_digest": None} if left <= 0 else {})
            )
            uow.commit()
            if left <= 0:
                raise SecretRejected("too many wrong codes; ask for a new one", code="code_expired")
            raise InvalidCode(left)
        new_state = "existing" if _account_exists(uow, row) else "verified"
        uow.signups.update_request(row.id, state=new_state, code_digest=None, verified_at=now)
        uow.commit()
    return new_state


def _identifiers(row: Record) -> list[tuple[str, str]]:
    pairs = [
        (IdentifierKind.EMAIL.value, row.email),
        (IdentifierKind.USERNAME.value, row.username),
        (IdentifierKind.PHONE.value, row.phone),
    ]
    return [(kind, value) for kind, value in pairs if value]


def _account_exists(uow: UnitOfWork, row: Record) -> bool:
    return uow.accounts.by_identifiers(_identifiers(row)) is not None


def complete(ctx: Context, handle: str, password: Any) -> dict[str, Any]:
    """Choose the password: the member is created active and signed in (``session``), or the
    request waits for an administrator (``status`` ``pending_approval``)."""
    if not isinstance(password, str) or not password:
        raise ValidationFailed("choose a password to create your account", field="password", code="password_required")
    now = ctx.clock.now()
    with ctx.uow() as uow:  # check and hash before the write transaction
        row = _verified(uow, handle, now)
        workspace = uow.workspaces.get(row.organization_id, row.workspace_id)
        assert workspace is not None
    context = [c for c in (row.email, row.username, row.first_name, row.last_name, workspace.name) if c]
    PasswordPolicy.named(workspace.password_policy).check(password, context)
    password_hash = ctx.hasher.hash(password)
    with ctx.uow(write=True) as uow:
        row = _verified(uow, handle, now, lock=True)
        door = _door(uow, row.workspace_id, None, now, lock=True) if row.link_id is None else _link_door(uow, row, now)
        if door.link is not None and not uow.signups.count_link_use(door.link.id):
            raise SecretRejected("this sign-up link is used up", code="link_used_up")
        if door.settings.approval_required:
            uow.signups.update_request(row.id, state="pending_approval", password_hash=password_hash)
            uow.commit()
            return {"status": "pending_approval", "workspace_id": row.workspace_id}
        result = _become_member(uow, row, password_hash, now, Actor(ActorKind.INVITEE))
        result["session"] = open_session(uow, ctx.random, result["account_id"], now)
        uow.commit()
    return result


def _link_door(uow: UnitOfWork, row: Record, now: datetime) -> Door:
    """The link a request came through must still work when the person finishes (not paused,
    rotated away is fine: the request already proved it held the link)."""
    link = uow.signups.link(row.organization_id, row.link_id, lock=True)
    if link is None:
        raise SecretRejected("this sign-up link was withdrawn", code="link_invalid")
    state = link_state(link, now)
    if state != "active":
        raise SecretRejected(f"this sign-up link is {state.replace('_', ' ')}", code=f"link_{state}")
    workspace = uow.workspaces.get(row.organization_id, row.workspace_id)
    assert workspace is not None
    settings = stored(uow, workspace)
    if settings.daily_cap is not None and _today(uow, workspace.id, now) >= settings.daily_cap:
        raise SecretRejected("no more sign-ups today; try again tomorrow", code="daily_cap")
    return Door(workspace, settings, link)


def _verified(uow: UnitOfWork, handle: str, now: datetime, *, lock: bool = False) -> Record:
    row = _live(uow, handle, now, lock=lock)
    if row.state == "existing":
        raise Conflict("you already have an account: sign in to join", code="sign_in_required")
    if row.state in ("pending_approval", "approved", "rejected"):
        raise SecretRejected("this sign-up is finished", code="signup_done")
    if row.state != "verified":
        raise PermissionDenied("verify your address with the code we sent first", code="not_verified")
    return row


def _become_member(
    uow: UnitOfWork, row: Record, password_hash: str | None, now: datetime, actor: Actor, account_id: str | None = None
) -> dict[str, Any]:
    """Create the account and the active member of a request, in the caller's transaction. A
    request without a password hash is a signed-in account's (:func:`join_with_account`) waiting
    for approval: its member joins that account, found again by the identifiers it held."""
    existing = None
    if account_id is not None:
        existing = uow.accounts.get(account_id)
    elif password_hash is None:
        existing = uow.accounts.by_identifiers(_identifiers(row))
        if existing is None:
            raise Conflict("the account that asked to join no longer exists", code="account_gone")
        if uow.members.for_account(row.organization_id, row.workspace_id, existing.id) is not None:
            raise Conflict("this account is already a member of the workspace", code="already_member")
    elif _account_exists(uow, row):
        raise Conflict("this address already belongs to an account: sign in to join", code="sign_in_required")
    found = uow.members.find_live(row.organization_id, row.workspace_id, email=row.email, username=row.username)
    if found is not None:
        raise Conflict(
            "someone with this address is already in the workspace's directory; ask for an invitation",
            code="member_exists",
        )
    fields = {
        "organization_id": row.organization_id,
        "workspace_id": row.workspace_id,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "email": row.email,
        "username": row.username,
        "phone": row.phone,
        "language": row.language,
    }
    licences.ensure_seat(uow, row.organization_id, (MemberStatus.ACTIVE.value, licences.LICENSED))
    account_id = existing.id if existing is not None else create_account_for(uow, fields, password_hash or "", now)
    member_id = uow.members.add(
        **fields,
        account_id=account_id,
        status=MemberStatus.ACTIVE.value,
        role=row.role,
        department=row.department,
        job_profile=row.job_profile,
        created_at=now,
        updated_at=now,
    )
    uow.signups.update_request(
        row.id, state="approved", member_id=member_id, password_hash=None, decided_at=now, decided_by=actor.id
    )
    scope = {"organization_id": row.organization_id, "workspace_id": row.workspace_id}
    event = EventType.SIGNUP_APPROVED if actor.kind is not ActorKind.INVITEE else EventType.SIGNUP_COMPLETED
    record(
        uow, actor, event, "signup", row.id, now, **scope, member_id=member_id, role=row.role, department=row.department
    )
    return {
        "account_id": account_id,
        "member_id": member_id,
        "workspace_id": row.workspace_id,
        "status": MemberStatus.ACTIVE.value,
    }


def approve(ctx: Context, actor: Actor, workspace_id: str, request_id: str) -> dict[str, Any]:
    """Let a waiting sign-up in (``MANAGE_PEOPLE``): the member becomes active and is told."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, row = pending_request(uow, actor, workspace_id, request_id)
        result = _become_member(uow, row, row.password_hash, now, actor)
        _notify(ctx, uow, workspace, row, "signup_approved", now)
        uow.commit()
    return result


def reject(ctx: Context, actor: Actor, workspace_id: str, request_id: str) -> None:
    """Turn a waiting sign-up away (``MANAGE_PEOPLE``): nothing is created; the person is told."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, row = pending_request(uow, actor, workspace_id, request_id)
        uow.signups.update_request(row.id, state="rejected", password_hash=None, decided_at=now, decided_by=actor.id)
        scope = {"organization_id": workspace.organization_id, "workspace_id": workspace.id}
        record(uow, actor, EventType.SIGNUP_REJECTED, "signup", row.id, now, **scope)
        _notify(ctx, uow, workspace, row, "signup_rejected", now)
        uow.commit()


def _notify(ctx: Context, uow: UnitOfWork, workspace: Workspace, row: Record, kind: str, now: datetime) -> None:
    enqueue(
        uow,
        kind=kind,
        channel="email" if row.email else "sms",
        recipient=row.email or row.phone,
        language=row.language or workspace.default_language,
        subject_id=row.id,
        organization_id=workspace.organization_id,
        workspace_id=workspace.id,
        now=now,
        payload={"first_name": row.first_name, "workspace_name": workspace.name, "link": ctx.link("/sign-in")},
    )


def offered(ctx: Context, workspace_id: str | None) -> bool:
    """Whether the workspace's sign-in page offers "Create one now!" (an unknown workspace: no)."""
    if not plausible_id(workspace_id):
        return False
    with ctx.uow() as uow:
        workspace = uow.workspaces.get(None, workspace_id)
        return workspace is not None and stored(uow, workspace).enabled


# An existing person joins through a link or a workspace's sign-up form only after signing in:
# typing an address or username never attaches anything to the account that holds it (``verify``
# ends such a request as ``existing``). Signed in, the same door rules apply to the account.


@dataclass(frozen=True)
class JoinOffer:
    """What "Join <workspace> as <name>" shows a signed-in person."""

    form: SignUpForm
    name: str
    already_member: bool


def _account_contact(uow: UnitOfWork, account_id: str, settings: SignUpSettings) -> dict[str, str | None]:
    """The account's verified identifiers for the member (its email of an allowed domain when the
    workspace limits domains; ``domain_not_allowed`` when it holds none)."""
    held = uow.accounts.identifiers(account_id)
    account = uow.accounts.get(account_id)
    emails = [value for kind, value in held if kind == IdentifierKind.EMAIL.value]
    if account is not None and account.external_email and account.external_email not in emails:
        emails.append(account.external_email)
    domains = settings.allowed_domains
    if domains:
        emails = [e for e in emails if e.rpartition("@")[2] in domains]
        if not emails:
            raise ValidationFailed(
                "your account has no verified address of an allowed domain: " + ", ".join(domains),
                field="form",
                code="domain_not_allowed",
            )
    first = dict(reversed(held))
    if not emails and not (first.get(IdentifierKind.USERNAME.value) and first.get(IdentifierKind.PHONE.value)):
        raise ValidationFailed(
            "your account needs an email address, or a username and a mobile number, to join",
            field="form",
            code="contact_required",
        )
    return {
        "email": emails[0] if emails else None,
        "username": first.get(IdentifierKind.USERNAME.value),
        "phone": first.get(IdentifierKind.PHONE.value),
    }


def join_offer(
    ctx: Context, account_id: str, *, workspace_id: str | None = None, link_token: str | None = None
) -> JoinOffer:
    """What the signed-in account would join through this form or link (the door's refusals as
    :func:`form`), and whether it is a member already."""
    offer = form(ctx, workspace_id=workspace_id, link_token=link_token)
    with ctx.uow() as uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise PermissionDenied("sign in first", code="sign_in_required")
        workspace = uow.workspaces.get(None, offer.workspace_id)
        assert workspace is not None
        member = uow.members.for_account(workspace.organization_id, workspace.id, account_id)
        names = [n for n in (account.first_name, account.last_name) if n]
        held = dict(uow.accounts.identifiers(account_id))
    name = " ".join(names) or next(iter(held.values()), "")
    return JoinOffer(form=offer, name=name, already_member=member is not None)


def join_with_account(
    ctx: Context,
    account_id: str,
    *,
    workspace_id: str | None = None,
    link_token: str | None = None,
    department: Any = None,
) -> dict[str, Any]:
    """The signed-in account joins through the workspace's sign-up form or a department link:
    the link's (or the form's) department, job profile and permission type; the link's use
    counted; the daily cap, the allowed email domains (against the account's verified addresses)
    and the workspace's login rules checked. ``status``: ``active``, ``pending_approval`` (an
    administrator decides, as for any sign-up) or ``already_member`` (nothing changes)."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        door = _door(uow, workspace_id, link_token, now, lock=True)
        w, link = door.workspace, door.link
        account = uow.accounts.get(account_id)
        if account is None or account.status != "active":
            raise PermissionDenied("sign in first", code="sign_in_required")
        result = {"workspace_id": w.id, "account_id": account_id, "workspace_name": w.name}
        if uow.members.for_account(w.organization_id, w.id, account_id) is not None:
            return {**result, "status": "already_member"}
        policy = LoginPolicy.of(w.login_methods, w.sso_required)
        providers = uow.identity_providers.by_ids(w.organization_id, policy.providers)
        issuers = [p.issuer for p in providers] if account.external_issuer else []
        ensure_account_allowed(policy, account.credential_kind, account.external_issuer, issuers)
        chosen = _department(door, department)
        contact = _account_contact(uow, account_id, door.settings)
        waiting = [
            r
            for r in uow.signups.requests(w.organization_id, w.id, "pending_approval")
            if r.password_hash is None and _held_by(uow, r, account_id)
        ]
        if waiting:
            return {**result, "status": "pending_approval"}
        if link is not None and not uow.signups.count_link_use(link.id):
            raise SecretRejected("this sign-up link is used up", code="link_used_up")
        request_id = uow.signups.add_request(
            organization_id=w.organization_id,
            workspace_id=w.id,
            link_id=link.id if link is not None else None,
            handle_digest=secrets.issue(FLOW, ctx.random).digest,  # no browser holds it: the session does
            first_name=account.first_name or "",
            last_name=account.last_name or "",
            **contact,
            language=account.language or w.default_language,
            department=chosen,
            job_profile=link.job_profile if link is not None else door.settings.default_job_profile,
            role=link.role if link is not None else door.settings.default_role,
            state="pending_approval",
            attempts=0,
            created_at=now,
            verified_at=now,
        )
        scope = {"organization_id": w.organization_id, "workspace_id": w.id}
        actor = Actor(ActorKind.ACCOUNT, id=account_id)
        link_id = link.id if link is not None else None
        record(uow, actor, EventType.SIGNUP_REQUESTED, "signup", request_id, now, **scope, link_id=link_id)
        if door.settings.approval_required:
            uow.commit()
            return {**result, "status": "pending_approval"}
        row = uow.signups.request(w.organization_id, request_id)
        assert row is not None
        joined = _become_member(uow, row, None, now, Actor(ActorKind.INVITEE), account_id)
        uow.commit()
    return joined


def _held_by(uow: UnitOfWork, row: Record, account_id: str) -> bool:
    """Whether a waiting request is this account's own join (its identifiers are the account's)."""
    pairs = _identifiers(row)
    found = uow.accounts.by_identifiers(pairs) if pairs else None
    return found is not None and found.id == account_id
