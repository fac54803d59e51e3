"""One JSON error envelope for every failure: ``{"error": {"code", "message", "field"}}``.

Never a traceback in a response: unexpected errors are logged with an id and answered with it.
"""

from __future__ import annotations

import logging
import uuid
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from admit.domain import errors
from admit.domain.errors import TooManyAttempts

log = logging.getLogger("admit.entrypoints.web")

STATUS: list[tuple[type[errors.DomainError], int]] = [
    (TooManyAttempts, 429),
    (errors.LinkGone, 410),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.PermissionDenied, 403),
    (errors.ValidationFailed, 422),
    (errors.InvalidCredentials, 401),
    (errors.SecretRejected, 400),
]


def envelope(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": field}}, status_code=status)


def status_of(exc: errors.DomainError) -> int:
    return next((status for kind, status in STATUS if isinstance(exc, kind)), 400)


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.DomainError)
    response = envelope(status_of(exc), exc.code, exc.message, exc.field)
    if isinstance(exc, errors.InvalidCredentials):
        response.headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _password_change_required(request: Request, exc: Exception) -> Response:
    """The API answers 403; a page sends the browser to choose its own password, then back."""
    assert isinstance(exc, errors.PasswordChangeRequired)
    if request.url.path.startswith("/api/"):
        return await _domain(request, exc)
    here = request.url.path + (f"?{request.url.query}" if request.url.query and request.method == "GET" else "")
    return RedirectResponse(f"/change-password?next={quote(here, safe='/')}", status_code=303)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(loc) or None
    message = str(first.get("msg", "invalid request"))
    return envelope(422, "validation_failed", f"{field}: {message}" if field else message, field)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 401: "invalid_credentials"}
    return envelope(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.error("unhandled error %s: %s", incident, type(exc).__name__, exc_info=exc)
    return envelope(500, "internal_error", f"something went wrong on our side (incident {incident})")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.PasswordChangeRequired, _password_change_required)
    app.add_exception_handler(errors.DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
