"""Department sign-up links: an administrator (``MANAGE_PEOPLE``) creates a link for one of the
workspace's departments, optionally with a job profile, a permission type no higher than
``member``, an expiry and a maximum number of uses. Its token is a typed secret (purpose
``SIGNUP_LINK``): looked up by digest, and kept sealed with the instance key so the console can
show its URL (and QR code) again. Links can be paused, resumed, rotated (the old URL and QR stop
working) and deleted; each counts the people who signed up through it.

Its QR code (PNG or SVG) and an A4 poster (PDF) are downloads for the same administrators
(``qr_png``, ``qr_svg``, ``poster``). A paused, expired or used-up link may still be downloaded
(to print ahead of a shift; the printed code answers the friendly "paused" page until resumed);
a deleted link is gone (not found). A download holds the link's secret, like its URL in the list;
the doors serve it ``no-store`` and as an attachment."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from admit.adapters.identity.sealing import seal, unseal
from admit.adapters.printing import posters, qr
from admit.admin.signup_settings import ensure_choice, ensure_role
from admit.domain import secrets
from admit.domain.errors import NotFound, ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import plausible_id
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record, Workspace
from admit.domain.roles import Permission, Role
from admit.i18n import LANGUAGES
from admit.shared.access import workspace_for
from admit.shared.context import Actor, Context, record

LINK = secrets.SecretPurpose.SIGNUP_LINK
USES_LIMIT = 1_000_000


@dataclass(frozen=True)
class SignUpLink:
    id: str
    workspace_id: str
    department: str
    job_profile: str | None
    role: str
    expires_at: datetime | None
    max_uses: int | None
    uses: int
    paused: bool
    created_at: datetime
    url: str
    state: str  # active, paused, expired, used_up


def link_state(row: Record, now: datetime) -> str:
    """Whether a link works now: ``active``, or why not (``paused``, ``expired``, ``used_up``)."""
    if row.paused_at is not None:
        return "paused"
    if row.expires_at is not None and now >= row.expires_at:
        return "expired"
    if row.max_uses is not None and row.uses >= row.max_uses:
        return "used_up"
    return "active"


def link_url(ctx: Context, link: Record | SignUpLink) -> str:
    """The link's absolute URL (``/join/<token>``), from the configured base URL. The QR code and
    poster downloads encode exactly this."""
    if isinstance(link, SignUpLink):
        return link.url
    return ctx.link(f"/join/{unseal(ctx.secret_key, link.sealed_token)}")


def view(ctx: Context, row: Record, now: datetime) -> SignUpLink:
    return SignUpLink(
        id=row.id,
        workspace_id=row.workspace_id,
        department=row.department,
        job_profile=row.job_profile,
        role=row.role,
        expires_at=row.expires_at,
        max_uses=row.max_uses,
        uses=row.uses,
        paused=row.paused_at is not None,
        created_at=row.created_at,
        url=link_url(ctx, row),
        state=link_state(row, now),
    )


def end_of_day(text: str | None) -> datetime | None:
    """The expiry a person gives as a day (``YYYY-MM-DD``): the link works until that day ends (UTC)."""
    if text is None or not text.strip():
        return None
    try:
        return datetime.combine(date.fromisoformat(text.strip()[:10]), time(23, 59, 59), tzinfo=UTC)
    except ValueError:
        raise ValidationFailed("give the expiry as a day, YYYY-MM-DD", field="expires_at") from None


def _validated(workspace: Workspace, given: dict[str, Any], now: datetime) -> dict[str, Any]:
    department = ensure_choice(given.get("department"), list(workspace.departments), "department", "departments")
    if department is None:
        raise ValidationFailed("choose the department people join through this link", field="department")
    expires_at = given.get("expires_at")
    if expires_at is not None and (
        not isinstance(expires_at, datetime) or expires_at.tzinfo is None or expires_at <= now
    ):
        raise ValidationFailed("the expiry must be in the future", field="expires_at")
    max_uses = given.get("max_uses")
    if max_uses is not None and (
        isinstance(max_uses, bool) or not isinstance(max_uses, int) or not 1 <= max_uses <= USES_LIMIT
    ):
        raise ValidationFailed(f"the maximum number of uses is a number from 1 to {USES_LIMIT}", field="max_uses")
    return {
        "department": department,
        "job_profile": ensure_choice(
            given.get("job_profile"), list(workspace.job_profiles), "job_profile", "job profiles"
        ),
        "role": ensure_role(given.get("role") or Role.MEMBER.value),
        "expires_at": expires_at,
        "max_uses": max_uses,
    }


def _token(ctx: Context) -> dict[str, str]:
    issued = secrets.issue(LINK, ctx.random)
    return {"digest": issued.digest, "sealed_token": seal(ctx.secret_key, issued.plaintext)}


def create(ctx: Context, actor: Actor, workspace_id: str, given: dict[str, Any]) -> SignUpLink:
    """A new link for one of the workspace's departments (``MANAGE_PEOPLE``), audited."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
        values = _validated(workspace, given, now)
        scope = {"organization_id": workspace.organization_id, "workspace_id": workspace.id}
        link_id = uow.signups.add_link(**scope, **values, **_token(ctx), uses=0, created_at=now, created_by=actor.id)
        record(
            uow,
            actor,
            EventType.SIGNUP_LINK_CREATED,
            "signup_link",
            link_id,
            now,
            **scope,
            department=values["department"],
        )
        row = uow.signups.link(workspace.organization_id, link_id)
        uow.commit()
    assert row is not None
    return view(ctx, row, now)


def list_links(ctx: Context, actor: Actor, workspace_id: str) -> list[SignUpLink]:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
        rows = uow.signups.links(workspace.organization_id, workspace.id)
    return [view(ctx, row, now) for row in rows]


def _own(uow: UnitOfWork, actor: Actor, workspace_id: str, link_id: str) -> tuple[Workspace, Record]:
    workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
    row = uow.signups.link(workspace.organization_id, link_id, lock=True) if plausible_id(link_id) else None
    if row is None or row.workspace_id != workspace.id:
        raise NotFound("sign-up link not found")
    return workspace, row


def get(ctx: Context, actor: Actor, workspace_id: str, link_id: str) -> SignUpLink:
    with ctx.uow() as uow:
        _, row = _own(uow, actor, workspace_id, link_id)
    return view(ctx, row, ctx.clock.now())


def _change(
    ctx: Context, actor: Actor, workspace_id: str, link_id: str, event: EventType, **values: Any
) -> SignUpLink | None:
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, row = _own(uow, actor, workspace_id, link_id)
        org = workspace.organization_id
        if event is EventType.SIGNUP_LINK_DELETED:
            uow.signups.remove_link(org, row.id)
        else:
            uow.signups.update_link(org, row.id, **{k: (now if v is _NOW else v) for k, v in values.items()})
        record(uow, actor, event, "signup_link", row.id, now, organization_id=org, workspace_id=workspace.id)
        changed = uow.signups.link(org, row.id)
        uow.commit()
    return None if changed is None else view(ctx, changed, now)


_NOW = object()


def pause(ctx: Context, actor: Actor, workspace_id: str, link_id: str) -> SignUpLink:
    """Stop the link working until resumed (a friendly page answers it meanwhile)."""
    changed = _change(ctx, actor, workspace_id, link_id, EventType.SIGNUP_LINK_PAUSED, paused_at=_NOW)
    assert changed is not None
    return changed


def resume(ctx: Context, actor: Actor, workspace_id: str, link_id: str) -> SignUpLink:
    changed = _change(ctx, actor, workspace_id, link_id, EventType.SIGNUP_LINK_RESUMED, paused_at=None)
    assert changed is not None
    return changed


def rotate(ctx: Context, actor: Actor, workspace_id: str, link_id: str) -> SignUpLink:
    """A new URL for the link (print its QR code again): the old URL stops working at once."""
    changed = _change(ctx, actor, workspace_id, link_id, EventType.SIGNUP_LINK_ROTATED, **_token(ctx))
    assert changed is not None
    return changed


def delete(ctx: Context, actor: Actor, workspace_id: str, link_id: str) -> None:
    """Remove the link; people who signed up through it stay."""
    _change(ctx, actor, workspace_id, link_id, EventType.SIGNUP_LINK_DELETED)


@dataclass(frozen=True)
class Download:
    """A file for the administrator: its bytes, media type and an ASCII file name naming the
    department (``signup-qr-night-shift.png``)."""

    content: bytes
    media_type: str
    filename: str
    url: str  # what the QR code encodes


def file_stem(department: str) -> str:
    """The department as a file name part: ASCII letters, digits and hyphens (accents dropped),
    at most 40 characters; ``link`` when nothing is left."""
    folded = unicodedata.normalize("NFKD", department).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:40].strip("-")
    return stem or "link"


def _download(
    ctx: Context,
    actor: Actor,
    workspace_id: str,
    link_id: str,
    make: Callable[[Workspace, Record, str], bytes],
    media_type: str,
    name: str,
) -> Download:
    with ctx.uow() as uow:
        workspace, row = _own(uow, actor, workspace_id, link_id)
    url = link_url(ctx, row)
    try:
        content = make(workspace, row, url)
    except qr.TooLong:
        raise ValidationFailed("the link's address is too long for a QR code; shorten the base URL") from None
    return Download(content, media_type, name.format(stem=file_stem(row.department)), url)


def qr_png(ctx: Context, actor: Actor, workspace_id: str, link_id: str) -> Download:
    """The link's QR code as a PNG (10 pixels a module, quiet zone kept), ``MANAGE_PEOPLE``."""
    return _download(
        ctx, actor, workspace_id, link_id, lambda _w, _r, url: qr.png(url), "image/png", "signup-qr-{stem}.png"
    )


def qr_svg(ctx: Context, actor: Actor, workspace_id: str, link_id: str) -> Download:
    """The link's QR code as an SVG (sized in millimetres, for print), ``MANAGE_PEOPLE``."""
    return _download(
        ctx, actor, workspace_id, link_id, lambda _w, _r, url: qr.svg(url), "image/svg+xml", "signup-qr-{stem}.svg"
    )


def poster(ctx: Context, actor: Actor, workspace_id: str, link_id: str, language: str = "en") -> Download:
    """An A4 poster (PDF) in ``language`` (en, de, fr): "Scan to join", the workspace, the
    department, a big QR code of the link and its URL. ``MANAGE_PEOPLE``."""
    if language not in LANGUAGES:
        raise ValidationFailed(f"the poster's language is one of {', '.join(LANGUAGES)}", field="language")

    def make(workspace: Workspace, row: Record, url: str) -> bytes:
        return posters.signup_poster(workspace.name, row.department, url, language=language)

    return _download(ctx, actor, workspace_id, link_id, make, "application/pdf", "signup-poster-{stem}.pdf")
