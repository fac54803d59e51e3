"""Shared fixtures. Every test that asks for ``ctx`` (or anything built on it) runs twice: on
SQLite and on PostgreSQL. PostgreSQL is a throwaway cluster started for the session (or the URL
in ADMIT_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from support.api import close_portal
from support.clock import FixedClock
from support.postgres import binaries, throwaway_cluster

from admit.adapters.identity.hashing import Argon2Hasher
from admit.adapters.persistence import migrate
from admit.adapters.persistence.database import make_engine
from admit.adapters.persistence.tables import metadata
from admit.admin import tenancy
from admit.bootstrap import SystemRandom, make_uow_factory
from admit.shared.context import Actor, Context

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    given = os.environ.get("ADMIT_TEST_POSTGRES_URL")
    if given:
        yield _database_per_worker(given)
        return
    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries missing in CI: 'make test' should have installed them")
        pytest.skip("PostgreSQL server binaries not installed (make test installs them)")
    with throwaway_cluster() as url:
        yield url


def _database_per_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own on the given server."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'admit.db'}"


_engines: dict[str, Engine] = {}


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database (emptied again after the test)."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    if url not in _engines:
        migrate.upgrade(url)
        _engines[url] = make_engine(url)
    request.addfinalizer(lambda: _empty(_engines[url]))
    return url


@pytest.fixture
def engine(database_url: str) -> Engine:
    return _engines[database_url]


def _empty(engine: Engine) -> None:
    """Delete every row, children first (again if a child row arrived meanwhile: a server's
    batched SCIM request log may still be writing the test's last rows, and on PostgreSQL its
    insert and these deletes can deadlock, one of them refused)."""
    for attempt in range(3):
        try:
            _delete_all(engine)
            return
        except (IntegrityError, OperationalError):
            if attempt == 2:
                raise
            time.sleep(0.5)


def _delete_all(engine: Engine) -> None:
    """On PostgreSQL a DELETE of the few rows a test writes is several times faster than
    TRUNCATE, which recreates each of the ~60 tables' files; after a test of thousands of members
    TRUNCATE is the faster again."""
    names = [table.name for table in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql" and conn.execute(text("SELECT count(*) FROM members")).scalar_one() > 500:
            conn.execute(
                text(f"TRUNCATE {', '.join(names)}")
            )  # thousands of rows: checking each one's references costs more
            return
        for name in names:
            conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - our own table names


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for engine in _engines.values():
        engine.dispose()


# Cheap Argon2 parameters keep the suite fast; production parameters are tested on their own.
FAST_HASHER = Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def _one_event_loop_per_test() -> Iterator[None]:
    """The test clients of a test share one event loop thread (see ``support.api``), stopped here."""
    yield
    close_portal()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def ctx(engine: Engine, clock: FixedClock) -> Context:
    return Context(
        uow=make_uow_factory(engine),
        clock=clock,
        random=SystemRandom(),
        hasher=FAST_HASHER,
        base_url="https://admit.example.test",
        embedded_database=engine.dialect.name == "sqlite",  # as admit.bootstrap sets it
    )


@pytest.fixture
def operator() -> Actor:
    return Actor.operator("test")


@pytest.fixture
def org(ctx: Context, operator: Actor) -> Any:
    return tenancy.create_organization(ctx, operator, "Acme", plan="business", seats=25)


@pytest.fixture
def workspace(ctx: Context, operator: Actor, org: Any) -> Any:
    return tenancy.create_workspace(ctx, operator, org.id, "Acme Main")


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


SLOW_MODULES = {"test_faults.py", "test_workers.py", "test_concurrency.py", "test_import_files.py", "test_sso_flows.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/browser drives chromium (``-m "not browser"`` is the fast loop);
    the modules that start processes or generate many files are ``slow``. The long tests run
    first (browser, then processes, then the slow modules; each module's tests stay together), so
    the two xdist workers finish together on short tests instead of one waiting out a journey."""
    for item in items:
        path = Path(str(item.fspath))
        if "browser" in path.parts:
            item.add_marker(pytest.mark.browser)
        if path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)

    def weight(item: pytest.Item) -> int:
        parts = Path(str(item.fspath)).parts
        return 0 if "browser" in parts else 1 if "e2e" in parts else 2 if item.get_closest_marker("slow") else 3

    items.sort(key=weight)
