"""The administrator's pages: what they share (who is acting, in which workspace, in which
language; the refusal pages) and the list of workspaces one administers.

Every admin page starts with :func:`admin_for`: a visitor who is not signed in is sent to sign
in (and back), an account that still has an initial password to change is sent to change it, a
workspace of another tenant is not found (404) and a member without the right to manage or
invite people is refused (403) — with a page, never a stack trace. The use cases check the
permissions again; the pages only call them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from admit.admin import overview
from admit.admin.overview import SignedIn
from admit.domain.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from admit.domain.roles import Permission, Role
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import browser_account, templates
from admit.entrypoints.web.routing import Router
from admit.i18n import negotiate, pick_language
from admit.shared.context import Actor, Context

router = Router(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def render(
    request: Request,
    name: str,
    status: int = 200,
    *,
    language: str | None = None,
    workspace: dict[str, Any] | None = None,
    **context: Any,
) -> HTMLResponse:
    """An admin page in the administrator's language (their account's, else the workspace's,
    else the browser's)."""
    csrf = request.scope.get("csrftoken")
    chosen = pick_language(
        language, (workspace or {}).get("default_language"), negotiate(request.headers.get("accept-language"))
    )
    values = {"csrftoken": csrf() if csrf else "", "language": chosen, "workspace": workspace, **context}
    return templates(chosen).TemplateResponse(request, name, values, status_code=status)


@dataclass(frozen=True)
class Admin:
    """A signed-in administrator in one workspace."""

    actor: Actor
    language: str | None
    workspace: dict[str, Any]
    role: Role
    counts: dict[str, int]
    allowed: frozenset[str] = frozenset()
    others: tuple[dict[str, str], ...] = ()  # the other workspaces they administer (the switcher)

    @property
    def workspace_id(self) -> str:
        return str(self.workspace["id"])

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return render(
            request,
            name,
            status,
            language=self.language,
            workspace=self.workspace,
            role=self.role.value,
            counts=self.counts,
            allowed=self.allowed,
            admin_name=self.actor.name,
            other_workspaces=self.others,
            **context,
        )

    def refusal(self, request: Request, exc: DomainError) -> HTMLResponse | None:
        """The page for a use case's refusal that no form can fix, or None."""
        return refusal(request, exc, self.language, self.workspace)


def refusal(
    request: Request, exc: DomainError, language: str | None, workspace: dict[str, Any] | None = None
) -> HTMLResponse | None:
    if isinstance(exc, NotFound):
        return render(request, "admin_error.html", 404, language=language, workspace=workspace, kind="not_found")
    if isinstance(exc, PermissionDenied) and exc.field is None:
        return render(
            request, "admin_error.html", 403, language=language, workspace=workspace, kind="denied", reason=exc.message
        )
    return None


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def sign_in_first(request: Request) -> Response:
    return RedirectResponse(f"/sign-in?next={quote(_here(request), safe='/')}", status_code=303)


def change_password_first(request: Request) -> Response:
    return RedirectResponse(f"/change-password?next={quote(_here(request), safe='/')}", status_code=303)


async def signed_in(request: Request, ctx: Context) -> SignedIn | Response:
    """The signed-in account, or where to send the browser first."""

    def work() -> SignedIn | None:
        account_id = browser_account(ctx, request)
        return None if account_id is None else overview.signed_in(ctx, account_id)

    try:
        me = await blocking(work)
    except NotFound:
        me = None
    if me is None:
        return sign_in_first(request)
    if me.must_change_password:
        return change_password_first(request)
    return me


async def admin_for(
    request: Request, ctx: Context, workspace_id: str, permission: Permission | None = None
) -> Admin | Response:
    """The administrator of this workspace, or the response that refuses or redirects;
    ``permission`` lets in whoever holds it instead (a page that also shows read only)."""
    me = await signed_in(request, ctx)
    if isinstance(me, Response):
        return me
    try:
        view = await blocking(lambda: overview.overview(ctx, me.actor, workspace_id, permission))
    except DomainError as exc:
        refused = refusal(request, exc, me.language)
        if refused is None:
            raise
        return refused
    return Admin(
        me.actor, me.language, view["workspace"], view["role"], view["counts"], view["allowed"], tuple(view["others"])
    )


async def read_upload(form: FormData, limit: int) -> tuple[bytes, str]:
    """The uploaded file's content and name; ``ValidationFailed`` when none or too large."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed("choose a CSV or XLSX file", field="file", code="no_file")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(f"the file is larger than {limit // 2**20} MB", field="file", code="too_large")
    return data, upload.filename[:200]


@router.get("/admin", response_class=HTMLResponse)
async def index(request: Request, ctx: Ctx) -> Response:
    """The workspaces the signed-in account administers."""
    me = await signed_in(request, ctx)
    if isinstance(me, Response):
        return me
    assert me.actor.id is not None
    account_id = me.actor.id
    workspaces = await blocking(lambda: overview.administered(ctx, account_id))
    return render(request, "admin_index.html", 200 if workspaces else 403, language=me.language, workspaces=workspaces)


@router.get("/admin/{workspace_id}")
async def workspace_home(workspace_id: str) -> Response:
    return RedirectResponse(f"/admin/{quote(workspace_id)}/people", status_code=303)
