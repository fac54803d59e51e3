"""An in-process client for the REST API over the test's database."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import anyio.from_thread
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.datastructures import State

from admit.config import Settings
from admit.entrypoints.web.app import bind, create_app
from admit.flows.signin import sessions
from admit.shared.context import Actor, Context

_routes: list[FastAPI] = []  # one app per test process, whose routes every client shares
_portal = contextlib.ExitStack()  # the event loop thread the clients of the running test share
_portals: list[BlockingPortal] = []


def _shared_portal() -> BlockingPortal:
    """A TestClient outside ``with`` starts an event loop in a new thread for every request (two,
    counting the body); the clients of one test share one instead. Each request still runs to its
    end (background tasks included) before the client returns, as it does on a portal of its own.
    :func:`close_portal` (an autouse fixture, after each test) stops it."""
    if not _portals:
        _portals.append(_portal.enter_context(anyio.from_thread.start_blocking_portal()))
    return _portals[0]


def close_portal() -> None:
    _portals.clear()
    _portal.close()


def client(ctx: Context, token: str | None = None) -> TestClient:
    """A client of the app (dev mode) on ``ctx``. FastAPI prepares an app's routes on its first
    request (some 200 ms); each client gets an app of its own that shares the prepared routes,
    middleware and handlers of one app, with its own state (context, settings, cookies)."""
    settings = Settings(dev_mode=True, _env_file=None)  # type: ignore[call-arg]
    if not _routes:
        _routes.append(create_app(settings, ctx, background=False))
    app = copy.copy(_routes[0])
    app.state = State()
    bind(app, settings, ctx)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    test_client = TestClient(app, headers=headers, raise_server_exceptions=False)
    test_client.portal = _shared_portal()
    test_client.fastapi_app = app  # type: ignore[attr-defined]
    return test_client


def api_token(ctx: Context, organization_id: str | None, role: str = "admin", **kw: Any) -> str:
    token, _ = sessions.create_api_token(
        ctx, Actor.operator(), name="test", role=role, organization_id=organization_id, **kw
    )
    return token
