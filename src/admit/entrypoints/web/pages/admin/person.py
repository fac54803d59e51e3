"""A person's page in the console: their profile and role (edited by whoever may manage people,
read only for others who may see the directory), their invitations with Resend and Revoke (after
a confirmation page), their audit trail, and the Suspend, Reactivate and Remove buttons of the
people list. Each section shows what the use cases let the administrator see; each button posts
to a use case, which decides."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import access_codes, audit, groups, invitations, members
from admit.admin.invitations import InvitationView
from admit.admin.member_view import MemberView
from admit.admin.tenancy import LANGUAGES
from admit.domain.errors import DomainError, PermissionDenied
from admit.domain.roles import Permission, Role, grantable
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.pages.admin.people import LANGUAGE_NAMES, member_of, people_path
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)
FIELDS = ("first_name", "last_name", "email", "username", "phone", "department", "job_profile", "language", "role")
NOTICES = (
    "saved", "resent", "revoked", "suspended", "reactivated", "removed", "code_withdrawn", "code_sent",
    "initial_password",
)  # fmt: skip
TRAIL = 50


def person_path(workspace_id: str, member_id: str) -> str:
    return f"{people_path(workspace_id)}/{quote(member_id, safe='')}"


async def _sections(
    ctx: Context, admin: Admin, member_id: str
) -> tuple[list[InvitationView] | None, list[dict[str, Any]] | None]:
    """The invitations and the audit trail, each None when the use case does not show it to
    this administrator (a member who may see the directory sees neither)."""

    def read() -> tuple[list[InvitationView] | None, list[dict[str, Any]] | None]:
        try:
            sent: list[InvitationView] | None = invitations.for_member(
                ctx, admin.actor, member_id, workspace_id=admin.workspace_id
            )
        except PermissionDenied:
            sent = None
        try:
            trail: list[dict[str, Any]] | None = audit.for_member(
                ctx, admin.actor, admin.workspace_id, member_id, limit=TRAIL
            )
        except PermissionDenied:
            trail = None
        return sent, trail

    return await blocking(read)


def _groups_of(ctx: Context, admin: Admin, member_id: str) -> list[groups.GroupView] | None:
    """The person's groups, or None when the use case does not show them to this administrator."""
    try:
        return groups.groups_of_member(ctx, admin.actor, member_id)
    except PermissionDenied:
        return None


def _values(person: MemberView) -> dict[str, str]:
    return {name: getattr(person, name) or "" for name in FIELDS}


async def person_page(
    request: Request,
    ctx: Context,
    admin: Admin,
    person: MemberView,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    sent, trail = await _sections(ctx, admin, person.id)
    code = await blocking(lambda: access_codes.current(ctx, admin.actor, person.id, workspace_id=admin.workspace_id))
    person_groups = await blocking(lambda: _groups_of(ctx, admin, person.id))
    values = values if values is not None else _values(person)
    roles = [role.value for role in grantable(admin.role)]
    if values.get("role") and values["role"] not in roles:
        roles.append(values["role"])  # the person's own role, or what was typed, is kept
    return admin.page(
        request,
        "admin_person.html",
        status,
        section="people",
        person=person,
        values=values,
        errors=errors or {},
        error=error,
        notice=notice,
        invitations=sent,
        code=code,
        person_groups=person_groups,
        trail=trail,
        trail_full=trail is not None and len(trail) >= TRAIL,
        roles=[role for role in (r.value for r in Role) if role in roles],
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        required=set(admin.workspace["required_fields"]),
        here=person_path(admin.workspace_id, person.id),
        me=admin.actor.id,
    )


async def _person_for(request: Request, ctx: Context, admin: Admin, member_id: str) -> MemberView | Response:
    try:
        return await member_of(ctx, admin, member_id)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))


@router.get("/admin/{workspace_id}/people/{member_id}", response_class=HTMLResponse)
async def person(workspace_id: str, member_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    admin = await admin_for(request, ctx, workspace_id, Permission.VIEW_DIRECTORY)
    if isinstance(admin, Response):
        return admin
    found = await _person_for(request, ctx, admin, member_id)
    if isinstance(found, Response):
        return found
    return await person_page(request, ctx, admin, found, notice=done if done in NOTICES else None)


@router.post("/admin/{workspace_id}/people/{member_id}", response_class=HTMLResponse)
async def save(workspace_id: str, member_id: str, request: Request, ctx: Ctx) -> Response:
    """Change the profile and the role; the use case decides who may, and which role."""
    admin = await admin_for(request, ctx, workspace_id, Permission.VIEW_DIRECTORY)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        values = {name: str(form.get(name) or "")[:500] for name in FIELDS}
    changes: dict[str, Any] = {name: value or None for name, value in values.items() if name != "role"}
    if values["role"]:
        changes["role"] = values["role"]
    try:
        await blocking(lambda: members.update(ctx, admin.actor, member_id, changes, workspace_id=admin.workspace_id))
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        found = await _person_for(request, ctx, admin, member_id)
        if isinstance(found, Response):
            return found
        field = exc.field if exc.field in FIELDS else "form"
        return await person_page(
            request, ctx, admin, found, status=status_of(exc), values=values, errors={field: exc.message}
        )
    return RedirectResponse(f"{person_path(workspace_id, member_id)}?done=saved", status_code=303)


@router.post("/admin/{workspace_id}/people/{member_id}/initial-password", response_class=HTMLResponse)
async def initial_password(workspace_id: str, member_id: str, request: Request, ctx: Ctx) -> Response:
    """Activate the member with a one-time password (the use case decides who may, and whom)."""
    admin = await admin_for(request, ctx, workspace_id, Permission.VIEW_DIRECTORY)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        password = str(form.get("password") or "")[:1024]
    try:
        await blocking(
            lambda: members.set_initial_password(ctx, admin.actor, member_id, password, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        found = await _person_for(request, ctx, admin, member_id)
        if isinstance(found, Response):
            return found
        return await person_page(request, ctx, admin, found, status=status_of(exc), errors={"password": exc.message})
    return RedirectResponse(f"{person_path(workspace_id, member_id)}?done=initial_password", status_code=303)


@router.post("/admin/{workspace_id}/people/{member_id}/invitations/{invitation_id}/resend", response_class=HTMLResponse)
async def resend(workspace_id: str, member_id: str, invitation_id: str, request: Request, ctx: Ctx) -> Response:
    return await _invitation_action(request, ctx, workspace_id, member_id, invitation_id, "resent")


@router.get("/admin/{workspace_id}/people/{member_id}/invitations/{invitation_id}/revoke", response_class=HTMLResponse)
async def confirm_revoke(workspace_id: str, member_id: str, invitation_id: str, request: Request, ctx: Ctx) -> Response:
    """Revoking ends the link the person was sent: a page asks first (no script needed)."""
    admin = await admin_for(request, ctx, workspace_id, Permission.VIEW_DIRECTORY)
    if isinstance(admin, Response):
        return admin
    found = await _person_for(request, ctx, admin, member_id)
    if isinstance(found, Response):
        return found
    try:
        sent = await blocking(
            lambda: invitations.for_member(ctx, admin.actor, member_id, workspace_id=admin.workspace_id)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    invitation = next((i for i in sent if i.id == invitation_id), None)
    if invitation is None:
        return admin.page(request, "admin_error.html", 404, kind="not_found")
    return admin.page(
        request,
        "admin_revoke.html",
        section="people",
        person=found,
        invitation=invitation,
        back=person_path(workspace_id, member_id),
    )


@router.post("/admin/{workspace_id}/people/{member_id}/invitations/{invitation_id}/revoke", response_class=HTMLResponse)
async def revoke(workspace_id: str, member_id: str, invitation_id: str, request: Request, ctx: Ctx) -> Response:
    return await _invitation_action(request, ctx, workspace_id, member_id, invitation_id, "revoked")


async def _invitation_action(
    request: Request, ctx: Context, workspace_id: str, member_id: str, invitation_id: str, action: str
) -> Response:
    admin = await admin_for(request, ctx, workspace_id, Permission.VIEW_DIRECTORY)
    if isinstance(admin, Response):
        return admin
    found = await _person_for(request, ctx, admin, member_id)  # another workspace's member is not found here
    if isinstance(found, Response):
        return found
    use_case = {"resent": invitations.resend, "revoked": invitations.revoke}[action]
    try:
        await blocking(lambda: use_case(ctx, admin.actor, invitation_id, member_id=member_id))
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        return await person_page(request, ctx, admin, found, status=status_of(exc), error=exc.message)
    return RedirectResponse(f"{person_path(workspace_id, member_id)}?done={action}", status_code=303)
