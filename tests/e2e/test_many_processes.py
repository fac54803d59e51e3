"""``admit serve --workers 2`` on PostgreSQL, as an operator runs it: both processes answer on one
port, readiness is reported, an Idempotency-Key holds across the processes, the metrics of both are
added up in one scrape (Prometheus' multi-process mode), the periodic work is leased once per task,
and a stop (SIGTERM) finishes gracefully and gives the leases up."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from support.postgres import free_port
from support.processes import ADMIT, admit, environment, field

from admit.adapters.persistence.database import make_engine
from admit.entrypoints.workers.periodic import LEASE_PREFIX, TASKS


def serve_two(database_url: str, port: int) -> subprocess.Popen[str]:
    env = environment(
        database_url,
        ADMIT_BASE_URL=f"http://127.0.0.1:{port}",
        ADMIT_WORKER_IN_SERVE="false",  # the web processes only: keep the 2-core machine for them
        ADMIT_EXPIRY_SWEEP_SECONDS="600",
        ADMIT_DB_POOL_SIZE="3",
        ADMIT_DB_MAX_OVERFLOW="2",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.Popen(
        [ADMIT, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_ready(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"admit serve --workers 2 did not start:\n{process.communicate()[0]}")
        time.sleep(0.2)


def fresh_connections(base: str, count: int) -> Iterator[httpx.Response]:
    """Requests each on a new connection (the kernel spreads them over the two processes)."""
    for _ in range(count):
        with httpx.Client(base_url=base, timeout=30) as one:
            yield one.get("/healthz")


def test_two_workers_run_the_periodic_work_once_per_period(database_url: str) -> None:
    first = admit(database_url, "worker", "--once", ADMIT_EXPIRY_SWEEP_SECONDS="3600")
    assert f"Ran {len(TASKS)} periodic task(s)" in first.stdout
    second = admit(database_url, "worker", "--once", ADMIT_EXPIRY_SWEEP_SECONDS="3600")  # "another process"
    assert "Ran 0 periodic task(s)" in second.stdout


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_server_processes_on_postgresql(database_url: str) -> None:
    operator = field(admit(database_url, "token", "create", "--instance", "--name", "scale").stdout, "token")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = serve_two(database_url, port)
    try:
        wait_until_ready(base, process)
        assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
        assert all(answer.status_code == 200 for answer in fresh_connections(base, 30))

        headers = {"authorization": f"Bearer {operator}"}
        with httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=30) as api:
            org = api.post("/organizations", json={"name": "Scale"}).json()
            ws = api.post(f"/organizations/{org['id']}/workspaces", json={"name": "HQ"}).json()
        answers = []
        for _ in range(6):  # retries on new connections: whichever process gets them
            with httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=30) as api:
                answers.append(
                    api.post(
                        f"/workspaces/{ws['id']}/members",
                        json={"email": "once@example.com"},
                        headers={"Idempotency-Key": "scale-once"},
                    )
                )
        assert [a.status_code for a in answers] == [201] * 6
        assert [a.headers.get("idempotent-replayed") for a in answers[1:]] == ["true"] * 5
        assert len({a.json()["member"]["id"] for a in answers}) == 1

        scraped = httpx.get(f"{base}/metrics").text  # loopback: allowed without a token
        counted = re.search(r'admit_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)', scraped)
        assert counted and float(counted.group(1)) >= 30  # both processes' requests, added up

        engine = make_engine(database_url)
        try:
            with engine.connect() as conn:
                leases = dict(conn.execute(text("SELECT name, holder FROM leases")).all())
            assert sorted(leases) == sorted(LEASE_PREFIX + task.name for task in TASKS)
        finally:
            engine.dispose()
    finally:
        process.terminate()  # SIGTERM: uvicorn finishes requests, lifespans release the leases
        try:
            output = process.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            output = process.communicate()[0]
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM leases")).scalar() == 0
    finally:
        engine.dispose()
