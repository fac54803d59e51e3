"""Self-sign-up over the API: a workspace's sign-up settings (``MANAGE_SETTINGS``), its department
sign-up links (``MANAGE_PEOPLE``: create, list, pause, resume, rotate, delete; their QR code as
PNG or SVG and an A4 poster as PDF, served as attachments, ``no-store``) and the approval
queue (approve or reject). The rules are the services' (:mod:`admit.admin.signup_settings`,
:mod:`admit.admin.signup_links`, :mod:`admit.flows.signup.self_sign_up`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Response
from pydantic import BaseModel, Field, StringConstraints

from admit.admin import signup_links, signup_settings
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import MAX_COUNT, In, Name
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller
from admit.flows.signup import self_sign_up

router = api_router(tags=["self-sign-up"])
SignUpRole = Literal["member", "guest"]
PosterLanguage = Literal["en", "de", "fr"]


def attachment(download: signup_links.Download) -> Response:
    """A download holding the link's secret: never cached, never sniffed, never shown inline."""
    return Response(
        download.content,
        media_type=download.media_type,
        headers={
            "cache-control": "no-store",
            "pragma": "no-cache",
            "x-content-type-options": "nosniff",
            "content-disposition": f'attachment; filename="{download.filename}"',
        },
    )


def _file_doc(media: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": what, "content": {media: {"schema": {"type": "string", "format": "binary"}}}}}


class SignUpSettingsPatch(In):
    """Only the settings given change."""

    enabled: bool | None = None
    default_role: SignUpRole | None = None
    default_department: Name | None = None
    default_job_profile: Name | None = None
    departments_pickable: list[Name] | None = Field(None, max_length=500, description="Departments a person may pick.")
    allowed_domains: list[Name] | None = Field(None, max_length=50, description="Email domains allowed; empty: any.")
    approval_required: bool | None = None
    daily_cap: int | None = Field(None, ge=1, le=signup_settings.DAILY_CAP_LIMIT, description="null: no cap.")


class SignUpSettingsOut(BaseModel):
    enabled: bool
    default_role: str
    default_department: str | None
    default_job_profile: str | None
    departments_pickable: list[str]
    allowed_domains: list[str]
    approval_required: bool
    daily_cap: int | None


class SignUpLinkIn(In):
    department: Name | None = Field(None, description="One of the workspace's departments (required).")
    job_profile: Name | None = None
    role: SignUpRole = "member"
    expires_on: Annotated[str, StringConstraints(max_length=10)] | None = Field(
        None, description="The last day the link works (YYYY-MM-DD, UTC)."
    )
    max_uses: int | None = Field(None, ge=1, le=signup_links.USES_LIMIT)


class SignUpLinkOut(BaseModel):
    id: str
    workspace_id: str
    department: str
    job_profile: str | None
    role: str
    expires_at: datetime | None
    max_uses: int | None
    uses: int = Field(ge=0, le=MAX_COUNT)
    paused: bool
    state: str = Field(description="active, paused, expired or used_up")
    url: str = Field(description="The link (and what its QR code encodes).")
    created_at: datetime


class SignUpRequestOut(BaseModel):
    id: str
    first_name: str
    last_name: str
    email: str | None
    username: str | None
    phone: str | None
    department: str | None
    job_profile: str | None
    role: str
    link_id: str | None
    created_at: datetime


class Decided(BaseModel):
    member_id: str | None = None
    status: str


@router.get("/workspaces/{workspace_id}/signup-settings", response_model=SignUpSettingsOut)
async def get_settings(workspace_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: asdict(signup_settings.get(ctx, actor, workspace_id)), quick=True)


@router.patch("/workspaces/{workspace_id}/signup-settings", response_model=SignUpSettingsOut)
async def patch_settings(workspace_id: str, body: SignUpSettingsPatch, ctx: Ctx, token: Bearer) -> Any:
    """Change the settings given. A department or job profile must be one of the workspace's; the
    permission type is ``member`` or ``guest``, never more."""
    given = body.model_dump(exclude_unset=True)
    return await as_caller(
        ctx, token, lambda actor: asdict(signup_settings.save(ctx, actor, workspace_id, given, partial=True))
    )


@router.get("/workspaces/{workspace_id}/signup-links", response_model=list[SignUpLinkOut])
async def list_links(workspace_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: signup_links.list_links(ctx, actor, workspace_id), quick=True)


@router.post("/workspaces/{workspace_id}/signup-links", status_code=201, response_model=SignUpLinkOut)
async def create_link(workspace_id: str, body: SignUpLinkIn, ctx: Ctx, token: Bearer) -> Any:
    """A sign-up link for one of the workspace's departments; its `url` is what to share or print."""

    def work(actor: Any) -> signup_links.SignUpLink:
        given = body.model_dump(exclude={"expires_on"})
        return signup_links.create(
            ctx, actor, workspace_id, {**given, "expires_at": signup_links.end_of_day(body.expires_on)}
        )

    return await as_caller(ctx, token, work)


@router.post("/workspaces/{workspace_id}/signup-links/{link_id}/pause", response_model=SignUpLinkOut)
async def pause_link(workspace_id: str, link_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Stop the link working until resumed (a friendly page answers it meanwhile)."""
    return await as_caller(ctx, token, lambda actor: signup_links.pause(ctx, actor, workspace_id, link_id))


@router.post("/workspaces/{workspace_id}/signup-links/{link_id}/resume", response_model=SignUpLinkOut)
async def resume_link(workspace_id: str, link_id: str, ctx: Ctx, token: Bearer) -> Any:
    return await as_caller(ctx, token, lambda actor: signup_links.resume(ctx, actor, workspace_id, link_id))


@router.post("/workspaces/{workspace_id}/signup-links/{link_id}/rotate", response_model=SignUpLinkOut)
async def rotate_link(workspace_id: str, link_id: str, ctx: Ctx, token: Bearer) -> Any:
    """A new URL for the link: the old one and its QR code stop working."""
    return await as_caller(ctx, token, lambda actor: signup_links.rotate(ctx, actor, workspace_id, link_id))


@router.delete("/workspaces/{workspace_id}/signup-links/{link_id}", status_code=204)
async def delete_link(workspace_id: str, link_id: str, ctx: Ctx, token: Bearer) -> Response:
    await as_caller(ctx, token, lambda actor: signup_links.delete(ctx, actor, workspace_id, link_id))
    return Response(status_code=204)


@router.get(
    "/workspaces/{workspace_id}/signup-links/{link_id}/qr.png",
    response_class=Response,
    responses=_file_doc("image/png", "The link's QR code (PNG), as an attachment."),
)
async def link_qr_png(workspace_id: str, link_id: str, ctx: Ctx, token: Bearer) -> Response:
    """The QR code of the link's current URL; a paused link's too (it answers a friendly page)."""
    return attachment(await as_caller(ctx, token, lambda actor: signup_links.qr_png(ctx, actor, workspace_id, link_id)))


@router.get(
    "/workspaces/{workspace_id}/signup-links/{link_id}/qr.svg",
    response_class=Response,
    responses=_file_doc("image/svg+xml", "The link's QR code (SVG, in millimetres), as an attachment."),
)
async def link_qr_svg(workspace_id: str, link_id: str, ctx: Ctx, token: Bearer) -> Response:
    return attachment(await as_caller(ctx, token, lambda actor: signup_links.qr_svg(ctx, actor, workspace_id, link_id)))


@router.get(
    "/workspaces/{workspace_id}/signup-links/{link_id}/poster.pdf",
    response_class=Response,
    responses=_file_doc("application/pdf", "An A4 poster with the link's QR code, as an attachment."),
)
async def link_poster(
    workspace_id: str,
    link_id: str,
    ctx: Ctx,
    token: Bearer,
    language: Annotated[PosterLanguage, Query(description="The poster's language.")] = "en",
) -> Response:
    """A printable A4 poster: "Scan to join", the workspace, the department, the QR code and the URL."""
    return attachment(
        await as_caller(ctx, token, lambda actor: signup_links.poster(ctx, actor, workspace_id, link_id, language))
    )


@router.get("/workspaces/{workspace_id}/signup-requests", response_model=list[SignUpRequestOut])
async def queue(workspace_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Sign-ups waiting for an administrator's approval, oldest first."""
    return await as_caller(ctx, token, lambda actor: signup_settings.queue(ctx, actor, workspace_id), quick=True)


@router.post("/workspaces/{workspace_id}/signup-requests/{request_id}/approve", response_model=Decided)
async def approve(workspace_id: str, request_id: str, ctx: Ctx, token: Bearer) -> Any:
    """The member becomes active and is told (by email or SMS)."""
    return await as_caller(ctx, token, lambda actor: self_sign_up.approve(ctx, actor, workspace_id, request_id))


@router.post("/workspaces/{workspace_id}/signup-requests/{request_id}/reject", response_model=Decided)
async def reject(workspace_id: str, request_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Nothing is created; the person is told."""

    def work(actor: Any) -> dict[str, Any]:
        self_sign_up.reject(ctx, actor, workspace_id, request_id)
        return {"status": "rejected"}

    return await as_caller(ctx, token, work)
