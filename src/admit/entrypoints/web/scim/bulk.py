"""``POST /scim/v2/Bulk`` (RFC 7644 §3.7): many operations in one request.

Each operation (``method`` POST, PUT, PATCH or DELETE; ``path`` ``/Groups``, ``/Groups/{id}``,
``/Users``, ``/Users/{id}``; ``bulkId``, required for POST; ``data``; ``version``, the If-Match)
is dispatched to the same service function the single route calls (:data:`SERVICES`), in a
transaction of its own: a failed operation does not undo the ones before it. ``bulkId:<id>`` in a
path or anywhere in ``data`` (members' values) names the resource a POST of this request made;
an operation whose reference is made by a later operation waits for it, references that wait
for each other (a cycle) are 409, a reference to a bulkId no operation has, or whose POST failed,
is 409 too. ``failOnErrors`` stops after that many errors (the answer lists the operations done).
More than ``MAX_OPERATIONS`` operations is 413; the gate refuses a body over ``MAX_PAYLOAD_BYTES``.
Each answer has ``method``, ``bulkId``, ``location``, ``version`` and ``status`` (a string), and
``response`` (the SCIM error) when the operation failed. A DELETE of a User that the
deprovisioning brake holds answers as the single DELETE does: status ``200``, with the unchanged
User as ``response`` (and its ``version``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import Response

from admit.admin import scim_groups, scim_users
from admit.domain.errors import DomainError, ValidationFailed
from admit.entrypoints.web.deps import Ctx, run_work
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.scim import MAX_OPERATIONS, Caller, body, logged, route
from admit.entrypoints.web.scim.errors import SCIM_TYPES, ScimJSONResponse
from admit.entrypoints.web.scim.groups import failure
from admit.scim.auth import ScimCaller
from admit.scim.errors import ERROR_SCHEMA, INVALID_PATH, INVALID_SYNTAX, INVALID_VALUE, ScimError
from admit.scim.schemas import BULK_REQUEST_SCHEMA, BULK_RESPONSE_SCHEMA
from admit.shared.context import Context

METHODS = ("POST", "PUT", "PATCH", "DELETE")
REFERENCE = "bulkId:"
MAX_BULK_ID = 200


@dataclass(frozen=True)
class Service:
    """What a resource type's single routes call (their signatures are the contract)."""

    create: Callable[[Context, ScimCaller, Any], dict[str, Any]]
    replace: Callable[[Context, ScimCaller, str, Any, str | None], dict[str, Any]]
    patch: Callable[[Context, ScimCaller, str, Any, str | None], dict[str, Any]]
    # None when gone; the resource, unchanged, when the deprovisioning brake holds the removal
    delete: Callable[[Context, ScimCaller, str, str | None], dict[str, Any] | None]


def _services() -> dict[str, Service]:
    return {
        "Groups": Service(scim_groups.create, scim_groups.replace, scim_groups.patch, scim_groups.delete),
        "Users": Service(
            lambda ctx, caller, body: scim_users.create(ctx, caller, body).resource,
            lambda ctx, caller, id, body, if_match: scim_users.replace(ctx, caller, id, body, if_match).resource,
            lambda ctx, caller, id, body, if_match: scim_users.patch(ctx, caller, id, body, if_match).resource,
            lambda ctx, caller, id, if_match: _resource(scim_users.delete(ctx, caller, id, if_match)),
        ),
    }


def _resource(user: scim_users.ScimUser | None) -> dict[str, Any] | None:
    return user.resource if user is not None else None


SERVICES = _services()


@dataclass
class _Operation:
    index: int
    method: str
    resource: str
    target: str | None  # the id (or ``bulkId:x``) of PUT, PATCH and DELETE
    bulk_id: str | None
    version: str | None
    data: Any


def _error_body(exc: Exception) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, ScimError):
        return exc.status, exc.body()
    assert isinstance(exc, DomainError)
    status = 400 if isinstance(exc, ValidationFailed) else status_of(exc)
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": exc.message}
    scim_type = next((kind for cls, kind in SCIM_TYPES if isinstance(exc, cls)), None)
    if scim_type is not None:
        body["scimType"] = scim_type
    return status, body


def _request(given: Any) -> tuple[list[Any], int | None]:
    if not isinstance(given, dict) or BULK_REQUEST_SCHEMA not in (given.get("schemas") or []):
        raise ScimError(400, INVALID_SYNTAX, f"send a body whose schemas list {BULK_REQUEST_SCHEMA}")
    operations = given.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, INVALID_SYNTAX, "Operations must be a non-empty list")
    if len(operations) > MAX_OPERATIONS:
        raise ScimError(
            413, None, f"at most {MAX_OPERATIONS} operations in one request (maxOperations), not {len(operations)}"
        )
    fail_on = given.get("failOnErrors")
    if fail_on is not None and (isinstance(fail_on, bool) or not isinstance(fail_on, int) or fail_on < 1):
        raise ScimError(400, INVALID_VALUE, "failOnErrors is a whole number of at least 1")
    return operations, fail_on


def _parse(index: int, raw: Any) -> _Operation:
    if not isinstance(raw, dict):
        raise ScimError(400, INVALID_SYNTAX, "an operation is an object")
    method = raw.get("method")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ScimError(400, INVALID_SYNTAX, "method is POST, PUT, PATCH or DELETE")
    method = method.upper()
    bulk_id = raw.get("bulkId")
    if bulk_id is not None and (not isinstance(bulk_id, str) or not bulk_id or len(bulk_id) > MAX_BULK_ID):
        raise ScimError(400, INVALID_VALUE, f"bulkId is text of 1 to {MAX_BULK_ID} characters")
    if method == "POST" and bulk_id is None:
        raise ScimError(400, INVALID_VALUE, "a POST needs a bulkId")
    version = raw.get("version")
    if version is not None and not isinstance(version, str):
        raise ScimError(400, INVALID_VALUE, "version is an ETag")
    path = raw.get("path")
    if not isinstance(path, str):
        raise ScimError(400, INVALID_PATH, "path is /Users, /Groups or one of theirs")
    parts = path.strip().strip("/").split("/")
    resource, target = parts[0], (parts[1] if len(parts) == 2 else None)
    if resource not in ("Users", "Groups") or len(parts) > 2 or (len(parts) == 2 and not parts[1]):
        raise ScimError(400, INVALID_PATH, f"no resource at {path[:80]!r}: use /Users, /Groups or one of theirs")
    if (method == "POST") != (target is None):
        raise ScimError(400, INVALID_PATH, "POST to /Users or /Groups; PUT, PATCH and DELETE to one resource")
    if resource not in SERVICES:
        raise ScimError(400, INVALID_PATH, f"/{resource} cannot be used in /Bulk on this server")
    if method != "DELETE" and raw.get("data") is None:
        raise ScimError(400, INVALID_SYNTAX, f"a {method} needs data")
    return _Operation(index, method, resource, target, bulk_id, version, raw.get("data"))


def _references(value: Any, found: set[str]) -> set[str]:
    if isinstance(value, str) and value.startswith(REFERENCE):
        found.add(value[len(REFERENCE) :])
    elif isinstance(value, dict):
        for item in value.values():
            _references(item, found)
    elif isinstance(value, list):
        for item in value:
            _references(item, found)
    return found


def _resolved(value: Any, made: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith(REFERENCE):
        return made[value[len(REFERENCE) :]]
    if isinstance(value, dict):
        return {key: _resolved(item, made) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, made) for item in value]
    return value


def run(ctx: Context, caller: ScimCaller, given: Any) -> dict[str, Any]:
    """The BulkResponse of a BulkRequest (see the module's docstring)."""
    raw_operations, fail_on = _request(given)
    answers: dict[int, dict[str, Any]] = {}
    errors = 0
    waiting: list[_Operation] = []
    declared: dict[str, int] = {}
    for index, raw in enumerate(raw_operations):
        try:
            operation = _parse(index, raw)
            if operation.bulk_id is not None and operation.method == "POST":
                if operation.bulk_id in declared:
                    raise ScimError(400, INVALID_VALUE, f"bulkId {operation.bulk_id[:80]} is used twice")
                declared[operation.bulk_id] = index
            waiting.append(operation)
        except ScimError as exc:
            answers[index] = _failed_answer(raw, exc)
            errors += 1
            if fail_on is not None and errors >= fail_on:
                return _response(answers)
    made: dict[str, str] = {}
    failed: set[str] = set()
    while waiting:
        later: list[_Operation] = []
        for operation in waiting:
            needs = _references(operation.data, set())
            if operation.target is not None:
                _references(operation.target, needs)
            pending = {ref for ref in needs if ref not in made}
            try:
                broken = sorted(ref for ref in pending if ref not in declared or ref in failed)
                if broken:
                    raise ScimError(409, INVALID_VALUE, f"bulkId {broken[0][:80]} made no resource")
                if pending:
                    later.append(operation)
                    continue
                answers[operation.index] = _perform(ctx, caller, operation, made)
            except (ScimError, DomainError) as exc:
                answers[operation.index] = _failed_answer(operation, exc)
            if answers[operation.index]["status"][0] in "45":
                errors += 1
                if operation.bulk_id is not None and operation.method == "POST":
                    failed.add(operation.bulk_id)
                if fail_on is not None and errors >= fail_on:
                    return _response(answers)
        if len(later) == len(waiting):  # nothing could go: the rest wait for each other
            for operation in later:
                detail = "its bulkId references form a cycle"
                answers[operation.index] = _failed_answer(operation, ScimError(409, INVALID_VALUE, detail))
                errors += 1
                if fail_on is not None and errors >= fail_on:
                    return _response(answers)
            break
        waiting = later
    return _response(answers)


def _perform(ctx: Context, caller: ScimCaller, operation: _Operation, made: dict[str, str]) -> dict[str, Any]:
    service = SERVICES[operation.resource]
    data = _resolved(operation.data, made)
    target = _resolved(operation.target, made) if operation.target is not None else None
    answer: dict[str, Any] = {"method": operation.method}
    if operation.bulk_id is not None:
        answer["bulkId"] = operation.bulk_id
    if operation.method == "DELETE":
        assert target is not None
        held = service.delete(ctx, caller, target, operation.version)
        answer["location"] = ctx.link(f"/scim/v2/{operation.resource}/{target}")
        if held is None:
            answer["status"] = "204"
            return answer
        # Held by the deprovisioning brake: as the single DELETE, 200 with the unchanged resource.
        if (held.get("meta") or {}).get("version"):
            answer["version"] = held["meta"]["version"]
        answer["status"] = "200"
        answer["response"] = held
        return answer
    if operation.method == "POST":
        resource = service.create(ctx, caller, data)
        if operation.bulk_id is not None:
            made[operation.bulk_id] = str(resource["id"])
        status = "201"
    elif operation.method == "PUT":
        assert target is not None
        resource = service.replace(ctx, caller, target, data, operation.version)
        status = "200"
    else:
        assert target is not None
        resource = service.patch(ctx, caller, target, data, operation.version)
        status = "200"
    meta = resource.get("meta") or {}
    answer["location"] = meta.get("location")
    if meta.get("version"):
        answer["version"] = meta["version"]
    answer["status"] = status
    return answer


def _failed_answer(operation: Any, exc: Exception) -> dict[str, Any]:
    status, error = _error_body(exc)
    answer: dict[str, Any] = {}
    if isinstance(operation, _Operation):
        answer["method"] = operation.method
        if operation.bulk_id is not None:
            answer["bulkId"] = operation.bulk_id
        if operation.target is not None:
            answer["location"] = f"/scim/v2/{operation.resource}/{operation.target}"
    elif isinstance(operation, dict):
        for key in ("method", "bulkId"):
            if isinstance(operation.get(key), str):
                answer[key] = operation[key][:MAX_BULK_ID]
    answer["status"] = str(status)
    answer["response"] = error
    return answer


def _response(answers: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [BULK_RESPONSE_SCHEMA], "Operations": [answers[i] for i in sorted(answers)]}


@route("/Bulk", methods=["POST"])
async def bulk(request: Request, ctx: Ctx, caller: Caller) -> Response:
    given = body(request)
    try:
        done = await run_work(ctx, lambda: run(ctx, caller, given))
    except ScimError as exc:
        return failure(exc)
    logged(request, change={"operations": len(done["Operations"])})
    return ScimJSONResponse(done)
