"""Organization invitations and merges (issue 17, Smartsheet's "Invitation to join a Smartsheet
account"). A system administrator of a business or enterprise organization invites a person (an
email address) to join the organization's account; the person gets an email (in the language the
inviter chose) with an accept and a decline link, both opening the invitation's page, and sees the
invitation on their signed-in home. The link is a secret of its own purpose (``oin``), stored as a
digest, single use, valid 7 days.

Before accepting, the person sees the **merge plan** (:mod:`admit.domain.merge`: who and what
moves, licences needed and available, roles lost, settings changed, group name collisions).
Declining changes nothing but the invitation (audited). Accepting needs a fresh sign-in (within
the last 5 minutes: the session's start) and runs in one transaction under both organizations' row
locks: the plan is made again from the state as of then, refused as a whole if it cannot be
carried out (the refusal is kept on the invitation and audited in the inviting organization, so
both sides know why), else carried out step by step, each step audited, ``organization.merged``
last. The inviting organization's rules (single sign-on, security controls, licences) reach the
person only through the membership the acceptance makes. A merge never makes the inviter or the
invitee an owner or a system administrator of anything they were not: member rows move as they
are, and no organization role is granted but a group administrator's kept one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from admit.admin import licences
from admit.admin.organization_roles import OrgRole, organization_for
from admit.admin.security_controls import check_email
from admit.domain import merge, secrets
from admit.domain.errors import (
    AlreadyExists,
    Conflict,
    LinkGone,
    NotFound,
    PermissionDenied,
    SecretRejected,
    ValidationFailed,
)
from admit.domain.events import EventType
from admit.domain.identifiers import IdentifierKind, normalise_email
from admit.domain.login_policy import LoginPolicy, ensure_account_allowed
from admit.domain.members import person_names
from admit.domain.passwords import PasswordPolicy
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record, Workspace
from admit.domain.secrets import SecretPurpose
from admit.flows.signin import sessions
from admit.flows.signin.sessions import open_session
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.messages import enqueue

PURPOSE = SecretPurpose.ORG_INVITATION
REAUTHENTICATION = timedelta(minutes=5)
LANGUAGES = ("en", "de", "fr")
INVITING_PLANS = ("business", "enterprise")
ID_LIMIT = 32
EMAIL_LIMIT = 320


class ReauthenticationRequired(PermissionDenied):
    code = "reauthenticate"


class MergeRefused(Conflict):
    code = "merge_refused"

    def __init__(self, message: str, *, code: str | None = None, plan: merge.MergePlan | None = None) -> None:
        super().__init__(message, code=code)
        self.plan = plan  # the plan that could not be carried out (its licences needed and available)


def stored_refusal(code: str | None, reason: str, plan: merge.MergePlan | None) -> str:
    """What the invitation keeps of a refused acceptance: its code and numbers (the pages say it
    in the reader's language from these) and the English reason (the API's ``refusal``, the
    audit's words), as one JSON text of at most 500 characters."""
    facts: dict[str, Any] = {"code": code}
    if plan is not None and code == "no_licences":
        facts.update(needed=plan.licences_needed, available=plan.licences_available)
    head = json.dumps(facts, separators=(",", ":"))
    room = 500 - len(head) - 20
    while True:
        text = json.dumps({**facts, "reason": reason[:room]}, separators=(",", ":"))
        if len(text) <= 500:
            return text
        room -= len(text) - 500


def read_refusal(stored: str | None) -> tuple[str | None, str | None, dict[str, int]]:
    """(reason in English, code, numbers) of what :func:`stored_refusal` kept; a reason stored
    before codes were kept is its own text, without a code."""
    if not stored:
        return None, None, {}
    try:
        facts = json.loads(stored) if stored.startswith("{") else None
    except ValueError:
        facts = None
    if not isinstance(facts, dict) or not isinstance(facts.get("reason"), str):
        return stored, None, {}
    numbers = {k: v for k, v in facts.items() if k in ("needed", "available") and isinstance(v, int)}
    code = facts.get("code")
    return facts["reason"], code if isinstance(code, str) else None, numbers


@dataclass(frozen=True)
class OrgInvitationView:
    id: str
    organization_id: str
    organization_name: str
    email: str
    state: str  # pending, accepted, declined, withdrawn, expired
    language: str
    inviter_name: str | None
    expires_at: datetime
    created_at: datetime
    answered_at: datetime | None
    acquired_organization_id: str | None
    refusal: str | None  # why the last attempt to accept was refused, in English
    enterprise: bool = False  # the invitee administers an enterprise account: it cannot be acquired
    refusal_code: str | None = None  # the refusal's code (merge.MergePlan.refusal): pages say it by code
    refusal_numbers: dict[str, int] | None = None  # no_licences: the licences needed and available then


def _view(row: Record, organization_name: str, now: datetime, enterprise: bool = False) -> OrgInvitationView:
    state = "expired" if row.state == "pending" and now >= row.expires_at else str(row.state)
    refusal, refusal_code, numbers = read_refusal(row.refusal)
    return OrgInvitationView(
        id=row.id, organization_id=row.organization_id, organization_name=organization_name, email=row.email,
        state=state, language=row.language, inviter_name=row.inviter_name, expires_at=row.expires_at,
        created_at=row.created_at, answered_at=row.answered_at,
        acquired_organization_id=row.acquired_organization_id, refusal=refusal, enterprise=enterprise,
        refusal_code=refusal_code, refusal_numbers=numbers,
    )  # fmt: skip


def _email(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > EMAIL_LIMIT or "\x00" in value:
        raise ValidationFailed(
            "an email address is required (at most 320 characters)", field="email", code="email_invalid"
        )
    return normalise_email(value)


def _language(value: object) -> str:
    if value is None:
        return "en"
    if not isinstance(value, str) or value.strip().lower() not in LANGUAGES:
        raise ValidationFailed("the language is en, de or fr", field="language", code="language_invalid")
    return value.strip().lower()


# ---- The facts a plan is made from -------------------------------------------------------------


def _side(uow: UnitOfWork, org: Record, now: datetime | None = None) -> merge.Side:
    """One organization's facts; ``now`` also reads its access (a side that may be acquired)."""
    rows = uow.org_invitations.members_of(org.id)
    access = [merge.Access(*item) for item in uow.org_invitations.access_of(org.id, now)] if now else []
    return merge.Side(
        id=org.id,
        name=org.name,
        plan=org.plan,
        seats=int(org.seats),
        licences_enforced=bool(org.licences_enforced),
        reserve_seats=bool(org.reserve_seats_for_invitations),
        settings={name: getattr(org, name) for name in merge.SETTINGS},
        workspaces=[(w.id, w.name) for w in uow.workspaces.list(org.id)],
        members=[merge.Person(r.id, r.account_id, r.workspace_id, r.status, r.licence, r.role, r.email) for r in rows],
        admins=uow.org_invitations.admin_roles(org.id),
        groups=[merge.Group(g.id, g.display_name, g.name_key) for g in uow.org_invitations.groups_of(org.id)],
        access=access,
    )


def _own(uow: UnitOfWork, account_id: str, inviting_id: str) -> list[Record]:
    """The paid organizations that are the account's own: it is a system administrator there, or
    the only person in it (an organization from before organization roles)."""
    found = {o.id: o for o in uow.org_invitations.organizations_administered(account_id)}
    for row in uow.org_invitations.member_rows_for_account(account_id):
        if row.organization_id not in found:
            people = {m.account_id for m in uow.org_invitations.members_of(row.organization_id)}
            org = uow.organizations.get(row.organization_id)
            if people == {account_id} and org is not None:
                found[org.id] = org
    paid = [o for o in found.values() if o.plan in merge.PAID_PLANS and o.id != inviting_id]
    return sorted(paid, key=lambda o: (o.created_at, o.id))


def _plan(uow: UnitOfWork, invitation: Record, account_id: str | None, now: datetime) -> merge.MergePlan:
    inviting = uow.organizations.get(invitation.organization_id)
    assert inviting is not None
    own = [_side(uow, org, now) for org in _own(uow, account_id, inviting.id)] if account_id else []
    member = account_id is not None and uow.org_invitations.live_member_in(inviting.id, account_id, invitation.email)
    invitee = merge.Invitee(invitation.email, account_id, own, member)
    return merge.plan(_side(uow, inviting), invitee)


def _account_for(uow: UnitOfWork, email: str) -> str | None:
    account = uow.accounts.by_identifiers([("email", email)])
    return None if account is None else account.id


def _enterprise(uow: UnitOfWork, email: str, inviting_id: str) -> bool:
    account_id = _account_for(uow, email)
    return account_id is not None and any(o.plan == "enterprise" for o in _own(uow, account_id, inviting_id))


# ---- The inviting side -------------------------------------------------------------------------


def invite(
    ctx: Context, actor: Actor, organization_id: str, email: object, *, language: object = None
) -> tuple[OrgInvitationView, str]:
    """Invite an address to join the organization's account (system administrators); returns the
    invitation and its link's secret (shown once; the email carries it)."""
    address, lang = _email(email), _language(language)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        org = organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
        if org.plan not in INVITING_PLANS:
            raise PermissionDenied(
                "only a business or enterprise organization invites people to join its account",
                code="plan_required", field="email",
            )  # fmt: skip
        if not uow.workspaces.list(org.id):
            raise Conflict("the organization needs a workspace before it invites anyone", code="no_workspace")
        check_email(uow, org.id, address, org=org)
        if uow.org_invitations.pending_to(org.id, address, now) is not None:
            raise Conflict("this address already has an open invitation", code="already_invited", field="email")
        account_id = _account_for(uow, address)
        if account_id is not None and uow.org_invitations.live_member_in(org.id, account_id, address):
            raise Conflict("this person is already a member of the organization", code="already_member", field="email")
        issued = secrets.issue(PURPOSE, ctx.random)
        expires = secrets.expiry(PURPOSE, now)
        assert expires is not None
        inviter_name = actor.name if actor.kind is ActorKind.ACCOUNT and actor.name else None
        invitation_id = uow.org_invitations.add(
            organization_id=org.id, email=address, state="pending", language=lang, inviter_type=actor.kind.value,
            inviter_id=actor.id, inviter_name=inviter_name, expires_at=expires, created_at=now,
        )  # fmt: skip
        uow.secrets.add(
            purpose=PURPOSE.value, digest=issued.digest, organization_id=org.id, subject_id=invitation_id,
            created_at=now, expires_at=expires,
        )  # fmt: skip
        enterprise = _enterprise(uow, address, org.id)
        link = ctx.link(f"/org-invitations/{issued.plaintext}")
        enqueue(
            uow, kind="organization_invitation", channel="email", recipient=address, language=lang,
            subject_id=invitation_id, organization_id=org.id, workspace_id=None, now=now,
            payload={
                "link": link, "decline_link": f"{link}?answer=decline", "organization_name": org.name,
                "inviter_name": inviter_name, "expires_at": expires.isoformat(), "enterprise": enterprise,
            },
        )  # fmt: skip
        record(
            uow, actor, EventType.ORG_INVITATION_CREATED, "org_invitation", invitation_id, now,
            organization_id=org.id, email=address,
        )  # fmt: skip
        row = uow.org_invitations.get(org.id, invitation_id)
        assert row is not None
        uow.commit()
    return _view(row, org.name, now, enterprise), issued.plaintext


def list_invitations(ctx: Context, actor: Actor, organization_id: str) -> list[OrgInvitationView]:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        org = organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
        return [_view(row, org.name, now) for row in uow.org_invitations.list(org.id)]


def _an_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` could be an invitation's id (anything else is simply not found)."""
    return isinstance(value, str) and 0 < len(value) <= ID_LIMIT and "\x00" not in value


def _admin_invitation(
    uow: UnitOfWork, actor: Actor, organization_id: str | None, invitation_id: object
) -> tuple[Record, Record]:
    """The invitation and its organization, for a system administrator of it; the operator may
    name the invitation alone (``organization_id`` None: the CLI's ``admit org merge-plan``)."""
    if not _an_id(invitation_id):
        raise NotFound("invitation not found")
    if organization_id is None:
        found = uow.org_invitations.get(None, invitation_id) if actor.kind is ActorKind.OPERATOR else None
        if found is None:
            raise NotFound("invitation not found")
        organization_id = str(found.organization_id)
    org = organization_for(uow, actor, organization_id, OrgRole.SYSTEM_ADMIN)
    row = uow.org_invitations.get(org.id, invitation_id)
    if row is None:
        raise NotFound("invitation not found")
    return org, row


def get_invitation(ctx: Context, actor: Actor, organization_id: str, invitation_id: object) -> OrgInvitationView:
    with ctx.uow() as uow:
        org, row = _admin_invitation(uow, actor, organization_id, invitation_id)
        return _view(row, org.name, ctx.clock.now(), _enterprise(uow, row.email, org.id))


def withdraw(ctx: Context, actor: Actor, organization_id: str | None, invitation_id: object) -> OrgInvitationView:
    """Withdraw a pending invitation (system administrators of the inviting organization; the
    operator may name the invitation alone): its link is revoked and then shows that the
    invitation was withdrawn. An answered, withdrawn or expired one is a 409 ``not_pending``."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        org, found = _admin_invitation(uow, actor, organization_id, invitation_id)
        row = uow.org_invitations.get(org.id, found.id, lock=True)
        assert row is not None
        if row.state != "pending" or now >= row.expires_at:
            state = "expired" if row.state == "pending" else row.state
            raise Conflict(f"only a pending invitation can be withdrawn; this one is {state}", code="not_pending")
        uow.org_invitations.update(row.id, state="withdrawn", answered_at=now)
        uow.secrets.revoke_for(row.id, PURPOSE.value, now)
        record(
            uow, actor, EventType.ORG_INVITATION_WITHDRAWN, "org_invitation", row.id, now,
            organization_id=org.id, email=row.email,
        )  # fmt: skip
        updated = uow.org_invitations.get(org.id, row.id)
        assert updated is not None
        uow.commit()
    return _view(updated, org.name, now)


def merge_plan(ctx: Context, actor: Actor, organization_id: str | None, invitation_id: object) -> merge.MergePlan:
    """The plan as of now, for the inviting side (system administrators)."""
    with ctx.uow() as uow:
        _, row = _admin_invitation(uow, actor, organization_id, invitation_id)
        return _plan(uow, row, _account_for(uow, row.email), ctx.clock.now())


# ---- The invitee's side ------------------------------------------------------------------------


def _by_token(uow: UnitOfWork, token: object, now: datetime) -> Record:
    if not isinstance(token, str):
        raise SecretRejected("this link or token is not valid")
    row = uow.secrets.by_digest(secrets.digest_for(token, PURPOSE))
    if row is None:
        raise SecretRejected("this link or token is not valid")
    invitation = uow.org_invitations.get(row.organization_id, row.subject_id) if row.purpose == PURPOSE.value else None
    if invitation is not None:
        _not_withdrawn(invitation)  # a withdrawn invitation's link says so (its secret is revoked)
    secrets.ensure_usable(
        purpose=SecretPurpose(row.purpose), expected=PURPOSE, expires_at=row.expires_at,
        consumed_at=row.consumed_at, revoked_at=row.revoked_at, now=now,
    )  # fmt: skip
    if invitation is None:
        raise SecretRejected("this link or token is not valid")
    return invitation


WITHDRAWN = "invitation_withdrawn"


def _not_withdrawn(invitation: Record) -> None:
    if invitation.state == "withdrawn":
        raise LinkGone("the organization withdrew this invitation", code=WITHDRAWN)


def _open_for(
    uow: UnitOfWork, account_id: str, invitation_id: object, token: object, now: datetime, *, lock: bool = False
) -> Record:
    """A pending invitation to one of the account's addresses, by its id or by its link's secret."""
    invitation: Record | None = None
    if token is not None:
        invitation = _by_token(uow, token, now)
    elif _an_id(invitation_id):
        invitation = uow.org_invitations.get(None, invitation_id)
    emails = {value for kind, value in uow.accounts.identifiers(account_id) if kind == "email"}
    if invitation is None or invitation.email not in emails:
        raise NotFound("no open invitation of yours has this id")
    return _still_open(uow, invitation, now, lock=lock)


def preview(ctx: Context, token: object) -> OrgInvitationView:
    """What the link shows before signing in: the organization and the address."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = _by_token(uow, token, now)
        if row.state != "pending":
            raise LinkGone("this invitation is no longer open")
        org = uow.organizations.get(row.organization_id)
        assert org is not None
        return _view(row, org.name, now, _enterprise(uow, row.email, org.id))


def pending_for_account(ctx: Context, account_id: str) -> list[OrgInvitationView]:
    """Open organization invitations to the account's addresses (the signed-in home's notices)."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        emails = [value for kind, value in uow.accounts.identifiers(account_id) if kind == "email"]
        rows = uow.org_invitations.pending_for_emails(emails, now)
        return [
            _view(row, row.organization_name, now, _enterprise(uow, row.email, row.organization_id)) for row in rows
        ]


def plan_for_account(
    ctx: Context, account_id: str, *, invitation_id: object = None, token: object = None
) -> tuple[OrgInvitationView, merge.MergePlan]:
    """The invitation and what accepting it would do, for the signed-in invitee."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = _open_for(uow, account_id, invitation_id, token, now)
        org = uow.organizations.get(row.organization_id)
        assert org is not None
        plan = _plan(uow, row, account_id, now)
        return _view(row, org.name, now, plan.refusal == "enterprise"), plan


def decline(ctx: Context, account_id: str, *, invitation_id: object = None, token: object = None) -> OrgInvitationView:
    """Decline: the invitation ends, nothing else changes."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _open_for(uow, account_id, invitation_id, token, now, lock=True)
        _end(uow, row, "declined", account_id, now)
        record(
            uow, Actor(ActorKind.ACCOUNT, id=account_id), EventType.ORG_INVITATION_DECLINED,
            "org_invitation", row.id, now, organization_id=row.organization_id,
        )  # fmt: skip
        org = uow.organizations.get(row.organization_id)
        updated = uow.org_invitations.get(None, row.id)
        assert org is not None and updated is not None
        uow.commit()
    return _view(updated, org.name, now)


def _end(uow: UnitOfWork, row: Record, state: str, account_id: str | None, now: datetime, **values: Any) -> None:
    uow.org_invitations.update(row.id, state=state, account_id=account_id, answered_at=now, **values)
    live = uow.secrets.live_for(row.id, PURPOSE.value, lock=True)
    if live is not None:
        uow.secrets.consume(live.id, now)


@dataclass(frozen=True)
class MergeResult:
    invitation: OrgInvitationView
    plan: merge.MergePlan
    member_id: str | None  # the free user's new membership


def accept(ctx: Context, session_token: str, *, invitation_id: object = None, token: object = None) -> MergeResult:
    """Accept with a fresh sign-in: the plan, carried out in one transaction (or refused whole)."""
    session = sessions.live_session(ctx, session_token)
    now = ctx.clock.now()
    if now - session.started > REAUTHENTICATION:
        raise ReauthenticationRequired("sign in again to accept: accepting needs a sign-in within the last 5 minutes")
    account_id = session.account_id
    try:
        with ctx.uow(write=True) as uow:
            row = _open_for(uow, account_id, invitation_id, token, now, lock=True)
            result = _carry_out(uow, row, account_id, now)
            uow.commit()
        return result
    except MergeRefused as refused:
        _note_refusal(ctx, account_id, invitation_id, token, refused, now)
        raise


def _carry_out(uow: UnitOfWork, row: Record, account_id: str, now: datetime) -> MergeResult:
    actor = Actor(ActorKind.ACCOUNT, id=account_id)
    first = _plan(uow, row, account_id, now)  # who else is involved: lock both rows, in id order, then plan again
    for org_id in sorted({row.organization_id, *([first.acquired_id] if first.acquired_id else [])}):
        uow.org_controls.lock(org_id)
    plan = _plan(uow, row, account_id, now)
    if not plan.allowed:
        raise MergeRefused(plan.reason or "this invitation cannot be accepted", code=plan.refusal, plan=plan)
    inviting_id = row.organization_id
    scope = {"organization_id": inviting_id}
    member_id = None
    if plan.kind == merge.FREE_USER:
        assert plan.workspace_id is not None and plan.licence is not None
        licences.ensure_seat(uow, inviting_id, ("active", plan.licence), field="licence")
        account = uow.accounts.get(account_id)
        assert account is not None
        member_id = uow.members.add(
            organization_id=inviting_id, workspace_id=plan.workspace_id, account_id=account_id, status="active",
            role="member", first_name=account.first_name, last_name=account.last_name, email=row.email,
            language=account.language, created_at=now, updated_at=now, licence=plan.licence,
        )  # fmt: skip
        record(
            uow, actor, EventType.ORGANIZATION_MEMBER_JOINED, "organization", inviting_id, now,
            workspace_id=plan.workspace_id, member_id=member_id, licence=plan.licence, invitation_id=row.id,
            organization_id=inviting_id,
        )  # fmt: skip
    else:
        acquired = plan.acquired_id
        assert acquired is not None
        licences.ensure_seats(uow, inviting_id, plan.licences_needed, field="licences")
        for workspace_id, name in plan.workspaces:
            uow.org_invitations.move_workspace(acquired, inviting_id, workspace_id)
            record(
                uow, actor, EventType.ORGANIZATION_WORKSPACE_MOVED, "organization", inviting_id, now,
                **scope, workspace_id=workspace_id, name=name, from_organization_id=acquired,
            )  # fmt: skip
        for group in plan.groups:
            uow.org_invitations.move_group(acquired, inviting_id, group.group_id, group.new_name, group.new_key, now)
            record(
                uow, actor, EventType.ORGANIZATION_GROUP_MOVED, "organization", inviting_id, now, **scope,
                group_id=group.group_id, name=group.new_name, previous_name=group.name, from_organization_id=acquired,
            )  # fmt: skip
        roles = uow.org_invitations.admin_roles(acquired)
        uow.org_invitations.drop_admins(acquired)
        for lost, role in sorted(roles.items()):
            record(
                uow, actor, EventType.ORGANIZATION_ADMIN_REVOKED, "organization", acquired, now,
                organization_id=acquired, account_id=lost, role=role, reason="merged",
            )  # fmt: skip
        for kept in plan.group_admins_granted:
            uow.org_controls.grant(inviting_id, kept, merge.GROUP_ADMIN, now)
            record(
                uow, actor, EventType.ORGANIZATION_ADMIN_GRANTED, "organization", inviting_id, now, **scope,
                account_id=kept, role=merge.GROUP_ADMIN, previous=None, reason="merged",
            )  # fmt: skip
        inviting_org = uow.organizations.get(inviting_id)
        assert inviting_org is not None
        reason = f"merged into {inviting_org.name}"
        for access in plan.revoked:
            uow.org_invitations.revoke_access(acquired, access.kind, access.id, now, reason)
            if access.kind == "sso_provider":
                _off_moved_workspaces(uow, actor, inviting_id, plan, f"sso:{access.id}", now)
            record(
                uow, actor, EventType.ORGANIZATION_ACCESS_REVOKED, "organization", acquired, now,
                organization_id=acquired, kind=access.kind, item_id=access.id, name=access.name[:200],
                reason="merged", merged_into=inviting_id,
            )  # fmt: skip
        uow.org_controls.update(acquired, plan="free", seats=0, licences_enforced=False)
        record(
            uow, actor, EventType.ORGANIZATION_CLOSED, "organization", acquired, now, organization_id=acquired,
            merged_into=inviting_id, invitation_id=row.id,
        )  # fmt: skip
    _end(uow, row, "accepted", account_id, now, acquired_organization_id=plan.acquired_id, refusal=None)
    record(
        uow, actor, EventType.ORG_INVITATION_ACCEPTED, "org_invitation", row.id, now, **scope,
        kind=plan.kind,
    )  # fmt: skip
    if plan.acquired_id is not None:
        record(
            uow, actor, EventType.ORGANIZATION_MERGED, "organization", inviting_id, now, **scope,
            invitation_id=row.id, kind=plan.kind, acquired_organization_id=plan.acquired_id,
            workspaces=[w for w, _ in plan.workspaces], members=len(plan.people), groups=len(plan.groups),
            licences=plan.licences_needed, roles_lost=len(plan.roles_lost),
        )  # fmt: skip
    org = uow.organizations.get(inviting_id)
    updated = uow.org_invitations.get(None, row.id)
    assert org is not None and updated is not None
    return MergeResult(_view(updated, org.name, now), plan, member_id)


def _off_moved_workspaces(
    uow: UnitOfWork, actor: Actor, inviting_id: str, plan: merge.MergePlan, method: str, now: datetime
) -> None:
    """The acquired organization's SSO provider no longer signs anyone into the workspaces that
    moved: the inviting organization's sign-in rules apply. Its method leaves their login methods
    (password when none is left), and SSO stops being required where no SSO method is left."""
    for workspace_id, _ in plan.workspaces:
        workspace = uow.workspaces.get(inviting_id, workspace_id)
        if workspace is None or method not in workspace.login_methods:
            continue
        methods = [m for m in workspace.login_methods if m != method] or ["password"]
        required = bool(workspace.sso_required) and any(m.startswith("sso:") for m in methods)
        uow.workspaces.update(inviting_id, workspace_id, login_methods=methods, sso_required=required)
        record(
            uow, actor, EventType.WORKSPACE_UPDATED, "workspace", workspace_id, now, organization_id=inviting_id,
            workspace_id=workspace_id, changes={"login_methods": methods, "sso_required": required}, reason="merged",
        )  # fmt: skip


def _note_refusal(
    ctx: Context, account_id: str, invitation_id: object, token: object, refused: MergeRefused, now: datetime
) -> None:
    """A refused acceptance changed nothing; the invitation keeps why (the inviting side's lists
    show it), the inviting organization's audit log says so, and the inviting side is told by
    email (:func:`_tell_inviting_side`) when the reason is new (trying again for the same reason
    sends nothing more)."""
    with ctx.uow(write=True) as uow:
        row = _open_for(uow, account_id, invitation_id, token, now, lock=True)
        _keep_refusal(uow, Actor(ActorKind.ACCOUNT, id=account_id), row, refused, now)
        uow.commit()


def _keep_refusal(uow: UnitOfWork, actor: Actor, row: Record, refused: MergeRefused, now: datetime) -> None:
    kept = stored_refusal(refused.code, refused.message, refused.plan)
    uow.org_invitations.update(row.id, refusal=kept)
    record(
        uow, actor, EventType.ORG_INVITATION_REFUSED, "org_invitation", row.id, now,
        organization_id=row.organization_id, reason=refused.code,
    )  # fmt: skip
    if read_refusal(row.refusal)[:2] != read_refusal(kept)[:2]:
        _tell_inviting_side(uow, row, refused, now)


# ---- Without an account: the link proves the address --------------------------------------------

SIGN_IN_REQUIRED = "sign_in_required"
SIGN_IN_MESSAGE = "sign in to answer this invitation"


@dataclass(frozen=True)
class LinkFacts:
    """What the link's page shows before sign-in: the invitation, whether its address has an
    account (the link was sent there, so it tells its holder nothing new), and, for a person
    without one, the password policy and whether the organization lets a password account in."""

    invitation: OrgInvitationView
    has_account: bool
    password_policy: str
    password_allowed: bool
    plan: merge.MergePlan | None  # for an address without an account: what accepting would do


def _open_by_link(uow: UnitOfWork, token: object, now: datetime, *, lock: bool = False) -> Record:
    """The pending invitation behind a link (``LinkGone`` once it is answered or expired)."""
    return _still_open(uow, _by_token(uow, token, now), now, lock=lock)


def _still_open(uow: UnitOfWork, invitation: Record, now: datetime, *, lock: bool) -> Record:
    """``invitation`` as it stands now (read again under a row lock with ``lock``), or
    ``LinkGone``: withdrawn (say so), answered or expired."""
    if lock:
        locked = uow.org_invitations.get(None, invitation.id, lock=True)
        assert locked is not None
        invitation = locked
    _not_withdrawn(invitation)
    if invitation.state != "pending" or now >= invitation.expires_at:
        raise LinkGone("this invitation is no longer open")
    return invitation


def _joining_workspace(uow: UnitOfWork, row: Record) -> Workspace:
    """The workspace a new person joins (the plan's: the organization's first); its password
    policy and login methods are the organization's rules for a new account."""
    workspaces = uow.workspaces.list(row.organization_id)
    if not workspaces:
        raise MergeRefused("the organization has no workspace to join yet", code="no_workspace")
    return workspaces[0]


def link_facts(ctx: Context, token: object) -> LinkFacts:
    """:func:`preview`, with what a person without an account needs to create one."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = _open_by_link(uow, token, now)
        org = uow.organizations.get(row.organization_id)
        assert org is not None
        has_account = _account_for(uow, row.email) is not None
        workspaces = uow.workspaces.list(org.id)
        policy = str(workspaces[0].password_policy) if workspaces else "length"
        allowed = (
            bool(workspaces)
            and LoginPolicy.of(workspaces[0].login_methods, workspaces[0].sso_required).password_allowed
        )
        plan = None if has_account else _plan(uow, row, None, now)
        invitation = _view(row, org.name, now, _enterprise(uow, row.email, org.id))
    return LinkFacts(invitation, has_account, policy, allowed, plan)


def reader_language(ctx: Context, account_id: str) -> str | None:
    """The language a signed-in person reads the invitation's pages in (their account's)."""
    with ctx.uow() as uow:
        account = uow.accounts.get(account_id)
        return None if account is None else account.language


@dataclass(frozen=True)
class NewAccountResult(MergeResult):
    account_id: str
    session: str  # the new account's session (shown once)


def accept_as_new_account(
    ctx: Context, token: object, password: object, *, first_name: object = None, last_name: object = None
) -> NewAccountResult:
    """Accept with the link alone, for an address that has no account: the link was sent to it,
    so it proves the address (as a workspace invitation's claim does). A password account is
    created with that address (its name optional, the password under the policy of the workspace
    the person joins, which must let password accounts in), it accepts as a free user (the merge
    plan's path: the organization's first workspace), and its session starts, all in one
    transaction. An address that has an account meanwhile is asked to sign in
    (``sign_in_required``), with no more said than the link's page says."""
    if not isinstance(password, str) or not password:
        raise ValidationFailed("choose a password to create your account", field="password", code="password_required")
    if len(password) > 1024:
        raise ValidationFailed("a password has at most 1024 characters", field="password", code="password_too_long")
    names = person_names(_text(first_name), _text(last_name), required=False)
    now = ctx.clock.now()
    with ctx.uow() as uow:  # every rule before the password is hashed (slow by design)
        row = _open_by_link(uow, token, now)
        _no_account_yet(uow, row.email)
        workspace = _joining_workspace(uow, row)
        _password_allowed(workspace)
        org = uow.organizations.get(row.organization_id)
        assert org is not None
        context = [row.email, *names, org.name, workspace.name]
        PasswordPolicy.named(workspace.password_policy).check(password, [c for c in context if c])
    password_hash = ctx.hasher.hash(password)
    try:
        with ctx.uow(write=True) as uow:
            row = _open_by_link(uow, token, now, lock=True)
            _no_account_yet(uow, row.email)
            _password_allowed(_joining_workspace(uow, row))
            account_id = _new_account(uow, row, password_hash, names, now)
            result = _carry_out(uow, row, account_id, now)
            session = open_session(uow, ctx.random, account_id, now)
            uow.commit()
    except MergeRefused as refused:
        with ctx.uow(write=True) as uow:
            _keep_refusal(uow, INVITEE, _open_by_link(uow, token, now, lock=True), refused, now)
            uow.commit()
        raise
    except AlreadyExists as taken:  # an account made for the address meanwhile (the unique index)
        if taken.code != "account_exists":
            raise
        raise Conflict(SIGN_IN_MESSAGE, code=SIGN_IN_REQUIRED) from None
    return NewAccountResult(result.invitation, result.plan, result.member_id, account_id, session)


INVITEE = Actor(ActorKind.INVITEE, name="invitee")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise ValidationFailed("a name is text", field="first_name", code="name_invalid")
    return value


def _no_account_yet(uow: UnitOfWork, email: str) -> None:
    if _account_for(uow, email) is not None:
        raise Conflict(SIGN_IN_MESSAGE, code=SIGN_IN_REQUIRED)


def _password_allowed(workspace: Workspace) -> None:
    """The organization signs people in through single sign-on only: no password account joins."""
    ensure_account_allowed(LoginPolicy.of(workspace.login_methods, workspace.sso_required), "password", None, [])


def _new_account(uow: UnitOfWork, row: Record, password_hash: str, names: tuple[str, str], now: datetime) -> str:
    """The invited address's password account (the address is its email: the link proved it)."""
    account_id = uow.accounts.add(
        credential_kind="password", password_hash=password_hash, first_name=names[0] or None,
        last_name=names[1] or None, language=row.language, status="active", must_change_password=False,
        created_at=now,
    )  # fmt: skip
    uow.accounts.add_identifier(account_id, IdentifierKind.EMAIL.value, row.email, now)
    record(
        uow, Actor(ActorKind.ACCOUNT, id=account_id), EventType.ACCOUNT_CREATED, "account", account_id, now,
        organization_id=row.organization_id, identifiers=[IdentifierKind.EMAIL.value], credential="password",
        org_invitation_id=row.id,
    )  # fmt: skip
    return account_id


def decline_by_link(ctx: Context, token: object) -> OrgInvitationView:
    """Decline with the link alone (no account, or not signed in): the invitation ends, nothing
    else changes, as a workspace invitation's link declines."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _open_by_link(uow, token, now, lock=True)
        _end(uow, row, "declined", None, now)
        record(
            uow, INVITEE, EventType.ORG_INVITATION_DECLINED, "org_invitation", row.id, now,
            organization_id=row.organization_id,
        )  # fmt: skip
        org = uow.organizations.get(row.organization_id)
        updated = uow.org_invitations.get(None, row.id)
        assert org is not None and updated is not None
        uow.commit()
    return _view(updated, org.name, now)


def _tell_inviting_side(uow: UnitOfWork, row: Record, refused: MergeRefused, now: datetime) -> None:
    """An email (``organization_merge_refused``) to the inviter, if a person, and to the inviting
    organization's system administrators: who could not join, why, and (for want of licences) how
    many are needed and free. It carries no link and no secret."""
    org = uow.organizations.get(row.organization_id)
    assert org is not None
    people = [
        str(a) for a, role in sorted(uow.org_invitations.admin_roles(org.id).items()) if role == merge.SYSTEM_ADMIN
    ]
    if row.inviter_type == ActorKind.ACCOUNT.value and row.inviter_id and row.inviter_id not in people:
        people.insert(0, str(row.inviter_id))
    plan = refused.plan
    payload = {
        "organization_name": org.name, "invitee": row.email, "refusal": refused.code, "reason": refused.message,
        "acquired_name": plan.acquired_name if plan else None,
        "licences_needed": plan.licences_needed if plan else None,
        "licences_available": plan.licences_available if plan else None,
    }  # fmt: skip
    sent: set[str] = set()
    for person in people:
        account = uow.accounts.get(person)
        address = next((value for kind, value in uow.accounts.identifiers(person) if kind == "email"), None)
        if account is None or address is None or address in sent:
            continue
        sent.add(address)
        enqueue(
            uow, kind="organization_merge_refused", channel="email", recipient=address,
            language=account.language or row.language, subject_id=row.id, organization_id=org.id,
            workspace_id=None, now=now, payload=payload,
        )  # fmt: skip
