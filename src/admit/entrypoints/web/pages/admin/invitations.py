"""Unsent invitations (the Workplace article): "Invite All" and the "Invite"/"Resend" of one person,
and the review that every way of inviting goes through ("Choose people to invite" is in
:mod:`admin_choose`).

Each goes the article's way: review the default invitation, optionally write a personal message
and preview again, "Send", then confirm ("Invite 37 people?"). Bulk invitations then run as a
job (its page shows the progress). The steps are plain form posts: ``step=preview`` shows the
review again, ``step=send`` asks for confirmation, ``step=confirm`` acts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from admit.admin import bulk_invites, invitations
from admit.admin.member_view import MemberView
from admit.domain.errors import DomainError, ValidationFailed
from admit.domain.invitations import MESSAGE_LIMIT, personal_message
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.pages.admin.people import member_of, people_page, safe_back, with_notice
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)
MESSAGE_MAX = MESSAGE_LIMIT
FORM_MAX_PART = 8 * 1024 * 1024  # a carried list (admin_choose) is one form field


@dataclass
class Target:
    """Who a review is about and what confirming does."""

    kind: str  # "all", "listed", "invite" or "resend"
    action: str  # where the review's form posts
    act: Callable[[str | None], str]  # sends (with the message); returns where to go next
    hidden: dict[str, str] = field(default_factory=dict)  # carried from step to step
    facts: dict[str, Any] = field(default_factory=dict)  # what the pages say (counts, names)
    recipient: str | None = None  # the one member the preview is for (else: the first awaiting one)


def base(admin: Admin) -> str:
    return f"/admin/{quote(admin.workspace_id)}"


@router.get("/admin/{workspace_id}/invitations", response_class=HTMLResponse)
async def unsent(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    return admin.page(request, "admin_invitations.html", section="invitations")


async def flow(request: Request, ctx: Context, admin: Admin, target: Target, form: FormData) -> Response:
    """One step of a review: preview (again), ask to confirm, or act."""
    step = str(form.get("step") or "preview")
    message = str(form.get("message") or "").strip()
    try:
        personal_message(message)
    except ValidationFailed:
        return await review(request, ctx, admin, target, message, 422, error="message_too_long")
    if step == "confirm":
        try:
            return RedirectResponse(await blocking(lambda: target.act(message or None)), status_code=303)
        except DomainError as exc:
            refused = admin.refusal(request, exc)
            if refused is not None:
                return refused
            return await review(request, ctx, admin, target, message, status_of(exc), error=exc.message)
    if step == "send":
        return admin.page(request, "admin_confirm.html", section="invitations", target=target, message=message)
    return await review(request, ctx, admin, target, message)


async def review(
    request: Request, ctx: Context, admin: Admin, target: Target, message: str, status: int = 200, **extra: Any
) -> Response:

    def render(text: str | None) -> Any:
        return bulk_invites.preview(ctx, admin.actor, admin.workspace_id, message=text, member_id=target.recipient)

    try:
        try:
            preview = await blocking(lambda: render(message or None))
        except ValidationFailed as refused:  # the message itself: shown without it, and said why
            if refused.field != "message":
                raise
            preview = await blocking(lambda: render(None))
            status, extra = status_of(refused), {**extra, "error": "message_too_long"}
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return admin.page(
        request,
        "admin_review.html",
        status,
        section="invitations",
        target=target,
        message=message,
        preview=preview,
        message_max=MESSAGE_MAX,
        **extra,
    )


# Invite All ------------------------------------------------------------------------------------
def _all(ctx: Context, admin: Admin) -> Target:
    def act(message: str | None) -> str:
        job = bulk_invites.invite_all(ctx, admin.actor, admin.workspace_id, message=message)
        return f"{base(admin)}/jobs/{quote(job.id)}"

    waiting = admin.counts.get("provisioned", 0)
    facts = {"count": waiting, "turns_on_auto_invite": not admin.workspace.get("auto_invite")}
    return Target("all", f"{base(admin)}/invitations/all", act, facts=facts)


@router.get("/admin/{workspace_id}/invitations/all", response_class=HTMLResponse)
async def review_all(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    return await review(request, ctx, admin, _all(ctx, admin), "")


@router.post("/admin/{workspace_id}/invitations/all", response_class=HTMLResponse)
async def invite_all(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form(max_part_size=FORM_MAX_PART) as form:
        return await flow(request, ctx, admin, _all(ctx, admin), form)


# One person: Invite or Resend ----------------------------------------------------------------------
def _person(ctx: Context, admin: Admin, person: MemberView, back: str) -> Target:
    member_id = person.id
    resend = person.status == "invited"

    def act(message: str | None) -> str:
        if resend:
            invitation_id = invitations.pending_for_member(ctx, admin.actor, member_id).id
            invitations.resend(ctx, admin.actor, invitation_id, message=message)
        else:
            invitations.invite_member(ctx, admin.actor, member_id, message=message)
        return with_notice(back, "resent" if resend else "invited", member_id)

    return Target(
        "resend" if resend else "invite",
        f"{base(admin)}/people/{quote(member_id)}/invite",
        act,
        hidden={"back": back},
        facts={"person": person},
        recipient=member_id,
    )


async def _one(request: Request, ctx: Context, admin: Admin, member_id: str, back: str) -> Target | Response:
    back = safe_back(admin.workspace_id, back)
    try:
        person = await member_of(ctx, admin, member_id)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    if person.status not in ("provisioned", "invited"):
        message = "this person is already a member of the workspace; there is nothing to invite them to"
        params = dict(parse_qsl(urlsplit(back).query))
        return await people_page(request, ctx, admin, params, status=409, error=message)
    return _person(ctx, admin, person, back)


@router.get("/admin/{workspace_id}/people/{member_id}/invite", response_class=HTMLResponse)
async def review_one(workspace_id: str, member_id: str, request: Request, ctx: Ctx, back: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    target = await _one(request, ctx, admin, member_id, back)
    if isinstance(target, Response):
        return target
    return await review(request, ctx, admin, target, "")


@router.post("/admin/{workspace_id}/people/{member_id}/invite", response_class=HTMLResponse)
async def invite_one(workspace_id: str, member_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form(max_part_size=FORM_MAX_PART) as form:
        target = await _one(request, ctx, admin, member_id, str(form.get("back") or ""))
        if isinstance(target, Response):
            return target
        return await flow(request, ctx, admin, target, form)
