"""Benchmark: invitations created through the REST API, and the server CPU each one costs.

Starts ``admit serve`` on a fresh SQLite database in a temporary directory, then has N concurrent
clients (threads, each with its own keep-alive HTTP/1.1 connection) create invitations with
``POST /api/v1/workspaces/{id}/invitations``. It measures the wall time and the server process's
own CPU time (user + system, children included) over the timed run, and the same for as many
``GET /healthz`` requests, a bare endpoint of the same app, to show what the HTTP stack alone
costs. Every invitation must be answered 201; any failure makes the exit status non-zero.

Meanwhile an ``admit worker`` process delivers the invitation emails (to the dev-mode capture
transport), as in a deployment: it competes for the CPU and SQLite's write lock, and its own CPU
per message is reported on a line of its own once the outbox is drained.

Run it with ``make bench`` (that is ``.venv/bin/python bench/api.py``), or with options:

    .venv/bin/python bench/api.py --count 1000 --clients 8
    .venv/bin/python bench/api.py --worker serve   # the outbox worker inside the server (as `make run`)
    .venv/bin/python bench/api.py --worker none    # nothing delivers: the request path alone

The last line printed is ``cpu_ms_per_invitation: X``.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from admit.adapters.identity.hashing import Argon2Hasher

ADMIT = Path(sys.executable).with_name("admit")
HOST = "127.0.0.1"
WARMUP = 200
STARTUP_SECONDS = 30.0
DRAIN_SECONDS = 300.0
WORKER_MODES = {
    "process": "an `admit worker` process delivers the emails (its CPU is reported apart)",
    "serve": "the outbox worker inside `admit serve` delivers the emails (its CPU counts as the server's)",
    "none": "nothing delivers the emails",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None
    expected: int


@dataclass(frozen=True)
class Target:
    port: int
    pid: int
    workspace_id: str
    token: str


@dataclass
class Failures:
    count: int = 0
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str) -> None:
        with self.lock:
            self.count += 1
            if len(self.samples) < 5:
                self.samples.append(what)


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    cpu_seconds: float
    failures: Failures

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / self.requests

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


RequestFactory = Callable[[int], Request]


class Tickets:
    """Request numbers 0 … count-1, handed out to whichever client is free next."""

    def __init__(self, count: int) -> None:
        self._numbers = itertools.count()
        self._count = count
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            i = next(self._numbers)
        return i if i < self._count else None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="invitations in the timed run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--worker",
        choices=("process", "serve", "none"),
        default="process",
        help="who delivers the invitation emails: an `admit worker` process (default), the outbox worker "
        "inside `admit serve` (its CPU then counts as the server's), or nobody",
    )
    return parser.parse_args()


def admit_env(directory: Path, *, worker: bool = False) -> dict[str, str]:
    """The environment for the CLI and the server: no ADMIT_* setting leaks in from the caller's
    shell (no real SMTP server or SMS gateway), only the benchmark's own."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ADMIT_")}
    return {
        **inherited,
        "ADMIT_DEV_MODE": "true",
        "ADMIT_DATABASE_URL": f"sqlite:///{directory}/bench.db",
        "ADMIT_LOG_LEVEL": "warning",
        "ADMIT_WORKER_IN_SERVE": "true" if worker else "false",  # the outbox worker inside `admit serve`
        "COLUMNS": "200",  # keep the CLI's records on one line each
        # thousands of invitations from one token within the hour: the rate limits would refuse them
        "ADMIT_RATE_INVITATIONS_PER_INVITER": "0",
        "ADMIT_RATE_INVITATIONS_PER_WORKSPACE": "0",
        "ADMIT_RATE_INVITATIONS_PER_ORGANIZATION": "0",
    }


def cli(env: dict[str, str], directory: Path, *args: str) -> str:
    """Run ``admit ARGS`` in ``directory`` (so that no stray .env file is read); its output."""
    done = subprocess.run([str(ADMIT), *args], env=env, cwd=directory, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"admit {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def record_field(output: str, name: str) -> str:
    match = re.search(rf"^{name}: (\S+)(?:  .*)?$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no {name!r} in:\n{output}")
    return match.group(1)


def set_up_tenant(env: dict[str, str], directory: Path) -> tuple[str, str]:
    """Migrate, then create an organization, a workspace and an admin API token."""
    cli(env, directory, "db", "upgrade")
    org = record_field(cli(env, directory, "org", "create", "Bench", "--seats", "100000"), "id")
    workspace = record_field(cli(env, directory, "workspace", "create", org, "Bench"), "id")
    token = record_field(cli(env, directory, "token", "create", org, "--role", "admin", "--name", "bench"), "token")
    return workspace, token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``admit serve`` on 127.0.0.1, stopped with SIGTERM on the way out."""
    with log.open("wb") as out:
        profile = os.environ.get("ADMIT_BENCH_PROFILE")  # a file: the server runs under cProfile
        command = [str(ADMIT), "serve", "--host", HOST, "--port", str(port)]
        if profile:
            command = [sys.executable, "-m", "cProfile", "-o", profile, *command]
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=log.parent,  # no stray .env file
            stdout=out,
            stderr=out,
        )
    try:
        wait_healthy(proc, port, log)
        yield proc
    finally:
        stop(proc)


@contextmanager
def worker_process(env: dict[str, str], log: Path, *, wanted: bool) -> Iterator[subprocess.Popen[bytes] | None]:
    """``admit worker`` (outbox delivery and jobs) in its own process, stopped on the way out."""
    if not wanted:
        yield None
        return
    with log.open("wb") as out:
        proc = subprocess.Popen([str(ADMIT), "worker"], env=env, cwd=log.parent, stdout=out, stderr=out)
    try:
        yield proc
    finally:
        stop(proc)


def undelivered(database: Path) -> int:
    """Messages in the outbox that the worker has not finished with yet."""
    with sqlite3.connect(database, timeout=60) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')").fetchone()[0])


def drain(database: Path, worker: subprocess.Popen[bytes], log: Path) -> float:
    """Wait until the worker has delivered everything; the seconds it took after the timed run."""
    started = time.perf_counter()
    while undelivered(database):
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}:\n{log.read_text()}")
        if time.perf_counter() - started > DRAIN_SECONDS:
            raise RuntimeError(f"the worker did not drain the outbox in {DRAIN_SECONDS:.0f} s")
        time.sleep(0.2)
    return time.perf_counter() - started


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        # SIGINT under cProfile: uvicorn raises the signal again once it has shut down, and only
        # an interrupt lets cProfile write its file
        proc.send_signal(signal.SIGINT if os.environ.get("ADMIT_BENCH_PROFILE") else signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise RuntimeError(f"the server did not become healthy in {STARTUP_SECONDS:.0f} s:\n{log.read_text()}")


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of the server process and any children it runs."""
    process = psutil.Process(pid)
    total = 0.0
    for each in (process, *process.children(recursive=True)):
        times = each.cpu_times()
        total += times.user + times.system
    return total


def invitation_requests(workspace_id: str, prefix: str) -> RequestFactory:
    path = f"/api/v1/workspaces/{workspace_id}/invitations"

    def make(i: int) -> Request:
        body = json.dumps({"email": f"{prefix}{i}@bench.example"}).encode()
        return Request("POST", path, body, 201)

    return make


def health_request(_: int) -> Request:
    return Request("GET", "/healthz", None, 200)


def send(conn: http.client.HTTPConnection, request: Request, target: Target) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {target.token}"}
    if request.body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(request.method, request.path, body=request.body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def client(
    conn: http.client.HTTPConnection, target: Target, make: RequestFactory, tickets: Tickets, failures: Failures
) -> None:
    """Send requests over one connection until the shared tickets run out."""
    while (i := tickets.take()) is not None:
        request = make(i)
        try:
            status, body = send(conn, request, target)
        except (OSError, http.client.HTTPException) as exc:
            failures.add(f"{request.method} #{i}: {exc!r}")
            conn.close()  # http.client reconnects on the next request
            continue
        if status != request.expected:
            failures.add(f"{request.method} #{i}: {status} {body[:200]!r}")


def load(target: Target, make: RequestFactory, count: int, clients: int) -> Run:
    """``count`` requests from ``clients`` threads; wall and server CPU time around them."""
    connections = [http.client.HTTPConnection(HOST, target.port, timeout=60) for _ in range(clients)]
    for conn in connections:
        conn.connect()
    numbers, failures = Tickets(count), Failures()
    threads = [threading.Thread(target=client, args=(c, target, make, numbers, failures)) for c in connections]
    cpu_before, started = server_cpu(target.pid), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds, cpu_after = time.perf_counter() - started, server_cpu(target.pid)
    for conn in connections:
        conn.close()
    return Run(count, seconds, cpu_after - cpu_before, failures)


def load_in_turns(
    series: dict[str, tuple[Target, RequestFactory]], count: int, clients: int, turns: int = 4
) -> dict[str, Run]:
    """``count`` requests of each series (a server and its requests, by ``clients`` threads), sent
    in ``turns`` rounds that take each series in turn; each one's rounds summed. This shared
    machine's speed drifts within a run, and a drift then weighs on every series alike instead of
    on whichever ran during it."""
    runs: dict[str, list[Run]] = {name: [] for name in series}
    done = 0
    for turn in range(turns):
        n = count // turns + (1 if turn < count % turns else 0)
        for name, (target, make) in series.items():
            runs[name].append(load(target, lambda i, first=done, make=make: make(first + i), n, clients))
        done += n
    return {name: _summed(parts) for name, parts in runs.items()}


def _summed(runs: list[Run]) -> Run:
    failures = Failures()
    for run in runs:
        failures.count += run.failures.count
        failures.samples += run.failures.samples[: 5 - len(failures.samples)]
    return Run(sum(r.requests for r in runs), sum(r.seconds for r in runs), sum(r.cpu_seconds for r in runs), failures)


def report(invitations: Run, bare: Run, clients: int, worker: str, delivery: Delivery | None) -> None:
    print(f"clients: {clients}")
    print(f"worker: {WORKER_MODES[worker]}")
    print(f"invitations: {invitations.requests}")
    print(f"seconds: {invitations.seconds:.3f}")
    print(f"invitations_per_second: {invitations.per_second:.1f}")
    print(f"server_cpu_seconds: {invitations.cpu_seconds:.3f}")
    print(f"bare_endpoint: GET /healthz x {bare.requests} in {bare.seconds:.3f} s ({bare.per_second:.1f}/s)")
    print(f"bare_endpoint_cpu_ms_per_request: {bare.cpu_ms_per_request:.3f}")
    print(f"invitation_to_bare_cpu_ratio: {invitations.cpu_ms_per_request / bare.cpu_ms_per_request:.2f}")
    failed = invitations.failures.count + bare.failures.count
    if delivery is not None:
        print(f"worker_messages_delivered: {delivery.messages}")
        print(f"worker_drain_seconds_after_run: {delivery.drain_seconds:.1f}")
        print(f"worker_cpu_ms_per_message: {delivery.cpu_ms_per_message:.3f}")
    print(f"failures: {failed}")
    for sample in invitations.failures.samples + bare.failures.samples:
        print(f"  {sample}", file=sys.stderr)
    print(f"cpu_ms_per_invitation: {invitations.cpu_ms_per_request:.3f}")


@dataclass(frozen=True)
class Delivery:
    messages: int
    cpu_seconds: float
    drain_seconds: float  # after the timed run ended

    @property
    def cpu_ms_per_message(self) -> float:
        return 1000 * self.cpu_seconds / self.messages


def measure(
    target: Target, count: int, clients: int, database: Path, worker: tuple[subprocess.Popen[bytes], Path] | None
) -> tuple[Run, Run, Delivery | None]:
    """Warm up both endpoints, then time the invitations (and their delivery) and the bare endpoint."""
    for make in (invitation_requests(target.workspace_id, "warmup"), health_request):
        warmup = load(target, make, WARMUP, clients)
        if warmup.failures.count:
            raise RuntimeError(f"the warm-up failed: {warmup.failures.samples}")
    if worker is not None:
        drain(database, *worker)  # start the timed run with an empty outbox
    worker_cpu = server_cpu(worker[0].pid) if worker is not None else 0.0
    invitations = load(target, invitation_requests(target.workspace_id, "person"), count, clients)
    delivery = None
    if worker is not None:
        waited = drain(database, *worker)
        delivery = Delivery(count, server_cpu(worker[0].pid) - worker_cpu, waited)
    bare = load(target, health_request, count, clients)
    return invitations, bare, delivery


def main() -> int:
    args = parse_args()
    directory = Path(tempfile.mkdtemp(prefix="admit-bench-"))
    try:
        env = admit_env(directory, worker=args.worker == "serve")
        workspace_id, token = set_up_tenant(env, directory)
        port = free_port()
        worker_log = directory / "worker.log"
        with (
            server(env, port, directory / "server.log") as proc,
            worker_process(env, worker_log, wanted=args.worker == "process") as worker,
        ):
            target = Target(port, proc.pid, workspace_id, token)
            watched = (worker, worker_log) if worker is not None else None
            invitations, bare, delivery = measure(target, args.count, args.clients, directory / "bench.db", watched)
        report(invitations, bare, args.clients, args.worker, delivery)
        return 1 if invitations.failures.count or bare.failures.count else 0
    except RuntimeError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())


def verify_cpu_ms(hasher: Argon2Hasher, password: str, rounds: int) -> float:
    """CPU milliseconds of one ``hasher.verify`` of ``password``, in this process (what a password
    sign-in adds to a request on the server)."""
    stored = hasher.hash(password)
    started = time.process_time()
    for _ in range(rounds):
        hasher.verify(stored, password)
    return 1000 * (time.process_time() - started) / rounds
