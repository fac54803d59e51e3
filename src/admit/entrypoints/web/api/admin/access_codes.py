"""Access code endpoints: create (shown once), withdraw, see, send by SMS, and a CSV of fresh
codes for a selection of members (shown once, audited). Rules live in ``admin.access_codes``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from admit.admin import access_codes
from admit.domain.errors import NotFound
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import In
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller
from admit.shared.context import Actor

router = api_router()
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


class AccessCodeOut(BaseModel):
    """A fresh code: shown in this answer only."""

    code: str
    member_id: str
    workspace_id: str
    expires_at: datetime
    url: str = Field(description="The redeem page with the code filled in (for a QR code).")


class AccessCodeState(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    member_id: str
    state: str = Field(description="live, expired, redeemed, withdrawn, replaced or locked (10 wrong tries).")
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    created_by: str
    failures: int


MemberId = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class SelectionIn(In):
    member_ids: list[MemberId] = Field(min_length=1, max_length=access_codes.MAX_SELECTION)


@router.post("/members/{member_id}/access-code", status_code=201, response_model=AccessCodeOut, tags=["access codes"])
async def issue(member_id: str, ctx: Ctx, token: Bearer, response: Response) -> Any:
    """A new access code for a member (the previous one withdrawn); the member is invited with the
    channel ``code``. The code is in this answer only."""
    issued = await as_caller(ctx, token, lambda actor: access_codes.issue(ctx, actor, member_id))
    response.headers.update(NO_STORE)
    return AccessCodeOut(
        code=issued.code,
        member_id=issued.member_id,
        workspace_id=issued.workspace_id,
        expires_at=issued.expires_at,
        url=access_codes.redeem_url(ctx, issued.code),
    )


@router.get("/members/{member_id}/access-code", response_model=AccessCodeState, tags=["access codes"])
async def current(member_id: str, ctx: Ctx, token: Bearer) -> Any:
    """The member's latest code's state (never the code); 404 when they never had one."""

    def work(actor: Actor) -> access_codes.CodeState:
        state = access_codes.current(ctx, actor, member_id)
        if state is None:
            raise NotFound("this member has no access code")
        return state

    return await as_caller(ctx, token, work)


@router.delete("/members/{member_id}/access-code", response_model=AccessCodeState, tags=["access codes"])
async def withdraw(member_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Withdraw the member's live code."""
    return await as_caller(ctx, token, lambda actor: access_codes.withdraw(ctx, actor, member_id))


@router.post(
    "/members/{member_id}/access-code/sms", status_code=202, response_model=AccessCodeState, tags=["access codes"]
)
async def send_by_sms(member_id: str, ctx: Ctx, token: Bearer) -> Any:
    """A new code sent to the member's phone through the outbox (the caller never sees it)."""
    return await as_caller(ctx, token, lambda actor: access_codes.send_by_sms(ctx, actor, member_id))


@router.post(
    "/workspaces/{workspace_id}/access-codes.csv",
    response_class=Response,
    tags=["access codes"],
    responses={200: {"description": "The codes, shown once.", "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def selection_csv(workspace_id: str, body: SelectionIn, ctx: Ctx, token: Bearer) -> Response:
    """Fresh codes for the selected members (each previous code withdrawn) as CSV, audited."""
    issued = await as_caller(
        ctx, token, lambda actor: access_codes.issue_for_selection(ctx, actor, workspace_id, body.member_ids)
    )
    return Response(
        access_codes.as_csv(ctx, issued),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "content-disposition": 'attachment; filename="access-codes.csv"'},
    )


class SheetIn(SelectionIn):
    language: Literal["en", "de", "fr"] = Field(
        default="en", description="The language of the printed instructions: en, de or fr."
    )


@router.post(
    "/workspaces/{workspace_id}/access-codes.pdf",
    response_class=Response,
    tags=["access codes"],
    responses={
        200: {
            "description": "The codes on a printable A4 sheet, one card per person, shown once.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def selection_sheet(workspace_id: str, body: SheetIn, ctx: Ctx, token: Bearer) -> Response:
    """Fresh codes for the selected members (each previous code withdrawn) as a PDF of cards to cut
    apart (name, workspace, code, redeem URL and a QR code opening it with the code filled in), audited."""

    def work(actor: Actor) -> bytes:
        issued = access_codes.issue_for_selection(ctx, actor, workspace_id, body.member_ids)
        return access_codes.as_sheet(ctx, issued, body.language)

    return Response(
        await as_caller(ctx, token, work),
        media_type="application/pdf",
        headers={**NO_STORE, "content-disposition": 'attachment; filename="access-codes.pdf"'},
    )


class JobPeopleOut(BaseModel):
    count: int = Field(description="How many people of the job need an access code.")
    member_ids: list[str]


@router.get("/jobs/{job_id}/access-codes", response_model=JobPeopleOut, tags=["access codes"])
async def job_people(job_id: str, ctx: Ctx, token: Bearer) -> Any:
    """Who of a finished import (the people it created) or Invite All (the people it left awaiting
    invitation) needs an access code: no email, and no phone the workspace can text. 409 for a dry
    run, a job still running or another kind of job."""
    people = await as_caller(ctx, token, lambda actor: access_codes.job_people(ctx, actor, job_id))
    return JobPeopleOut(count=len(people), member_ids=[p.id for p in people])


@router.post(
    "/jobs/{job_id}/access-codes",
    response_class=Response,
    tags=["access codes"],
    responses={
        200: {
            "description": "The codes, shown once: a printable A4 sheet (pdf) or CSV.",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def job_codes(
    job_id: str,
    ctx: Ctx,
    token: Bearer,
    format: Literal["pdf", "csv"] = Query("pdf", description="pdf (a sheet of cards) or csv."),
    language: Literal["en", "de", "fr"] = Query("en", description="The language of the printed instructions."),
) -> Response:
    """Fresh codes for every person of the job who needs one (see the GET; each previous code
    withdrawn), in one go, audited with the job: the sheet "for a whole import". 409
    ``nobody_needs_code``, ``too_many_people`` (more than 2,000: use selections)."""

    def work(actor: Actor) -> bytes:
        issued = access_codes.issue_for_job(ctx, actor, job_id)
        if format == "pdf":
            return access_codes.as_sheet(ctx, issued, language)
        return access_codes.as_csv(ctx, issued).encode("utf-8")

    body = await as_caller(ctx, token, work)
    if format == "pdf":
        media_type, name = "application/pdf", "access-codes.pdf"
    else:
        media_type, name = "text/csv; charset=utf-8", "access-codes.csv"
    return Response(
        body, media_type=media_type, headers={**NO_STORE, "content-disposition": f'attachment; filename="{name}"'}
    )
