"""What ``bench/scale.py`` and ``bench/soak.py`` share: a throwaway PostgreSQL cluster, a seeded
database, ``admit serve --workers N`` with an ``admit worker``, and the mixed workload, sent by a
client in a process of its own (threads with keep-alive connections inside it).

The mixed workload, in the weights of ``--mix`` (``DEFAULT_MIX``: 4 invitations, 1 accept,
1 sign-in, 2 directory pages, 2 SCIM creates in every 10 operations, interleaved):

- ``invite``: ``POST /api/v1/workspaces/{id}/invitations`` with an admin API token (201);
- ``accept``: ``POST /api/v1/invitations/accept`` with a link's token and a password: creates the
  account, one Argon2id hash at the server's real cost (200);
- ``signin``: ``POST /api/v1/sessions`` with an email and password: one Argon2id verification (201);
- ``directory``: ``GET /api/v1/workspaces/{id}/members`` (the first page, 200);
- ``scim``: ``POST /scim/v2/Users`` with a SCIM token (201).
"""

from __future__ import annotations

import concurrent.futures
import glob
import http.client
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from api import ADMIT, HOST, admit_env, cli, free_port, record_field, server_cpu, stop, wait_healthy

PASSWORD = "bench-lantern-orchard-42"
KINDS = ("invite", "accept", "signin", "directory", "scim")
DEFAULT_MIX = "invite=4,accept=1,signin=1,directory=2,scim=2"
SIGN_IN_ACCOUNTS = 20
STARTUP_SECONDS = 180.0
IDLE_RECONNECT_SECONDS = 4.0  # below uvicorn's keep-alive timeout (5 s)
SCIM = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def parse_mix(text: str) -> dict[str, int]:
    mix: dict[str, int] = {}
    for part in text.split(","):
        kind, _, weight = part.partition("=")
        if kind.strip() not in KINDS or not weight.strip().isdigit():
            raise ValueError(f"--mix: {part!r} is not KIND=N with KIND one of {', '.join(KINDS)}")
        mix[kind.strip()] = int(weight)
    if not any(mix.values()):
        raise ValueError("--mix: every weight is 0")
    return mix


def cycle(mix: dict[str, int]) -> list[str]:
    """The kinds of one cycle, each spread evenly over it (4 invites: at 1/8, 3/8, 5/8, 7/8)."""
    slots = [((j + 0.5) / weight, kind) for kind, weight in mix.items() for j in range(weight)]
    return [kind for _, kind in sorted(slots)]


# --- the PostgreSQL cluster ---------------------------------------------------------------------


def _as_owner(args: list[str]) -> list[str]:
    """Root cannot run PostgreSQL: its commands run as the ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass(frozen=True)
class Cluster:
    port: int
    data: Path
    bindir: Path

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/{database}"

    def createdb(self, name: str) -> str:
        subprocess.run(
            _as_owner([str(self.bindir / "createdb"), "-h", HOST, "-p", str(self.port), "-U", "postgres", name]),
            check=True,
            capture_output=True,
        )
        return self.url(name)

    def postmaster(self) -> psutil.Process:
        return psutil.Process(int((self.data / "postmaster.pid").read_text().split()[0]))

    def cpu(self) -> float:
        """CPU seconds (user + system) of every process of the cluster: the postmaster, its living
        children (backends, WAL writer, checkpointer …) and the children it has reaped."""
        postmaster = self.postmaster()
        times = postmaster.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in postmaster.children(recursive=True):
            try:
                each = child.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += each.user + each.system
        return float(total)


@contextmanager
def postgres_cluster(*, fsync: bool = True) -> Iterator[Cluster]:
    """A fresh cluster in a temporary directory on 127.0.0.1 and a free port, stopped and removed
    on the way out (even after an error). PostgreSQL's defaults otherwise: a commit waits for its
    WAL flush unless ``fsync`` is false."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin)")
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="admit-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()
    options = f"-p {port} -k {root} -c listen_addresses={HOST} -c max_connections=200"
    if not fsync:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    try:
        subprocess.run(
            _as_owner([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
            check=True,
            capture_output=True,
        )
        start = [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        subprocess.run(_as_owner(start), check=True, capture_output=True)
        yield Cluster(port, data, bindir)
    finally:
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class DatabaseStats:
    """PostgreSQL's counters for one database: transactions ended and the WAL position."""

    transactions: int
    wal_lsn: str


def database_stats(url: str) -> DatabaseStats:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback, pg_current_wal_lsn()::text FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return DatabaseStats(int(row[0]), str(row[1]))


def wal_bytes(url: str, before: str, after: str) -> int:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        row = conn.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (after, before)).fetchone()
    assert row is not None
    return int(row[0])


def invitation_tokens(url: str, prefix: str) -> list[tuple[str, str]]:
    """(email, link token) of the invitations sent to ``prefix…`` addresses, read from the outbox."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT recipient, payload->>'link' FROM outbox WHERE recipient LIKE %s ORDER BY id", (prefix + "%",)
        ).fetchall()
    return [(str(email), str(link).rsplit("/", 1)[1]) for email, link in rows if link and "/adm_inv_" in link]


# --- the seeded tenant and the processes ------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    database_url: str
    workspace_id: str
    api_token: str
    scim_token: str


def seed(cluster: Cluster, database: str, directory: Path) -> tuple[dict[str, str], Tenant]:
    """A fresh database on the cluster, migrated; an organization, a workspace, an admin API
    token and a SCIM token made with the CLI. Returns the processes' environment too."""
    url = cluster.createdb(database)
    env = admit_env(directory)
    env.update(
        ADMIT_DATABASE_URL=url,
        ADMIT_WORKER_IN_SERVE="false",  # an `admit worker` process delivers
        ADMIT_DB_POOL_SIZE="8",
        ADMIT_DB_MAX_OVERFLOW="4",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cli(env, directory, "db", "upgrade")
    org = record_field(cli(env, directory, "org", "create", "Bench", "--seats", "10000000"), "id")
    workspace = record_field(cli(env, directory, "workspace", "create", org, "Bench"), "id")
    token = record_field(cli(env, directory, "token", "create", org, "--role", "admin", "--name", "bench"), "token")
    scim = record_field(cli(env, directory, "scim", "token", "create", org, "--workspace", workspace), "token")
    return env, Tenant(url, workspace, token, scim)


@dataclass
class Deployment:
    serve: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    port: int

    def server_cpu(self) -> float:
        return server_cpu(self.serve.pid)

    def worker_cpu(self) -> float:
        return server_cpu(self.worker.pid)

    def server_processes(self) -> list[psutil.Process]:
        """The processes that answer requests (uvicorn's workers; the one process with one worker)."""
        top = psutil.Process(self.serve.pid)
        answering = [p for p in top.children(recursive=True) if "resource_tracker" not in " ".join(p.cmdline())]
        return answering or [top]


@contextmanager
def deployment(env: dict[str, str], directory: Path, workers: int) -> Iterator[Deployment]:
    """``admit serve --workers N`` on 127.0.0.1 and a free port, and one ``admit worker``."""
    port = free_port()
    env = {**env, "ADMIT_BASE_URL": f"http://{HOST}:{port}"}
    log = directory / f"serve-{workers}.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [str(ADMIT), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
            env=env,
            cwd=directory,
            stdout=out,
            stderr=out,
        )
    worker_log = directory / f"worker-{workers}.log"
    with worker_log.open("wb") as out:
        worker = subprocess.Popen([str(ADMIT), "worker"], env=env, cwd=directory, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:  # api.wait_healthy allows 30 s: too little for two processes on a busy machine
            try:
                wait_healthy(serve, port, log)
                break
            except RuntimeError:
                if serve.poll() is not None or time.monotonic() > deadline:
                    children = len(psutil.Process(serve.pid).children()) if serve.poll() is None else 0
                    raise RuntimeError(
                        f"admit serve --workers {workers} not healthy after {STARTUP_SECONDS:.0f} s"
                        f" (exit status {serve.poll()}, {children} child processes):\n{log.read_text()}"
                    ) from None
        if workers > 1:  # every uvicorn worker up, not only the first
            deadline = time.monotonic() + 60
            while len(Deployment(serve, worker, port).server_processes()) < workers:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"fewer than {workers} server processes:\n{log.read_text()}")
                time.sleep(0.2)
            time.sleep(2)  # and each one's app built
        yield Deployment(serve, worker, port)
    finally:
        stop(serve)
        stop(worker)


# --- the client, in a process of its own ------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the client process sends: ``ops`` operations from ``clients`` threads, as fast as
    they are answered (``rate`` 0) or started at ``rate`` a second; or, with ``seconds``, for that
    long instead of a count."""

    port: int
    tenant: Tenant
    mix: dict[str, int]
    label: str  # makes the run's email addresses unique
    clients: int
    ops: int = 0
    seconds: float = 0.0
    rate: float = 0.0
    accept_tokens: tuple[str, ...] = ()
    sign_in_emails: tuple[str, ...] = ()


@dataclass
class Outcome:
    """Per operation kind: latencies in seconds of the answered ones; failures counted apart."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    failures: int = 0
    samples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    accept_tokens_used: int = 0
    ran_out_of_tokens: bool = False

    @property
    def operations(self) -> int:
        return sum(len(each) for each in self.latencies.values()) + self.failures

    def all_latencies(self) -> list[float]:
        return sorted(value for each in self.latencies.values() for value in each)


def percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


class _Schedule:
    """Operation numbers handed to whichever thread is free, each with its kind and, for accepts,
    its token; in fixed-rate mode also the moment it is due."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.kinds = cycle(plan.mix)
        self.lock = threading.Lock()
        self.next = 0
        self.accepts = 0
        self.ran_out = False
        self.started = time.perf_counter()

    def take(self) -> tuple[int, str, float, str] | None:
        with self.lock:
            i = self.next
            plan = self.plan
            due = self.started + i / plan.rate if plan.rate else time.perf_counter()
            if plan.ops and i >= plan.ops:
                return None
            if plan.seconds and due - self.started >= plan.seconds:
                return None
            kind = self.kinds[i % len(self.kinds)]
            token = ""
            if kind == "accept":
                if self.accepts >= len(plan.accept_tokens):
                    self.ran_out = True  # a timed run longer than foreseen: it ends here
                    return None
                token = plan.accept_tokens[self.accepts]
                self.accepts += 1
            self.next += 1
            return i, kind, due, token


def _request(plan: Plan, i: int, kind: str, token: str) -> tuple[str, str, bytes | None, dict[str, str], int]:
    t = plan.tenant
    api = {"Authorization": f"Bearer {t.api_token}", "Content-Type": "application/json"}
    plain = {"Content-Type": "application/json"}
    if kind == "invite":
        body = json.dumps({"email": f"{plan.label}-inv{i}@bench.example"}).encode()
        return "POST", f"/api/v1/workspaces/{t.workspace_id}/invitations", body, api, 201
    if kind == "accept":
        body = json.dumps({"token": token, "password": PASSWORD}).encode()
        return "POST", "/api/v1/invitations/accept", body, plain, 200
    if kind == "signin":
        email = plan.sign_in_emails[i % len(plan.sign_in_emails)]
        body = json.dumps({"identifier": email, "password": PASSWORD}).encode()
        return "POST", "/api/v1/sessions", body, plain, 201
    if kind == "directory":
        return "GET", f"/api/v1/workspaces/{t.workspace_id}/members", None, api, 200
    user = f"{plan.label}-scim{i}@bench.example"
    body = json.dumps(
        {
            "schemas": [USER_SCHEMA],
            "userName": user,
            "externalId": f"{plan.label}-{i}",
            "name": {"givenName": f"Given{i}", "familyName": "Bench"},
            "emails": [{"value": user, "type": "work", "primary": True}],
        }
    ).encode()
    scim = {"Authorization": f"Bearer {t.scim_token}", "Content-Type": SCIM, "Accept": SCIM}
    return "POST", "/scim/v2/Users", body, scim, 201


def _client_thread(plan: Plan, schedule: _Schedule, outcome: Outcome, lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection(HOST, plan.port, timeout=60)
    mine: dict[str, list[float]] = {kind: [] for kind in KINDS}
    failures: list[str] = []
    last_used = time.perf_counter()
    while (taken := schedule.take()) is not None:
        i, kind, due, token = taken
        if plan.rate and (wait := due - time.perf_counter()) > 0:
            time.sleep(wait)
        method, path, body, headers, expected = _request(plan, i, kind, token)
        if time.perf_counter() - last_used > IDLE_RECONNECT_SECONDS:
            conn.close()  # uvicorn closes a connection idle for 5 s: do not send on a closing one
        started = due if plan.rate else time.perf_counter()  # fixed rate: from when it was due
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            status = response.status
            last_used = time.perf_counter()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()  # reconnects on the next request
            failures.append(f"{kind} #{i}: {exc!r}")
            continue
        if status != expected:
            failures.append(f"{kind} #{i}: {status} {answer[:200]!r}")
            continue
        mine[kind].append(last_used - started)
    conn.close()
    with lock:
        for kind in KINDS:
            outcome.latencies[kind] += mine[kind]
        outcome.failures += len(failures)
        outcome.samples += failures[: max(0, 5 - len(outcome.samples))]


def run_client(plan: Plan) -> Outcome:
    """In the client process: the plan's operations from its threads; what they measured."""
    schedule, outcome, lock = _Schedule(plan), Outcome(), threading.Lock()
    threads = [
        threading.Thread(target=_client_thread, args=(plan, schedule, outcome, lock)) for _ in range(plan.clients)
    ]
    started = time.perf_counter()
    schedule.started = started
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.seconds = time.perf_counter() - started
    outcome.accept_tokens_used = schedule.accepts
    outcome.ran_out_of_tokens = schedule.ran_out
    return outcome


class ClientProcess:
    """One long-lived client process (spawned, so nothing of the parent's state is shared)."""

    def __init__(self) -> None:
        self._pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def pid(self) -> int:
        return int(self._pool.submit(os.getpid).result())

    def run(self, plan: Plan) -> Outcome:
        return self._pool.submit(run_client, plan).result()

    def close(self) -> None:
        self._pool.shutdown()


# --- setting up what the workload needs ---------------------------------------------------------


def accept_tokens(client: ClientProcess, port: int, tenant: Tenant, label: str, count: int, clients: int) -> list[str]:
    """Untimed: ``count`` invitations (to ``label-inv…`` addresses) and their links' tokens."""
    if count == 0:
        return []
    done = client.run(Plan(port, tenant, {"invite": 1}, label, clients, ops=count))
    if done.failures:
        raise RuntimeError(f"setting up: {done.failures} invitations failed, e.g. {done.samples}")
    tokens = [token for _, token in invitation_tokens(tenant.database_url, label + "-inv")]
    if len(tokens) < count:
        raise RuntimeError(f"setting up: {len(tokens)} invitation links in the outbox, wanted {count}")
    return tokens


def prepare(
    client: ClientProcess, port: int, tenant: Tenant, label: str, accepts: int, clients: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Untimed: ``accepts`` invitations to accept during the run, and the accounts that sign in
    (invited and accepted with the password now). Returns (accept tokens, sign-in emails)."""
    prefix = f"{label}-who"
    done = client.run(Plan(port, tenant, {"invite": 1}, prefix, clients, ops=SIGN_IN_ACCOUNTS))
    if done.failures:
        raise RuntimeError(f"setting up: {done.failures} invitations failed, e.g. {done.samples}")
    accounts = invitation_tokens(tenant.database_url, prefix + "-inv")
    claim = Plan(
        port,
        tenant,
        {"accept": 1},
        label,
        min(clients, 4),
        ops=len(accounts),
        accept_tokens=tuple(token for _, token in accounts),
    )
    done = client.run(claim)
    if done.failures:
        raise RuntimeError(f"setting up: {done.failures} accepts failed, e.g. {done.samples}")
    tokens = accept_tokens(client, port, tenant, f"{label}-acc", accepts, clients)
    return tuple(tokens), tuple(email for email, _ in accounts)


def accepts_needed(mix: dict[str, int], ops: int) -> int:
    kinds = cycle(mix)
    whole, rest = divmod(ops, len(kinds))
    return whole * kinds.count("accept") + kinds[:rest].count("accept")


def undelivered(url: str) -> int:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')").fetchone()
    return int(row[0]) if row else 0


def drain(url: str, worker: subprocess.Popen[bytes], limit: float = 600.0) -> None:
    """Wait until the worker has delivered every queued message."""
    deadline = time.monotonic() + limit
    while undelivered(url):
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not drain the outbox in {limit:.0f} s")
        time.sleep(0.5)


def server_log_tail(directory: Path, workers: int) -> str:
    log = directory / f"serve-{workers}.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-20:])


def metric(text: str, name: str) -> float | None:
    """The largest value of a Prometheus metric in a scrape (over its labels), or None."""
    values = [float(v) for v in re.findall(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, re.MULTILINE)]
    return max(values) if values else None
