"""What every API route shares: strict JSON bodies and the error responses the OpenAPI declares.

:class:`StrictRoute` reads a JSON body once, before FastAPI does, with a parser that refuses
duplicate keys at any depth (``{"email": "a", "email": "b"}`` would otherwise mean the last one)
and leaves the parsed value where FastAPI's ``request.json()`` finds it, so a body is never
parsed twice. It also refuses text with NUL characters in the body, the path or the query:
PostgreSQL cannot store them. Both answer 422 ``validation_failed`` in the error envelope.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

from admit.entrypoints.web.routing import Router
from admit.shared import json_input

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None


class ErrorOut(BaseModel):
    """Every error's body: ``{"error": {"code", "message", "field"}}``."""

    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The request cannot be used (for example a malformed body or a bad link token)."),
    401: _error("No valid API or session token."),
    403: _error("The token's role does not allow this."),
    404: _error("No such resource, or not one this token may see."),
    409: _error("Conflicts with the current state (a duplicate, a used link, ...)."),
    410: _error("The resource is gone (an expired, revoked or answered invitation)."),
    422: _error("The input is not valid; `field` names the first field at fault."),
    429: _error("Too many attempts; try again after `Retry-After` seconds."),
}
"""The errors any API operation may answer, declared on every router."""


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):  # rare: find the first key seen twice
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return obj


# built once (json.loads(…, hook) builds one a call); NaN and Infinity are not JSON
_DECODER = json.JSONDecoder(object_pairs_hook=_unique, parse_constant=json_input.no_constant)


def parse_json(body: bytes) -> Any:
    """``json.loads`` that refuses duplicate keys (:class:`DuplicateKey`)."""
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


def _nul_at(value: Any, at: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where in ``value`` a NUL character is (the key path, list positions as numbers), or None."""
    if isinstance(value, str):
        return at if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return at
            found = _nul_at(item, (*at, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for position, item in enumerate(value):
            found = _nul_at(item, (*at, str(position)))
            if found is not None:
                return found
    return None


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _refuse(loc: tuple[str, ...], kind: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": loc, "msg": message, "input": None}])


async def check_request(request: Request) -> None:
    """Refuse NUL characters and duplicate JSON keys; leave a JSON body parsed for FastAPI."""
    scope = request.scope
    if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
        raise _refuse(("path",), "string_nul", "text cannot contain NUL characters")
    if scope["method"] in ("GET", "DELETE", "HEAD", "OPTIONS") or not _is_json(request.headers.get("content-type")):
        return
    body = await request.body()
    if not body:
        return
    try:
        parsed = parse_json(body)
        json_input.check(body, parsed, surrogates=False)  # the models name the field holding one
    except json_input.UnfitJson as exc:
        raise _refuse(("body",), "json_invalid", str(exc)) from None
    except DuplicateKey as exc:
        raise _refuse(("body", exc.key), "duplicate_key", "the key appears more than once") from None
    except UnicodeDecodeError:
        raise _refuse(("body",), "json_invalid", "the body is not UTF-8 JSON") from None
    except RecursionError:
        raise _refuse(("body",), "json_invalid", "the JSON is nested too deeply") from None
    except ValueError:
        return  # malformed JSON (or not UTF-8): FastAPI reports it where it parses the body
    if b"\\u0000" in body and (at := _nul_at(parsed)) is not None:
        raise _refuse(("body", *at), "string_nul", "text cannot contain NUL characters")
    request._json = parsed  # what Request.json() returns from now on


class StrictRoute(APIRoute):
    """An API route that runs :func:`check_request` first."""

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def strict(request: Request) -> Response:
            await check_request(request)
            return await handle(request)

        return strict


def api_router(**options: Any) -> Router:
    """A router of the REST API under /api/v1: strict bodies, error responses declared."""
    return Router(route_class=StrictRoute, responses=ERRORS, prefix="/api/v1", **options)
