"""Import benchmark: 100,000 people from a CSV and from an XLSX file imported through the service
(file checks, validation, duplicate checks, members and invitations created, outbox filled), on
SQLite and PostgreSQL, against a raw ``executemany`` of the very same rows into the same database
in the same run.

    .venv/bin/python bench/import.py [--rows 100000] [--databases sqlite,postgresql] [--formats csv,xlsx]

Each import runs in a child process of its own, so its peak memory (the child's maximum resident
set size) is its own. The child creates an organization and a workspace, runs the import job
("invite now") to the end and times it. It then reads back every row the import wrote (members,
invitations, secrets, messages, audit events), deletes them, and inserts them again with the
driver's own ``executemany`` in chunks of the same size, one transaction per chunk: that is the
baseline. On PostgreSQL it deletes them once more and writes them again with ``COPY … FROM STDIN``,
chunk by chunk in the same way: the second baseline. ``postgresql_ratio_to_copy: X`` (import time /
COPY time, the larger of the PostgreSQL files) comes before the last line, which is ``ratio: X``,
the larger SQLite ratio (import time / raw ``executemany`` time).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

TABLES = ("members", "invitations", "secrets", "outbox", "events")
HEADERS = ["Email", "First name", "Last name", "External ID", "Department", "Job profile", "Phone", "Language"]


def people(rows: int) -> list[list[str]]:
    return [
        [
            f"person{i}@bench.example.com",
            f"First{i}",
            f"Last{i}",
            f"HR-{i:07d}",
            ("Sales", "Support", "Warehouse")[i % 3],
            ("Agent", "Lead")[i % 2],
            f"+4930{i:08d}",
            ("en", "de", "fr")[i % 3],
        ]
        for i in range(rows)
    ]


def make_file(fmt: str, rows: int, folder: Path) -> Path:
    from admit.adapters.spreadsheets import write_csv, write_xlsx

    data = people(rows)
    path = folder / f"people.{fmt}"
    path.write_bytes(write_csv(HEADERS, data) if fmt == "csv" else write_xlsx(HEADERS, data))
    return path


def child(url: str, path: Path) -> dict[str, Any]:
    """One import and its baseline, in this (child) process."""
    from admit.adapters.identity.hashing import Argon2Hasher
    from admit.adapters.persistence.database import make_engine
    from admit.adapters.persistence.migrate import upgrade
    from admit.admin import imports, jobs, tenancy
    from admit.bootstrap import SystemClock, SystemRandom, make_uow_factory
    from admit.shared.context import Actor, Context

    upgrade(url)
    engine = make_engine(url)
    ctx = Context(
        uow=make_uow_factory(engine),
        clock=SystemClock(),
        random=SystemRandom(),
        hasher=Argon2Hasher(),
        base_url="https://admit.example.com",
    )
    operator = Actor.operator("bench")
    org = tenancy.create_organization(ctx, operator, "Bench", plan="business", seats=1_000_000)
    settings = tenancy.WorkspaceSettings(departments=["Sales", "Support", "Warehouse"], job_profiles=["Agent", "Lead"])
    ws = tenancy.create_workspace(ctx, operator, org.id, f"Bench {path.suffix}", settings)
    data = path.read_bytes()
    started = time.perf_counter()
    job = imports.start(ctx, operator, ws.id, data, path.name, invite="now")
    jobs.run_next(ctx, job.id)
    seconds = time.perf_counter() - started
    done = jobs.get(ctx, operator, job.id)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the import's peak, before the baseline
    paging = directory_pages(ctx, operator, ws.id)
    rows, raw_seconds, copy_seconds = baseline(engine, ws.id, imports.CHUNK)
    engine.dispose()
    return {
        "state": done.state,
        "counts": done.counts,
        "seconds": seconds,
        "raw_seconds": raw_seconds,
        "copy_seconds": copy_seconds,
        "rows_written": rows,
        "peak_mb": peak_mb,
        "paging": paging,
    }


def directory_pages(ctx: Any, operator: Any, workspace_id: str) -> dict[str, float]:
    """Milliseconds for a page of 50 of the imported directory: the first, one deep in the list
    (after 99% of the members, by cursor), a status filter, and a search."""
    from admit.admin import members

    def timed(**filters: Any) -> float:
        started = time.perf_counter()
        for _ in range(5):
            members.list_members(ctx, operator, workspace_id, limit=50, **filters)
        return (time.perf_counter() - started) / 5 * 1000

    with ctx.uow() as uow:  # the member 99% of the way through, in listing order
        rows = uow.members.list(operator_org(uow, workspace_id), workspace_id, limit=1_000_000)
        deep = members.make_cursor(rows[int(len(rows) * 0.99)])
    return {
        "first": timed(),
        "deep": timed(cursor=deep),
        "status": timed(status="invited"),
        "search": timed(search="person99"),
    }


def operator_org(uow: Any, workspace_id: str) -> str:
    workspace = uow.workspaces.get(None, workspace_id)
    return str(workspace.organization_id)


def baseline(engine: Any, workspace_id: str, chunk: int) -> tuple[int, float, float | None]:
    """Read back what the import wrote, delete it, and time inserting it again with the driver's
    ``executemany``; on PostgreSQL, delete it once more and time a ``COPY … FROM STDIN`` of the
    same rows too. Returns (rows, executemany seconds, COPY seconds or None)."""
    from sqlalchemy import select

    from admit.adapters.persistence import tables as t

    written: dict[str, list[tuple[Any, ...]]] = {}
    columns: dict[str, list[str]] = {}
    with engine.begin() as conn:
        for name in TABLES:
            table = t.metadata.tables[name]
            if name == "secrets":
                where = table.c.subject_id.in_(
                    select(t.invitations.c.id).where(t.invitations.c.workspace_id == workspace_id)
                )
            else:
                where = table.c.workspace_id == workspace_id
            written[name] = [tuple(row) for row in conn.execute(select(table).where(where)).all()]
            columns[name] = [c.name for c in table.columns]
    _delete(engine, written)
    written["members"].sort(key=lambda row: row[0])
    member_column = columns["invitations"].index("member_id")
    written["invitations"].sort(key=lambda row: row[member_column])  # slice k references members of slice k
    prepared = {name: [_driver_values(row) for row in written[name]] for name in TABLES}
    chunks = max(1, -(-len(prepared["members"]) // chunk))
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    statements = {
        name: f"INSERT INTO {name} ({', '.join(columns[name])}) VALUES ({', '.join([mark] * len(columns[name]))})"  # noqa: S608 - our names
        for name in TABLES
    }
    seconds = _timed_chunks(
        engine, prepared, chunks, lambda cursor, name, part: cursor.executemany(statements[name], part)
    )
    copy_seconds = None
    if engine.dialect.name == "postgresql":
        _delete(engine, written)

        def copy(cursor: Any, name: str, part: list[tuple[Any, ...]]) -> None:
            with cursor.copy(f"COPY {name} ({', '.join(columns[name])}) FROM STDIN") as stream:
                for row in part:
                    stream.write_row(row)

        copy_seconds = _timed_chunks(engine, prepared, chunks, copy)
    return sum(len(prepared[name]) for name in TABLES), seconds, copy_seconds


def _delete(engine: Any, written: dict[str, list[tuple[Any, ...]]]) -> None:
    from sqlalchemy import delete

    from admit.adapters.persistence import tables as t

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # skip per-row foreign-key checks while deleting (superuser here)
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for name in reversed(TABLES):
            table = t.metadata.tables[name]
            ids = [row[0] for row in written[name]]
            for start in range(0, len(ids), 10_000):
                conn.execute(delete(table).where(table.c.id.in_(ids[start : start + 10_000])))


def _timed_chunks(engine: Any, prepared: dict[str, list[tuple[Any, ...]]], chunks: int, write: Any) -> float:
    """Seconds to write every table's rows with ``write(cursor, table, rows)``, in ``chunks``
    transactions (one per chunk of people, as the import commits)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        for k in range(chunks):
            if engine.dialect.name == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")  # the engine runs pysqlite without implicit transactions
            for name in TABLES:
                rows = prepared[name]
                part = rows[k * len(rows) // chunks : (k + 1) * len(rows) // chunks]
                if part:
                    write(cursor, name, part)
            raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def _driver_values(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Values as the driver takes them (JSON columns come back as Python objects)."""
    return tuple(json.dumps(v) if isinstance(v, dict | list) else v for v in row)


def run_child(url: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, str(path)], check=True, capture_output=True, text=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    ratios: dict[str, float] = {}
    copy_ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {fmt: make_file(fmt, args.rows, folder) for fmt in args.formats.split(",")}
        for database in args.databases.split(","):
            for fmt, path in files.items():
                result = measure(database, path, folder)
                ratio = result["seconds"] / result["raw_seconds"]
                if database == "sqlite":
                    ratios[fmt] = ratio
                copy_part = ""
                if result["copy_seconds"] is not None:
                    copy_ratios[fmt] = result["seconds"] / result["copy_seconds"]
                    copy_part = f"; raw COPY: {result['copy_seconds']:.2f} s; ratio to COPY {copy_ratios[fmt]:.2f}"
                print(
                    f"{database} {fmt}: {args.rows} rows ({path.stat().st_size / 1e6:.1f} MB) "
                    f"in {result['seconds']:.1f} s "
                    f"= {args.rows / result['seconds']:.0f} rows/s, peak {result['peak_mb']:.0f} MB, "
                    f"{result['state']} {result['counts']}; raw executemany of the same {result['rows_written']} rows: "
                    f"{result['raw_seconds']:.2f} s; ratio {ratio:.2f}{copy_part}; a page of the directory: "
                    + ", ".join(f"{name} {ms:.1f} ms" for name, ms in result["paging"].items()),
                    flush=True,
                )
    if copy_ratios:
        print(f"postgresql_ratio_to_copy: {max(copy_ratios.values()):.2f}")
    if ratios:
        print(f"ratio: {max(ratios.values()):.2f}")


def measure(database: str, path: Path, folder: Path) -> dict[str, Any]:
    if database == "sqlite":
        db = folder / f"bench-{path.suffix[1:]}.db"
        return run_child(f"sqlite:///{db}", path)
    from support.postgres import throwaway_cluster

    with throwaway_cluster() as url:
        return run_child(url, path)


if __name__ == "__main__":
    main()
