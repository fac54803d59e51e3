"""People: the directory with its filters (account status, department, permission type, a
search), the count of members in each status and keyset paging; Suspend, Reactivate and Remove
(after a confirmation page); and adding one person by hand, who is invited at once. "Invite" and
"Resend" open the invitation review in :mod:`admin_invitations`."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import members, scim_brake
from admit.admin.member_view import MemberView
from admit.admin.profiles import MemberInput
from admit.admin.tenancy import LANGUAGES
from admit.domain.errors import DomainError
from admit.domain.members import MemberStatus
from admit.domain.roles import Role, grantable
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)
PAGE_SIZE = 50
STATUSES = tuple(status.value for status in MemberStatus)
ROLES = tuple(role.value for role in Role)
FILTERS = ("status", "department", "role", "q")
NOTICES = ("created", "invited", "resent", "suspended", "reactivated", "removed")
FIELDS = (
    "email",
    "username",
    "phone",
    "first_name",
    "last_name",
    "external_id",
    "department",
    "job_profile",
    "role",
    "language",
    "licence",
)
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français"}
PERSON_PAGE = re.compile(r"/[A-Za-z0-9_-]{1,64}")


def people_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id)}/people"


def safe_back(workspace_id: str, back: str) -> str:
    """Where to return after an action: the people list (with its filters) or a person's page,
    nowhere else."""
    base = people_path(workspace_id)
    if back == base or back.startswith(base + "?"):
        return back
    rest = back[len(base) :] if back.startswith(base + "/") else ""
    return back if PERSON_PAGE.fullmatch(rest) and rest != "/new" else base


def with_notice(back: str, done: str, member_id: str) -> str:
    """The list to return to, saying what was just done to whom."""
    parts = urlsplit(back)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("done", "who")]
    return f"{parts.path}?{urlencode([*query, ('done', done), ('who', member_id)])}"


def _filters(params: dict[str, str]) -> dict[str, str]:
    chosen = {name: (params.get(name) or "").strip() for name in FILTERS}
    if chosen["status"] not in STATUSES:
        chosen["status"] = ""
    if chosen["role"] not in ROLES:
        chosen["role"] = ""
    chosen["q"] = chosen["q"][:100]
    return {name: value for name, value in chosen.items() if value}


async def people_page(
    request: Request,
    ctx: Context,
    admin: Admin,
    params: dict[str, str],
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    filters = _filters(params)
    cursor = params.get("cursor") or None

    def listing(after: str | None) -> list[MemberView]:
        return members.list_members(
            ctx,
            admin.actor,
            admin.workspace_id,
            status=filters.get("status"),
            department=filters.get("department"),
            role=filters.get("role"),
            search=filters.get("q"),
            cursor=after,
            limit=PAGE_SIZE + 1,
        )

    try:
        rows = await blocking(lambda: listing(cursor))
    except DomainError as exc:
        if exc.field != "cursor":
            raise
        rows, cursor, status, error = await blocking(lambda: listing(None)), None, 400, exc.message
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_url = None
    if more:
        next_url = (
            f"{people_path(admin.workspace_id)}?{urlencode({**filters, 'cursor': members.make_cursor(rows[-1])})}"
        )
    notice = await _notice(ctx, admin, params)
    held = await blocking(lambda: scim_brake.count_holds(ctx, admin.actor, admin.workspace_id))
    here = request.url.path + (f"?{request.url.query}" if request.method == "GET" and request.url.query else "")
    return admin.page(
        request,
        "admin_people.html",
        status,
        section="people",
        people=rows,
        filters=filters,
        next_url=next_url,
        first_url=f"{people_path(admin.workspace_id)}?{urlencode(filters)}" if cursor else None,
        back=safe_back(admin.workspace_id, here),
        notice=notice,
        held=held,
        error=error,
        statuses=STATUSES,
        roles=ROLES,
        me=admin.actor.id,
    )


async def _notice(ctx: Context, admin: Admin, params: dict[str, str]) -> dict[str, Any] | None:
    done, who = params.get("done", ""), params.get("who", "")
    if done not in NOTICES or not who:
        return None
    try:
        person = await blocking(lambda: members.get(ctx, admin.actor, who, workspace_id=admin.workspace_id))
    except DomainError:
        return None
    return {"done": done, "person": person}


@router.get("/admin/{workspace_id}/people", response_class=HTMLResponse)
async def people(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    return await people_page(request, ctx, admin, dict(request.query_params))


async def member_of(ctx: Context, admin: Admin, member_id: str) -> MemberView:
    """A member of this workspace (another workspace's member is not found here)."""
    return await blocking(lambda: members.get(ctx, admin.actor, member_id, workspace_id=admin.workspace_id))


async def _act(request: Request, ctx: Context, workspace_id: str, member_id: str, back: str, action: str) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    back = safe_back(workspace_id, back)
    use_case = {"suspended": members.suspend, "reactivated": members.reactivate, "removed": members.remove}[action]
    try:
        await blocking(lambda: use_case(ctx, admin.actor, member_id, workspace_id=admin.workspace_id))
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        if urlsplit(back).path != people_path(workspace_id):  # the button was on the person's page
            from admit.entrypoints.web.pages.admin.person import person_page  # which imports this module

            person = await member_of(ctx, admin, member_id)
            return await person_page(request, ctx, admin, person, status=status_of(exc), error=exc.message)
        params = dict(parse_qsl(urlsplit(back).query))
        return await people_page(request, ctx, admin, params, status=status_of(exc), error=exc.message)
    return RedirectResponse(with_notice(back, action, member_id), status_code=303)


@router.post("/admin/{workspace_id}/people/{member_id}/suspend", response_class=HTMLResponse)
async def suspend(workspace_id: str, member_id: str, request: Request, ctx: Ctx, back: str = Form("")) -> Response:
    return await _act(request, ctx, workspace_id, member_id, back, "suspended")


@router.post("/admin/{workspace_id}/people/{member_id}/reactivate", response_class=HTMLResponse)
async def reactivate(workspace_id: str, member_id: str, request: Request, ctx: Ctx, back: str = Form("")) -> Response:
    return await _act(request, ctx, workspace_id, member_id, back, "reactivated")


@router.get("/admin/{workspace_id}/people/{member_id}/remove", response_class=HTMLResponse)
async def confirm_remove(workspace_id: str, member_id: str, request: Request, ctx: Ctx, back: str = "") -> Response:
    """Removing is final: a page asks first (no script needed)."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        person = await member_of(ctx, admin, member_id)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=400)
    return admin.page(request, "admin_remove.html", section="people", person=person, back=safe_back(workspace_id, back))


@router.post("/admin/{workspace_id}/people/{member_id}/remove", response_class=HTMLResponse)
async def remove(workspace_id: str, member_id: str, request: Request, ctx: Ctx, back: str = Form("")) -> Response:
    return await _act(request, ctx, workspace_id, member_id, back, "removed")


def _person_form(admin: Admin, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    granter = admin.role
    return admin.page(
        request,
        "admin_person_new.html",
        status,
        section="people",
        grantable=[role.value for role in grantable(granter)],
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        required=set(admin.workspace["required_fields"]),
        **context,
    )


@router.get("/admin/{workspace_id}/people/new", response_class=HTMLResponse)
async def new_person(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    values = {"role": "member", "language": admin.workspace["default_language"]}
    return _person_form(admin, request, values=values, errors={})


@router.post("/admin/{workspace_id}/people/new", response_class=HTMLResponse)
async def add_person(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """Create one member with the workspace's fields; people created by hand are invited at once."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        values = {name: str(form.get(name) or "")[:500] for name in FIELDS}
    profile: dict[str, Any] = {name: value or None for name, value in values.items()}
    person = MemberInput(**{**profile, "role": values["role"] or "member"})
    try:
        created, _ = await blocking(lambda: members.provision(ctx, admin.actor, workspace_id, person, invite=True))
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        field = exc.field if exc.field in FIELDS else None
        return _person_form(
            admin, request, status_of(exc), values=values, errors={field or "form": exc.message}, error=exc.message
        )
    target = with_notice(people_path(workspace_id), "created", created.id)
    if not created.email and not created.phone:  # invited by access code: its page makes the code
        target = f"{people_path(workspace_id)}/{quote(created.id, safe='')}"
    return RedirectResponse(target, status_code=303)
