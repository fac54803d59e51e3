"""Units of work: one request's units of work share a pooled connection; the driver-level
statements behave like Core's (types, errors, rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from admit.adapters.persistence import repositories
from admit.adapters.persistence import tables as t
from admit.adapters.persistence.unit_of_work import SharedConnections, one_connection
from admit.admin import members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import AlreadyExists
from admit.shared.context import Actor, Context


def _raw(uow: Any) -> Any:
    return uow.conn.connection.dbapi_connection


def test_units_of_work_in_one_block_take_turns_on_one_connection(ctx: Context, engine: Engine) -> None:
    before = engine.pool.checkedout()  # an event loop of the fixtures' test client may keep one (deps.run_work)
    with one_connection():
        with ctx.uow() as first:
            raw_first = _raw(first)
        with ctx.uow(write=True) as second:
            raw_second = _raw(second)
            with ctx.uow() as nested:  # opened inside another: a connection of its own
                raw_nested = _raw(nested)
            second.commit()
        assert engine.pool.checkedout() >= before + 1  # still held for the block
    assert raw_first is raw_second
    assert raw_nested is not raw_first
    assert engine.pool.checkedout() == before  # given back at the end of the block


def test_kept_connections_serve_block_after_block_even_after_a_failed_commit(
    ctx: Context, engine: Engine, operator: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event loop's kept connection (deps.run_work): one checkout for many blocks; a commit the
    database refuses (a full disk) leaves nothing open for the next block."""
    kept = SharedConnections()
    with one_connection(kept), ctx.uow() as uow:
        first = _raw(uow)
    with one_connection(kept), ctx.uow() as uow:
        assert _raw(uow) is first  # kept between blocks

    def refused(_: Any) -> None:
        raise engine.dialect.loaded_dbapi.OperationalError("database or disk is full")

    with monkeypatch.context() as patched:
        patched.setattr(engine.dialect, "do_commit", refused)
        with pytest.raises(Exception, match="disk is full"), one_connection(kept), ctx.uow(write=True) as uow:
            uow.organizations.add(name="Never written", plan="free", seats=1, created_at=datetime.now(UTC))
            uow.commit()
    with one_connection(kept):
        names = [org.name for org in tenancy.list_organizations(ctx, operator)]
    assert "Never written" not in names
    kept.close()
    assert all(conn.closed for conn in kept.connections.values())


def test_a_failed_unit_of_work_leaves_the_shared_connection_clean(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    with one_connection():
        with pytest.raises(RuntimeError), ctx.uow(write=True) as uow:
            uow.organizations.add(name="Half written", plan="free", seats=1, created_at=datetime.now(UTC))
            raise RuntimeError("the use case failed")
        names = [org.name for org in tenancy.list_organizations(ctx, operator)]
    assert "Half written" not in names


def test_driver_level_rows_read_like_core_rows(ctx: Context, workspace: Any) -> None:
    with ctx.uow() as uow:
        fast = uow.workspaces.get(workspace.organization_id, workspace.id)
        core = uow.conn.execute(select(t.workspaces).where(t.workspaces.c.id == workspace.id)).first()
    assert core is not None and fast is not None
    assert tuple(fast) == tuple(core)
    assert dict(fast._mapping) == dict(core._mapping)
    assert fast.created_at == core.created_at and fast.created_at.tzinfo is not None
    assert fast.departments == core.departments  # JSON comes back decoded


def test_driver_level_inserts_convert_like_core_and_raise_its_errors(ctx: Context, org: Any) -> None:
    stamp = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
    with ctx.uow(write=True) as uow:
        key = uow.outbox.add(
            organization_id=org.id,
            workspace_id=None,
            kind="test",
            channel="email",
            recipient="a@example.com",
            language="en",
            subject_id="s" * 32,
            payload={"link": "https://admit.example.test/x", "n": 1},
            key="k" * 32,
            state="queued",
            attempts=0,
            next_attempt_at=stamp,
            created_at=stamp + timedelta(seconds=1),
        )
        uow.commit()
    with ctx.uow() as uow:
        row = uow.outbox.get(org.id, key)
    assert row is not None
    assert row.payload == {"link": "https://admit.example.test/x", "n": 1}
    assert row.next_attempt_at == stamp and row.created_at == stamp + timedelta(seconds=1)
    again = {name: value for name, value in row._mapping.items() if name != "id"}
    with pytest.raises(AlreadyExists) as caught, ctx.uow(write=True) as uow:  # the same idempotency key
        uow.outbox.add(**again)
    # the driver raised what Core raises; the unit of work handed the domain's error out instead
    assert isinstance(caught.value.__context__, IntegrityError)
    assert "key" in str(caught.value.__context__)
    assert caught.value.code == "conflict"


def test_member_lookups_can_use_the_partial_unique_indexes_even_with_generic_plans(
    ctx: Context, engine: Engine
) -> None:
    """ "status <> 'removed'" is written into the SQL, so the planner can pick the partial index on
    (workspace_id, email) even when it plans without the values (PostgreSQL's generic plans for
    prepared statements), instead of scanning the workspace's members."""
    sql = repositories._find_live_query(("email",)).stmt.compile(dialect=engine.dialect).string
    assert "'removed'" in sql
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            numbered = sql
            for number, name in enumerate(("org", "ws", "email"), start=1):
                numbered = numbered.replace(f"%({name})s", f"${number}")
            conn.execute(text("SET plan_cache_mode = force_generic_plan"))
            # "can use": a table of a few rows (emptied by DELETE between tests) is cheaper to scan,
            # so scans are priced out; without the predicate in the SQL another index would be used
            conn.execute(text("SET enable_seqscan = off"))
            conn.execute(text(f"PREPARE find_live(text, text, text) AS {numbered}"))
            plan = [row[0] for row in conn.execute(text("EXPLAIN EXECUTE find_live('o', 'w', 'a@example.com')"))]
            conn.execute(text("DEALLOCATE find_live"))
            conn.execute(text("RESET enable_seqscan"))
            conn.execute(text("RESET plan_cache_mode"))
        else:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("o", "w", "a@example.com"))]
    assert any("uq_members_email" in line for line in plan), plan


@pytest.mark.parametrize("bulk", [False, True])
def test_a_unique_constraint_race_leaves_the_unit_of_work_as_the_domains_already_exists(
    ctx: Context, operator: Actor, workspace: Any, bulk: bool
) -> None:
    """Two writers adding the same email at once: the second's insert (or its bulk flush at the
    commit) breaks the partial unique index, and the service sees ``member_exists``, not a
    driver error, whichever database named the constraint."""
    member, _ = members.provision(ctx, operator, workspace.id, MemberInput(email="ada@example.com"), invite=False)
    with ctx.uow() as uow:
        row = uow.members.get(None, member.id)
    assert row is not None
    twin = {name: value for name, value in row._mapping.items() if name != "id"}
    with pytest.raises(AlreadyExists) as caught, ctx.uow(write=True, bulk=bulk) as uow:
        uow.members.add(**twin)
        uow.commit()
    assert caught.value.code == "member_exists"
    assert caught.value.message == "a member with this email already exists in the workspace"


def test_a_bulk_unit_of_work_reads_the_organization_once_and_again_after_changing_it(
    ctx: Context, org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bulk work (imports) remembers the rows it reads for every person; a change made in the
    same unit of work is read again. Outside bulk mode every read goes to the database."""
    lookup = repositories.Organizations._by_id
    reads = {"n": 0}
    original = lookup.first

    def counted(conn: Any, params: Any) -> Any:
        reads["n"] += 1
        return original(conn, params)

    monkeypatch.setattr(lookup, "first", counted)
    with ctx.uow(write=True, bulk=True) as uow:
        first = uow.organizations.get(org.id)
        assert first is not None and uow.organizations.get(org.id) is first and reads["n"] == 1
        uow.org_controls.update(org.id, name="Renamed")
        changed = uow.organizations.get(org.id)
        assert changed is not None and changed.name == "Renamed" and reads["n"] == 2
        uow.commit()
    with ctx.uow() as uow:
        uow.organizations.get(org.id)
        uow.organizations.get(org.id)
    assert reads["n"] == 4


def test_work_afterwards_runs_in_its_own_transaction_whatever_became_of_the_first(
    ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = now + timedelta(hours=1)

    def count(key: str) -> Any:
        def work(uow: Any) -> None:
            uow.throttles.count_in_window(key, now, later)
            uow.commit()

        return work

    with pytest.raises(RuntimeError), ctx.uow(write=True) as uow:
        uow.throttles.count_in_window("refused", now, later)
        uow.afterwards(count("told"))
        raise RuntimeError("the change is refused")
    with ctx.uow(write=True) as uow:
        uow.afterwards(count("told"))
        uow.commit()

    def broken(uow: Any) -> None:
        raise ValueError("broken")

    with ctx.uow(write=True) as uow:  # a failure afterwards is logged, not raised over the outcome
        uow.afterwards(broken)
        uow.afterwards(count("told"))
        uow.commit()
    assert "work after a unit of work failed" in caplog.text
    with ctx.uow(write=True) as uow:
        assert uow.throttles.count_in_window("told", now, later, 0)[0] == 3
        assert uow.throttles.count_in_window("refused", now, later, 0)[0] == 0  # rolled back
