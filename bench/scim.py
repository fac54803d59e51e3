"""Benchmark: SCIM 2.0 provisioning through ``/scim/v2``, and the server CPU each request costs,
beside the ``scim2-server`` reference implementation doing the same work in the same run.

Starts ``admit serve`` on a fresh SQLite database in a temporary directory (or on the database
given with ``--database-url``), creates an organization, a workspace and a SCIM token with the
CLI, then, with N concurrent clients (threads, each with its own keep-alive connection):

1. creates ``--users`` users with ``POST /scim/v2/Users`` (an email, names, an external id);
2. runs ``--gets`` filtered reads ``GET /scim/v2/Users?filter=userName eq "…"``, each finding one,
   and as many ``GET /healthz`` (the bare endpoint: what the HTTP stack alone costs);
3. creates a group and adds every user to it with ONE ``PATCH /scim/v2/Groups/{id}``
   (``{"op": "add", "path": "members", "value": [...]}``), timed alone (the body encoded before
   the clock starts); three groups, the quickest PATCH counts, each followed by the raw write below;

and, in the same run, the same creates and filtered reads against ``scim2-server`` (the
python-scim reference implementation, in-memory) started by the benchmark beside Admit, and a raw
``executemany`` of as many membership rows into ``group_members`` (sqlite3 or psycopg, one
transaction; three groups, the quickest counts, as for the PATCH: one timing of a fifth of a second
moves by half from run to run on a shared machine).

The creates (Admit's and the reference's) and the reads (Admit's, the bare endpoint's and the
reference's) are each sent in four rounds that take every series in turn: this shared machine's
speed drifts within a run, and a drift then weighs on every series alike.

    .venv/bin/python bench/scim.py [--users 10000] [--gets 2000] [--clients 8]

The last line is ``cpu_ms_per_scim_create: X``; the reference's figure is on the line
``reference_cpu_ms_per_scim_create: Y``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).parent))

from api import (
    HOST,
    Request,
    RequestFactory,
    Run,
    Target,
    admit_env,
    cli,
    free_port,
    health_request,
    load,
    load_in_turns,
    record_field,
    server,
    server_cpu,
    stop,
)

SCIM = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
REFERENCE = Path(sys.executable).with_name("scim2-server")


def user_body(i: int) -> bytes:
    return json.dumps(
        {
            "schemas": [USER_SCHEMA],
            "userName": f"user{i}@bench.example",
            "externalId": f"ext-{i}",
            "name": {"givenName": f"Given{i}", "familyName": "Bench"},
            "emails": [{"value": f"user{i}@bench.example", "type": "work", "primary": True}],
            "active": True,
        }
    ).encode()


def creates(prefix: str) -> RequestFactory:
    def make(i: int) -> Request:
        return Request("POST", f"{prefix}/Users", user_body(i), 201)

    return make


def filtered_gets(prefix: str, users: int) -> RequestFactory:
    def make(i: int) -> Request:
        wanted = (i * 7919) % users  # spread over the directory, not the newest rows only
        query = f'userName eq "user{wanted}@bench.example"'
        return Request("GET", f"{prefix}/Users?filter={quote(query, safe='')}", None, 200)

    return make


def call(port: int, token: str, method: str, path: str, body: object | None = None) -> tuple[int, bytes]:
    """One request on a new connection; ``body`` is JSON, or bytes already encoded."""
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    headers = {"Authorization": f"Bearer {token}", "Accept": SCIM}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = SCIM
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def checked(run: Run, what: str) -> Run:
    if run.failures.count:
        raise RuntimeError(f"{what}: {run.failures.count} failed, e.g. {run.failures.samples}")
    return run


def user_ids(port: int, token: str, prefix: str, users: int) -> list[str]:
    """Every user's id, read page by page through the SCIM API itself."""
    ids: list[str] = []
    start = 1
    while len(ids) < users:
        status, body = call(port, token, "GET", f"{prefix}/Users?startIndex={start}&count=1000&attributes=id")
        if status != 200:
            raise RuntimeError(f"listing users: {status} {body[:300]!r}")
        page = [item["id"] for item in json.loads(body).get("Resources", [])]
        if not page:
            break
        ids += page
        start += len(page)
    return ids


ROUNDS = 3  # groups filled by the PATCH, and by the raw executemany: the quickest of each counts


def group_patch_beside_raw(
    port: int, pid: int, token: str, prefix: str, ids: list[str], raw: Callable[[], float]
) -> tuple[float, float, float]:
    """``ROUNDS`` groups, each filled by ONE PATCH adding every id, each round followed by one raw
    ``executemany`` of as many rows (``raw``): (the quickest PATCH in wall seconds, its server CPU
    seconds, the quickest raw write). Taken in turns, a drift of the machine's speed weighs on both."""
    patch = json.dumps(
        {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": i} for i in ids]}],
        }
    ).encode()
    timings, raws = [], []
    for round_ in range(ROUNDS):
        group = {"schemas": [GROUP_SCHEMA], "displayName": f"All {round_}"}
        status, body = call(port, token, "POST", f"{prefix}/Groups", group)
        if status != 201:
            raise RuntimeError(f"creating the group: {status} {body[:300]!r}")
        group_id = json.loads(body)["id"]
        cpu_before, started = server_cpu(pid), time.perf_counter()
        status, body = call(port, token, "PATCH", f"{prefix}/Groups/{group_id}?excludedAttributes=members", patch)
        timings.append((time.perf_counter() - started, server_cpu(pid) - cpu_before))
        if status not in (200, 204):
            raise RuntimeError(f"the group PATCH: {status} {body[:300]!r}")
        raws.append(raw())
    seconds, cpu = min(timings)
    return seconds, cpu, min(raws)


def raw_executemany(database_url: str, directory: Path, organization_id: str, ids: list[str]) -> float:
    """The floor for the group PATCH: the same number of membership rows written by one
    ``executemany`` in one transaction, for a group made directly in the database."""
    return _raw_executemany(database_url, directory, organization_id, ids)


def _raw_executemany(database_url: str, directory: Path, organization_id: str, ids: list[str]) -> float:
    group_id = uuid.uuid4().hex
    now = "2026-01-01 00:00:00.000000"
    rows = [(group_id, member_id, organization_id, now) for member_id in ids]
    group = (group_id, organization_id, f"Raw {group_id}", f"raw {group_id}", "console", now, now)
    insert_group = (
        "INSERT INTO groups (id, organization_id, display_name, name_key, source, created_at, updated_at)"
        " VALUES ({0}, {0}, {0}, {0}, {0}, {0}, {0})"
    )
    insert_member = (
        "INSERT INTO group_members (group_id, member_id, organization_id, created_at) VALUES ({0}, {0}, {0}, {0})"
    )
    if database_url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute(insert_group.format("%s"), group)
            started = time.perf_counter()
            with conn.cursor() as cursor:
                cursor.executemany(insert_member.format("%s"), rows)
            conn.commit()
            return time.perf_counter() - started
    db = sqlite3.connect(directory / "bench.db")
    try:
        db.execute(insert_group.format("?"), group)
        db.commit()
        started = time.perf_counter()
        db.executemany(insert_member.format("?"), rows)
        db.commit()
        return time.perf_counter() - started
    finally:
        db.close()


@contextmanager
def reference_server(log: Path) -> Iterator[tuple[int, int]]:
    """scim2-server on a free loopback port: (port, pid)."""
    if not REFERENCE.exists():
        raise RuntimeError(f"{REFERENCE} is missing: install the bench dependencies (make test installs them)")
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(REFERENCE), "--hostname", HOST, "--port", str(port)], stdout=out, stderr=out, cwd=log.parent
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = call(port, "", "GET", "/v2/ServiceProviderConfig")
                if status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scim2-server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        stop(proc)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--gets", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary directory")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    directory = Path(tempfile.mkdtemp(prefix="admit-bench-scim-"))
    try:
        env = admit_env(directory)
        env["ADMIT_SCIM_REQUESTS_PER_MINUTE"] = "0"  # a bulk load past 6,000 a minute is what is measured
        if args.database_url:
            env["ADMIT_DATABASE_URL"] = args.database_url
        database_url = env["ADMIT_DATABASE_URL"]
        cli(env, directory, "db", "upgrade")
        org = record_field(cli(env, directory, "org", "create", "Bench", "--seats", "1000000"), "id")
        workspace = record_field(cli(env, directory, "workspace", "create", org, "Bench"), "id")
        token = record_field(cli(env, directory, "scim", "token", "create", org, "--workspace", workspace), "token")
        port = free_port()
        with (
            server(env, port, directory / "server.log") as proc,
            reference_server(directory / "reference.log") as (ref_port, ref_pid),
        ):
            target, ref = Target(port, proc.pid, workspace, token), Target(ref_port, ref_pid, "", "")
            load(target, health_request, 200, args.clients)  # warm-up
            made = load_in_turns(
                {"admit": (target, creates("/scim/v2")), "reference": (ref, creates("/v2"))}, args.users, args.clients
            )
            read = load_in_turns(
                {
                    "admit": (target, filtered_gets("/scim/v2", args.users)),
                    "bare": (target, health_request),
                    "reference": (ref, filtered_gets("/v2", args.users)),
                },
                args.gets,
                args.clients,
            )
            created, ref_created = checked(made["admit"], "creates"), checked(made["reference"], "reference creates")
            gets, bare = checked(read["admit"], "gets"), checked(read["bare"], "bare")
            ref_gets = checked(read["reference"], "reference gets")
            ids = user_ids(port, token, "/scim/v2", args.users)
            patch_seconds, patch_cpu, raw_seconds = group_patch_beside_raw(
                port, proc.pid, token, "/scim/v2", ids, lambda: raw_executemany(database_url, directory, org, ids)
            )
        print(f"database: {'postgresql' if database_url.startswith('postgresql') else 'sqlite'}")
        print(f"clients: {args.clients}")
        print(f"users: {args.users}  filtered_gets: {args.gets}  group_members: {len(ids)}")
        print(f"creates_per_second: {created.per_second:.1f}")
        print(f"reference_creates_per_second: {ref_created.per_second:.1f}")
        print(f"bare_cpu_ms_per_request: {bare.cpu_ms_per_request:.3f}")
        print(f"cpu_ms_per_filtered_get: {gets.cpu_ms_per_request:.3f}")
        print(f"reference_cpu_ms_per_filtered_get: {ref_gets.cpu_ms_per_request:.3f}")
        print(
            f"filtered_get_to_bare_ratio: {gets.cpu_ms_per_request / bare.cpu_ms_per_request:.2f}  (target: at most 4)"
        )
        print(f"group_patch_seconds: {patch_seconds:.3f}  (server CPU {patch_cpu:.3f} s)")
        print(f"raw_executemany_seconds: {raw_seconds:.3f}")
        print(f"group_patch_to_executemany_ratio: {patch_seconds / raw_seconds:.2f}  (target: at most 3)")
        print(f"reference_cpu_ms_per_scim_create: {ref_created.cpu_ms_per_request:.3f}")
        ratio = created.cpu_ms_per_request / ref_created.cpu_ms_per_request
        print(f"create_to_reference_ratio: {ratio:.2f}  (target: at most 0.5)")
        print(f"cpu_ms_per_scim_create: {created.cpu_ms_per_request:.3f}")
        return 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
