"""One JSON error envelope for every API failure: ``{"error": {"code", "message", "field"}}``;
a SCIM error body under ``/scim/v2``; a page in the person's language for every other address
(no browser ever sees raw JSON).

Never a traceback in a response: unexpected errors are logged with an id and answered with it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from admit.adapters.persistence.database import STORAGE_FULL, outage
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


def envelope(
    status: int, code: str, message: str, field: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


def status_of(exc: errors.DomainError) -> int:
    return next((status for kind, status in STATUS if isinstance(exc, kind)), 400)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.DomainError)
    if is_scim(request):
        from admit.entrypoints.web.scim.errors import from_domain  # it imports this module's status_of

        return from_domain(exc, status_of(exc))
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


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(loc) or None
    message = str(first.get("msg", "invalid request"))
    if is_scim(request):
        from admit.entrypoints.web.scim.errors import scim_error

        return scim_error(400, f"{field}: {message}" if field else message, "invalidValue")
    return envelope(422, "validation_failed", f"{field}: {message}" if field else message, field)


def is_scim(request: Request) -> bool:
    return request.url.path == "/scim/v2" or request.url.path.startswith("/scim/v2/")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def _error_page(request: Request, status: int, **context: str) -> Response:
    from admit.entrypoints.web.pages.common import page  # the pages import this module's envelope

    return page(request, "page_error.html", status, error_status=status, **context)


def not_found_page(request: Request) -> Response:
    """The not-found page, as for an address no route knows."""
    return _error_page(request, 404)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if is_scim(request):
        from admit.entrypoints.web.scim.errors import scim_error

        detail = {404: "no such resource or endpoint", 405: "this endpoint does not take this method"}
        return scim_error(exc.status_code, detail.get(exc.status_code, str(exc.detail)), headers=exc.headers)
    if not is_api(request) and exc.status_code in (404, 405):
        response = _error_page(request, exc.status_code)
        if exc.headers:
            response.headers.update(exc.headers)  # Allow: on a 405
        return response
    codes = {404: "not_found", 405: "method_not_allowed", 401: "invalid_credentials"}
    return envelope(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail), headers=exc.headers)


RETRY_AFTER_OUTAGE = "5"  # seconds: a restarting database is usually back by then
OUTAGE = {
    "database_unavailable": (503, "the database cannot be reached right now; nothing was changed, try again shortly"),
    STORAGE_FULL: (
        507,
        "the database's disk is full; nothing was changed: reading still works, writing waits for space",
    ),
}


def _outage(request: Request, exc: Exception, reason: str) -> Response:
    """The database is down or its disk is full: not a bug, so no incident, and no trace. The API
    answers 503 (``database_unavailable``, with ``Retry-After``) or 507 (``storage_full``); a page
    says what happened; the log says it once per request, without the trace."""
    status, message = OUTAGE[reason]
    log.warning("%s %s: %s (%s)", request.method, request.url.path, reason, type(exc).__name__)
    headers = {"Retry-After": RETRY_AFTER_OUTAGE} if status == 503 else None
    if is_scim(request):
        from admit.entrypoints.web.scim.errors import scim_error

        return scim_error(status, message, headers=headers)
    if not is_api(request):
        response = _error_page(request, status)
        response.headers.update(headers or {})
        return response
    return envelope(status, reason, message, headers=headers)


async def _database(request: Request, exc: Exception) -> Response:
    reason = outage(exc)
    if reason is None:
        return await _unexpected(request, exc)
    return _outage(request, exc, reason)


async def _unexpected(request: Request, exc: Exception) -> Response:
    reason = outage(exc)  # raised outside a route (a middleware): the same answer as inside one
    if reason is not None:
        return _outage(request, exc, reason)
    incident = uuid.uuid4().hex[:12]
    log.error("unhandled error %s: %s", incident, type(exc).__name__, exc_info=exc)
    if is_scim(request):
        from admit.entrypoints.web.scim.errors import scim_error

        return scim_error(500, f"something went wrong on our side (incident {incident})")
    if not is_api(request):
        return _error_page(request, 500, incident=incident)
    return envelope(500, "internal_error", f"something went wrong on our side (incident {incident})")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.PasswordChangeRequired, _password_change_required)
    app.add_exception_handler(errors.DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(Exception, _unexpected)
