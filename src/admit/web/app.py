"""The ASGI application: REST API under /api/v1 (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from asgi_csrf import asgi_csrf  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from admit import __version__
from admit.config import Settings
from admit.delivery.transports import transports_for
from admit.delivery.worker import MISSING_TRANSPORT, DeliveryPolicy, OutboxWorker
from admit.services import endings, jobs
from admit.services.context import Context
from admit.web import dev, errors, multipart_csrf
from admit.web.api import admin, invitations, invitee, outbox, people
from admit.web.api import sso as sso_api
from admit.web.pages import admin as admin_pages
from admit.web.pages import admin_audit, admin_choose, admin_invitations, admin_jobs, admin_people, password_change
from admit.web.pages import home as home_pages
from admit.web.pages import invitee as invitee_pages
from admit.web.pages import recovery as recovery_pages
from admit.web.pages import sso as sso_pages
from admit.web.pages import terms as terms_pages
from admit.web.pages.security import Cookies, SecurityHeaders

log = logging.getLogger("admit.web")

DESCRIPTION = """Admit's REST API. Authenticate with `Authorization: Bearer <token>`: an API token
(`adm_api_…`, created with `admit token create`) for administration and integrations, or a
session token (`adm_ses_…`, from `POST /api/v1/sessions`) for a signed-in person. Every error
has the shape `{"error": {"code", "message", "field"}}`."""


def create_app(settings: Settings, context: Context, *, background: bool = True) -> FastAPI:
    """The app; ``background`` runs the expiry sweep, the job runner and (if configured) the
    outbox worker."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not background:
            yield
            return
        task = asyncio.create_task(_expire_forever(context, settings.expiry_sweep_seconds))
        stop = threading.Event()
        worker = _start_worker(settings, context, stop) if settings.worker_in_serve else None
        runner = None
        if settings.worker_in_serve:
            runner = threading.Thread(target=jobs.run_forever, args=(context, stop), name="job-runner", daemon=True)
            runner.start()
        try:
            yield
        finally:
            stop.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for thread in (worker, runner):
                if thread is not None:
                    await asyncio.to_thread(thread.join, 30)

    app = FastAPI(
        title="Admit",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry looks for configured providers on every request; off
        # unless asked for, it costs nothing.
        telemetry={"tracing": settings.telemetry, "metrics": settings.telemetry, "logs": settings.telemetry},
    )
    app.state.context = context
    app.state.settings = settings
    app.state.cookies = Cookies(settings)
    errors.install(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        Csrf,
        signing_secret=settings.secret_key,
        always_protect=PROTECTED,
        cookie_secure=app.state.cookies.secure,
        skip_if_scope=multipart_csrf.skip,
    )
    # Routes are matched in order: the health check and the API (the busiest paths) come first.
    app.add_api_route("/healthz", _health, methods=["GET"], include_in_schema=False)
    app.include_router(invitations.router, prefix="/api/v1")
    app.include_router(admin.router, prefix="/api/v1")
    app.include_router(invitee.router, prefix="/api/v1")
    app.include_router(outbox.router, prefix="/api/v1")
    app.include_router(sso_api.router, prefix="/api/v1")
    app.include_router(people.router, prefix="/api/v1")
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.include_router(invitee_pages.router)
    app.include_router(recovery_pages.router)
    app.include_router(home_pages.router)
    app.include_router(password_change.router)
    app.include_router(terms_pages.router)
    for admin_router in (admin_pages, admin_people, admin_invitations, admin_choose, admin_jobs, admin_audit):
        app.include_router(admin_router.router)
    app.include_router(sso_pages.router)
    if settings.dev_mode:
        app.include_router(dev.router)
    return app


def _start_worker(settings: Settings, context: Context, stop: threading.Event) -> threading.Thread | None:
    transports = transports_for(settings)
    worker = OutboxWorker(context, transports, DeliveryPolicy.from_settings(settings))
    for channel in worker.missing:
        log.warning(MISSING_TRANSPORT[channel])
    thread = threading.Thread(target=worker.run_forever, args=(stop,), name="outbox-worker", daemon=True)
    thread.start()
    return thread


class _Paths(frozenset[str]):
    """Exact paths, and every path under one of ``prefixes`` (the admin pages' ids vary)."""

    prefixes: tuple[str, ...] = ("/admin/",)

    def __contains__(self, path: object) -> bool:
        return super().__contains__(path) or (isinstance(path, str) and path.startswith(self.prefixes))


PROTECTED = _Paths(
    {
        "/change-password",
        "/switch-account",
        "/welcome/ask-again",
        "/welcome/claim",
        "/welcome/sign-up",
        "/welcome/verify",
        "/welcome/accept",
        "/welcome/decline",
        "/sign-in",
        "/sign-out",
        "/forgot-password",
        "/reset",
        "/sso/start",
        "/welcome/sso",
    }
)


UNPROTECTED = ("/api/", "/healthz")


class Csrf:
    """asgi-csrf as a Starlette middleware: every form POST carries a token bound to a cookie;
    bearer-token API calls are exempt; the page forms are protected even without cookies."""

    def __init__(self, app: ASGIApp, /, **options: Any) -> None:
        self.app = app
        self.wrapped = asgi_csrf(app, **options)
        self.secret = options["signing_secret"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNPROTECTED):
            # Bearer-token API calls and the health check: no form, no cookie to sign per request.
            await self.app(scope, receive, send)
            return
        if (
            scope["method"] == "POST"
            and scope["method"] == "POST"
            and not scope["path"].startswith("/api/")
            and multipart_csrf.is_multipart(scope)
        ):  # upload forms: asgi-csrf cannot parse them with the current python-multipart
            await multipart_csrf.check(scope, receive, send, self.secret, self.wrapped)
            return
        await self.wrapped(scope, receive, send)


async def _expire_forever(context: Context, every: float) -> None:
    """Mark lapsed invitations expired now and then; lapsed ones already read as expired."""
    while True:
        try:
            count = await asyncio.to_thread(endings.expire_due, context)
            if count:
                log.info("expired %d invitation(s)", count)
        except Exception:
            log.exception("expiring invitations failed; will try again")
        await asyncio.sleep(every)


async def _health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}
