"""Public self-sign-up and the signed-in join through the API: the same doors as the pages
``/sign-up?workspace=``, ``/join/{token}`` and their ``…/account`` buttons, every rule in
:mod:`admit.flows.signup.self_sign_up` (its throttles included: sending a code per recipient,
wrong codes per request, the daily cap, the link's uses).

A person without an account: ``POST /signup`` (by a link's token or a workspace id) answers the
flow's handle and sends a code by email or SMS; ``POST /signup/verify`` with the code;
``POST /signup/complete`` with a password (a session token, or ``pending_approval``). The handle
travels in the body, never in a path. Starting a sign-up never says whether the address or
username belongs to an account: only the verified code tells its owner (``existing``: sign in,
then join). A signed-in account (a session token from ``POST /sessions``) joins with
``POST /join/{token}`` or ``POST /signup/workspaces/{workspace_id}/join``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Header, Path, Response
from pydantic import BaseModel, Field, StringConstraints

from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import FlowHandle, In, Language
from admit.entrypoints.web.deps import Bearer, Ctx, as_account, blocking
from admit.flows.signup import self_sign_up
from admit.i18n import negotiate

router = api_router(tags=["self-sign-up"])

LinkToken = Annotated[str, Path(max_length=300, description="The token at the end of the link (/join/…).")]
WorkspaceId = Annotated[str, Path(max_length=64)]
Text = Annotated[str, StringConstraints(max_length=400)]


class SignUpOfferOut(BaseModel):
    """What a sign-up form or link offers (the page's form)."""

    workspace_id: str
    workspace_name: str
    departments: list[str] = Field(description="Departments to pick from; empty: the fixed `department` (or none).")
    department: str | None = Field(description="The link's or the workspace's default department.")
    by_email: bool = Field(description="Sign up with an email address (a code by email).")
    by_phone: bool = Field(description="Sign up with a username and a mobile number (a code by SMS).")
    via_link: bool


class SelfSignUpIn(In):
    """Exactly one of ``link`` and ``workspace_id``; an email address, or a username and a phone."""

    link: Text | None = Field(None, description="A department link's token (the end of /join/…).")
    workspace_id: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="A workspace whose sign-in page offers sign-up."
    )
    first_name: Text | None = None
    last_name: Text | None = None
    email: Text | None = None
    username: Text | None = None
    phone: Text | None = None
    department: Text | None = Field(None, description="One the form offers to pick (a link's is fixed).")
    language: Language | None = Field(None, description="Default: the Accept-Language header's.")


class SelfSignUpOut(BaseModel):
    flow: str = Field(
        description="The request's handle (adm_flw_…, valid 1 hour), given once: send it with the code, the password."
    )


class FlowIn(In):
    flow: FlowHandle


class SelfSignUpCodeIn(FlowIn):
    code: str = Field(min_length=1, max_length=20, description="The six-digit code sent by email or SMS.")


class SelfSignUpPasswordIn(FlowIn):
    password: str = Field(min_length=1, max_length=1024)


class SelfSignUpStateOut(BaseModel):
    state: Literal["pending_verification", "verified", "existing", "pending_approval", "approved", "rejected"] = Field(
        description="`existing`: the verified address or username belongs to an account, which a sign-up never "
        "attaches: sign in (POST /sessions) and join."
    )


class SelfSignUpDone(BaseModel):
    status: Literal["active", "pending_approval"]
    workspace_id: str
    account_id: str | None = None
    member_id: str | None = None
    token: str | None = Field(None, description="A session token when active (shown once).")


class JoinIn(In):
    department: Text | None = Field(None, description="One the form offers to pick (a link's is fixed).")


class JoinedOut(BaseModel):
    status: Literal["active", "pending_approval", "already_member"]
    workspace_id: str
    account_id: str
    member_id: str | None = None


def _offer(form: self_sign_up.SignUpForm) -> dict[str, Any]:
    return {
        "workspace_id": form.workspace_id,
        "workspace_name": form.workspace_name,
        "departments": form.departments,
        "department": form.department,
        "by_email": form.by_email,
        "by_phone": form.by_phone,
        "via_link": form.via_link,
    }


@router.get("/signup/links/{token}", response_model=SignUpOfferOut)
async def link_offer(token: LinkToken, ctx: Ctx, response: Response) -> Any:
    """What a department link offers. 400 ``link_invalid``, ``link_paused``, ``link_expired``,
    ``link_used_up``, ``daily_cap``, ``sso_required``: the same refusals as the page."""
    response.headers["referrer-policy"] = "no-referrer"
    return _offer(await blocking(lambda: self_sign_up.form(ctx, link_token=token)))


@router.get("/signup/workspaces/{workspace_id}", response_model=SignUpOfferOut)
async def workspace_offer(workspace_id: WorkspaceId, ctx: Ctx) -> Any:
    """What a workspace's own sign-up form offers; 400 ``signup_closed`` when it offers none."""
    return _offer(await blocking(lambda: self_sign_up.form(ctx, workspace_id=workspace_id)))


@router.post("/signup", status_code=201, response_model=SelfSignUpOut)
async def start(body: SelfSignUpIn, ctx: Ctx, accept_language: Annotated[str | None, Header()] = None) -> Any:
    """Start a sign-up: the details are checked (422 with the field), a code goes to the email
    address or the phone (429 with ``Retry-After`` when sent too often to it). The answer is the
    same whether or not the address already belongs to an account."""
    language = body.language or negotiate(accept_language)
    values = body.model_dump(include={"first_name", "last_name", "email", "username", "phone", "department"})
    handle = await blocking(
        lambda: self_sign_up.request(
            ctx, workspace_id=body.workspace_id, link_token=body.link, language=language, **values
        )
    )
    return {"flow": handle}


@router.post("/signup/verify", response_model=SelfSignUpStateOut)
async def verify(body: SelfSignUpCodeIn, ctx: Ctx) -> Any:
    """Check the code: 400 ``invalid_code`` (five wrong tries in all), then
    400 ``code_expired`` (ask for a new one); 400 ``signup_expired`` when the flow is over."""
    return {"state": await blocking(lambda: self_sign_up.verify(ctx, body.flow, body.code))}


@router.post("/signup/resend", status_code=204)
async def resend(body: FlowIn, ctx: Ctx) -> Response:
    """A new code (the previous one stops working); 429 when asked too often, 409
    ``already_verified``."""
    await blocking(lambda: self_sign_up.resend(ctx, body.flow))
    return Response(status_code=204)


@router.post("/signup/complete", response_model=SelfSignUpDone)
async def complete(body: SelfSignUpPasswordIn, ctx: Ctx) -> Any:
    """Choose the password (the workspace's policy; 422 ``password``): the member is active and
    a session token is given, or the request waits for an administrator. 409
    ``sign_in_required`` when the verified address belongs to an account; 403 ``not_verified``."""
    done = await blocking(lambda: self_sign_up.complete(ctx, body.flow, body.password))
    return {**done, "token": done.get("session")}


@router.post("/join/{token}", response_model=JoinedOut)
async def join_link(token: LinkToken, body: JoinIn, ctx: Ctx, bearer: Bearer) -> Any:
    """The signed-in account (a session token) joins through a department link: the link's
    department, job profile and permission type, its uses counted, the approval queue, the daily
    cap, the allowed domains and the workspace's sign-in rules apply."""
    return await as_account(
        ctx,
        bearer,
        lambda account_id: self_sign_up.join_with_account(
            ctx, account_id, link_token=token, department=body.department
        ),
    )


@router.post("/signup/workspaces/{workspace_id}/join", response_model=JoinedOut)
async def join_workspace(workspace_id: WorkspaceId, body: JoinIn, ctx: Ctx, bearer: Bearer) -> Any:
    """The signed-in account joins through the workspace's own sign-up form (as ``/join/{token}``)."""
    return await as_account(
        ctx,
        bearer,
        lambda account_id: self_sign_up.join_with_account(
            ctx, account_id, workspace_id=workspace_id, department=body.department
        ),
    )
