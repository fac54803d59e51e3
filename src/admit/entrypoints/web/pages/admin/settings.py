"""The workspace's settings in the admin console: one form in sections (general, invitations,
people, communications, sign-in) that saves through the same use case as the REST API's
``PATCH /api/v1/workspaces/{id}`` and ``admit workspace update``
(:func:`admit.admin.tenancy.update_workspace`). Who may change them (manage settings) and what
is valid is decided there; a refusal is shown next to its field with what was typed kept."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from admit.admin import branding, organization_roles, tenancy
from admit.admin.tenancy import LANGUAGES, MEMBER_FIELDS, LoginChoice
from admit.domain.errors import DomainError
from admit.domain.records import Workspace
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.pages.admin.console import Admin, admin_for
from admit.entrypoints.web.pages.admin.people import LANGUAGE_NAMES
from admit.entrypoints.web.routing import Router
from admit.shared.context import Context

router = Router(include_in_schema=False)
TEXT = ("name", "app_url", "default_language", "password_policy", "default_role")
OPTIONAL_TEXT = ("app_url", "default_department", "default_job_profile", "accent_color")  # empty: none
NUMBERS = ("invitation_lifetime_days", "sms_daily_cap", "access_code_lifetime_days")
OPTIONAL_NUMBERS = ("reminder_days",)  # empty: none
LISTS = ("departments", "job_profiles", "jit_domains")  # one per line
FLAGS = ("email_enabled", "sms_enabled", "auto_invite", "sso_required")
CHOICES = ("scim_identifier_changes",)  # radio buttons: a form that leaves one out leaves it unchanged
JUST_IN_TIME = ("jit_enabled", "jit_domains", "default_role", "default_department", "default_job_profile")
JIT_ROLES = ("guest", "member", "admin")
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")
# The form field a use case's complaint belongs next to (the others are named as the form's).
FIELD_OF = {"plan": "login_methods"}
FIELDS = {"name", *tenancy.WorkspaceSettings.__dataclass_fields__}


def settings_path(workspace_id: str) -> str:
    return f"/admin/{quote(workspace_id)}/settings"


def _just_in_time(workspace: Workspace | dict[str, Any], choices: list[LoginChoice]) -> bool:
    """Just-in-time rules are shown where they can apply: the organization has a provider of
    its own, or the workspace already uses them."""
    return any(choice.kind == "sso" for choice in choices) or bool(_get(workspace, "jit_enabled"))


def _get(workspace: Workspace | dict[str, Any], name: str) -> Any:
    return workspace[name] if isinstance(workspace, dict) else getattr(workspace, name)


def _values_of(workspace: Workspace) -> dict[str, Any]:
    """The form's values for what is stored."""
    values: dict[str, Any] = {name: _get(workspace, name) for name in FIELDS}
    for name in LISTS:
        values[name] = "\n".join(values[name] or [])
    for name in (*OPTIONAL_TEXT, *NUMBERS, *OPTIONAL_NUMBERS):
        values[name] = "" if values[name] is None else str(values[name])
    return values


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _number(text: str) -> int | str:
    """A whole number; anything else as typed, for the use case to refuse."""
    text = text.strip()
    return int(text) if WHOLE_NUMBER.fullmatch(text) else text


async def _form_values(request: Request, choices: list[LoginChoice]) -> dict[str, Any]:
    offered = [choice.method for choice in choices]
    async with request.form() as form:
        values: dict[str, Any] = {
            name: str(form.get(name) or "")[:1000] for name in (*TEXT, *OPTIONAL_TEXT, *NUMBERS, *OPTIONAL_NUMBERS)
        }
        values |= {name: str(form.get(name) or "")[:200_000] for name in LISTS}
        values |= {name: form.get(name) == "yes" for name in (*FLAGS, "jit_enabled")}
        values |= {name: str(form.get(name))[:100] for name in CHOICES if form.get(name) is not None}
        # One checkbox each (a form names a field once): "login_<method>", "required_<field>".
        values["login_methods"] = [method for method in offered if form.get(f"login_{method}") == "yes"]
        values["required_fields"] = [name for name in MEMBER_FIELDS if form.get(f"required_{name}") == "yes"]
    return values


def _changes(values: dict[str, Any], just_in_time: bool) -> dict[str, Any]:
    """What the form asks the use case to change."""
    changes: dict[str, Any] = {name: values[name] for name in FIELDS if name in values}
    for name in NUMBERS:
        changes[name] = _number(values[name])
    for name in OPTIONAL_NUMBERS:
        changes[name] = _number(values[name]) if values[name].strip() else None
    for name in LISTS:
        changes[name] = _lines(values[name])
    for name in OPTIONAL_TEXT:
        changes[name] = values[name].strip() or None
    if not just_in_time:
        for name in JUST_IN_TIME:
            changes.pop(name, None)
    return changes


def _form(
    admin: Admin,
    request: Request,
    choices: list[LoginChoice],
    values: dict[str, Any],
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    known = {choice.method for choice in choices}
    # A method the workspace allows that is no longer offered (its provider gone) is still shown.
    stored = [LoginChoice(m, m.partition(":")[0], m) for m in admin.workspace["login_methods"] if m not in known]
    return admin.page(
        request,
        "admin_settings.html",
        status,
        section="settings",
        values=values,
        choices=[*choices, *stored],
        just_in_time=_just_in_time(admin.workspace, choices),
        member_fields=MEMBER_FIELDS,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        jit_roles=JIT_ROLES,
        organization_area=getattr(request.state, "organization_area", None),
        **context,
    )


async def _settings(
    request: Request, ctx: Context, workspace_id: str
) -> tuple[Admin, Workspace, list[LoginChoice]] | Response:
    """The administrator, the workspace and its sign-in choices, or the page that refuses."""
    admin = await admin_for(request, ctx, workspace_id)
    if isinstance(admin, Response):
        return admin
    try:
        workspace, choices = await blocking(lambda: tenancy.settings_of(ctx, admin.actor, admin.workspace_id))
    except DomainError as exc:
        return admin.refusal(request, exc) or Response(status_code=status_of(exc))
    organization_id = workspace.organization_id  # the "Organization" link, for its system administrators
    if await blocking(lambda: organization_roles.manages(ctx, admin.actor, organization_id)):
        request.state.organization_area = organization_id
    return admin, workspace, choices


@router.get("/admin/{workspace_id}/settings", response_class=HTMLResponse)
async def settings(workspace_id: str, request: Request, ctx: Ctx, done: str = "") -> Response:
    found = await _settings(request, ctx, workspace_id)
    if isinstance(found, Response):
        return found
    admin, workspace, choices = found
    notice = done if done in ("saved", "logo", "logo_removed") else None
    logo = await _logo(ctx, admin)
    return _form(admin, request, choices, _values_of(workspace), errors={}, notice=notice, logo=logo)


@router.post("/admin/{workspace_id}/settings", response_class=HTMLResponse)
async def save_settings(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    found = await _settings(request, ctx, workspace_id)
    if isinstance(found, Response):
        return found
    admin, workspace, choices = found
    values = await _form_values(request, choices)
    changes = _changes(values, _just_in_time(workspace, choices))
    try:
        await blocking(lambda: tenancy.update_workspace(ctx, admin.actor, admin.workspace_id, changes))
    except DomainError as exc:
        refused = admin.refusal(request, exc)
        if refused is not None:
            return refused
        field = FIELD_OF.get(exc.field or "", exc.field or "form")
        field = field if field in FIELDS else "form"
        logo = await _logo(ctx, admin)
        return _form(admin, request, choices, values, status_of(exc), errors={field: exc.message}, logo=logo)
    return RedirectResponse(f"{settings_path(admin.workspace_id)}?done=saved", status_code=303)


async def _logo(ctx: Context, admin: Admin) -> branding.LogoView | None:
    return await blocking(lambda: branding.current_logo(ctx, admin.actor, admin.workspace_id))


@router.post("/admin/{workspace_id}/settings/logo", response_class=HTMLResponse)
async def upload_logo(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    """Replace the logo with the uploaded PNG or SVG; :mod:`admit.admin.branding` decides whether it may."""
    found = await _settings(request, ctx, workspace_id)
    if isinstance(found, Response):
        return found
    admin, workspace, choices = found
    async with request.form() as form:
        upload = form.get("logo")
        filename = content_type = None
        data = b""
        if isinstance(upload, UploadFile):
            filename, content_type = (upload.filename or "")[:200], (upload.content_type or "")[:100]
            data = await upload.read(branding.MAX_BYTES + 1)  # one byte more: the service says "too large"
    try:
        await blocking(lambda: branding.set_logo(ctx, admin.actor, admin.workspace_id, filename, content_type, data))
    except DomainError as exc:
        return await _logo_refused(admin, request, ctx, workspace, choices, exc)
    return RedirectResponse(f"{settings_path(admin.workspace_id)}?done=logo#branding-title", status_code=303)


@router.post("/admin/{workspace_id}/settings/logo/remove", response_class=HTMLResponse)
async def remove_logo(workspace_id: str, request: Request, ctx: Ctx) -> Response:
    found = await _settings(request, ctx, workspace_id)
    if isinstance(found, Response):
        return found
    admin, workspace, choices = found
    try:
        await blocking(lambda: branding.remove_logo(ctx, admin.actor, admin.workspace_id))
    except DomainError as exc:
        return await _logo_refused(admin, request, ctx, workspace, choices, exc)
    return RedirectResponse(f"{settings_path(admin.workspace_id)}?done=logo_removed#branding-title", status_code=303)


async def _logo_refused(
    admin: Admin, request: Request, ctx: Context, workspace: Workspace, choices: list[LoginChoice], exc: DomainError
) -> Response:
    refused = admin.refusal(request, exc)
    if refused is not None:
        return refused
    logo = await _logo(ctx, admin)
    values = _values_of(workspace)
    return _form(admin, request, choices, values, status_of(exc), errors={"logo": exc.message}, logo=logo)
