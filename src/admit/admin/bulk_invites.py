"""Invitations in bulk (the Workplace article's "Unsent invitations"): "Invite All" invites every
member awaiting invitation; "Choose people to invite" takes a CSV or XLSX file whose header has
``Email`` or ``External ID`` and invites the members it names. Both run as background jobs; the
result says how many were invited and lists every row that did not match. People no message can
reach (no email, no phone the workspace can text) are left awaiting invitation and counted as
``needs_code``: the job's page and ``admin.access_codes.issue_for_job`` make their access codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from admit.adapters.delivery.render import Rendered, render
from admit.adapters.spreadsheets import Table, read_table
from admit.admin import jobs, tenancy
from admit.admin.invitations import open_invitation
from admit.domain.branding import email_brand
from admit.domain.errors import DomainError, NotFound, ValidationFailed
from admit.domain.identifiers import normalise_email
from admit.domain.invitations import lifetime, personal_message
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.records import Job, Member, Workspace
from admit.domain.roles import Permission, Role, ensure_can_grant
from admit.shared.access import workspace_for
from admit.shared.context import Actor, ActorKind, Context
from admit.shared.messages import channels_for, needs_access_code

CHUNK = 500
SAMPLE_LINK = "/i/adm_inv_preview"
NEEDS_CODE = "no email and no phone to send to: needs an access code"


def invite_all(ctx: Context, actor: Actor, workspace_id: str, *, message: str | None = None) -> jobs.JobView:
    """Queue invitations for every member awaiting invitation, and turn on the workspace's
    automatic invitations for members that integrations add from now on (the Workplace article:
    "Invite All" ticks "Automatically invite people as soon as they're added")."""
    message = personal_message(message)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, role = workspace_for(uow, actor, workspace_id, Permission.INVITE)
        if not workspace.auto_invite:
            tenancy.apply_changes(uow, actor, workspace, {"auto_invite": True}, now, by="invite_all")
        waiting = uow.members.count(workspace.organization_id, workspace.id).get(MemberStatus.PROVISIONED, 0)
        job = jobs.create(
            uow, actor, role, workspace, "invite_all", options={"message": message}, total=waiting, now=now
        )
        uow.commit()
    return jobs.view(job)


def invite_listed(
    ctx: Context, actor: Actor, workspace_id: str, data: bytes, filename: str, *, message: str | None = None
) -> jobs.JobView:
    """Queue invitations for the members a file names by ``Email`` or ``External ID``."""
    message = personal_message(message)
    return jobs.queue_file(
        ctx,
        actor,
        workspace_id,
        Permission.INVITE,
        "invite_listed",
        data,
        filename,
        lambda table: {"message": message, "key": key_column(table)},
    )


def key_column(table: Table) -> str:
    """The column that names the people to invite: Email, else External ID."""
    for name in ("email", "external_id"):
        if name in table.columns:
            return name
    raise ValidationFailed(
        'the file needs a column "Email" or "External ID" naming the people to invite',
        field="file",
        code="no_key_column",
    )


@jobs.handler("invite_all")
def run_invite_all(ctx: Context, job: Job, progress: jobs.Progress) -> None:
    actor, role = jobs.actor_of(job)
    while True:
        with jobs.chunk(ctx, job, progress) as uow:
            workspace = _workspace(uow, job)
            batch = uow.members.awaiting_invitation(workspace.organization_id, workspace.id, progress.cursor, CHUNK)
            for member in batch:
                _invite(ctx, uow, actor, role, workspace, member, job.options.get("message"), progress, None)
            progress.position += len(batch)
            progress.cursor = batch[-1].id if batch else progress.cursor
        if len(batch) < CHUNK:
            return


@dataclass(frozen=True)
class ListedRow:
    """What one row of a list of people to invite comes to."""

    row: int  # the row number a spreadsheet shows
    value: str  # what the row names the person by
    outcome: str  # "invite", "unmatched", "duplicate" or "skipped"
    reason: str | None = None
    member: Member | None = None


@dataclass(frozen=True)
class ListMatch:
    """A list read against the directory before anything is sent (the review shows it)."""

    column: str  # the column's label in the file
    rows: list[ListedRow]

    @property
    def to_invite(self) -> int:
        return sum(1 for row in self.rows if row.outcome == "invite")


def match_listed(ctx: Context, actor: Actor, workspace_id: str, data: bytes, filename: str) -> ListMatch:
    """Who a list names and what would happen to each row, without inviting anyone: the same
    matching the job does when the list is sent."""
    table = read_table(data, filename)
    key = key_column(table)
    rows: list[ListedRow] = []
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.INVITE)
        seen: set[str] = set()
        for start in range(0, len(table.rows), CHUNK):
            rows += _match(uow, workspace, key, table.label(key), table.rows[start : start + CHUNK], seen)
    return ListMatch(table.label(key), rows)


def _match(
    uow: UnitOfWork, workspace: Workspace, key: str, label: str, part: list[Any], seen: set[str]
) -> list[ListedRow]:
    """Each row of ``part`` matched to a member of the workspace (``seen``: members matched above)."""
    wanted = {row.number: _value(key, row.values.get(key, "")) for row in part}
    values = [v for v in wanted.values() if v]
    found = {getattr(m, key): m for m in uow.members.by_keys(workspace.organization_id, workspace.id, key, values)}
    matched = []
    for row in part:
        value = wanted[row.number]
        member = found.get(value) if value else None
        if member is None:
            reason = f"no member with this {label}" if value else f"no {label} in this row"
            matched.append(ListedRow(row.number, value, "unmatched", reason))
        elif member.id in seen:
            matched.append(ListedRow(row.number, value, "duplicate", "this person is already listed above", member))
        elif member.status != MemberStatus.PROVISIONED:
            reason = "already invited" if member.status == MemberStatus.INVITED else f"already {member.status}"
            matched.append(ListedRow(row.number, value, "skipped", reason, member))
        else:
            seen.add(member.id)
            matched.append(ListedRow(row.number, value, "invite", None, member))
    return matched


@jobs.handler("invite_listed")
def run_invite_listed(ctx: Context, job: Job, progress: jobs.Progress) -> None:
    actor, role = jobs.actor_of(job)
    table = read_table(jobs.upload_of(job), job.filename or "")
    key = job.options["key"]
    label = table.label(key)
    seen: set[str] = set()  # members matched by earlier rows (a resumed job finds them invited)
    while progress.position < len(table.rows):
        part = table.rows[progress.position : progress.position + CHUNK]
        with jobs.chunk(ctx, job, progress) as uow:
            workspace = _workspace(uow, job)
            for listed in _match(uow, workspace, key, label, part, seen):
                if listed.outcome == "invite" and listed.member is not None:
                    message = job.options.get("message")
                    _invite(ctx, uow, actor, role, workspace, listed.member, message, progress, listed.row)
                elif listed.outcome == "skipped":
                    progress.note(listed.row, listed.reason or "", kind="skipped")
                else:
                    progress.note(listed.row, listed.reason or "", kind=listed.outcome, column=label)
            progress.position += len(part)


def _value(key: str, raw: str) -> str:
    if key == "email" and raw:
        try:
            return normalise_email(raw)
        except ValidationFailed:
            return raw.strip().lower()
    return raw.strip()


def _workspace(uow: UnitOfWork, job: Job) -> Workspace:
    workspace = uow.workspaces.get(job.organization_id, job.workspace_id)
    assert workspace is not None
    return workspace


def _invite(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    role: Role,
    workspace: Workspace,
    member: Member,
    message: str | None,
    progress: jobs.Progress,
    row: int | None,
) -> None:
    """Invite one member awaiting invitation, or note why not (the person's address in the
    report when there is no row number to point at)."""
    who = None if row is not None else (member.email or member.username or member.external_id)
    if member.status != MemberStatus.PROVISIONED:
        reason = "already invited" if member.status == MemberStatus.INVITED else f"already {member.status}"
        progress.note(row, reason if who is None else f"{who}: {reason}", kind="skipped")
        return
    if needs_access_code(workspace, member):  # nothing to send: an administrator hands over a code
        reason = NEEDS_CODE
        progress.note(row, reason if who is None else f"{who}: {reason}", kind="needs_code")
        return
    try:
        ensure_can_grant(role, Role(member.role))
        channels_for(workspace, member.email, member.phone)  # before open_invitation writes anything
        open_invitation(ctx, uow, actor, workspace, member, message=message, now=ctx.clock.now(), counted=False)
    except DomainError as exc:
        progress.note(row, exc.message if who is None else f"{who}: {exc.message}")
        return
    progress.count("invited")


def preview(
    ctx: Context, actor: Actor, workspace_id: str, *, message: str | None = None, member_id: str | None = None
) -> Rendered:
    """The invitation email exactly as ``member_id`` will get it (their name, their language); without
    one, as the first member awaiting invitation will (the preview of Invite All)."""
    message = personal_message(message)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.INVITE)
        recipient = _recipient(uow, workspace, member_id)
        brand = email_brand(uow, workspace, ctx.base_url)
    return render(
        "invitation",
        (recipient.language if recipient else None) or workspace.default_language,
        {
            "link": ctx.link(SAMPLE_LINK),
            "workspace_name": workspace.name,
            "inviter_name": actor.name if actor.kind is ActorKind.ACCOUNT and actor.name else None,
            "message": message,
            "first_name": recipient.first_name if recipient else None,
            "expires_at": (now + lifetime(workspace.invitation_lifetime_days)).isoformat(),
            **brand,
        },
    )


def _recipient(uow: UnitOfWork, workspace: Workspace, member_id: str | None) -> Member | None:
    if member_id is None:
        sample = uow.members.awaiting_invitation(workspace.organization_id, workspace.id, None, 1)
        return sample[0] if sample else None
    member = uow.members.get(workspace.organization_id, member_id)
    if member is None or member.workspace_id != workspace.id:
        raise NotFound("member not found", field="member_id")
    return member
