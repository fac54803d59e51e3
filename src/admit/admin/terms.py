"""Publishing terms of service (the AppXite article): an administrator uploads a new version;
every active member is told and must accept it before entering the workspace again."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from admit.domain.errors import AlreadyExists, Conflict, NotFound, ValidationFailed
from admit.domain.events import EventType
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.records import Workspace
from admit.domain.roles import Permission
from admit.shared.access import workspace_for
from admit.shared.context import Actor, Context, record
from admit.shared.messages import enqueue

MAX_BYTES = 5 * 1024 * 1024


_UNSAFE = re.compile(r"[^\w.\- ]+")


NOTIFY_BATCH = 1000


@dataclass(frozen=True, slots=True)
class TermsView:
    """A version of the terms as the administrator sees it (the API's ``TermsOut``), without its
    document: with how many accounts accepted it (a listing) or how many members were told of it
    (just published)."""

    workspace_id: str
    version: int
    filename: str
    content_type: str
    sha256: str
    published_by: str
    published_at: datetime
    acceptances: int | None = None
    members_notified: int | None = None


def _view(
    terms: Mapping[str, Any], *, acceptances: int | None = None, members_notified: int | None = None
) -> TermsView:
    return TermsView(
        workspace_id=terms["workspace_id"],
        version=terms["version"],
        filename=terms["filename"],
        content_type=terms["content_type"],
        sha256=terms["sha256"],
        published_by=terms["published_by"],
        published_at=terms["published_at"],
        acceptances=acceptances,
        members_notified=members_notified,
    )


def publish(
    ctx: Context,
    actor: Actor,
    workspace_id: str,
    *,
    filename: str | None,
    document: bytes,
    notify: bool = False,
) -> TermsView:
    """Publish a new version (PDF or plain text); with ``notify``, every active member with an
    email address is told that the terms changed."""
    now = ctx.clock.now()
    try:
        with ctx.uow(write=True) as uow:
            workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
            current = uow.terms.current(workspace.organization_id, workspace.id)
            version = 1 if current is None else current.version + 1
            values = _version(actor, workspace, version, filename, document, now)
            values["id"] = uow.terms.add(**values)
            scope = {"organization_id": workspace.organization_id, "workspace_id": workspace.id}
            sha256 = values["sha256"]
            record(
                uow,
                actor,
                EventType.TERMS_PUBLISHED,
                "workspace",
                workspace.id,
                now,
                **scope,
                version=version,
                sha256=sha256,
            )
            told = _notify_members(ctx, uow, workspace, version, now) if notify and version > 1 else 0
            uow.commit()
    except AlreadyExists:
        raise Conflict("another version was published at the same time; try again", code="terms_changed") from None
    return _view(values, members_notified=told)


def _version(
    actor: Actor, workspace: Workspace, version: int, filename: str | None, document: bytes, now: datetime
) -> dict[str, Any]:
    content_type = _content_type(filename, document)
    return {
        "organization_id": workspace.organization_id,
        "workspace_id": workspace.id,
        "version": version,
        "filename": _file_name(filename, content_type),
        "content_type": content_type,
        "document": document,
        "sha256": hashlib.sha256(document).hexdigest(),
        "published_by": actor.name or actor.kind.value,
        "published_at": now,
    }


def _file_name(filename: str | None, content_type: str) -> str:
    """The uploaded file's own name, without its path and characters unsafe in a download's name."""
    default = "terms.pdf" if content_type == "application/pdf" else "terms.txt"
    return _UNSAFE.sub("_", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()[:100] or default


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


def versions(ctx: Context, actor: Actor, workspace_id: str) -> list[TermsView]:
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.VIEW_DIRECTORY)
        rows = uow.terms.versions(workspace.organization_id, workspace.id)
    return [_view(row._mapping, acceptances=row.acceptances) for row in rows]


@dataclass(frozen=True, slots=True)
class TermsDocument:
    """A version's document, as its publisher uploaded it."""

    version: int
    filename: str
    content_type: str
    document: bytes


def document(ctx: Context, actor: Actor, workspace_id: str, version: int) -> TermsDocument:
    """A version's document for the administrator (reading it records nothing); ``NotFound`` for a
    version that was never published."""
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.VIEW_DIRECTORY)
        row = uow.terms.document(workspace.organization_id, workspace.id, version)
    if row is None:
        raise NotFound("these terms do not exist")
    return TermsDocument(row.version, row.filename, row.content_type, bytes(row.document))


@dataclass(frozen=True, slots=True)
class Acceptance:
    """Who accepted which version when (the person's name and email as the workspace knows them)."""

    version: int
    name: str
    email: str
    accepted_at: datetime


def acceptances(ctx: Context, actor: Actor, workspace_id: str) -> list[Acceptance]:
    """Every acceptance of the workspace's terms, newest version first, then in the order they came;
    names and addresses are directory data, so viewing the directory is what it takes."""
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.VIEW_DIRECTORY)
        rows = uow.terms.acceptances(workspace.organization_id, workspace.id)
    return [
        Acceptance(
            version=row.version,
            name=" ".join(part for part in (row.first_name, row.last_name) if part),
            email=row.email or "",
            accepted_at=row.accepted_at,
        )
        for row in rows
    ]
