"""``/scim/v2/Groups`` (RFC 7644 §3): create, get, list (filter, startIndex/count, cursors,
attributes), PUT, PATCH, DELETE, ``/Groups/.search``. The rules are :mod:`admit.admin.scim_groups`'s;
this module reads the request and shapes the answer (ETag and Location headers, projection)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from admit.admin import scim_groups
from admit.entrypoints.web.deps import Ctx, run_work
from admit.entrypoints.web.scim import Caller, body, logged, route
from admit.entrypoints.web.scim.errors import ScimJSONResponse
from admit.scim import etags
from admit.scim.errors import INVALID_SYNTAX, ScimError
from admit.scim.projection import project
from admit.scim.schemas import GROUP_TYPE, SEARCH_REQUEST_SCHEMA


def failure(exc: ScimError) -> Response:
    return ScimJSONResponse(exc.body(), status_code=exc.status)


def _projection(request: Request) -> tuple[str | None, str | None]:
    query = request.query_params
    return query.get("attributes"), query.get("excludedAttributes")


def answer(request: Request, resource: dict[str, Any], status: int = 200) -> Response:
    """The resource as asked (``attributes``/``excludedAttributes``) with its ETag (and Location on 201)."""
    attributes, excluded = _projection(request)
    meta = resource["meta"]
    headers = {"ETag": meta["version"]}
    if status == 201:
        headers["Location"] = meta["location"]
    return ScimJSONResponse(project(resource, GROUP_TYPE, attributes, excluded), status_code=status, headers=headers)


def _members(request: Request) -> bool:
    try:
        return scim_groups.wants_members(*_projection(request))
    except ScimError:
        return True  # the projection refuses the parameters when the answer is made


@route("/Groups", methods=["POST"])
async def create_group(request: Request, ctx: Ctx, caller: Caller) -> Response:
    given = body(request)
    try:
        made = await run_work(ctx, lambda: scim_groups.create(ctx, caller, given))
        logged(request, resource_id=made["id"], change=given)
        return answer(request, made, 201)
    except ScimError as exc:
        return failure(exc)


@route("/Groups")
async def list_groups(request: Request, ctx: Ctx, caller: Caller) -> Response:
    query = request.query_params
    try:
        found = await run_work(
            ctx,
            lambda: scim_groups.search(
                ctx,
                caller,
                filter=query.get("filter"),
                start_index=query.get("startIndex"),
                count=query.get("count"),
                cursor=query.get("cursor"),
                attributes=query.get("attributes"),
                excluded=query.get("excludedAttributes"),
            ),
        )
    except ScimError as exc:
        return failure(exc)
    return ScimJSONResponse(found)


@route("/Groups/.search", methods=["POST"])
async def search_groups(request: Request, ctx: Ctx, caller: Caller) -> Response:
    """A search in the body (RFC 7644 §3.4.3)."""
    given = body(request)
    try:
        if not isinstance(given, dict) or SEARCH_REQUEST_SCHEMA not in (given.get("schemas") or []):
            raise ScimError(400, INVALID_SYNTAX, f"send a body whose schemas list {SEARCH_REQUEST_SCHEMA}")

        def text(name: str) -> str | None:
            value = given.get(name)
            if value is None:
                return None
            if isinstance(value, list):
                return ",".join(str(v) for v in value)
            return str(value)

        found = await run_work(
            ctx,
            lambda: scim_groups.search(
                ctx,
                caller,
                filter=text("filter"),
                start_index=text("startIndex"),
                count=text("count"),
                cursor=text("cursor"),
                attributes=text("attributes"),
                excluded=text("excludedAttributes"),
            ),
        )
    except ScimError as exc:
        return failure(exc)
    return ScimJSONResponse(found)


@route("/Groups/{group_id}")
async def get_group(request: Request, ctx: Ctx, caller: Caller, group_id: str) -> Response:
    try:
        found = await run_work(ctx, lambda: scim_groups.get(ctx, caller, group_id, members=_members(request)))
        version = found["meta"]["version"]
        outcome = etags.evaluate(version, if_none_match=request.headers.get("if-none-match"), safe=True)
        if outcome is etags.Outcome.NOT_MODIFIED:
            return Response(status_code=304, headers={"ETag": version})
        return answer(request, found)
    except ScimError as exc:
        return failure(exc)


@route("/Groups/{group_id}", methods=["PUT"])
async def replace_group(request: Request, ctx: Ctx, caller: Caller, group_id: str) -> Response:
    given = body(request)
    if_match = request.headers.get("if-match")
    try:
        done = await run_work(
            ctx, lambda: scim_groups.replace(ctx, caller, group_id, given, if_match, members=_members(request))
        )
        logged(request, resource_id=group_id, change=given)
        return answer(request, done)
    except ScimError as exc:
        return failure(exc)


@route("/Groups/{group_id}", methods=["PATCH"])
async def patch_group(request: Request, ctx: Ctx, caller: Caller, group_id: str) -> Response:
    """200 with the group (honouring ``attributes``/``excludedAttributes``: ask
    ``excludedAttributes=members`` not to get a big group's members back)."""
    given = body(request)
    if_match = request.headers.get("if-match")
    try:
        done = await run_work(
            ctx, lambda: scim_groups.patch(ctx, caller, group_id, given, if_match, members=_members(request))
        )
        logged(request, resource_id=group_id, change=given)
        return answer(request, done)
    except ScimError as exc:
        return failure(exc)


@route("/Groups/{group_id}", methods=["DELETE"])
async def delete_group(request: Request, ctx: Ctx, caller: Caller, group_id: str) -> Response:
    if_match = request.headers.get("if-match")
    try:
        await run_work(ctx, lambda: scim_groups.delete(ctx, caller, group_id, if_match))
    except ScimError as exc:
        return failure(exc)
    logged(request, resource_id=group_id)
    return Response(status_code=204)
