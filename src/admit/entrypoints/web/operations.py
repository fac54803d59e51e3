"""Operations: request ids, request metrics, ``/readyz`` and ``/metrics`` (``/healthz`` is in
``app.py``).

Every request gets an id: the caller's ``X-Request-Id`` when it is sane (1 to 128 letters,
digits, ``.``, ``_``, ``:`` or ``-``), else a new one. It is returned in ``X-Request-Id``, bound to
every log line written while the request runs (``request_id``), and stamped on the outbox messages
and jobs the request queues (:data:`admit.shared.context.REQUEST_ID`)."""

from __future__ import annotations

import hmac
import ipaddress
import re
import time
import uuid
from typing import Any

import structlog
from anyio import to_thread
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admit.adapters.persistence import migrate
from admit.config import Settings
from admit.shared import metrics, readiness
from admit.shared.context import REQUEST_ID, Context

SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "<unmatched>"
API_PREFIX = "/api/v1"


def request_id_from(header: bytes | None) -> str:
    if header is not None:
        given = header.decode("latin-1")
        if SANE_ID.fullmatch(given):
            return given
    return uuid.uuid4().hex


class RequestTelemetry:
    """The request id (header, log context, outbox and jobs) and the request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(dict(scope["headers"]).get(b"x-request-id"))
        token = REQUEST_ID.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = template(scope)
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            metrics.REQUESTS.labels(method, route, str(status)).inc()
            metrics.LATENCY.labels(method, route).observe(time.perf_counter() - started)
            if status == 429:
                metrics.THROTTLED.labels(route).inc()
            structlog.contextvars.unbind_contextvars("request_id")
            REQUEST_ID.reset(token)


def template(scope: Scope) -> str:
    """The matched route's path template (the API's routers are included under /api/v1, and the
    route FastAPI reports is the router's own, without that prefix)."""
    path = getattr(scope.get("route"), "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    if scope["path"].startswith(API_PREFIX + "/") and not path.startswith(API_PREFIX):
        return API_PREFIX + path
    return path


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


async def ready(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is current, else 503 with the reason."""
    ctx: Context = request.app.state.context
    head = await to_thread.run_sync(migrate.head)
    reason = await to_thread.run_sync(readiness.not_ready, ctx, head)
    if reason is not None:
        code, message = reason
        body: dict[str, Any] = {"status": "not_ready", "reason": code, "message": message}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5", "Cache-Control": "no-store"})
    return JSONResponse({"status": "ready", "migration": head}, headers={"Cache-Control": "no-store"})


async def scrape(request: Request) -> Response:
    """Prometheus' text format; with ``ADMIT_METRICS_TOKEN`` for that bearer token only, else for
    loopback clients only (a scraper on the same host, or through a tunnel)."""
    settings: Settings = request.app.state.settings
    if settings.metrics_token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), settings.metrics_token.encode()
        ):
            return JSONResponse(
                {
                    "error": {
                        "code": "invalid_credentials",
                        "message": "send the metrics token as a bearer token",
                        "field": None,
                    }
                },
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
    elif not _loopback(request.client.host if request.client else None):
        return JSONResponse(
            {
                "error": {
                    "code": "forbidden",
                    "message": "set ADMIT_METRICS_TOKEN to scrape from elsewhere",
                    "field": None,
                }
            },
            status_code=403,
        )
    body = await to_thread.run_sync(metrics.scrape, request.app.state.context)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8", headers={"Cache-Control": "no-store"})


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
