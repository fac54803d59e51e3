"""Quick database work on embedded SQLite runs on the event loop, but never waits there for a lock.

``admit.entrypoints.web.deps.run_work`` runs ``quick`` work inline when the database is SQLite, inside
``without_waiting()``: if another connection holds the write lock, the first write transaction
gives up at once (nothing written yet), and the work is tried again after an asyncio sleep, or
at last in a worker thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import text
from support.api import api_token
from support.clock import FixedClock

from admit.adapters.identity.hashing import Argon2Hasher
from admit.adapters.persistence import migrate
from admit.adapters.persistence.database import WriterBusy, make_engine, without_waiting
from admit.admin import tenancy
from admit.bootstrap import SystemRandom, make_uow_factory
from admit.config import Settings
from admit.entrypoints.web import deps
from admit.entrypoints.web.app import create_app
from admit.entrypoints.web.deps import run_work
from admit.shared.context import Actor, Context


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "embedded.db"


@pytest.fixture
def embedded(db_path: Path) -> Iterator[Context]:
    url = f"sqlite:///{db_path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield Context(
        uow=make_uow_factory(engine),
        clock=FixedClock(),
        random=SystemRandom(),
        hasher=Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),
        base_url="https://admit.example.test",
        embedded_database=True,
    )
    engine.dispose()


@pytest.fixture
def lock_holder(db_path: Path, embedded: Context) -> Iterator[sqlite3.Connection]:
    """Another connection to the same database, as another process would hold it."""
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


T = TypeVar("T")


def _run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` on a thread of its own (Playwright's sync API may hold a running
    loop in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


def _count_organizations(ctx: Context) -> int:
    with ctx.uow() as uow:
        return int(uow.conn.execute(text("SELECT count(*) FROM organizations")).scalar_one())


def _add_organization(ctx: Context, name: str) -> None:
    tenancy.create_organization(ctx, Actor.operator("test"), name)


def test_the_first_write_gives_up_at_once_when_another_connection_holds_the_lock(
    embedded: Context, lock_holder: sqlite3.Connection
) -> None:
    lock_holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(WriterBusy), without_waiting():
        _add_organization(embedded, "Never")
    lock_holder.execute("ROLLBACK")
    assert _count_organizations(embedded) == 0


def test_later_writes_in_the_block_wait_for_the_lock_as_usual(
    embedded: Context, lock_holder: sqlite3.Connection
) -> None:
    release = threading.Timer(0.3, lambda: lock_holder.execute("COMMIT"))
    with without_waiting():
        _add_organization(embedded, "First")  # the lock is free: no giving up
        lock_holder.execute("BEGIN IMMEDIATE")
        release.start()
        _add_organization(embedded, "Second")  # waits until the other connection commits
    release.join()
    assert _count_organizations(embedded) == 2


def test_the_usual_wait_is_back_after_giving_up(embedded: Context, lock_holder: sqlite3.Connection) -> None:
    lock_holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(WriterBusy), without_waiting():
        _add_organization(embedded, "Never")
    release = threading.Timer(0.3, lambda: lock_holder.execute("COMMIT"))
    release.start()
    _add_organization(embedded, "Later")  # the same pooled connection waits again (busy timeout restored)
    release.join()
    assert _count_organizations(embedded) == 1


def test_quick_work_runs_on_the_loop_and_retries_there_while_the_lock_is_briefly_taken(
    embedded: Context, lock_holder: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deps, "INLINE_PATIENCE_SECONDS", 0.4)

    def where_it_ran() -> int:
        _add_organization(embedded, f"Org {time.monotonic_ns()}")
        return threading.get_ident()

    async def main() -> tuple[int, int, int, int, int]:
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        inline = await run_work(embedded, where_it_ran, quick=True)
        not_quick = await run_work(embedded, where_it_ran)
        lock_holder.execute("BEGIN IMMEDIATE")
        loop.call_later(0.1, lambda: lock_holder.execute("COMMIT"))
        briefly = await run_work(embedded, where_it_ran, quick=True)  # retried on the loop until released
        lock_holder.execute("BEGIN IMMEDIATE")
        loop.call_later(0.8, lambda: lock_holder.execute("COMMIT"))
        long = await run_work(embedded, where_it_ran, quick=True)  # past the patience: waits in a thread
        return loop_thread, inline, not_quick, briefly, long

    loop_thread, inline, not_quick, briefly, long = _run(main)
    assert inline == loop_thread
    assert not_quick != loop_thread
    assert briefly == loop_thread
    assert long != loop_thread
    assert _count_organizations(embedded) == 4


def test_postgresql_and_other_non_embedded_databases_always_use_a_thread(embedded: Context) -> None:
    remote = Context(**{**embedded.__dict__, "embedded_database": False})

    async def main() -> tuple[int, int]:
        return threading.get_ident(), await run_work(remote, threading.get_ident, quick=True)

    loop_thread, ran_in = _run(main)
    assert ran_in != loop_thread


def test_the_api_keeps_answering_while_another_process_holds_the_write_lock(
    embedded: Context, lock_holder: sqlite3.Connection
) -> None:
    org = tenancy.create_organization(embedded, Actor.operator("test"), "Acme", seats=10)
    workspace = tenancy.create_workspace(embedded, Actor.operator("test"), org.id, "Main")
    token = api_token(embedded, org.id)
    app = create_app(Settings(dev_mode=True, _env_file=None), embedded, background=False)  # type: ignore[call-arg]

    async def main() -> tuple[bool, int, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            lock_holder.execute("BEGIN IMMEDIATE")
            invite = asyncio.create_task(
                client.post(
                    f"/api/v1/workspaces/{workspace.id}/invitations",
                    json={"email": "ada@example.com"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            await asyncio.sleep(0.3)  # a loop stuck waiting for the lock would not get here
            waiting = not invite.done()
            health = await client.get("/healthz")
            lock_holder.execute("COMMIT")
            return waiting, health.status_code, await invite

    waiting, health, invited = _run(main)
    assert waiting and health == 200
    assert invited.status_code == 201 and invited.json()["email"] == "ada@example.com"
