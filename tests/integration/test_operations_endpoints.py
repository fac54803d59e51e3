"""Operations over HTTP, on both databases: /readyz, /metrics (its documented names, its guard),
request ids (in the response, the outbox, jobs and JSON log lines) and the pool settings."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from typing import Any

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from support.api import api_token, client

from admit.adapters.persistence import migrate
from admit.adapters.persistence.database import make_engine
from admit.bootstrap import make_uow_factory
from admit.config import Settings
from admit.entrypoints.web.operations import RequestTelemetry
from admit.logs import configure_logging
from admit.shared import metrics
from admit.shared.context import Context

SCRAPER = ("127.0.0.1", 40000)


def local(ctx: Context, token: str | None = None, **settings: Any) -> TestClient:
    """A client calling from loopback (a scraper on the same host)."""
    api = client(ctx, token)
    if settings:
        api.fastapi_app.state.settings = Settings(dev_mode=True, _env_file=None, **settings)  # type: ignore[attr-defined]
    api._transport.client = SCRAPER  # type: ignore[attr-defined]
    return api


def test_readyz_says_ready_when_the_schema_is_current(ctx: Context) -> None:
    ready = client(ctx).get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "migration": migrate.head()}


def test_readyz_says_why_not_when_migrations_are_pending(ctx: Context, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0019'"))
    try:
        answer = client(ctx).get("/readyz")
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": migrate.head()})
    assert answer.status_code == 503
    assert answer.json()["status"] == "not_ready" and answer.json()["reason"] == "migrations_pending"
    assert "0019" in answer.json()["message"] and answer.headers["retry-after"] == "5"


def test_readyz_stays_ready_on_a_newer_schema_while_an_upgrade_rolls_out(ctx: Context, engine: Engine) -> None:
    """``admit db upgrade`` ran before this (old) process was replaced: migrations only expand, so
    it keeps its traffic (a load balancer must not take every old process out at once)."""
    newer = f"{int(migrate.head()) + 1:04d}"
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :newer"), {"newer": newer})
    try:
        answer = client(ctx).get("/readyz")
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": migrate.head()})
    assert answer.status_code == 200, answer.text


def test_readyz_says_why_not_when_the_database_is_unreachable(ctx: Context, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        unreachable = make_engine("sqlite:////nonexistent-folder/admit.db")
    else:
        unreachable = make_engine(
            "postgresql+psycopg://nobody@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2}
        )
    try:
        answer = client(dataclasses.replace(ctx, uow=make_uow_factory(unreachable))).get("/readyz")
    finally:
        unreachable.dispose()
    assert answer.status_code == 503
    assert answer.json()["reason"] == "database_unreachable"
    assert client(ctx).get("/healthz").status_code == 200  # alive all the same


def test_metrics_names_are_scraped_with_route_templates(ctx: Context, org: Any, workspace: Any) -> None:
    api = local(ctx, api_token(ctx, org.id))
    created = api.post(f"/api/v1/workspaces/{workspace.id}/members", json={"email": "m@example.com", "invite": True})
    assert created.status_code == 201
    assert api.get(f"/api/v1/workspaces/{workspace.id}/members").status_code == 200
    scraped = api.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    body = scraped.text
    for name in metrics.DOCUMENTED:
        assert f"# TYPE {name.removesuffix('_total')} " in body or f"# TYPE {name} " in body, name
    template = 'route="/api/v1/workspaces/{workspace_id}/members"'
    assert re.search(
        r'admit_http_requests_total\{method="POST",' + re.escape(template) + r',status="201"\} [1-9]', body
    )
    assert workspace.id not in body  # templates, never ids
    assert re.search(r'admit_outbox_waiting\{channel="email"\} 1\.0', body)
    assert re.search(r'admit_outbox_oldest_age_seconds\{channel="email"\} \d', body)


def test_sign_in_failures_and_throttles_are_counted(ctx: Context) -> None:
    api = local(ctx)
    before = _value(api.get("/metrics").text, "admit_sign_in_failures_total")
    statuses = [
        api.post(
            "/api/v1/sessions", json={"identifier": "nobody@example.com", "password": "wrong-password-1"}
        ).status_code
        for _ in range(7)
    ]
    assert 401 in statuses and 429 in statuses, statuses
    after = api.get("/metrics").text
    assert _value(after, "admit_sign_in_failures_total") >= before + 1
    assert _value(after, 'admit_throttled_total{route="/api/v1/sessions"}') >= 1


def _value(body: str, name: str) -> float:
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_metrics_are_for_loopback_or_the_token_only(ctx: Context) -> None:
    assert client(ctx).get("/metrics").status_code == 403  # the test client is not on loopback
    guarded = local(ctx, metrics_token="scrape-secret-123")
    assert guarded.get("/metrics").status_code == 401  # a token is set: loopback is not enough
    assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"}).status_code == 200


def test_request_ids_are_kept_when_sane_and_made_otherwise(ctx: Context) -> None:
    api = client(ctx)
    assert api.get("/healthz", headers={"X-Request-Id": "lb-7f3a:42"}).headers["x-request-id"] == "lb-7f3a:42"
    for hostile in ("<script>", "x" * 129, "a b"):
        made = api.get("/healthz", headers={"X-Request-Id": hostile}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made), made
    assert re.fullmatch(r"[0-9a-f]{32}", api.get("/api/v1/nowhere").headers["x-request-id"])


def test_the_request_id_reaches_the_outbox_and_jobs(ctx: Context, org: Any, workspace: Any, engine: Engine) -> None:
    api = client(ctx, api_token(ctx, org.id))
    headers = {"X-Request-Id": "req-outbox-1"}
    created = api.post(
        f"/api/v1/workspaces/{workspace.id}/members", json={"email": "o@example.com", "invite": True}, headers=headers
    )
    assert created.status_code == 201
    assert api.post(f"/api/v1/workspaces/{workspace.id}/members", json={"email": "p@example.com"}).status_code == 201
    job = api.post(f"/api/v1/workspaces/{workspace.id}/invitations/all", json={}, headers={"X-Request-Id": "req-job-1"})
    assert job.status_code == 202, job.text
    with engine.connect() as conn:
        payloads = [row[0] for row in conn.execute(text("SELECT payload FROM outbox"))]
        actors = [row[0] for row in conn.execute(text("SELECT actor FROM jobs"))]
    payloads = [json.loads(p) if isinstance(p, str) else p for p in payloads]
    assert [p["request_id"] for p in payloads] == ["req-outbox-1"]
    actors = [json.loads(a) if isinstance(a, str) else a for a in actors]
    assert [a["request_id"] for a in actors] == ["req-job-1"]


def test_json_logs_carry_the_request_id_and_no_token(capsys: pytest.CaptureFixture[str]) -> None:
    token = "adm_api_" + "s3cret" * 6

    async def endpoint(request: Any) -> PlainTextResponse:
        await to_thread.run_sync(lambda: logging.getLogger("admit.test").warning("working for %s", token))
        return PlainTextResponse("ok")

    app = RequestTelemetry(Starlette(routes=[Route("/work", endpoint)]))
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(Settings(dev_mode=True, log_format="json", _env_file=None))  # type: ignore[call-arg]
        with TestClient(app) as api:
            assert api.get("/work", headers={"X-Request-Id": "req-log-1"}).headers["x-request-id"] == "req-log-1"
        logging.getLogger("admit.test").warning("after the request")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    during = next(line for line in lines if line["event"].startswith("working for"))
    assert during["request_id"] == "req-log-1" and during["level"] == "warning"
    assert token not in json.dumps(lines)
    after = next(line for line in lines if line["event"] == "after the request")
    assert "request_id" not in after


def test_pool_settings_and_pgbouncer_mode() -> None:
    base = {"dev_mode": True, "_env_file": None}
    assert Settings(**base).engine_options() == {}  # type: ignore[arg-type]  # SQLite: no server pool
    pg = Settings(database_url="postgresql://a@h/d", db_pool_size=5, db_max_overflow=2, **base)  # type: ignore[arg-type]
    assert pg.engine_options() == {"pool_size": 5, "max_overflow": 2, "connect_args": {"connect_timeout": 5}}
    bouncer = Settings(database_url="postgresql://a@h/d", db_pgbouncer=True, **base)  # type: ignore[arg-type]
    assert bouncer.engine_options()["connect_args"] == {"connect_timeout": 5, "prepare_threshold": None}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_pgbouncer_mode_never_prepares_statements(database_url: str) -> None:
    settings = Settings(dev_mode=True, database_url=database_url, db_pgbouncer=True, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(database_url, **settings.engine_options())
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None and raw.prepare_threshold is None  # type: ignore[attr-defined]
            for _ in range(8):  # psycopg would prepare from the 6th run on
                conn.execute(text("SELECT version_num FROM alembic_version"))
            prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
    finally:
        engine.dispose()
    assert prepared == 0
    usual = make_engine(database_url)  # without the setting psycopg prepares: the check above can fail
    try:
        with usual.connect() as conn:
            for _ in range(8):
                conn.execute(text("SELECT version_num FROM alembic_version"))
            assert conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar() >= 1
    finally:
        usual.dispose()
