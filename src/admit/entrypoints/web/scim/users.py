"""``/scim/v2/Users``, ``/Schemas``, ``/ResourceTypes`` and ``/.search``: HTTP in and out only; the
rules are :mod:`admit.admin.scim_users`'s."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from starlette.responses import Response

from admit.admin import scim_search, scim_users
from admit.entrypoints.web.deps import Ctx, run_work
from admit.entrypoints.web.scim import MAX_RESULTS, Caller, body, logged, route
from admit.entrypoints.web.scim.errors import PREFIX, ScimJSONResponse, scim_error
from admit.scim import schemas
from admit.scim.errors import INVALID_SYNTAX, INVALID_VALUE, ScimError
from admit.scim.filter import get_ci
from admit.scim.lists import parse_page
from admit.scim.projection import project
from admit.shared.context import Context

Handler = Callable[..., Awaitable[Response]]


def scim_errors(handler: Handler) -> Handler:
    """Protocol errors (``ScimError``) answered as SCIM error bodies; domain errors go to the app's handlers."""

    @functools.wraps(handler)
    async def wrapped(*args: Any, **kwargs: Any) -> Response:
        try:
            return await handler(*args, **kwargs)
        except ScimError as error:
            return ScimJSONResponse(error.body(), status_code=error.status)

    return wrapped


def _answer(ctx: Context, user: scim_users.ScimUser, status: int = 200, request: Request | None = None) -> Response:
    resource = user.resource
    if request is not None:
        params = request.query_params
        resource = project(resource, schemas.USER_TYPE, params.get("attributes"), params.get("excludedAttributes"))
    headers = {"ETag": user.etag, "Location": ctx.link(f"{PREFIX}/Users/{user.id}")}
    return ScimJSONResponse(resource, status_code=status, headers=headers)


def _base(ctx: Context) -> str:
    return ctx.link(PREFIX)


# --- Users ------------------------------------------------------------------------------------------------


@route("/Users", methods=["POST"])
@scim_errors
async def create_user(request: Request, ctx: Ctx, caller: Caller) -> Response:
    given = body(request)
    # One write transaction, on the loop (quick); a user created inactive is suspended in a second
    # one, which must not wait for SQLite's writer on the loop: a thread.
    user = await run_work(ctx, lambda: scim_users.create(ctx, caller, given), quick=not _created_inactive(given))
    logged(request, resource_id=user.id, change=given)
    return _answer(ctx, user, 201, request)


def _created_inactive(given: Any) -> bool:
    active = get_ci(given, "active") if isinstance(given, dict) else None
    return active is False or (isinstance(active, str) and active.strip().lower() == "false")


@route("/Users/{user_id}")
@scim_errors
async def get_user(request: Request, ctx: Ctx, caller: Caller, user_id: str) -> Response:
    user = await run_work(ctx, lambda: scim_users.get(ctx, caller, user_id), quick=True)
    logged(request, resource_id=user.id)
    if scim_users.not_modified(user, request.headers.get("if-none-match")):
        return Response(status_code=304, headers={"ETag": user.etag})
    return _answer(ctx, user, 200, request)


async def _search(request: Request, ctx: Ctx, caller: Caller, given: dict[str, Any]) -> Response:
    if given.get("sortBy") is not None:
        raise ScimError(400, INVALID_VALUE, "sorting is not supported (ServiceProviderConfig: sort false)")
    filter_text = given.get("filter")
    if filter_text is not None and not isinstance(filter_text, str):
        raise ScimError(400, INVALID_VALUE, "filter must be a string")
    cursor = given.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ScimError(400, INVALID_VALUE, "cursor must be a string")
    scope = f"Users\x1f{caller.token_id}\x1f{filter_text or ''}"
    key = ctx.secret_key.encode("utf-8")
    page = parse_page(given.get("startIndex"), given.get("count"), cursor, key=key, scope=scope, max_count=MAX_RESULTS)
    answer = await run_work(
        ctx,
        lambda: scim_users.search(
            ctx, caller, page, filter_text=filter_text or None, attributes=given.get("attributes"),
            excluded=given.get("excludedAttributes"), cursor_key=key, cursor_scope=scope,
        ),
        quick=True,
    )  # fmt: skip
    return ScimJSONResponse(answer)


@route("/Users")
@scim_errors
async def list_users(request: Request, ctx: Ctx, caller: Caller) -> Response:
    return await _search(request, ctx, caller, dict(request.query_params))


def _search_body(request: Request) -> dict[str, Any]:
    given = body(request)
    if not isinstance(given, dict):
        raise ScimError(400, INVALID_SYNTAX, "the body is not a JSON object")
    declared = get_ci(given, "schemas")
    if not isinstance(declared, list) or schemas.SEARCH_REQUEST_SCHEMA not in declared:
        raise ScimError(400, INVALID_SYNTAX, f"schemas must list {schemas.SEARCH_REQUEST_SCHEMA}")
    return {k: get_ci(given, k) for k in ("filter", "startIndex", "count", "cursor", "sortBy")} | {
        "attributes": get_ci(given, "attributes"),
        "excludedAttributes": get_ci(given, "excludedAttributes"),
    }


@route("/Users/.search", methods=["POST"])
@scim_errors
async def search_users(request: Request, ctx: Ctx, caller: Caller) -> Response:
    return await _search(request, ctx, caller, _search_body(request))


@route("/.search", methods=["POST"])
@scim_errors
async def search_root(request: Request, ctx: Ctx, caller: Caller) -> Response:
    """The root search (RFC 7644 §3.4.3): Users, then Groups (:mod:`admit.admin.scim_search`)."""
    given = _search_body(request)
    answer = await run_work(ctx, lambda: scim_search.search(ctx, caller, given, max_count=MAX_RESULTS), quick=True)
    return ScimJSONResponse(answer)


async def _change(request: Request, ctx: Context, caller: Any, user_id: str, change: Callable[..., Any]) -> Response:
    """PUT or PATCH: ``change`` (``scim_users.replace`` or ``.patch``) with the body and If-Match."""
    given = body(request)
    if_match = request.headers.get("if-match")
    user = await run_work(ctx, lambda: change(ctx, caller, user_id, given, if_match))  # may write twice: a thread
    logged(request, resource_id=user.id, change=given)
    return _answer(ctx, user, 200, request)


@route("/Users/{user_id}", methods=["PUT"])
@scim_errors
async def replace_user(request: Request, ctx: Ctx, caller: Caller, user_id: str) -> Response:
    return await _change(request, ctx, caller, user_id, scim_users.replace)


@route("/Users/{user_id}", methods=["PATCH"])
@scim_errors
async def patch_user(request: Request, ctx: Ctx, caller: Caller, user_id: str) -> Response:
    return await _change(request, ctx, caller, user_id, scim_users.patch)


@route("/Users/{user_id}", methods=["DELETE"])
@scim_errors
async def delete_user(request: Request, ctx: Ctx, caller: Caller, user_id: str) -> Response:
    if_match = request.headers.get("if-match")
    held = await run_work(ctx, lambda: scim_users.delete(ctx, caller, user_id, if_match), quick=True)
    logged(request, resource_id=user_id, change={"held": True} if held is not None else None)
    if held is not None:  # the deprovisioning brake holds it for an administrator
        return _answer(ctx, held)
    return Response(status_code=204)


# --- Schemas and ResourceTypes ------------------------------------------------------------------------------


def _listed(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [schemas.LIST_RESPONSE_SCHEMA],
        "totalResults": len(resources),
        "itemsPerPage": len(resources),
        "startIndex": 1,
        "Resources": resources,
    }


@route("/Schemas")
async def list_schemas(request: Request, ctx: Ctx, caller: Caller) -> Response:
    return ScimJSONResponse(_listed(schemas.schemas_json(_base(ctx))))


@route("/Schemas/{urn}")
async def get_schema(request: Request, ctx: Ctx, caller: Caller, urn: str) -> Response:
    found = schemas.schema_json(urn, _base(ctx))
    if found is None:
        return scim_error(404, "no such schema")
    return ScimJSONResponse(found)


@route("/ResourceTypes")
async def list_resource_types(request: Request, ctx: Ctx, caller: Caller) -> Response:
    return ScimJSONResponse(_listed(schemas.resource_types_json(_base(ctx))))


@route("/ResourceTypes/{name}")
async def get_resource_type(request: Request, ctx: Ctx, caller: Caller, name: str) -> Response:
    found = next((t for t in schemas.RESOURCE_TYPES.values() if t.name.lower() == name.lower()), None)
    if found is None:
        return scim_error(404, "no such resource type")
    return ScimJSONResponse(found.to_json(_base(ctx)))
