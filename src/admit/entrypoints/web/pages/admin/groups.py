"""Groups in the workspace admin console (linked from the People page): the organization's groups
with their member counts, creating one, a group's page with its members (renaming, adding people
picked from this workspace's directory, removing), and deleting one after a confirmation page.
Who may do what is decided by :mod:`admit.admin.groups`, acting from this workspace."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admit.admin import groups, members
from admit.domain.errors import DomainError
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)
NOTICES = ("created", "deleted", "renamed", "added", "removed", "role_set", "role_cleared")
ROLES = ("guest", "member", "admin")  # offered; who may grant which is the service's rule
PICKER = 50
PICK = "pick_"


def groups_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id, safe='')}/groups"


def group_path(workspace_id: str, group_id: str) -> str:
    return f"{groups_path(workspace_id)}/{quote(group_id, safe='')}"


def _org(admin: Admin) -> str:
    return str(admin.workspace["organization_id"])


async def _list_page(
    request: Request, ctx: Context, admin: Admin, *, status: int = 200, q: str = "", cursor: str = "", **context: Any
) -> Response:
    try:
        found = await blocking(
            lambda: groups.list_groups(
                ctx, admin.actor, _org(admin), prefix=q or None, cursor=cursor or None, acting_from=admin.workspace_id
            )
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return admin.page(
        request, "admin_groups.html", status, section="people", groups=found.items, next_cursor=found.next_cursor, q=q,
        **context,
    )  # fmt: skip


@router.get("/admin/{workspace_id}/groups", response_class=HTMLResponse)
async def list_groups(
    workspace_id: str, request: Request, ctx: Ctx, q: str = "", cursor: str = "", done: str = ""
) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    notice = done if done in NOTICES else None
    return await _list_page(request, ctx, admin, q=q[:256], cursor=cursor[:256], notice=notice)


@router.post("/admin/{workspace_id}/groups", response_class=HTMLResponse)
async def create_group(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        name = str(form.get("name") or "")[:1000]
    try:
        made = await blocking(
            lambda: groups.create(ctx, admin.actor, _org(admin), name, acting_from=admin.workspace_id)
        )
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        return await _list_page(
            request, ctx, admin, status=status_of(exc), values={"name": name}, errors={"name": exc.message}
        )
    return RedirectResponse(f"{group_path(admin.workspace_id, made.id)}?done=created", status_code=303)


async def _group_page(
    request: Request,
    ctx: Context,
    admin: Admin,
    group_id: str,
    *,
    status: int = 200,
    cursor: str = "",
    q: str = "",
    **context: Any,
) -> Response:
    def read() -> tuple[groups.GroupWithMembers, list[Any]]:
        found = groups.get(
            ctx, admin.actor, _org(admin), group_id, cursor=cursor or None, acting_from=admin.workspace_id
        )
        people = members.list_members(ctx, admin.actor, admin.workspace_id, search=q or None, limit=PICKER)
        return found, people

    try:
        found, people = await blocking(read)
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    inside = {person.id for person in found.members}
    context.setdefault("errors", {})
    context.setdefault("values", {"name": found.group.display_name})
    here = found.group.workspace_id == admin.workspace_id
    context.setdefault("role_value", found.group.role if here else "")
    return admin.page(
        request,
        "admin_group.html",
        status,
        section="people",
        group=found.group,
        members=found.members,
        next_cursor=found.next_cursor,
        candidates=[person for person in people if person.id not in inside and person.status != "removed"],
        q=q,
        roles=ROLES,
        role_elsewhere=bool(found.group.role) and not here,
        **context,
    )


@router.get("/admin/{workspace_id}/groups/{group_id}", response_class=HTMLResponse)
async def show_group(
    workspace_id: str, group_id: str, request: Request, ctx: Ctx, cursor: str = "", q: str = "", done: str = ""
) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    notice = done if done in NOTICES else None
    return await _group_page(request, ctx, admin, group_id, cursor=cursor[:32], q=q[:100], notice=notice)


@router.post("/admin/{workspace_id}/groups/{group_id}/rename", response_class=HTMLResponse)
async def rename_group(workspace_id: str, group_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        name = str(form.get("name") or "")[:1000]
    try:
        await blocking(
            lambda: groups.rename(ctx, admin.actor, _org(admin), group_id, name, acting_from=admin.workspace_id)
        )
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        return await _group_page(
            request, ctx, admin, group_id, status=status_of(exc), values={"name": name}, errors={"name": exc.message}
        )
    return RedirectResponse(f"{group_path(admin.workspace_id, group_id)}?done=renamed", status_code=303)


@router.post("/admin/{workspace_id}/groups/{group_id}/role", response_class=HTMLResponse)
async def set_role(workspace_id: str, group_id: str, request: Request, ctx: Ctx) -> Response:
    """The role the group's members get in this workspace, or none (``groups.update`` decides who
    may grant which: never above the admin's own role, never owner)."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        role = str(form.get("role") or "")[:20]
    changes = {"workspace_id": admin.workspace_id, "role": role} if role else {"role": None}
    try:
        await blocking(
            lambda: groups.update(ctx, admin.actor, _org(admin), group_id, changes, acting_from=admin.workspace_id)
        )
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        return await _group_page(
            request, ctx, admin, group_id, status=status_of(exc), role_value=role, errors={"role": exc.message}
        )
    done = "role_set" if role else "role_cleared"
    return RedirectResponse(f"{group_path(admin.workspace_id, group_id)}?done={done}", status_code=303)


async def _change_members(request: Request, ctx: Context, workspace_id: str, group_id: str, add: bool) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    async with request.form() as form:
        # each picked person is a field of its own (a form names a field once): pick_<member id>
        picked = [name.removeprefix(PICK)[:64] for name in form if name.startswith(PICK)]
        picked += [str(value)[:64] for value in form.getlist("member_id")]
    change = groups.add_members if add else groups.remove_members
    try:
        await blocking(lambda: change(ctx, admin.actor, _org(admin), group_id, picked, acting_from=admin.workspace_id))
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        return await _group_page(request, ctx, admin, group_id, status=status_of(exc), errors={"members": exc.message})
    done = "added" if add else "removed"
    return RedirectResponse(f"{group_path(admin.workspace_id, group_id)}?done={done}", status_code=303)


@router.post("/admin/{workspace_id}/groups/{group_id}/members", response_class=HTMLResponse)
async def add_members(workspace_id: str, group_id: str, request: Request, ctx: Ctx) -> Response:
    return await _change_members(request, ctx, workspace_id, group_id, add=True)


@router.post("/admin/{workspace_id}/groups/{group_id}/members/remove", response_class=HTMLResponse)
async def remove_members(workspace_id: str, group_id: str, request: Request, ctx: Ctx) -> Response:
    return await _change_members(request, ctx, workspace_id, group_id, add=False)


@router.get("/admin/{workspace_id}/groups/{group_id}/delete", response_class=HTMLResponse)
async def confirm_delete(workspace_id: str, group_id: str, request: Request, ctx: Ctx) -> Response:
    """Deleting a group is final: a page asks first (a GET: nothing changes)."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        found = await blocking(
            lambda: groups.get(ctx, admin.actor, _org(admin), group_id, limit=1, acting_from=admin.workspace_id)
        )
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return admin.page(request, "admin_group_delete.html", section="people", group=found.group)


@router.post("/admin/{workspace_id}/groups/{group_id}/delete", response_class=HTMLResponse)
async def delete_group(workspace_id: str, group_id: str, request: Request, ctx: Ctx) -> Response:
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        await blocking(lambda: groups.delete(ctx, admin.actor, _org(admin), group_id, acting_from=admin.workspace_id))
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    return RedirectResponse(f"{groups_path(admin.workspace_id)}?done=deleted", status_code=303)
