"""The fault suite: real ``admit serve`` and ``admit worker`` processes while PostgreSQL restarts
under them, a worker is killed with SIGKILL mid-send and mid-job, the SMTP server or the SMS
gateway hangs, and SQLite's disk fills up. Each fault must end in a clear answer (503/507 with
a message, never a 500 with a trace), nothing lost and nothing done twice, and the same
processes serving again once the fault is gone."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from support.faults import fill, restartable_cluster, small_disk, stalling_server
from support.postgres import free_port
from support.processes import ADMIT, admit, environment, field
from support.sms_gateway import sms_gateway
from support.smtp import smtp_server

from admit.adapters.persistence import migrate
from admit.adapters.persistence.database import make_engine
from admit.admin.jobs import run_next
from admit.bootstrap import build_context, make_uow_factory
from admit.config import Settings
from admit.domain.records import Message
from admit.shared.messages import enqueue

IMPORTED = 2000  # people in the import PostgreSQL restarts under (4 chunks)
FAST = 5.0  # seconds: a generous bound for "answers at once" on a loaded 2-core machine


# -- processes -------------------------------------------------------------------------------


LOGS: dict[int, Path] = {}


def start(database_url: str, *args: str, **extra: str) -> subprocess.Popen[str]:
    """``admit *args`` in a process of its own, its output in a file (read by :func:`output`)."""
    log = Path(tempfile.mkstemp(prefix="admit-faults-", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen(
            [ADMIT, *args], env=environment(database_url, **extra), stdout=out, stderr=out, text=True
        )
    LOGS[process.pid] = log
    return process


def output(process: subprocess.Popen[str]) -> str:
    return LOGS[process.pid].read_text(errors="replace")


@contextlib.contextmanager
def serving(database_url: str, **extra: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``admit serve`` on a free port, its output kept; stopped (SIGTERM) afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(
        database_url,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        ADMIT_BASE_URL=base,
        ADMIT_EXPIRY_SWEEP_SECONDS="3600",
        **extra,
    )
    try:
        until(lambda: _answers(base), 60, "admit serve did not start", process)
        yield base, process
    finally:
        stopped(process)


@contextlib.contextmanager
def working(database_url: str, **extra: str) -> Iterator[subprocess.Popen[str]]:
    process = start(database_url, "worker", ADMIT_EXPIRY_SWEEP_SECONDS="3600", **extra)
    try:
        yield process
    finally:
        stopped(process)


def stopped(process: subprocess.Popen[str]) -> str:
    """Stop the process (SIGTERM, then SIGKILL after 40 s); its whole output."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return output(process)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def until(check: Callable[[], Any], seconds: float, what: str, *alive: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        for process in alive:
            if process.poll() is not None:
                raise AssertionError(f"{what}: a process ended ({process.returncode}):\n{stopped(process)}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.args[1]}:\n{output(p)[-4000:]}" for p in alive)
            raise AssertionError(f"{what} within {seconds} s\n{logs}")
        time.sleep(0.2)


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    answer = call()
    return answer, time.monotonic() - began


# -- data ------------------------------------------------------------------------------------


def operator_api(database_url: str, base: str) -> httpx.Client:
    token = field(admit(database_url, "token", "create", "--instance", "--name", "faults").stdout, "token")
    return httpx.Client(base_url=f"{base}/api/v1", headers={"authorization": f"Bearer {token}"}, timeout=60)


def workspace(api: httpx.Client, **settings: Any) -> str:
    org = api.post("/organizations", json={"name": "Faults", "plan": "business", "seats": 10_000})
    assert org.status_code == 201, org.text
    ws = api.post(f"/organizations/{org.json()['id']}/workspaces", json={"name": "HQ", **settings})
    assert ws.status_code == 201, ws.text
    return str(ws.json()["id"])


def messages(database_url: str) -> list[Message]:
    engine = make_engine(database_url)
    try:
        with make_uow_factory(engine)() as uow:
            return list(uow.outbox.list(limit=10_000))
    finally:
        engine.dispose()


def scalar(database_url: str, sql: str, **params: Any) -> Any:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def enqueue_emails(database_url: str, count: int) -> None:
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    try:
        with make_uow_factory(engine)(write=True) as uow:
            for i in range(count):
                enqueue(
                    uow,
                    kind="invitation",
                    channel="email",
                    recipient=f"p{i}@example.com",
                    language="en",
                    subject_id=f"s{i}",
                    organization_id=None,
                    workspace_id=None,
                    now=now,
                    payload={
                        "workspace_name": "Faults",
                        "link": f"https://a.test/i/adm_inv_{i}",
                        "expires_at": now.isoformat(),
                    },
                )
            uow.commit()
    finally:
        engine.dispose()


def people_csv(count: int) -> bytes:
    out = io.StringIO()
    out.write("Email,First name,Last name\n")
    for i in range(count):
        out.write(f"person{i}@example.com,Person,Number {i}\n")
    return out.getvalue().encode()


def smtp_env(port: int, **extra: str) -> dict[str, str]:
    return {
        "ADMIT_SMTP_HOST": "127.0.0.1",
        "ADMIT_SMTP_PORT": str(port),
        "ADMIT_SMTP_SECURITY": "plain",
        "ADMIT_DELIVERY_POLL_SECONDS": "0.2",
        "ADMIT_DELIVERY_BACKOFF_SECONDS": "1",
        **extra,
    }


def no_trace(answer: httpx.Response) -> None:
    assert "Traceback" not in answer.text and "psycopg" not in answer.text and "sqlite3" not in answer.text


# -- 1. PostgreSQL restarts under running processes -------------------------------------------


def test_postgresql_restart_answers_503_and_the_same_processes_serve_again() -> None:
    """PostgreSQL stops (a fast shutdown: every connection cut) while serve and a worker run and an
    import is under way, and starts again: 503s in between, then the same processes carry on, the
    pending message goes out and the import resumes from its last chunk with nobody twice."""
    with restartable_cluster() as cluster, smtp_server() as smtp:
        url = cluster.url
        migrate.upgrade(url)
        quick = {"ADMIT_DB_POOL_SIZE": "3", "ADMIT_DB_MAX_OVERFLOW": "2", "ADMIT_DB_CONNECT_TIMEOUT": "3"}
        with (
            serving(url, ADMIT_WORKER_IN_SERVE="false", **quick) as (base, server),
            working(url, **smtp_env(smtp.port), **quick) as worker,
            operator_api(url, base) as api,
        ):
            ws = workspace(api)
            before = api.post(f"/workspaces/{ws}/invitations", json={"email": "before@example.com"})
            assert before.status_code == 201, before.text
            until(lambda: smtp.inbox.to("before@example.com"), 30, "the first invitation was not delivered")
            job = api.post(f"/workspaces/{ws}/imports?invite=later&filename=people.csv", content=people_csv(IMPORTED))
            assert job.status_code in (201, 202), job.text
            job_id = job.json()["id"]
            position = "SELECT position FROM jobs WHERE id = :id"
            until(lambda: (scalar(url, position, id=job_id) or 0) > 0, 60, "the import did not start", worker)

            cluster.stop()  # mid-import: the job runner loses its connection between or inside chunks
            ready, took = timed(lambda: httpx.get(f"{base}/readyz", timeout=30))
            assert ready.status_code == 503 and took < FAST
            assert ready.json()["reason"] == "database_unreachable"
            assert "retry-after" in ready.headers

            invite, took = timed(lambda: api.post(f"/workspaces/{ws}/invitations", json={"email": "down@example.com"}))
            assert invite.status_code == 503 and took < FAST, invite.text
            assert invite.json()["error"]["code"] == "database_unavailable"
            assert invite.headers["retry-after"] == "5"
            no_trace(invite)
            listing = api.get(f"/workspaces/{ws}/members")
            assert listing.status_code == 503 and listing.json()["error"]["code"] == "database_unavailable"

            page = httpx.get(
                f"{base}/i/adm_inv_{'x' * 43}", headers={"accept": "text/html"}, timeout=30, follow_redirects=True
            )
            assert page.status_code == 503, page.text
            assert page.headers["content-type"].startswith("text/html")
            assert "Unavailable for a moment" in page.text and "nothing you sent was saved" in page.text
            no_trace(page)
            time.sleep(2)  # the worker's loops meet the outage too

            cluster.start()
            until(lambda: httpx.get(f"{base}/readyz", timeout=30).status_code == 200, 30, "not ready again", server)
            again = api.post(f"/workspaces/{ws}/invitations", json={"email": "after@example.com"})
            assert again.status_code == 201, again.text
            until(lambda: smtp.inbox.to("after@example.com"), 30, "no delivery after the restart", worker)
            assert api.get(f"/workspaces/{ws}/members").status_code == 200
            state = "SELECT state FROM jobs WHERE id = :id"
            until(lambda: scalar(url, state, id=job_id) != "running", 60, "the import did not resume", worker)
            shown = api.get(f"/jobs/{job_id}").json()
            assert shown["state"] == "done" and shown["counts"].get("created") == IMPORTED, shown
            distinct = "SELECT count(DISTINCT email) FROM members WHERE workspace_id = :ws AND email LIKE 'person%'"
            assert scalar(url, distinct, ws=ws) == IMPORTED
            assert scalar(url, "SELECT count(*) FROM members WHERE workspace_id = :ws", ws=ws) == IMPORTED + 2
            assert server.poll() is None and worker.poll() is None  # the same processes, reconnected
        served = stopped(server)
        assert "Traceback" not in served, served
    assert not smtp.inbox.to("down@example.com")


# -- 2. kill -9 of a worker mid-send and mid-job ---------------------------------------------


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_mid_send_leaves_its_messages_to_another(database_url: str) -> None:
    count = 20
    enqueue_emails(database_url, count)
    lease = {"ADMIT_DELIVERY_LEASE_SECONDS": "4"}
    with stalling_server() as hang:
        first = start(database_url, "worker", **smtp_env(hang.port, ADMIT_SMTP_TIMEOUT="60", **lease))
        try:
            until(lambda: hang.connections > 0, 30, "the first worker did not start sending", first)
            assert Counter(m.state for m in messages(database_url))["sending"] == count
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
    with smtp_server() as smtp, working(database_url, **smtp_env(smtp.port, **lease)) as second:
        until(lambda: len(smtp.inbox.ids()) >= count, 60, "the second worker did not deliver", second)
        time.sleep(1)  # anything sent twice would arrive now
        received = smtp.inbox.ids()
    assert len(received) == count and len(set(received)) == count
    assert Counter(m.state for m in messages(database_url)) == Counter({"sent": count})


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_job_runner_killed_mid_import_is_resumed_by_another(database_url: str) -> None:
    count = 1500
    with serving(database_url, ADMIT_WORKER_IN_SERVE="false") as (base, _), operator_api(database_url, base) as api:
        ws = workspace(api)
        job = api.post(f"/workspaces/{ws}/imports?invite=later&filename=people.csv", content=people_csv(count))
        assert job.status_code in (201, 202), job.text
        job_id = job.json()["id"]
        lease = {"ADMIT_JOB_LEASE_SECONDS": "3"}
        first = start(database_url, "worker", **lease)
        try:
            position = "SELECT position FROM jobs WHERE id = :id"
            until(lambda: (scalar(database_url, position, id=job_id) or 0) > 0, 60, "the import did not start", first)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert scalar(database_url, "SELECT state FROM jobs WHERE id = :id", id=job_id) == "running"
        with working(database_url, **lease) as second:
            done = "SELECT state FROM jobs WHERE id = :id"
            until(lambda: scalar(database_url, done, id=job_id) != "running", 90, "the import was not resumed", second)
        shown = api.get(f"/jobs/{job_id}").json()
    assert shown["state"] == "done" and shown["counts"].get("created") == count, shown
    assert scalar(database_url, "SELECT count(*) FROM members WHERE workspace_id = :ws", ws=ws) == count
    distinct = "SELECT count(DISTINCT email) FROM members WHERE workspace_id = :ws"
    assert scalar(database_url, distinct, ws=ws) == count


# -- 3. a hanging SMTP server or SMS gateway -------------------------------------------------


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_hanging_sms_gateway_holds_up_neither_requests_nor_email(database_url: str) -> None:
    with smtp_server() as smtp, sms_gateway() as gateway:
        gateway.stall.set()
        env = smtp_env(
            smtp.port,
            ADMIT_SMS_PROVIDER="webhook",
            ADMIT_SMS_URL=gateway.url,
            ADMIT_SMS_TIMEOUT="3",
        )
        with serving(database_url, **env) as (base, server), operator_api(database_url, base) as api:
            ws = workspace(api, sms_enabled=True)
            for i in range(3):  # the SMS first: queued ahead of the email
                made, took = timed(
                    lambda i=i: api.post(
                        f"/workspaces/{ws}/members",
                        json={"username": f"sms{i}", "phone": f"+49 30 90182{i}", "invite": True},
                    )
                )
                assert made.status_code == 201 and took < FAST, made.text
            until(lambda: gateway.stalled > 0, 20, "the gateway was not called", server)
            for i in range(3):
                invite, took = timed(
                    lambda i=i: api.post(f"/workspaces/{ws}/invitations", json={"email": f"mail{i}@example.com"})
                )
                assert invite.status_code == 201 and took < FAST, invite.text
            until(lambda: len(smtp.inbox.messages) >= 3, FAST, "email waited for the hanging SMS gateway", server)

            def timed_out() -> list[Message]:
                sms = [m for m in messages(database_url) if m.channel == "sms"]
                return sms if all(m.last_error and m.state != "sent" for m in sms) else []

            failed = until(timed_out, 30, "the SMS did not time out", server)
            assert all("unreachable" in (m.last_error or "") for m in failed), [m.last_error for m in failed]
            assert not gateway.delivered()
            gateway.stall.clear()  # the gateway recovers: the retries go through
            until(lambda: len(gateway.delivered()) >= 3, 30, "the SMS were not retried", server)
            keys = [r["body"]["idempotency_key"] for r in gateway.delivered()]
            assert len(set(keys)) == 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_hanging_smtp_server_times_out_and_retries_while_sms_flows(database_url: str) -> None:
    with stalling_server() as hang, sms_gateway() as gateway:
        env = smtp_env(hang.port, ADMIT_SMTP_TIMEOUT="3", ADMIT_SMS_PROVIDER="webhook", ADMIT_SMS_URL=gateway.url)
        with serving(database_url, **env) as (base, server), operator_api(database_url, base) as api:
            ws = workspace(api, sms_enabled=True)
            invite, took = timed(lambda: api.post(f"/workspaces/{ws}/invitations", json={"email": "a@example.com"}))
            assert invite.status_code == 201 and took < FAST, invite.text
            until(lambda: hang.connections > 0, 20, "the SMTP server was not called", server)
            made, took = timed(
                lambda: api.post(
                    f"/workspaces/{ws}/members",
                    json={"username": "sms-person", "phone": "+49 30 901820", "invite": True},
                )
            )
            assert made.status_code == 201 and took < FAST, made.text
            until(lambda: gateway.delivered(), FAST, "SMS waited for the hanging SMTP server", server)

            def retried() -> bool:
                mail = next(m for m in messages(database_url) if m.channel == "email")
                return mail.attempts >= 2

            until(retried, 30, "the email was not retried after its timeout", server)
            mail = next(m for m in messages(database_url) if m.channel == "email")
            assert mail.state in ("failed", "sending") and "timed out" in (mail.last_error or ""), mail


# -- 4. SQLite's disk fills up ---------------------------------------------------------------


def test_a_full_disk_is_a_clear_error_and_reads_go_on(tmp_path: Path) -> None:
    with small_disk("16m") as disk:
        url = f"sqlite:///{disk / 'admit.db'}"
        migrate.upgrade(url)
        with (
            serving(url, ADMIT_WORKER_IN_SERVE="false") as (base, server),
            operator_api(url, base) as api,
        ):
            ws = workspace(api)
            assert api.post(f"/workspaces/{ws}/invitations", json={"email": "one@example.com"}).status_code == 201
            job = api.post(f"/workspaces/{ws}/imports?invite=later&filename=people.csv", content=people_csv(1200))
            assert job.status_code in (201, 202), job.text
            filler = fill(disk, leave=300_000)
            full = None
            for i in range(200):  # the WAL's free pages go first; then nothing more fits
                answer = api.post(f"/workspaces/{ws}/invitations", json={"email": f"p{i}@example.com"})
                if answer.status_code != 201:
                    full = answer
                    break
                fill(disk)
            assert full is not None and full.status_code == 507, full and full.text
            assert full.json()["error"]["code"] == "storage_full"
            no_trace(full)
            assert api.get(f"/workspaces/{ws}/members").status_code == 200  # reads go on
            assert httpx.get(f"{base}/readyz").status_code == 200
            assert httpx.get(f"{base}/sign-in", timeout=30).status_code == 200  # pages that only read, too

            os.truncate(filler, filler.stat().st_size - 320 * 1024)  # room for a claim, not for a chunk
            runner = make_engine(url)
            try:  # the job runner, as a worker runs it
                settings = Settings(database_url=url, dev_mode=True, _env_file=None)  # type: ignore[call-arg]
                assert run_next(build_context(settings, runner)) == job.json()["id"]
            finally:
                runner.dispose()
            shown = api.get(f"/jobs/{job.json()['id']}").json()
            assert shown["state"] == "failed" and "full" in shown["error"], shown
            in_db = scalar(url, "SELECT count(*) FROM members WHERE workspace_id = :ws AND email LIKE 'person%'", ws=ws)
            assert in_db == shown["counts"].get("created", 0)  # whole chunks only
            assert in_db % 500 == 0

            filler.unlink()
            assert api.post(f"/workspaces/{ws}/invitations", json={"email": "later@example.com"}).status_code == 201
            assert server.poll() is None
        assert scalar(url, "PRAGMA integrity_check") == "ok"
