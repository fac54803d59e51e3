"""SCIM error responses (RFC 7644 §3.12): ``{"schemas": [Error URN], "status": "404", "scimType",
"detail"}`` in ``application/scim+json``, for every error under ``/scim/v2`` (never a page, never
the API's envelope)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

from admit.domain import errors

SCIM_JSON = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PREFIX = "/scim/v2"


class ScimJSONResponse(JSONResponse):
    media_type = SCIM_JSON


def is_scim(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def scim_error(
    status: int, detail: str, scim_type: str | None = None, headers: Mapping[str, str] | None = None
) -> ScimJSONResponse:
    body: dict[str, object] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type is not None:
        body["scimType"] = scim_type
    response = ScimJSONResponse(body, status_code=status, headers=dict(headers) if headers else None)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="scim"'
    return response


# A domain error's scimType (RFC 7644 §3.12, table 9), where one fits.
SCIM_TYPES: list[tuple[type[errors.DomainError], str]] = [
    (errors.AlreadyExists, "uniqueness"),
    (errors.InvalidTransition, "mutability"),
    (errors.ValidationFailed, "invalidValue"),
]


def from_domain(exc: errors.DomainError, status: int) -> ScimJSONResponse:
    """A domain error as SCIM answers it: validation is 400 invalidValue (SCIM has no 422)."""
    if isinstance(exc, errors.ValidationFailed):
        status = 400
    scim_type = next((kind for cls, kind in SCIM_TYPES if isinstance(exc, cls)), None)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, errors.TooManyAttempts) else None
    return scim_error(status, exc.message, scim_type, headers)
