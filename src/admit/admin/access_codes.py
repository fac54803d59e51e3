"""The administrator's side of access codes: a new invitation channel for members without email.

Issuing a code invites the member (a pending invitation with the channel ``code``, valid as long
as the code) and returns the code once; a new code withdraws the member's live one in the same
transaction (one live code per member, also a database constraint); an administrator can
withdraw a code, send it by SMS when the member has a phone, or take fresh codes for a selection
as a CSV (audited). Every door (page, API, CLI) calls these functions, which check
``manage_people`` and that the actor may grant the member's role. The person's side (typing the
code at ``/code``) is :mod:`admit.flows.invitation.codes`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from admit.adapters.printing.sheets import Card, code_sheet
from admit.adapters.spreadsheets import read_table
from admit.adapters.spreadsheets.errors import ImportFileError
from admit.admin.invitations import _mark_invited
from admit.admin.member_view import MemberView, member_view
from admit.domain import access_codes as codes
from admit.domain.errors import Conflict, NotFound, ValidationFailed
from admit.domain.events import EventType
from admit.domain.invitations import InvitationState
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.records import Invitation, Job, Member, Record, Workspace
from admit.domain.roles import Permission, Role, can_grant, ensure_can_grant
from admit.shared.access import tenant_scope, workspace_for
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.messages import enqueue, needs_access_code

MAX_SELECTION = 500  # codes in one CSV
MAX_JOB_SHEET = 2_000  # codes for one import (or Invite All) at once
MAX_JOB_SCAN = 100_000  # members looked at for one job
NOT_LISTED = 2**62  # a member the import's file does not name
REDEEM_PATH = "/code"


@dataclass(frozen=True, slots=True)
class CodeState:
    """A member's latest access code as an administrator sees it (never the code itself):
    ``live`` (until ``expires_at``), ``expired``, ``redeemed``, ``withdrawn``, ``replaced`` (by a
    newer code) or ``locked`` (withdrawn after 10 wrong tries)."""

    member_id: str
    state: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    created_by: str
    failures: int


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A fresh code, shown once: the only place its plaintext ever is."""

    code: str
    member_id: str
    workspace_id: str
    workspace_name: str
    first_name: str | None
    last_name: str | None
    external_id: str | None
    username: str | None
    expires_at: datetime

    def __repr__(self) -> str:  # keep the code out of logs and tracebacks
        return f"IssuedCode(member_id={self.member_id!r}, code=…)"


def redeem_url(ctx: Context, code: str | None = None) -> str:
    """The redeem page, with the code filled in when given (what a QR code or an SMS opens)."""
    base = ctx.base_url.rstrip("/") + REDEEM_PATH
    return base if code is None else f"{base}?c={code}"


def state_of(row: Record | None, now: datetime) -> CodeState | None:
    if row is None:
        return None
    if row.redeemed_at is not None:
        state, ended = "redeemed", row.redeemed_at
    elif row.withdrawn_at is not None:
        state, ended = (row.withdrawn_reason or "withdrawn"), row.withdrawn_at
    elif now >= row.expires_at:
        state, ended = "expired", row.expires_at
    else:
        state, ended = "live", None
    return CodeState(row.member_id, state, row.created_at, row.expires_at, ended, row.created_by, row.failures)


def _load(
    uow: UnitOfWork, actor: Actor, member_id: str, workspace_id: str | None, *, lock: bool = False
) -> tuple[Member, Workspace]:
    member = uow.members.get(tenant_scope(actor), member_id, lock=lock)
    if member is None or (workspace_id is not None and member.workspace_id != workspace_id):
        raise NotFound("member not found")
    workspace, role = workspace_for(uow, actor, member.workspace_id, Permission.MANAGE_PEOPLE)
    ensure_can_grant(role, Role(member.role))
    return member, workspace


def _actor_name(actor: Actor) -> str:
    return (actor.name or actor.kind.value)[:200]


def _issue(
    ctx: Context, uow: UnitOfWork, actor: Actor, member: Member, workspace: Workspace, now: datetime
) -> IssuedCode:
    """Invite the member with a fresh code (withdrawing the live one), in the caller's transaction."""
    if workspace.sso_required:
        raise Conflict(
            "this workspace requires single sign-on: its members sign in with the identity provider, not a code",
            code="sso_required",
        )
    if member.status not in (MemberStatus.PROVISIONED, MemberStatus.INVITED):
        raise Conflict("this person is already a member of the workspace", code="already_member")
    expires_at = now + timedelta(days=workspace.access_code_lifetime_days)
    invitation = _code_invitation(uow, actor, workspace, member, expires_at, now)
    previous = uow.access_codes.live_for_member(workspace.organization_id, member.id, lock=True)
    if previous is not None:
        uow.access_codes.end(previous.id, now, redeemed=False, reason="replaced")
        record(
            uow, actor, EventType.ACCESS_CODE_WITHDRAWN, "member", member.id, now,
            organization_id=workspace.organization_id, workspace_id=workspace.id, code_id=previous.id,
            reason="replaced",
        )  # fmt: skip
    code = _fresh_code(uow)
    raw = codes.normalise(code)
    code_id = uow.access_codes.add(
        organization_id=workspace.organization_id,
        workspace_id=workspace.id,
        member_id=member.id,
        invitation_id=invitation.id,
        lookup=codes.lookup_key(raw),
        digest=codes.digest(ctx.secret_key, raw),
        created_at=now,
        expires_at=expires_at,
        failures=0,
        created_by=_actor_name(actor),
    )
    record(
        uow, actor, EventType.ACCESS_CODE_ISSUED, "member", member.id, now,
        organization_id=workspace.organization_id, workspace_id=workspace.id, code_id=code_id,
        invitation_id=invitation.id, expires_at=expires_at.isoformat(),
    )  # fmt: skip
    return IssuedCode(
        code, member.id, workspace.id, workspace.name, member.first_name, member.last_name,
        member.external_id, member.username, expires_at,
    )  # fmt: skip


def _fresh_code(uow: UnitOfWork) -> str:
    """A code whose lookup key no live code uses (the index makes a race a conflict)."""
    for _ in range(20):
        code = codes.generate()
        if uow.access_codes.live_by_lookup(codes.lookup_key(codes.normalise(code))) is None:
            return code
    raise Conflict("could not find a free access code; try again", code="code_space_busy")


def _code_invitation(
    uow: UnitOfWork, actor: Actor, workspace: Workspace, member: Member, expires_at: datetime, now: datetime
) -> Invitation:
    """The member's pending invitation, valid at least as long as the code and listing the
    channel ``code``; opened now (the member moves to invited) when there is none."""
    invitation = uow.invitations.pending_for_member(workspace.organization_id, member.id)
    if invitation is not None:
        channels = sorted({*invitation.channels, "code"})
        later = max(invitation.expires_at, expires_at)
        moved = uow.invitations.move(
            workspace.organization_id, invitation.id, InvitationState.PENDING.value,
            channels=channels, expires_at=later, updated_at=now,
        )  # fmt: skip
        if not moved:
            raise Conflict("the invitation changed meanwhile; reload and try again", code="invitation_changed")
        return invitation._replace(channels=channels, expires_at=later, updated_at=now)
    if member.status != MemberStatus.INVITED:
        _mark_invited(uow, workspace, member, now)
    values: dict[str, Any] = {
        "organization_id": workspace.organization_id,
        "workspace_id": workspace.id,
        "member_id": member.id,
        "email": member.email,
        "phone": member.phone,
        "role": member.role,
        "state": InvitationState.PENDING.value,
        "message": None,
        "channels": ["code"],
        "inviter_type": actor.kind.value,
        "inviter_id": actor.id,
        "inviter_name": actor.name if actor.kind is ActorKind.ACCOUNT and actor.name else None,
        "expires_at": expires_at,
        "send_count": 1,
        "reminded_at": None,
        "account_id": None,
        "created_at": now,
        "updated_at": now,
        "licence": member.licence,
    }
    invitation = Invitation(id=uow.invitations.add(**values), **values)
    record(
        uow, actor, EventType.INVITATION_CREATED, "invitation", invitation.id, now,
        organization_id=workspace.organization_id, workspace_id=workspace.id, member_id=member.id,
        channels=["code"], role=member.role,
    )  # fmt: skip
    return invitation


def issue(ctx: Context, actor: Actor, member_id: str, *, workspace_id: str | None = None) -> IssuedCode:
    """A new access code for a member awaiting invitation or invited (the old one withdrawn)."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        member, workspace = _load(uow, actor, member_id, workspace_id, lock=True)
        issued = _issue(ctx, uow, actor, member, workspace, now)
        uow.commit()
    return issued


def withdraw(ctx: Context, actor: Actor, member_id: str, *, workspace_id: str | None = None) -> CodeState:
    """Withdraw the member's live code (its invitation stays pending: revoke that separately)."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        member, workspace = _load(uow, actor, member_id, workspace_id)
        live = uow.access_codes.live_for_member(workspace.organization_id, member.id, lock=True)
        if live is None or not uow.access_codes.end(live.id, now, redeemed=False, reason="withdrawn"):
            raise Conflict("this person has no live access code", code="no_live_code")
        record(
            uow, actor, EventType.ACCESS_CODE_WITHDRAWN, "member", member.id, now,
            organization_id=workspace.organization_id, workspace_id=workspace.id, code_id=live.id,
            reason="withdrawn",
        )  # fmt: skip
        state = state_of(uow.access_codes.latest_for_member(workspace.organization_id, member.id), now)
        uow.commit()
    assert state is not None
    return state


def current(ctx: Context, actor: Actor, member_id: str, *, workspace_id: str | None = None) -> CodeState | None:
    """The member's latest code's state (None when the member never had one)."""
    with ctx.uow() as uow:
        member = uow.members.get(tenant_scope(actor), member_id)
        if member is None or (workspace_id is not None and member.workspace_id != workspace_id):
            raise NotFound("member not found")
        workspace, _ = workspace_for(uow, actor, member.workspace_id, Permission.VIEW_DIRECTORY)
        return state_of(uow.access_codes.latest_for_member(workspace.organization_id, member.id), ctx.clock.now())


def send_by_sms(ctx: Context, actor: Actor, member_id: str, *, workspace_id: str | None = None) -> CodeState:
    """A new code sent to the member's phone through the outbox (the old one withdrawn); the
    administrator never sees it. Refused when SMS is off or the member has no phone."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        member, workspace = _load(uow, actor, member_id, workspace_id, lock=True)
        if not workspace.sms_enabled:
            raise Conflict("this workspace does not send SMS", code="sms_disabled", field="phone")
        if not member.phone:
            raise Conflict("this person has no phone number", code="no_phone", field="phone")
        issued = _issue(ctx, uow, actor, member, workspace, now)
        enqueue(
            uow, kind="access_code", channel="sms", recipient=member.phone,
            language=member.language or workspace.default_language, subject_id=member.id,
            organization_id=workspace.organization_id, workspace_id=workspace.id,
            payload={
                "workspace_name": workspace.name, "first_name": member.first_name, "code": issued.code,
                "link": redeem_url(ctx),
            },
            now=now,
        )  # fmt: skip
        live = uow.access_codes.live_for_member(workspace.organization_id, member.id)
        assert live is not None
        record(
            uow, actor, EventType.ACCESS_CODE_SENT, "member", member.id, now,
            organization_id=workspace.organization_id, workspace_id=workspace.id, code_id=live.id, channel="sms",
        )  # fmt: skip
        state = state_of(live, now)
        uow.commit()
    assert state is not None
    return state


def issue_for_selection(ctx: Context, actor: Actor, workspace_id: str, member_ids: list[str]) -> list[IssuedCode]:
    """Fresh codes for a selection of members (each old code withdrawn), in one transaction, and
    one audit event naming who took them: what a CSV or a printed sheet is made from."""
    if not isinstance(member_ids, list) or not member_ids or len(member_ids) > MAX_SELECTION:
        raise ValidationFailed(f"choose 1 to {MAX_SELECTION} people", field="member_ids")
    if any(not isinstance(m, str) or not m or len(m) > 32 or "\x00" in m for m in member_ids):
        raise ValidationFailed("a member id is not valid", field="member_ids")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
        issued = _issue_many(ctx, uow, actor, workspace, list(dict.fromkeys(member_ids)), now)
        uow.commit()
    return issued


def _issue_many(
    ctx: Context, uow: UnitOfWork, actor: Actor, workspace: Workspace, member_ids: list[str], now: datetime,
    **audit: Any,
) -> list[IssuedCode]:  # fmt: skip
    """Fresh codes for these members in the caller's transaction, and one audit event naming who
    took them (``audit``: more to say in it, such as the job they came from)."""
    issued: list[IssuedCode] = []
    for member_id in member_ids:
        member, _ = _load(uow, actor, member_id, workspace.id, lock=True)
        issued.append(_issue(ctx, uow, actor, member, workspace, now))
    record(
        uow, actor, EventType.ACCESS_CODE_EXPORTED, "workspace", workspace.id, now,
        organization_id=workspace.organization_id, workspace_id=workspace.id,
        member_ids=[i.member_id for i in issued], count=len(issued), **audit,
    )  # fmt: skip
    return issued


def _job_people(uow: UnitOfWork, actor: Actor, job_id: str, workspace_id: str | None) -> tuple[Workspace, list[Member]]:
    """The people of a finished job who need an access code, in creation order (see
    :func:`job_people`), with the workspace; ``manage_people`` checked."""
    job = uow.jobs.get(tenant_scope(actor), job_id, upload=True)
    if job is None or (workspace_id is not None and job.workspace_id != workspace_id):
        raise NotFound("job not found")
    workspace, role = workspace_for(uow, actor, job.workspace_id, Permission.MANAGE_PEOPLE)
    if job.kind not in ("import", "invite_all"):
        raise Conflict("only an import or Invite All has people to make access codes for", code="not_an_import")
    if job.kind == "import" and job.options.get("dry_run"):
        raise Conflict("a dry run created nobody: run the import first", code="dry_run")
    if job.state in ("queued", "running"):
        raise Conflict("wait until the job has finished", code="job_running")
    if job.kind == "import":
        keys = _import_keys(job)
        found = uow.members.without_email_created_between(
            workspace.organization_id, workspace.id, job.created_at, job.updated_at, MAX_JOB_SCAN
        )
        order = {
            m.id: min(keys.get(_key(m.username), NOT_LISTED), keys.get(_key(m.external_id), NOT_LISTED)) for m in found
        }
        people = sorted((m for m in found if order[m.id] < NOT_LISTED), key=lambda m: order[m.id])
    else:
        found = uow.members.awaiting_without_email(workspace.organization_id, workspace.id, MAX_JOB_SCAN)
        people = [m for m in found if m.status == MemberStatus.PROVISIONED]
    return workspace, [m for m in people if needs_access_code(workspace, m) and can_grant(role, Role(m.role))]


def _import_keys(job: Job) -> dict[str, int]:
    """The usernames and external IDs the import's file names (as compared: stripped, case-folded),
    each with the number of the first row naming it: the sheet follows the file."""
    if job.upload is None:
        return {}
    try:
        table = read_table(job.upload, job.filename or "")
    except ImportFileError:
        return {}
    keys: dict[str, int] = {}
    for row in table.rows:
        for name in ("username", "external_id"):
            if key := _key(row.values.get(name)):
                keys.setdefault(key, row.number)
    return keys


def _key(value: str | None) -> str:
    return (value or "").strip().casefold()


def job_people(ctx: Context, actor: Actor, job_id: str, *, workspace_id: str | None = None) -> list[MemberView]:
    """Who of a finished job needs an access code (no email, no phone the workspace can text; a
    role the actor may grant): for an import, in the file's order, the people it created that are
    still awaiting invitation or invited (the members created while it ran whose username or
    external ID its file names); for Invite All, the people it left awaiting invitation because
    no message can reach them, in creation order. ``Conflict`` for a dry run, a job still running
    or another kind."""
    with ctx.uow() as uow:
        _, people = _job_people(uow, actor, job_id, workspace_id)
    return [member_view(m) for m in people]


def issue_for_job(ctx: Context, actor: Actor, job_id: str, *, workspace_id: str | None = None) -> list[IssuedCode]:
    """Fresh codes for every person :func:`job_people` names (each old code withdrawn), in one
    transaction, audited with the job: what "Access codes for the people in this import" prints.
    ``Conflict`` when nobody needs one, or more than ``MAX_JOB_SHEET`` do."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, people = _job_people(uow, actor, job_id, workspace_id)
        if not people:
            raise Conflict("nobody in this job needs an access code", code="nobody_needs_code")
        if len(people) > MAX_JOB_SHEET:
            raise Conflict(
                f"more than {MAX_JOB_SHEET} people need an access code: make theirs in selections on the access"
                " codes page",
                code="too_many_people",
            )
        issued = _issue_many(ctx, uow, actor, workspace, [m.id for m in people], now, job_id=job_id)
        uow.commit()
    return issued


CSV_HEADER = (
    "member_id",
    "first_name",
    "last_name",
    "external_id",
    "username",
    "workspace",
    "code",
    "expires_at",
    "url",
)


def as_csv(ctx: Context, issued: list[IssuedCode]) -> str:
    """The codes as CSV; a cell that a spreadsheet would run as a formula is quoted with '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for item in issued:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    item.member_id, item.first_name, item.last_name, item.external_id, item.username,
                    item.workspace_name, item.code, item.expires_at.isoformat(), redeem_url(ctx, item.code),
                )
            ]
        )  # fmt: skip
    return out.getvalue()


def _cell(value: str | None) -> str:
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def without_email(ctx: Context, actor: Actor, workspace_id: str) -> list[MemberView]:
    """The workspace's members without email who may get a code (awaiting invitation or invited,
    with a role the actor may grant), in creation order, at most ``MAX_SELECTION``: what the
    console's access-code page lists for a selection."""
    with ctx.uow() as uow:
        workspace, role = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
        rows = uow.members.awaiting_without_email(workspace.organization_id, workspace.id, MAX_SELECTION)
    return [member_view(m) for m in rows if can_grant(role, Role(m.role))]


def card_name(item: IssuedCode) -> str:
    """The name printed on a card: first and last name, else the username, else the external ID."""
    name = " ".join(part for part in (item.first_name, item.last_name) if part)
    return name or item.username or item.external_id or item.member_id


def as_sheet(ctx: Context, issued: list[IssuedCode], language: str = "en") -> bytes:
    """The codes as a printable A4 PDF, one card per person (name, workspace, code, the redeem URL
    and a QR code opening the redeem page with the code filled in), eight to a page."""
    cards = [Card(card_name(i), i.workspace_name, i.code, redeem_url(ctx, i.code)) for i in issued]
    return code_sheet(cards, language=language)
