"""The ASGI application: REST API under /api/v1 (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from admit import __version__
from admit.config import Settings
from admit.delivery.transports import transports_for
from admit.delivery.worker import MISSING_TRANSPORT, DeliveryPolicy, OutboxWorker
from admit.services import endings, jobs
from admit.services.context import Context
from admit.web import dev, errors
from admit.web.api import admin, invitations, invitee, outbox, people
from admit.web.api import sso as sso_api
from admit.web.api import terms as terms_api
from admit.web.form_guard import FormGuard
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
    # The last added runs first: security headers go on every page, the form guard's refusals too.
    app.add_middleware(FormGuard, settings=settings, cookie_secure=app.state.cookies.secure)
    app.add_middleware(SecurityHeaders)
    # Routes are matched in order: the health check and the API (the busiest paths) come first.
    app.add_api_route("/healthz", _health, methods=["GET"], include_in_schema=False)
    app.include_router(invitations.router, prefix="/api/v1")
    app.include_router(admin.router, prefix="/api/v1")
    app.include_router(invitee.router, prefix="/api/v1")
    app.include_router(outbox.router, prefix="/api/v1")
    app.include_router(sso_api.router, prefix="/api/v1")
    app.include_router(people.router, prefix="/api/v1")
    app.include_router(terms_api.router, prefix="/api/v1")
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
