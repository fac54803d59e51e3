"""Terms of service per workspace, versioned (the AppXite article): an administrator publishes a
document; every member must accept its newest version before entering the workspace, and each
acceptance is kept with its version and time. A member accepts only a version they downloaded:
each download (a POST: reading changes nothing) is recorded in a terms flow on the server, bound
to the account and to the browser or API client holding the flow's handle."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from admit.domain.errors import AlreadyExists, Conflict, NotFound, ValidationFailed
from admit.domain.events import EventType
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.roles import Permission
from admit.domain.secrets import FlowKind
from admit.services import flows
from admit.services.access import workspace_for
from admit.services.context import Actor, ActorKind, Context, record
from admit.services.messages import enqueue

MAX_BYTES = 5 * 1024 * 1024
_UNSAFE = re.compile(r"[^\w.\- ]+")
NOTIFY_BATCH = 1000
REMEMBERED_DOWNLOADS = 5  # downloads a terms flow remembers (a browser may visit a few workspaces)


def publish(
    ctx: Context,
    actor: Actor,
    workspace_id: str,
    *,
    filename: str | None,
    document: bytes,
    notify: bool = False,
) -> dict[str, Any]:
    """Publish a new version (PDF or plain text); with ``notify``, every active member with an
    email address is told that the terms changed."""
    now = ctx.clock.now()
    try:
        with ctx.uow(write=True) as uow:
            workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
            content_type = _content_type(filename, document)
            default = "terms.pdf" if content_type == "application/pdf" else "terms.txt"
            name = _UNSAFE.sub("_", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()[:100] or default
            current = uow.terms.current(workspace.organization_id, workspace.id)
            version = 1 if current is None else current.version + 1
            values = {
                "organization_id": workspace.organization_id,
                "workspace_id": workspace.id,
                "version": version,
                "filename": name,
                "content_type": content_type,
                "document": document,
                "sha256": hashlib.sha256(document).hexdigest(),
                "published_by": actor.name or actor.kind.value,
                "published_at": now,
            }
            values["id"] = uow.terms.add(**values)
            record(
                uow,
                actor,
                EventType.TERMS_PUBLISHED,
                "workspace",
                workspace.id,
                now,
                organization_id=workspace.organization_id,
                workspace_id=workspace.id,
                version=version,
                sha256=values["sha256"],
            )
            told = _notify_members(ctx, uow, workspace, version, now) if notify and version > 1 else 0
            uow.commit()
    except AlreadyExists:
        raise Conflict("another version was published at the same time; try again", code="terms_changed") from None
    return {**_view(values), "members_notified": told}


def _content_type(filename: str | None, document: bytes) -> str:
    """PDF by its magic bytes, or UTF-8 text; anything else is refused."""
    if not document:
        raise ValidationFailed("the terms document is empty", field="document", code="empty_document")
    if len(document) > MAX_BYTES:
        raise ValidationFailed(
            f"the terms document is larger than {MAX_BYTES // (1024 * 1024)} MB", field="document", code="too_large"
        )
    if document.startswith(b"%PDF-"):
        return "application/pdf"
    filename = (filename or "").lower()
    if filename.endswith(".pdf"):
        raise ValidationFailed("this file is named .pdf but is not a PDF", field="document", code="not_a_pdf")
    try:
        text = document.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "the terms must be a PDF or a UTF-8 text file", field="document", code="unsupported_document"
        ) from None
    if "\x00" in text:
        raise ValidationFailed(
            "the terms must be a PDF or a UTF-8 text file", field="document", code="unsupported_document"
        )
    return "text/markdown" if filename.endswith(".md") else "text/plain"


def _notify_members(ctx: Context, uow: UnitOfWork, workspace: Any, version: int, now: Any) -> int:
    told, after = 0, None
    while True:
        batch = uow.members.list(
            workspace.organization_id, workspace.id, status=MemberStatus.ACTIVE.value, after=after, limit=NOTIFY_BATCH
        )
        for member in batch:
            if member.email and workspace.email_enabled:
                enqueue(
                    uow,
                    kind="terms_updated",
                    channel="email",
                    recipient=member.email,
                    language=member.language or workspace.default_language,
                    subject_id=member.id,
                    organization_id=workspace.organization_id,
                    workspace_id=workspace.id,
                    now=now,
                    payload={
                        "first_name": member.first_name,
                        "workspace_name": workspace.name,
                        "version": version,
                        "link": ctx.link(f"/terms/{workspace.id}"),
                    },
                )
                told += 1
        if len(batch) < NOTIFY_BATCH:
            return told
        after = (batch[-1].created_at, batch[-1].id)


def versions(ctx: Context, actor: Actor, workspace_id: str) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.VIEW_DIRECTORY)
        rows = uow.terms.versions(workspace.organization_id, workspace.id)
    return [{**_view(row._mapping), "acceptances": row.acceptances} for row in rows]


def _view(row: Any) -> dict[str, Any]:
    return {
        key: row[key]
        for key in ("workspace_id", "version", "filename", "content_type", "sha256", "published_by", "published_at")
    }


def to_accept(ctx: Context, account_id: str, workspace_id: str) -> dict[str, Any] | None:
    """The newest terms of a workspace the account is active in and has not accepted yet (None:
    nothing to accept). ``NotFound`` when the account is not an active member."""
    with ctx.uow() as uow:
        workspace, _ = _membership(uow, account_id, workspace_id)
        current = uow.terms.current(workspace.organization_id, workspace.id)
        if current is None or uow.terms.accepted(workspace.organization_id, workspace.id, account_id, current.version):
            return None
    return {**_view(current._mapping), "workspace_name": workspace.name}


def record_download(ctx: Context, account_id: str, workspace_id: str, version: int, flow: str | None) -> dict[str, Any]:
    """Hand a version of the terms to a member of the workspace and record the download in the
    caller's terms flow (``flow``, if it is a live one of this account; else a new one). Returns
    the document and ``flow``, the handle the caller keeps for ``accept``. Only for a request
    that may change state (a POST), never for a GET."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, _ = _membership(uow, account_id, workspace_id)
        row = uow.terms.document(workspace.organization_id, workspace.id, version)
        if row is None:
            raise NotFound("these terms do not exist")
        entry = [workspace.id, version]
        found = flows.find(uow, flow, FlowKind.TERMS, now, lock=True)
        if found is not None and found.account_id == account_id:
            seen = [d for d in found.data.get("downloads", []) if d != entry]
            flows.update(uow, found, {"downloads": [*seen[-(REMEMBERED_DOWNLOADS - 1) :], entry]})
            handle = str(flow)
        else:
            handle, _ = flows.start(uow, ctx.random, now, FlowKind.TERMS, {"downloads": [entry]}, account_id=account_id)
        uow.commit()
    return {"filename": row.filename, "content_type": row.content_type, "document": bytes(row.document), "flow": handle}


def downloaded(ctx: Context, account_id: str, workspace_id: str, version: int, flow: str | None) -> bool:
    """Whether this version was downloaded with the terms flow ``flow`` by this account."""
    with ctx.uow() as uow:
        return _download_in(uow, flow, account_id, workspace_id, version, ctx.clock.now()) is not None


def _download_in(
    uow: UnitOfWork, flow: str | None, account_id: str, workspace_id: str, version: int, now: Any, *, lock: bool = False
) -> flows.Flow | None:
    found = flows.find(uow, flow, FlowKind.TERMS, now, lock=lock)
    if found is None or found.account_id != account_id:
        return None
    return found if [workspace_id, version] in found.data.get("downloads", []) else None


def accept(ctx: Context, account_id: str, workspace_id: str, version: int, flow: str | None) -> dict[str, Any]:
    """Record that the account accepted ``version``, which must still be the newest and must have
    been downloaded with the terms flow ``flow`` (``Conflict``: ``terms_changed``,
    ``terms_not_downloaded``). The download is then forgotten; the flow ends with its last one."""
    now = ctx.clock.now()
    try:
        with ctx.uow(write=True) as uow:
            workspace, member = _membership(uow, account_id, workspace_id)
            current = uow.terms.current(workspace.organization_id, workspace.id)
            if current is None or current.version != version:
                raise Conflict("a newer version of the terms was published; please read it", code="terms_changed")
            if uow.terms.accepted(workspace.organization_id, workspace.id, account_id, version) is None:
                found = _download_in(uow, flow, account_id, workspace.id, version, now, lock=True)
                if found is None:
                    raise Conflict("download the terms before you accept them", code="terms_not_downloaded")
                left = [d for d in found.data["downloads"] if d != [workspace.id, version]]
                if left:
                    flows.update(uow, found, {"downloads": left})
                else:
                    flows.end(uow, found, now)
                uow.terms.accept(
                    organization_id=workspace.organization_id,
                    workspace_id=workspace.id,
                    account_id=account_id,
                    version=version,
                    accepted_at=now,
                )
                record(
                    uow,
                    Actor(ActorKind.ACCOUNT, id=account_id),
                    EventType.TERMS_ACCEPTED,
                    "member",
                    member.id,
                    now,
                    organization_id=workspace.organization_id,
                    workspace_id=workspace.id,
                    version=version,
                    sha256=current.sha256,
                )
            uow.commit()
    except AlreadyExists:
        pass  # accepted at the same moment in another tab: recorded once
    return {"workspace_id": workspace_id, "version": version, "accepted_at": now}


def _membership(uow: UnitOfWork, account_id: str, workspace_id: str) -> tuple[Any, Any]:
    workspace = uow.workspaces.get(None, workspace_id)
    member = uow.members.for_account(workspace.organization_id, workspace.id, account_id) if workspace else None
    if workspace is None or member is None or member.status != MemberStatus.ACTIVE:
        raise NotFound("workspace not found")
    return workspace, member
