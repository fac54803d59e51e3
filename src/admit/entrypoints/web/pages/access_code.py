"""Redeeming an access code: ``/code`` (the link "I have an access code" on the sign-in page, and
what a printed QR code opens with ``?c=`` filled in), then a second step that shows the workspace
and the person's name and asks for a password (and a username when the member has none). The
rules and throttles are in ``flows.invitation.codes``; pages send no Referer and are not cached,
so a code in the address does not travel further."""

from __future__ import annotations

from typing import Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from admit.domain.errors import (
    Conflict,
    LinkGone,
    SecretRejected,
    TooManyAttempts,
    ValidationFailed,
    WeakPassword,
)
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.pages.common import into_workspace, page, password_rules
from admit.entrypoints.web.routing import Router
from admit.flows.invitation import codes
from admit.flows.invitation.codes import CodeFacts

router = Router(include_in_schema=False)
LONGEST = 64  # characters of a typed code kept for the form


def client_address(request: Request) -> str:
    """The address the server sees (behind a proxy: what ``--proxy-headers`` made of it)."""
    return request.client.host if request.client else "unknown"


def _enter(request: Request, status: int = 200, **context: Any) -> Response:
    response = page(request, "code_enter.html", status, **context)
    if context.get("wait"):
        response.headers["Retry-After"] = str(context["wait"])
    return response


def _redeem_page(request: Request, facts: CodeFacts, code: str, status: int = 200, **context: Any) -> Response:
    leads_to = [facts.app_url] if facts.app_url else []
    return page(
        request, "code_redeem.html", status, facts=facts, code=code, leads_to=leads_to,
        **password_rules(facts.password_policy), **context,
    )  # fmt: skip


@router.get("/code", response_class=HTMLResponse)
async def enter(request: Request, c: str = "") -> Response:
    return _enter(request, code=c[:LONGEST])


@router.post("/code", response_class=HTMLResponse)
async def check(request: Request, ctx: Ctx, code: str = Form("")) -> Response:
    code = code[:LONGEST]
    try:
        facts = await blocking(lambda: codes.check(ctx, code, client_address(request)))
    except TooManyAttempts as exc:
        return _enter(request, 429, code=code, wait=exc.retry_after)
    except ValidationFailed as exc:
        return _enter(request, 422, code=code, error=exc.message)
    except (SecretRejected, Conflict) as exc:
        return _enter(request, 410 if isinstance(exc, LinkGone) else 422, code=code, error=exc.message)
    return _redeem_page(request, facts, code)


@router.post("/code/redeem", response_class=HTMLResponse)
async def redeem(
    request: Request, ctx: Ctx, code: str = Form(""), password: str = Form(""), username: str = Form("")
) -> Response:
    code = code[:LONGEST]
    address = client_address(request)
    try:
        result = await blocking(
            lambda: codes.redeem(ctx, code, password=password, username=username[:200] or None, client_address=address)
        )
    except TooManyAttempts as exc:
        return _enter(request, 429, code=code, wait=exc.retry_after)
    except (WeakPassword, ValidationFailed, Conflict) as exc:
        if (isinstance(exc, ValidationFailed) and exc.field == "code") or getattr(exc, "code", "") == "sso_required":
            return _enter(request, 422, code=code, error=exc.message)
        try:
            facts = await blocking(lambda: codes.check(ctx, code, address))
        except (SecretRejected, Conflict, ValidationFailed, TooManyAttempts):
            return _enter(request, 422, code=code, error=exc.message)
        errors = exc.failures if isinstance(exc, WeakPassword) else [exc.message]
        field = "password" if isinstance(exc, WeakPassword) else (exc.field or "password")
        return _redeem_page(request, facts, code, 422, errors=errors, field=field, username=username[:200])
    except SecretRejected as exc:
        return _enter(request, 410 if isinstance(exc, LinkGone) else 422, code=code, error=exc.message)
    return await into_workspace(request, ctx, result, result["session"])
