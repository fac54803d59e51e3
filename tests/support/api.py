"""An in-process client for the REST API over the test's database."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from admit.config import Settings
from admit.entrypoints.web.app import create_app
from admit.flows.signin import sessions
from admit.shared.context import Actor, Context


def client(ctx: Context, token: str | None = None) -> TestClient:
    app = create_app(Settings(dev_mode=True, _env_file=None), ctx, background=False)  # type: ignore[call-arg]
    headers = {"authorization": f"Bearer {token}"} if token else {}
    test_client = TestClient(app, headers=headers, raise_server_exceptions=False)
    test_client.fastapi_app = app  # type: ignore[attr-defined]
    return test_client


def api_token(ctx: Context, organization_id: str | None, role: str = "admin", **kw: Any) -> str:
    token, _ = sessions.create_api_token(
        ctx, Actor.operator(), name="test", role=role, organization_id=organization_id, **kw
    )
    return token
