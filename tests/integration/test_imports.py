"""Importing people from CSV and XLSX through the service and its background job, on both
databases: new people created (invited now or later), existing ones skipped, bad rows reported
with row, column and reason, dry runs write nothing, cancel and resume keep what was committed."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.outbox import messages

from admit.adapters.spreadsheets import ImportFileError, write_xlsx
from admit.admin import imports, jobs, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import PermissionDenied
from admit.flows.signin import sessions
from admit.shared.context import Actor, ActorKind, Context

HEADER = "Email;First name;Last name;Role;External ID\n"


def run(
    ctx: Context, operator: Actor, workspace: Any, data: bytes, name: str = "people.csv", **kw: Any
) -> jobs.JobView:
    job = imports.start(ctx, operator, workspace.id, data, name, **kw)
    assert job.state == "queued" and jobs.run_next(ctx) == job.id
    return jobs.get(ctx, operator, job.id)


def statuses(ctx: Context, operator: Actor, workspace: Any) -> dict[str, str]:
    return {m.email: m.status for m in members.list_members(ctx, operator, workspace.id, limit=500)}


def test_import_creates_new_people_skips_existing_and_reports_bad_rows(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    members.provision(ctx, operator, workspace.id, MemberInput(email="old@example.com"), invite=False)
    data = (
        HEADER
        + "ann@example.com;Ann;Lee;member;E1\n"
        + "OLD@example.com;Old;Timer;member;E2\n"
        + "not-an-email;Bad;Row;member;E3\n"
        + "\n"
        + "bob@example.com;Bob;Ray;pilot;E4\n"
        + "cy@example.com;Cy;Fox;admin;E1\n"
        + "dee@example.com;Dee;Lux;Mitglied;E5\n"
    ).encode()
    job = run(ctx, operator, workspace, data, invite="later")
    assert job.state == "done" and job.total == 6 and job.position == 6
    assert job.counts == {"created": 2, "awaiting_invitation": 2, "skipped": 1, "error": 2, "duplicate": 1}
    report = {entry["row"]: entry for entry in job.report}
    assert report[3]["kind"] == "skipped" and "same Email" in report[3]["reason"]
    assert report[4]["column"] == "Email" and "not a valid email" in report[4]["reason"]
    assert report[6]["column"] == "Role" and "unknown role" in report[6]["reason"]
    assert report[7] == {
        "row": 7,
        "column": "External ID",
        "reason": "row 7 repeats row 2 (External ID)",
        "kind": "duplicate",
    }
    assert statuses(ctx, operator, workspace) == {
        "old@example.com": "provisioned",
        "ann@example.com": "provisioned",
        "dee@example.com": "provisioned",
    }
    assert not messages(ctx, kind="invitation")


def test_invite_now_sends_each_new_person_an_invitation(ctx: Context, operator: Actor, workspace: Any) -> None:
    data = write_xlsx(
        ["E-Mail", "Vorname", "Nachname"], [["eva@example.com", "Eva", "Ost"], ["udo@example.com", "Udo", "West"]]
    )
    job = run(ctx, operator, workspace, data, "leute.xlsx", invite="now", message="Welcome aboard")
    assert job.counts == {"created": 2, "invited": 2}
    assert statuses(ctx, operator, workspace) == {"eva@example.com": "invited", "udo@example.com": "invited"}
    sent = messages(ctx, kind="invitation")
    assert {m["recipient"] for m in sent} == {"eva@example.com", "udo@example.com"}
    assert all(m["payload"]["message"] == "Welcome aboard" and "/i/adm_inv_" in m["payload"]["link"] for m in sent)


def test_dry_run_reports_without_writing(ctx: Context, operator: Actor, workspace: Any) -> None:
    data = (HEADER + "ann@example.com;Ann;Lee;member;E1\nbad;B;C;member;E2\n").encode()
    job = run(ctx, operator, workspace, data, invite="now", dry_run=True)
    assert job.counts == {"created": 1, "invited": 1, "error": 1} and job.options["dry_run"] is True
    assert statuses(ctx, operator, workspace) == {} and not messages(ctx)


def test_a_finished_dry_run_runs_for_real_once_through_the_api(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    data = (HEADER + "ann@example.com;Ann;Lee;member;E1\nbad;B;C;member;E2\n").encode()
    queued = imports.start(ctx, operator, workspace.id, data, "people.csv", invite="later", dry_run=True)
    api = client(ctx, api_token(ctx, org.id))
    early = api.post(f"/api/v1/jobs/{queued.id}/run")
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_a_finished_dry_run"  # not finished yet
    assert jobs.run_next(ctx) == queued.id
    ran = api.post(f"/api/v1/jobs/{queued.id}/run")
    assert ran.status_code == 202 and ran.json()["options"]["dry_run"] is False and ran.json()["state"] == "queued"
    assert ran.json()["options"]["invite"] is False and ran.json()["filename"] == "people.csv"
    assert api.post(f"/api/v1/jobs/{queued.id}/run").json()["id"] == ran.json()["id"]  # once per dry run
    assert jobs.run_next(ctx) == ran.json()["id"]
    assert statuses(ctx, operator, workspace) == {"ann@example.com": "provisioned"} and not messages(ctx)
    assert api.post(f"/api/v1/jobs/{ran.json()['id']}/run").status_code == 409  # a real import is not a dry run
    other = tenancy.create_organization(ctx, operator, "Globex")
    stranger = client(ctx, api_token(ctx, other.id))
    assert stranger.post(f"/api/v1/jobs/{queued.id}/run").status_code == 404


def test_a_role_column_cannot_grant_more_than_the_importer_holds(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    admin = Actor(ActorKind.API_TOKEN, id="t", organization_id=org.id, role=members.Role.ADMIN, name="hr")
    data = (HEADER + "own@example.com;O;W;owner;E1\nadm@example.com;A;D;admin;E2\n").encode()
    job = run(ctx, admin, workspace, data, invite="later")
    assert job.counts == {"created": 1, "awaiting_invitation": 1, "error": 1}
    assert (
        job.report[0]["reason"] == "your role (admin) cannot grant the owner role" and job.report[0]["column"] == "Role"
    )


def test_only_people_managers_may_import(ctx: Context, workspace: Any, org: Any) -> None:
    member = Actor(ActorKind.API_TOKEN, id="t", organization_id=org.id, role=members.Role.MEMBER, name="x")
    with pytest.raises(PermissionDenied):
        imports.start(ctx, member, workspace.id, HEADER.encode(), "p.csv", invite="later")


def test_an_unreadable_file_is_refused_before_any_job(ctx: Context, operator: Actor, workspace: Any) -> None:
    with pytest.raises(ImportFileError) as refused:
        imports.start(ctx, operator, workspace.id, b"PK\x03\x04garbage", "people.csv", invite="later")
    assert refused.value.code == "wrong_magic"
    assert jobs.list_jobs(ctx, operator, workspace.id) == []


@pytest.mark.parametrize("data", [HEADER.encode(), (HEADER + ";;;;\n\n").encode()])
def test_a_file_with_a_header_and_no_rows_is_refused_with_a_reason(
    ctx: Context, operator: Actor, workspace: Any, data: bytes
) -> None:
    with pytest.raises(ImportFileError) as refused:
        imports.start(ctx, operator, workspace.id, data, "people.csv", invite="later")
    assert refused.value.code == "no_rows" and "row 1" in refused.value.message and "no people" in refused.value.message
    assert jobs.list_jobs(ctx, operator, workspace.id) == []


def test_cancel_keeps_committed_chunks_and_a_resumed_job_creates_no_duplicates(
    ctx: Context, operator: Actor, workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 10)
    rows = "".join(f"p{i}@example.com;P;{i};member;X{i}\n" for i in range(35))
    job = imports.start(ctx, operator, workspace.id, (HEADER + rows).encode(), "p.csv", invite="now")
    calls = {"n": 0}
    original = imports._import_rows

    def crash_on_third_chunk(*args: Any, **kw: Any) -> None:
        calls["n"] += 1
        original(*args, **kw)
        if calls["n"] == 3:
            raise RuntimeError("the process died")

    monkeypatch.setattr(imports, "_import_rows", crash_on_third_chunk)
    jobs.run_next(ctx)
    crashed = jobs.get(ctx, operator, job.id)
    assert crashed.state == "failed" and crashed.position == 20  # the third chunk rolled back
    assert len(statuses(ctx, operator, workspace)) == 20
    monkeypatch.setattr(imports, "_import_rows", original)
    with ctx.uow(write=True) as uow:  # an operator (or a lapsed lease) puts it back in the queue
        uow.jobs.update(job.id, state="running", locked_until=None)
        uow.commit()
    jobs.run_next(ctx)
    assert jobs.get(ctx, operator, job.id).counts == {"created": 35, "invited": 35}
    assert len(statuses(ctx, operator, workspace)) == 35 and len(messages(ctx, kind="invitation")) == 35

    again = run(ctx, operator, workspace, (HEADER + rows).encode(), invite="now")  # the same file twice
    assert again.counts == {"skipped": 35}
    cancelled = imports.start(
        ctx, operator, workspace.id, (HEADER + "z@example.com;Z;Z;member;Z\n").encode(), "z.csv", invite="later"
    )
    assert jobs.cancel(ctx, operator, cancelled.id).state == "cancelled"
    assert jobs.run_next(ctx) is None and "z@example.com" not in statuses(ctx, operator, workspace)


def test_initial_password_activates_the_member_who_must_change_it(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    data = (
        b"Email,First name,Last name,Initial password\n"
        b"kim@example.com,Kim,Ode,violet-harbour-otter-52\nlou@example.com,Lou,Pi,short\n"
    )
    job = run(ctx, operator, workspace, data, invite="now")
    assert job.counts == {"created": 1, "activated": 1, "error": 1}
    assert job.report[0]["column"] == "Initial password" and "too weak" in job.report[0]["reason"]
    assert statuses(ctx, operator, workspace) == {"kim@example.com": "active"}
    _, account = sessions.sign_in(ctx, "kim@example.com", "violet-harbour-otter-52")
    assert account.must_change_password is True
    assert not messages(ctx, kind="invitation")


def test_rows_written_in_bulk_are_stored_exactly_as_single_rows(ctx: Context, operator: Actor, workspace: Any) -> None:
    """Timestamps, JSON and the rest: the driver-level bulk insert converts values as Core does
    (on SQLite a differently formatted timestamp would compare wrongly)."""
    from sqlalchemy import text

    members.provision(ctx, operator, workspace.id, MemberInput(email="one@example.com"), invite=True)
    run(ctx, operator, workspace, (HEADER + "bulk@example.com;B;K;member;E9\n").encode(), invite="now")
    with ctx.uow() as uow:
        rows = uow.conn.execute(
            text(
                "SELECT m.email, CAST(m.created_at AS TEXT), CAST(i.expires_at AS TEXT), CAST(i.channels AS TEXT)"
                " FROM members m JOIN invitations i ON i.member_id = m.id ORDER BY m.email"
            )
        ).all()
    (_, bulk_created, bulk_expires, bulk_channels), (_, one_created, one_expires, one_channels) = rows
    assert (bulk_created, bulk_expires, bulk_channels) == (one_created, one_expires, one_channels)


def _postgresql_only(ctx: Context) -> None:
    with ctx.uow() as uow:
        if uow.conn.dialect.name != "postgresql":
            pytest.skip("COPY is PostgreSQL's; SQLite keeps executemany")


def test_rows_written_by_copy_equal_rows_written_by_executemany(
    ctx: Context, operator: Actor, workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The very rows an import hands the old path (``executemany``) are written again with COPY:
    every column of every table reads back the same (timestamps, JSON, integers, nulls)."""
    from sqlalchemy import String, cast, func, select

    from admit.adapters.persistence import identity_repositories, repositories
    from admit.adapters.persistence import tables as t

    _postgresql_only(ctx)
    bulk = ("members", "invitations", "secrets", "outbox", "events")
    with ctx.uow() as uow:
        before = {name: uow.conn.execute(select(func.max(t.metadata.tables[name].c.id))).scalar() for name in bulk}
    recorded: list[tuple[Any, list[dict[str, Any]]]] = []
    original = repositories.insert_many

    def recording(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
        if table.name in bulk:
            recorded.append((table, [dict(row) for row in rows]))
        original(conn, table, rows)

    monkeypatch.setattr(repositories, "COPY_MIN_ROWS", 10**9)  # the executemany path, as before COPY
    monkeypatch.setattr(repositories, "insert_many", recording)
    monkeypatch.setattr(identity_repositories, "insert_many", recording)
    data = HEADER.replace("\n", ";Phone;Language\n") + "".join(
        f"c{i}@example.com;C;{i};member;CX{i};{'+4930123456' + str(i) if i % 2 else ''};{('de', '')[i % 2]}\n"
        for i in range(4)
    )
    job = run(ctx, operator, workspace, data.encode(), invite="now", message="Welcome")
    assert job.counts == {"created": 4, "invited": 4}

    def where(name: str) -> Any:
        table = t.metadata.tables[name]
        if isinstance(table.c.id.type, String):
            return table.c.id.in_([row["id"] for tbl, rows in recorded if tbl.name == name for row in rows])
        return table.c.id > (before[name] or 0)  # outbox and events: numbered by the database

    def stored() -> dict[str, list[tuple[Any, ...]]]:
        found = {}
        with ctx.uow() as uow:
            for name in bulk:
                table = t.metadata.tables[name]
                columns = [cast(c, String) for c in table.columns if c.name != "id" or isinstance(c.type, String)]
                found[name] = sorted(tuple(row) for row in uow.conn.execute(select(*columns).where(where(name))))
        return found

    written = stored()
    assert all(written[name] for name in bulk)
    assert sum(len(rows) for tbl, rows in recorded if tbl.name in ("outbox", "events")) == len(written["outbox"]) + len(
        written["events"]
    )  # every row of the window went through insert_many, so all of them are replayed
    with ctx.uow(write=True) as uow:
        for name in reversed(bulk):
            table = t.metadata.tables[name]
            uow.conn.execute(table.delete().where(where(name)))
        for table, rows in recorded:
            for keys in dict.fromkeys(tuple(row) for row in rows):
                repositories.copy_many(uow.conn, table, [row for row in rows if tuple(row) == keys])
        uow.commit()
    assert stored() == written


def test_a_row_taken_concurrently_after_the_check_is_skipped_with_its_number_and_nothing_doubles(
    ctx: Context, operator: Actor, workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL, another process adds one of the chunk's people after the importer's check:
    the chunk's COPY hits the unique constraint, the whole chunk is undone and redone, and the row
    is reported as skipped with its number; nobody is written twice or half."""
    from admit.adapters.persistence import repositories

    _postgresql_only(ctx)
    monkeypatch.setattr(imports, "CHUNK", 60)
    failed_copies = {"n": 0}
    original_copy = repositories.copy_many

    def counting_copy(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
        try:
            original_copy(conn, table, rows)
        except Exception:
            failed_copies["n"] += 1
            raise

    monkeypatch.setattr(repositories, "copy_many", counting_copy)
    original_existing = imports._existing
    raced = {"done": False}

    def existing_then_race(uow: Any, ws: Any, rows: list[dict[str, Any]]) -> Any:
        found = original_existing(uow, ws, rows)
        if not raced["done"]:  # another process, its own transaction, committed before our flush
            raced["done"] = True
            members.provision(
                ctx, operator, workspace.id, MemberInput(email="r37@example.com", first_name="Other"), invite=False
            )
        return found

    monkeypatch.setattr(imports, "_existing", existing_then_race)
    rows = "".join(f"r{i}@example.com;R;{i};member;RX{i}\n" for i in range(100))
    job = run(ctx, operator, workspace, (HEADER + rows).encode(), invite="now")
    assert failed_copies["n"] == 1  # the first try of the first chunk, and only it
    assert job.state == "done" and job.position == 100
    assert job.counts == {"created": 99, "invited": 99, "skipped": 1}
    (skipped,) = job.report
    assert (
        skipped["row"] == 39 and skipped["kind"] == "skipped" and "same Email" in skipped["reason"]
    )  # header is row 1
    people = members.list_members(ctx, operator, workspace.id, limit=500)
    assert len(people) == 100 and len({m.email for m in people}) == 100
    assert next(m for m in people if m.email == "r37@example.com").first_name == "Other"
    assert len(messages(ctx, kind="invitation")) == 99


def test_a_chunk_that_keeps_conflicting_fails_the_import_and_writes_nothing_of_it(
    ctx: Context, operator: Actor, workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the conflict does not go away (here the check is blinded), the third failed try fails
    the job: the chunks before it stay, nothing of the failing chunk is written (COPY on
    PostgreSQL, executemany on SQLite)."""
    monkeypatch.setattr(imports, "CHUNK", 60)
    members.provision(
        ctx, operator, workspace.id, MemberInput(email="b70@example.com", first_name="Earlier"), invite=False
    )
    monkeypatch.setattr(imports, "_existing", lambda uow, ws, rows: set())
    rows = "".join(f"b{i}@example.com;B;{i};member;BX{i}\n" for i in range(100))
    job = run(ctx, operator, workspace, (HEADER + rows).encode(), invite="now")
    assert job.state == "failed" and job.position == 60
    people = members.list_members(ctx, operator, workspace.id, limit=500)
    assert len(people) == 61 and {m.email for m in people} == {f"b{i}@example.com" for i in [*range(60), 70]}
    assert len(messages(ctx, kind="invitation")) == 60
