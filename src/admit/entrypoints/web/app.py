"""The ASGI application: REST API under /api/v1 (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from admit import __version__
from admit.adapters.delivery.transports import transports_for
from admit.admin import scim_log
from admit.config import Settings
from admit.entrypoints.web import dev, errors, oidc, operations, scim
from admit.entrypoints.web.api import invitation, signin, signup, terms
from admit.entrypoints.web.api import self_sign_up as self_sign_up_api
from admit.entrypoints.web.api import settings as settings_api
from admit.entrypoints.web.api.admin import (
    access_codes,
    clients,
    groups,
    identity_providers,
    invitations,
    org_controls,
    org_invitations,
    organizations,
    outbox,
    people,
    scim_holds,
    scim_tokens,
    webhooks,
)
from admit.entrypoints.web.api.admin import (
    sellers as sellers_api,
)
from admit.entrypoints.web.api.admin import signup as signup_api
from admit.entrypoints.web.deps import close_loop_connections, run_work
from admit.entrypoints.web.form_guard import FormGuard
from admit.entrypoints.web.idempotency import IdempotencyKeys
from admit.entrypoints.web.pages import access_code as access_code_pages
from admit.entrypoints.web.pages import brand as brand_pages
from admit.entrypoints.web.pages import home as home_pages
from admit.entrypoints.web.pages import invitation as invitation_pages
from admit.entrypoints.web.pages import oidc_account, oidc_logout
from admit.entrypoints.web.pages import org_invitations as org_invitation_pages
from admit.entrypoints.web.pages import recovery as recovery_pages
from admit.entrypoints.web.pages import self_sign_up as self_sign_up_pages
from admit.entrypoints.web.pages import settings as settings_pages
from admit.entrypoints.web.pages import signin as signin_pages
from admit.entrypoints.web.pages import signup as signup_pages
from admit.entrypoints.web.pages import sso as sso_pages
from admit.entrypoints.web.pages import terms as terms_pages
from admit.entrypoints.web.pages.admin import access_codes as access_code_admin_pages
from admit.entrypoints.web.pages.admin import access_sheets as access_sheet_pages
from admit.entrypoints.web.pages.admin import apps as apps_pages
from admit.entrypoints.web.pages.admin import audit, choose, console
from admit.entrypoints.web.pages.admin import customers as customer_pages
from admit.entrypoints.web.pages.admin import groups as groups_pages
from admit.entrypoints.web.pages.admin import invitations as invitation_admin_pages
from admit.entrypoints.web.pages.admin import jobs as jobs_pages
from admit.entrypoints.web.pages.admin import org_invitation_admin as org_invitation_admin_pages
from admit.entrypoints.web.pages.admin import organization as organization_pages
from admit.entrypoints.web.pages.admin import people as people_pages
from admit.entrypoints.web.pages.admin import person as person_pages
from admit.entrypoints.web.pages.admin import scim as scim_pages
from admit.entrypoints.web.pages.admin import scim_holds as scim_holds_pages
from admit.entrypoints.web.pages.admin import settings as workspace_settings_pages
from admit.entrypoints.web.pages.admin import signin as sign_in_admin_pages
from admit.entrypoints.web.pages.admin import signup as signup_admin_pages
from admit.entrypoints.web.pages.admin import terms as terms_admin_pages
from admit.entrypoints.web.pages.admin import webhooks as webhook_pages
from admit.entrypoints.web.routing import Router, include
from admit.entrypoints.web.security import Cookies, SecurityHeaders
from admit.entrypoints.workers import jobs_worker
from admit.entrypoints.workers.outbox_worker import MISSING_TRANSPORT, DeliveryPolicy, OutboxWorker
from admit.entrypoints.workers.periodic import Periodic, run_periodic
from admit.entrypoints.workers.webhook_worker import start_webhook_worker
from admit.oidc_provider import backchannel
from admit.shared.context import Context

log = logging.getLogger("admit.entrypoints.web")
STATIC = Path(__file__).parent / "static"
DOCS_ASSETS = Path(str(resources.files("fastapi_offline") / "static"))

DESCRIPTION = """Admit's REST API. Authenticate with `Authorization: Bearer <token>`: an API token
(`adm_api_…`, created with `admit token create`) for administration and integrations, or a
session token (`adm_ses_…`, from `POST /api/v1/sessions`) for a signed-in person. Every error
has the shape `{"error": {"code", "message", "field"}}`."""


def freeze_startup_objects() -> None:
    """Leave the objects made while starting (the app's routes, templates, tables, libraries: some
    230,000) out of every later garbage collection (``gc.freeze``). A full collection walked them
    all, about 150 ms of a core here, stopping every request of the process meanwhile; frozen, a
    full collection of them costs nothing. Collections still run for what requests allocate.
    (It did not remove the soak's occasional minutes with a p99 over half a second:
    ``bench/README.md``.)"""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, context: Context, *, background: bool = True) -> FastAPI:
    """The app; ``background`` runs the expiry sweep, the job runner and (if configured) the
    outbox worker."""

    @contextlib.asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        if background:
            freeze_startup_objects()
        try:
            async with _background(background):
                yield
        finally:
            await _write_waiting_log_rows(getattr(started.state, "context", context))
            close_loop_connections()

    async def _write_waiting_log_rows(serving: Context) -> None:
        try:
            await run_work(serving, lambda: scim_log.flush(serving))
        except Exception:
            log.exception("the SCIM request log's waiting rows were lost at shutdown")

    @contextlib.asynccontextmanager
    async def _background(background: bool) -> AsyncIterator[None]:
        if not background:
            yield
            return
        task = asyncio.create_task(run_periodic(Periodic(context, settings.expiry_sweep_seconds)))
        stop = threading.Event()
        worker = _start_worker(settings, context, stop) if settings.worker_in_serve else None
        hooks = start_webhook_worker(settings, context, stop) if settings.worker_in_serve else None
        runner = None
        if settings.worker_in_serve:
            runner = threading.Thread(
                target=jobs_worker.run_forever,
                args=(context, stop),
                kwargs={"lease": timedelta(seconds=settings.job_lease_seconds)},
                name="job-runner",
                daemon=True,
            )
            runner.start()
        try:
            yield
        finally:
            stop.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for thread in (worker, hooks, runner):
                if thread is not None:
                    await asyncio.to_thread(thread.join, 30)

    app = FastAPI(
        title="Admit",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served below from local files: the docs work without internet
        redoc_url=None,
        lifespan=lifespan,
        # No redirect from "/path/" to "/path": Starlette builds its Location from the request's Host
        # header, and links are made from the configured base URL only. Such a path is a 404 page.
        redirect_slashes=False,
        # FastAPI's native OpenTelemetry looks for configured providers on every request; off
        # unless asked for, it costs nothing.
        telemetry={"tracing": settings.telemetry, "metrics": settings.telemetry, "logs": settings.telemetry},
    )
    bind(app, settings, context)
    errors.install(app)
    # The last added runs first: security headers go on every page, the form guard's refusals too.
    app.add_middleware(IdempotencyKeys)  # /api/v1 only: Idempotency-Key on POST, PUT, PATCH, DELETE
    app.add_middleware(scim.ScimGate)  # /scim/v2 only: bearer token, body checks, request log
    app.add_middleware(FormGuard, settings=settings, cookie_secure=app.state.cookies.secure)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(operations.RequestTelemetry)  # first: the request id and metrics of everything
    # Routes are matched in order: the health check, then what machines call at volume (apps'
    # sign-ins at the OpenID endpoints, identity providers' syncs at /scim/v2: each a router
    # passed over with one regular expression when the path is not its), then the REST API.
    app.add_api_route("/healthz", _health, methods=["GET"], include_in_schema=False)
    app.add_api_route("/readyz", operations.ready, methods=["GET"], include_in_schema=False)
    app.add_api_route("/metrics", operations.scrape, methods=["GET"], include_in_schema=False)
    _answer_head_like_get(oidc.router)
    include(app, oidc.router)
    include(app, scim.router)  # SCIM 2.0 provisioning at /scim/v2 (identity providers)
    api = (
        invitations,
        organizations,
        signin,
        settings_api,
        invitation,
        signup,
        outbox,
        identity_providers,
        clients,
        people,
        terms,
        access_codes,
        signup_api,
        scim_tokens,
        groups,
        scim_holds,
        self_sign_up_api,
        webhooks,
        org_controls,
        sellers_api,
        org_invitations,
    )
    for module in api:
        include(app, module.router)  # each carries its /api/v1 prefix (see routing.Router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.mount("/api/v1/docs/assets", StaticFiles(directory=str(DOCS_ASSETS)), name="docs-assets")
    app.add_api_route("/api/v1/docs", _docs, methods=["GET"], include_in_schema=False)
    pages = (
        invitation_pages,
        signup_pages,
        self_sign_up_pages,
        signin_pages,
        recovery_pages,
        home_pages,
        org_invitation_pages,
        settings_pages,
        terms_pages,
        brand_pages,
        access_code_pages,
    )
    admin = (
        organization_pages,  # before console: /admin/org/… is not a workspace
        customer_pages,  # a seller's customers (issue 17), also under /admin/org/…
        org_invitation_admin_pages,  # invitations to join the organization's account (issue 17), ditto
        console,
        groups_pages,
        people_pages,
        person_pages,
        invitation_admin_pages,
        choose,
        jobs_pages,
        audit,
        apps_pages,
        terms_admin_pages,
        workspace_settings_pages,
        sign_in_admin_pages,
        access_code_admin_pages,
        access_sheet_pages,
        signup_admin_pages,
        scim_holds_pages,  # before scim_pages: /scim/holds is not a token's request log
        scim_pages,
        webhook_pages,
    )
    for module in (*pages, *admin, sso_pages, oidc_account, oidc_logout):
        _answer_head_like_get(module.router)
        include(app, module.router)
    app.add_api_route("/favicon.ico", _favicon, methods=["GET", "HEAD"], include_in_schema=False)
    if settings.dev_mode:
        include(app, dev.router)
    _document_idempotency_key(app)
    return app


IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Up to 255 printable ASCII characters. A retry with the same key (same token, same method, path and "
        "body) within 24 hours gets the first answer again, with `Idempotent-Replayed: true`, and changes "
        "nothing twice; the same key with another request answers 422, and a retry while the first is still "
        "running 409."
    ),
    "schema": {"type": "string", "maxLength": 255},
}


def _document_idempotency_key(app: FastAPI) -> None:
    """Add the Idempotency-Key header to every changing API operation in the OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            for path, operations_by_method in schema.get("paths", {}).items():
                if not path.startswith("/api/v1/"):
                    continue
                for method, operation in operations_by_method.items():
                    if method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
                        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def bind(app: FastAPI, settings: Settings, context: Context) -> None:
    """What a request reads from its app: the use cases' context, the settings, the cookies."""
    app.state.context = context
    app.state.settings = settings
    app.state.cookies = Cookies(settings)


def _answer_head_like_get(router: Router) -> None:
    """A page answers HEAD as it answers GET (link checkers and monitors ask; GET changes nothing)."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.methods and "GET" in route.methods:
            route.methods.add("HEAD")


async def _docs() -> HTMLResponse:
    """Swagger UI for the API, its script and styles from this server (fastapi-offline's copy)."""
    return get_swagger_ui_html(
        openapi_url="/api/v1/openapi.json",
        title="Admit API",
        swagger_js_url="/api/v1/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/api/v1/docs/assets/swagger-ui.css",
        swagger_favicon_url="/favicon.ico",
    )


async def _favicon() -> FileResponse:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


def _start_worker(settings: Settings, context: Context, stop: threading.Event) -> threading.Thread | None:
    transports = transports_for(settings, backchannel.signer(context))
    worker = OutboxWorker(context, transports, DeliveryPolicy.from_settings(settings))
    for channel in worker.missing:
        log.warning(MISSING_TRANSPORT[channel])
    thread = threading.Thread(target=worker.run_forever, args=(stop,), name="outbox-worker", daemon=True)
    thread.start()
    return thread


async def _health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}
