"""The SCIM 2.0 service provider at ``/scim/v2`` (RFC 7643, RFC 7644), for identity providers
such as Entra ID and Okta.

Every request under ``/scim/v2`` passes :class:`ScimGate` first (it wraps the app in
``app.py``). The gate

1. authenticates the bearer token (:func:`admit.scim.auth.authenticate`): none, an unknown or a
   revoked one is 401 with ``WWW-Authenticate: Bearer`` and a SCIM error body, before any route
   is looked at (an unknown path is 404 only for a valid token);
2. refuses a body larger than ``MAX_PAYLOAD_BYTES`` (413), of a type other than JSON
   (``application/scim+json`` or ``application/json``: 415) or that is not JSON (400
   ``invalidSyntax``), and hands the parsed body on (:func:`body`);
3. logs the request (:func:`admit.admin.scim_log.entry`) once the answer's status is known, for
   every authenticated request, whatever the route (404 and 405 included); the rows are written
   in batches (:class:`LogBatch`).

Errors anywhere under ``/scim/v2`` are SCIM error bodies (``errors.py``); ``app.py``'s handlers
ask :func:`~admit.entrypoints.web.scim.errors.is_scim`. Bearer requests here bypass the form
guard (``form_guard.UNPROTECTED``): nothing here reads a cookie.

How a route is added (the second wave: ``/Users``, ``/Groups``, ``/Schemas``, ``/ResourceTypes``,
``/Bulk``, ``/.search``), on :data:`router`::

    @route("/Users", methods=["POST"])
    async def create_user(request: Request, ctx: Ctx, caller: Caller) -> Response:
        given = body(request)                      # the parsed JSON (checked by the gate)
        user = await run_work(ctx, lambda: users.create(ctx, caller, given), quick=True)
        logged(request, resource_id=user.id, change=given)   # what the log shows (made safe there)
        return ScimJSONResponse(user.resource, status_code=201)

A route is a plain Starlette route (:func:`route`): the handler gets the request, the context,
the caller and the path's parameters, without FastAPI's dependency solving and answer handling
(a tenth of a SCIM lookup's CPU, for nothing used here). ``Caller`` is the authenticated
:class:`~admit.scim.auth.ScimCaller` (its organization, its workspace or None for all, its role
ceiling): every query filters by it. Raise domain errors
(``NotFound``, ``AlreadyExists``, ``ValidationFailed`` …): they become SCIM errors with a fitting
``scimType``. ``MAX_OPERATIONS``, ``MAX_PAYLOAD_BYTES`` and ``MAX_RESULTS`` are what
``ServiceProviderConfig`` announces; ``/Bulk`` and the list endpoints enforce them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import Response
from starlette.routing import Router as StarletteRouter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admit.adapters.persistence.database import outage
from admit.admin import scim_log
from admit.domain.errors import DomainError
from admit.entrypoints.web.deps import Ctx, context_of, run_work
from admit.entrypoints.web.errors import status_of
from admit.entrypoints.web.routing import Router
from admit.entrypoints.web.scim.errors import PREFIX, SCIM_JSON, ScimJSONResponse, from_domain, is_scim, scim_error
from admit.scim.auth import ScimCaller, authenticate
from admit.shared import json_input
from admit.shared.context import Context

_log = logging.getLogger(__name__)
MAX_OPERATIONS = 1000  # operations in one /Bulk request
MAX_PAYLOAD_BYTES = 1024 * 1024  # the largest body of any request (a /Bulk one included)
MAX_RESULTS = 1000  # resources in one list or search answer
CALLER = "admit.scim_caller"
BODY = "admit.scim_body"
LOGGED = "admit.scim_logged"
JSON_TYPES = ("application/scim+json", "application/json")

router = Router(prefix=PREFIX, include_in_schema=False)


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def caller_of(request: Request) -> ScimCaller:
    caller = request.state._state.get(CALLER)
    assert isinstance(caller, ScimCaller), "the SCIM gate authenticates every /scim/v2 request"
    return caller


async def _caller(request: Request) -> ScimCaller:
    return caller_of(request)


Caller = Annotated[ScimCaller, Depends(_caller)]
ScimHandler = Callable[..., Awaitable[Response]]


def route(path: str, *, methods: Sequence[str] = ("GET",)) -> Callable[[ScimHandler], ScimHandler]:
    """Register ``handler(request, ctx, caller, **path_parameters)`` for ``path`` (under
    ``/scim/v2``) as a plain Starlette route (``Router.page``); a GET route answers HEAD too."""

    def register(handler: ScimHandler) -> ScimHandler:
        async def endpoint(request: Request) -> Response:
            return await handler(request, context_of(request), caller_of(request), **request.path_params)

        endpoint.__name__ = endpoint.__qualname__ = handler.__name__
        router.page(path, methods=methods)(endpoint)
        return handler

    return register


def body(request: Request) -> Any:
    """The request's parsed JSON body (None without one)."""
    return request.state._state.get(BODY)


def logged(request: Request, *, resource_id: str | None = None, change: Any = None) -> None:
    """What the request log records besides method, path and status: the resource touched and
    what changed (secrets are hidden by :func:`admit.admin.scim_log.safe_change`)."""
    request.state._state[LOGGED] = (resource_id, change)


class ScimGate:
    """Authentication, body checks and the request log for ``/scim/v2`` (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: ASGIApp | None = None

    def _scim_routes(self, scope: Scope) -> ASGIApp:
        """The SCIM routes alone, behind the app's own exception handlers (but the last-resort
        one, which stays the outermost middleware's). Nothing after this gate concerns a SCIM
        request (idempotency keys are the REST API's, every SCIM route is a plain Starlette route),
        and going through it, the REST API's router included, cost a lookup a sixth of its CPU.
        Which route answers is the same, and an unknown path or method raises the same 404 or 405."""
        if self._routes is None:
            handlers = scope["app"].exception_handlers
            self._routes = ExceptionMiddleware(
                StarletteRouter(routes=sorted(router.routes, key=_less_asked)),
                handlers={key: handler for key, handler in handlers.items() if key not in (500, Exception)},
            )
        return self._routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_scim(scope["path"]):
            await self.app(scope, receive, send)
            return
        ctx: Context = scope["app"].state.context
        header = _header(scope, b"authorization")
        try:
            caller = await run_work(ctx, lambda: authenticate(ctx, header), quick=True)
        except DomainError as exc:
            await from_domain(exc, status_of(exc))(scope, receive, send)
            return
        status = 500
        try:
            refused, parsed, receive = await _read_body(scope, receive)
            if refused is not None:
                status = refused.status_code
                await refused(scope, receive, send)
                return
            _state(scope).update({CALLER: caller, BODY: parsed})

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            await self._scim_routes(scope)(scope, receive, sending)
        finally:
            resource_id, change = _state(scope).get(LOGGED, (None, None))
            await LogBatch.of(scope["app"].state).add(
                ctx, scim_log.entry(ctx, caller, scope["method"], scope["path"], status, resource_id, change)
            )


class LogBatch:
    """When the request log's waiting rows are written (:func:`admit.admin.scim_log.keep`): at
    once when ``scim_log.BATCH_SIZE`` wait, else by a timer ``scim_log.BATCH_WAIT_SECONDS`` after
    the first, and at the app's shutdown (``app.py``). One per app."""

    def __init__(self) -> None:
        self._armed_on: asyncio.AbstractEventLoop | None = None  # the loop whose timer will write
        self._tasks: set[asyncio.Task[None]] = set()  # the timers' writes, kept until done

    @classmethod
    def of(cls, state: Any) -> LogBatch:
        batch = getattr(state, "scim_log_batch", None)
        if batch is None:
            batch = state.scim_log_batch = cls()
        return batch

    async def add(self, ctx: Context, row: dict[str, Any]) -> None:
        if scim_log.keep(ctx, row) >= scim_log.BATCH_SIZE:
            with contextlib.suppress(Exception):  # logged by flush; the rows wait for the next try
                await self.flush(ctx)
            return
        loop = asyncio.get_running_loop()
        if self._armed_on is not loop:  # no timer yet (or only on a closed loop: a test client's)
            self._armed_on = loop
            loop.call_later(scim_log.BATCH_WAIT_SECONDS, self._flush_soon, loop, ctx)

    def _flush_soon(self, loop: asyncio.AbstractEventLoop, ctx: Context) -> None:
        self._armed_on = None
        if scim_log.waiting(ctx) and not loop.is_closed():
            task = loop.create_task(self.flush(ctx))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved (asyncio would warn otherwise): flush logged it

    async def flush(self, ctx: Context) -> None:
        try:
            await run_work(ctx, lambda: scim_log.flush(ctx), quick=True)
        except Exception as exc:
            if outage(exc):  # one line, as every outage is logged
                _log.warning("the SCIM request log waits: the database is unavailable (%s)", type(exc).__name__)
            else:
                _log.exception("the SCIM request log's waiting rows could not be written (they wait again)")
            raise


def _less_asked(route: Any) -> bool:
    """Users' routes first: a provider's sync is mostly Users (routes are tried in order; no two
    SCIM routes match the same path and method, so the order decides nothing else)."""
    return not str(getattr(route, "path", "")).startswith(f"{PREFIX}/Users")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(scope: Scope, receive: Receive) -> tuple[Response | None, Any, Receive]:
    """(a refusal or None, the parsed body, a ``receive`` that replays what was read)."""
    declared = _header(scope, b"content-length")
    if declared is not None and not declared.strip().isdigit():
        return scim_error(400, "the Content-Length header is not a number", "invalidSyntax"), None, receive
    if declared is not None and int(declared) > MAX_PAYLOAD_BYTES:
        return scim_error(413, f"the body is larger than {MAX_PAYLOAD_BYTES} bytes"), None, receive
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return scim_error(400, "the client went away", "invalidSyntax"), None, receive
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_PAYLOAD_BYTES:
            return scim_error(413, f"the body is larger than {MAX_PAYLOAD_BYTES} bytes"), None, receive
        chunks.append(chunk)
        more = bool(message.get("more_body"))
    raw = b"".join(chunks)

    async def replay() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    if not raw.strip():
        return None, None, replay
    media = (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES:
        return scim_error(415, f"send the body as {SCIM_JSON} (or application/json)", "invalidSyntax"), None, replay
    try:
        parsed = json.loads(raw, parse_constant=json_input.no_constant)
        json_input.check(raw, parsed)
    except RecursionError:
        return scim_error(400, "the body is not valid JSON: it nests too deeply", "invalidSyntax"), None, replay
    except (UnicodeDecodeError, ValueError) as exc:
        return scim_error(400, f"the body is not valid JSON: {str(exc)[:200]}", "invalidSyntax"), None, replay
    return None, parsed, replay


SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"


@route("/ServiceProviderConfig")
async def service_provider_config(request: Request, ctx: Ctx, caller: Caller) -> Response:
    """What this service provider supports (RFC 7643 §5). No ``documentationUri``: it must be an
    absolute URI and the project has no public documentation address yet (README.md "SCIM")."""
    config = {
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "patch": {"supported": True},
        "bulk": {"supported": True, "maxOperations": MAX_OPERATIONS, "maxPayloadSize": MAX_PAYLOAD_BYTES},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A SCIM token (adm_scm_…) created in Admit's console, REST API or CLI, "
                "sent as 'Authorization: Bearer <token>'.",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": ctx.link(f"{PREFIX}/ServiceProviderConfig"),
        },
    }
    return ScimJSONResponse(config)


__all__ = ["MAX_OPERATIONS", "MAX_PAYLOAD_BYTES", "MAX_RESULTS", "Caller", "ScimGate", "body", "logged", "router"]

# The resource routes register themselves on ``router`` (imported last: they import this module).
from admit.entrypoints.web.scim import bulk, groups, users  # noqa: E402,F401
