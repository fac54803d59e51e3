"""Engines for SQLite (WAL, immediate write transactions) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

WRITE = "admit_write"
BUSY_TIMEOUT_MS = 60_000
_NO_WAIT: ContextVar[bool] = ContextVar("admit_no_wait_for_writer", default=False)


class WriterBusy(Exception):
    """Another connection holds SQLite's write lock, and the caller asked not to wait for it."""


@contextmanager
def without_waiting() -> Iterator[None]:
    """Inside this block, the first write transaction on SQLite raises :class:`WriterBusy` at once
    instead of waiting for another writer. Nothing has been written at that point, so the caller
    can run the same work again elsewhere. Later write transactions in the block wait as usual
    (an earlier one may have committed). PostgreSQL ignores this."""
    token = _NO_WAIT.set(True)
    try:
        yield
    finally:
        _NO_WAIT.reset(token)


UNAVAILABLE = "database_unavailable"
STORAGE_FULL = "storage_full"
_FULL = ("database or disk is full", "disk full", "no space left on device", "could not extend file")


def outage(exc: BaseException) -> str | None:
    """What a database failure means to a caller, or None when it is not an outage: ``storage_full``
    (SQLite's "database or disk is full", PostgreSQL's disk-full errors: nothing was written, reads
    still work) or ``database_unavailable`` (the server is down, restarting, refused the connection
    or dropped it: trying again later helps). Every door maps these in one place (the web error
    handlers, the job runner, the workers); a constraint violation or a bug is not an outage."""
    if not isinstance(exc, DBAPIError):
        return None
    text = str(exc.orig if exc.orig is not None else exc).lower()
    if any(words in text for words in _FULL):
        return STORAGE_FULL
    if exc.connection_invalidated:
        return UNAVAILABLE
    if exc.orig is None or isinstance(exc.orig, sqlite3.Error):
        return None
    kinds = {kind.__name__ for kind in type(exc.orig).__mro__}
    if kinds & {"OperationalError", "InterfaceError"}:
        # psycopg: connection refused, server closed the connection, and the subclasses a restart
        # raises (AdminShutdown "terminating connection due to administrator command",
        # CannotConnectNow "the database system is starting up"): looked up by ancestry, not name
        return UNAVAILABLE
    return None


def normalise_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 40)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("pool_size", 16)
    kwargs.setdefault("max_overflow", 48)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own handling is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            f"busy_timeout={BUSY_TIMEOUT_MS}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front, so two writers never deadlock upgrading a read lock.
        # BEGIN goes straight to the driver: it is on every transaction's path.
        raw = conn.connection.dbapi_connection
        if not conn.get_execution_options().get(WRITE, False):
            raw.execute("BEGIN")  # type: ignore[union-attr]
        elif _NO_WAIT.get():
            _NO_WAIT.set(False)  # only the first write transaction may give up
            _begin_without_waiting(raw)
        else:
            raw.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]

    return engine


def _begin_without_waiting(raw: Any) -> None:
    raw.execute("PRAGMA busy_timeout=0")
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise WriterBusy(str(exc)) from None
        raise
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
