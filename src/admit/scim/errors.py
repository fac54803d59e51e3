"""SCIM errors (RFC 7644 §3.12): one exception that every protocol module raises and its JSON body.

Usage::

    raise ScimError(400, INVALID_FILTER, "expected an operator at position 9")
    ...
    except ScimError as error:
        return JSONResponse(error.body(), status_code=error.status, media_type=SCIM_MEDIA_TYPE)
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_MEDIA_TYPE = "application/scim+json"

# The scimType values of RFC 7644 §3.12 (and RFC 9865 for cursors).
INVALID_FILTER = "invalidFilter"
TOO_MANY = "tooMany"
UNIQUENESS = "uniqueness"
MUTABILITY = "mutability"
INVALID_SYNTAX = "invalidSyntax"
INVALID_PATH = "invalidPath"
NO_TARGET = "noTarget"
INVALID_VALUE = "invalidValue"
INVALID_VERS = "invalidVers"
SENSITIVE = "sensitive"
INVALID_CURSOR = "invalidCursor"
EXPIRED_CURSOR = "expiredCursor"

SCIM_TYPES = frozenset(
    {
        INVALID_FILTER,
        TOO_MANY,
        UNIQUENESS,
        MUTABILITY,
        INVALID_SYNTAX,
        INVALID_PATH,
        NO_TARGET,
        INVALID_VALUE,
        INVALID_VERS,
        SENSITIVE,
        INVALID_CURSOR,
        EXPIRED_CURSOR,
    }
)

MAX_DETAIL = 500


class ScimError(Exception):
    """A SCIM protocol error: an HTTP status, an optional ``scimType`` and a human-readable detail."""

    def __init__(self, status: int, scim_type: str | None, detail: str) -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"a SCIM error status is 4xx or 5xx, not {status}")
        if scim_type is not None and scim_type not in SCIM_TYPES:
            raise ValueError(f"unknown scimType {scim_type!r}")
        super().__init__(detail)
        self.status = status
        self.scim_type = scim_type
        self.detail = detail[:MAX_DETAIL]

    def body(self) -> dict[str, Any]:
        """The error's JSON body: ``status`` is a string, as RFC 7644 §3.12 shows."""
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status)}
        if self.scim_type is not None:
            body["scimType"] = self.scim_type
        body["detail"] = self.detail
        return body

    def __repr__(self) -> str:
        return f"ScimError({self.status}, {self.scim_type!r}, {self.detail!r})"


def bad_request(scim_type: str, detail: str) -> ScimError:
    """A 400 error with a scimType: the common case."""
    return ScimError(400, scim_type, detail)
