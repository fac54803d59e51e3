"""A database outage or a full disk is answered by the web error handlers (the one place errors are
mapped): 503 or 507 with a stable code on the API, a page that explains outside it, never a 500."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError

from admit.adapters.persistence.database import STORAGE_FULL, UNAVAILABLE, outage
from admit.entrypoints.web import errors

FULL = OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full"))
GONE = OperationalError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True)


def app_raising(exc: Exception) -> TestClient:
    app = FastAPI()
    errors.install(app)

    async def fails() -> None:
        raise exc

    app.add_api_route("/api/v1/thing", fails, methods=["POST"])
    app.add_api_route("/thing", fails, methods=["POST"])
    return TestClient(app, raise_server_exceptions=False)


def test_outages_are_told_apart_from_bugs() -> None:
    assert outage(FULL) == STORAGE_FULL
    assert outage(GONE) == UNAVAILABLE
    assert outage(IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))) is None
    assert outage(OperationalError("x", {}, sqlite3.OperationalError("no such table: t"))) is None
    assert outage(ValueError("database or disk is full")) is None


@pytest.mark.parametrize(
    ("exc", "status", "code", "title"),
    [(FULL, 507, "storage_full", "Nothing can be saved right now"), (GONE, 503, "database_unavailable", "Unavailable")],
)
def test_the_api_and_the_pages_explain_an_outage(exc: Exception, status: int, code: str, title: str) -> None:
    client = app_raising(exc)
    api = client.post("/api/v1/thing")
    assert api.status_code == status and api.json()["error"]["code"] == code
    assert ("retry-after" in api.headers) == (status == 503)
    page = client.post("/thing", headers={"accept": "text/html"})
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert title in page.text and "nothing you sent was saved" in page.text


def test_an_ordinary_database_error_is_still_a_500_with_an_incident() -> None:
    api = app_raising(OperationalError("x", {}, sqlite3.OperationalError("no such table: t"))).post("/api/v1/thing")
    assert api.status_code == 500 and api.json()["error"]["code"] == "internal_error"


@pytest.mark.parametrize("error", ["AdminShutdown", "CannotConnectNow", "OperationalError", "InterfaceError"])
def test_a_postgresql_restart_is_an_outage_whatever_psycopg_subclass_says_so(error: str) -> None:
    import psycopg

    raised = getattr(psycopg.errors, error, None) or getattr(psycopg, error)
    wrapped = OperationalError("SELECT 1", {}, raised("the database system is starting up"))
    assert outage(wrapped) == UNAVAILABLE
    assert outage(IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key"))) is None
