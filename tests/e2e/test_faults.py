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
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from support.faults import Cluster, fill, restartable_cluster, small_disk, stalling_server
from support.launcher import LAUNCHER, Launched
from support.outbox import enqueue_emails
from support.postgres import free_port
from support.processes import admit, environment, field
from support.sms_gateway import sms_gateway
from support.smtp import smtp_server

from admit.adapters.persistence import migrate
from admit.adapters.persistence.database import make_engine
from admit.adapters.persistence.tables import metadata
from admit.admin.jobs import run_next
from admit.bootstrap import build_context, make_uow_factory
from admit.config import Settings
from admit.domain.records import Message

IMPORTED = 1200  # people in the imports PostgreSQL restarts under and a runner dies in (3 chunks of 500)
FAST = 5.0  # seconds: a generous bound for "answers at once" on a loaded 2-core machine


# -- processes -------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _preloaded() -> None:
    """The forkserver imports Admit once, while the first test sets up."""
    LAUNCHER.warm()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """One PostgreSQL cluster of the module's own for every PostgreSQL test here (the suite's
    shared cluster must never go down under other tests)."""
    with restartable_cluster() as made:
        migrate.upgrade(made.url)
        yield made


@pytest.fixture
def pg(cluster: Cluster) -> Iterator[str]:
    """The module cluster's database: running, and emptied after the test."""
    yield cluster.url
    if not cluster.running:
        cluster.start()
    engine = make_engine(cluster.url)
    try:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(t.name for t in metadata.sorted_tables)))
    finally:
        engine.dispose()


def start(database_url: str, *args: str, **extra: str) -> Launched:
    """``admit *args`` in a process of its own, its output in a file (read by :func:`output`)."""
    return LAUNCHER.start(args, environment(database_url, **extra))


def output(process: Launched) -> str:
    return process.log.read_text(errors="replace")


@contextlib.contextmanager
def serving(database_url: str, **extra: str) -> Iterator[tuple[str, Launched]]:
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
def working(database_url: str, **extra: str) -> Iterator[Launched]:
    process = start(database_url, "worker", ADMIT_EXPIRY_SWEEP_SECONDS="3600", **extra)
    try:
        yield process
    finally:
        stopped(process)


def stopped(process: Launched) -> str:
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


def until(check: Callable[[], Any], seconds: float, what: str, *alive: Launched) -> Any:
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
        time.sleep(0.1)


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


def token_for(database_url: str, email: str) -> str:
    """The secret of the newest invitation link queued for ``email``."""
    links = [m.payload["link"] for m in messages(database_url) if m.recipient == email and "link" in m.payload]
    assert links, f"no invitation for {email}"
    return str(links[0]).rsplit("/", 1)[1]


def test_postgresql_restart_answers_503_and_the_same_processes_serve_again(pg: str, cluster: Cluster) -> None:
    """PostgreSQL stops (a fast shutdown: every connection cut) while serve and a worker run, an
    import is under way and an invitee accepts, and starts again: 503s in between (the accept
    too, with nothing of it written), then the same processes carry on, the accept succeeds once,
    the pending message goes out and the import resumes from its last chunk with nobody twice."""
    with smtp_server() as smtp:
        url = pg
        quick = {"ADMIT_DB_POOL_SIZE": "3", "ADMIT_DB_MAX_OVERFLOW": "2", "ADMIT_DB_CONNECT_TIMEOUT": "3"}
        with (
            serving(url, ADMIT_WORKER_IN_SERVE="false", **quick) as (base, server),
            working(url, **smtp_env(smtp.port), **quick) as worker,
            operator_api(url, base) as api,
            httpx.Client(base_url=f"{base}/api/v1", timeout=60) as invitee,
        ):
            ws = workspace(api)
            before = api.post(f"/workspaces/{ws}/invitations", json={"email": "before@example.com"})
            assert before.status_code == 201, before.text
            invited = api.post(f"/workspaces/{ws}/invitations", json={"email": "accepts@example.com"})
            assert invited.status_code == 201, invited.text
            token = token_for(url, "accepts@example.com")
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
            accept = {"token": token, "password": "a long enough passphrase 42", "first_name": "Ada"}
            for _ in range(2):  # an invitee's accept (and its retry) during the outage
                refused, took = timed(lambda: invitee.post("/invitations/accept", json=accept))
                assert refused.status_code == 503 and took < FAST, refused.text
                assert refused.json()["error"]["code"] == "database_unavailable"
                assert refused.headers["retry-after"] == "5"
                no_trace(refused)

            page = httpx.get(
                f"{base}/i/adm_inv_{'x' * 43}", headers={"accept": "text/html"}, timeout=30, follow_redirects=True
            )
            assert page.status_code == 503, page.text
            assert page.headers["content-type"].startswith("text/html")
            assert "Unavailable for a moment" in page.text and "nothing you sent was saved" in page.text
            no_trace(page)
            until(lambda: "database is unavailable" in output(worker), 30, "the worker did not meet the outage")

            cluster.start()
            until(lambda: httpx.get(f"{base}/readyz", timeout=30).status_code == 200, 30, "not ready again", server)
            # nothing of the refused accepts was written: the invitation still waits, nobody has an account
            pending = "SELECT state FROM invitations WHERE email = 'accepts@example.com'"
            assert scalar(url, pending) == "pending"
            assert scalar(url, "SELECT count(*) FROM accounts") == 0
            accepted = invitee.post("/invitations/accept", json=accept)
            assert accepted.status_code == 200 and accepted.json()["status"] == "active", accepted.text
            again = invitee.post("/invitations/accept", json=accept)
            assert again.status_code in (400, 404, 409, 410), again.text  # once only
            assert scalar(url, pending) == "accepted"
            assert scalar(url, "SELECT count(*) FROM accounts") == 1
            after = api.post(f"/workspaces/{ws}/invitations", json={"email": "after@example.com"})
            assert after.status_code == 201, after.text
            until(lambda: smtp.inbox.to("after@example.com"), 30, "no delivery after the restart", worker)
            assert api.get(f"/workspaces/{ws}/members").status_code == 200
            state = "SELECT state FROM jobs WHERE id = :id"
            until(lambda: scalar(url, state, id=job_id) != "running", 120, "the import did not resume", worker)
            shown = api.get(f"/jobs/{job_id}").json()
            assert shown["state"] == "done" and shown["counts"].get("created") == IMPORTED, shown
            distinct = "SELECT count(DISTINCT email) FROM members WHERE workspace_id = :ws AND email LIKE 'person%'"
            assert scalar(url, distinct, ws=ws) == IMPORTED
            assert scalar(url, "SELECT count(*) FROM members WHERE workspace_id = :ws", ws=ws) == IMPORTED + 3
            assert server.poll() is None and worker.poll() is None  # the same processes, reconnected
        served = stopped(server)
        assert "Traceback" not in served, served
    assert not smtp.inbox.to("down@example.com")


# -- 2. kill -9 of a server mid-request, of a worker mid-send and mid-job --------------------


def test_a_server_killed_mid_request_is_retried_on_another_with_nothing_doubled(pg: str) -> None:
    """Two ``admit serve`` processes behind a load balancer; the one handling an invitation is
    killed with SIGKILL while the request is inside its transaction (held on a row lock the test
    takes: the member and a rate counter are written, nothing is committed). The client retries
    on the other process with the same ``Idempotency-Key``: one member, one invitation, one email."""
    stale = {"ADMIT_WORKER_IN_SERVE": "false", "ADMIT_IDEMPOTENCY_STALE_SECONDS": "2"}
    with (
        smtp_server() as smtp,
        serving(pg, **stale) as (first_base, first),
        serving(pg, **stale) as (second_base, second),
        working(pg, **smtp_env(smtp.port)) as worker,
        operator_api(pg, first_base) as api,
        httpx.Client(base_url=f"{second_base}/api/v1", headers=api.headers, timeout=60) as other,
    ):
        ws = workspace(api)
        warm = api.post(f"/workspaces/{ws}/invitations", json={"email": "warm@example.com"})
        assert warm.status_code == 201, warm.text  # the workspace's rate counter row exists now
        request = {"url": f"/workspaces/{ws}/invitations", "json": {"email": "killed@example.com"}}
        key = {"Idempotency-Key": "faults-kill-9"}
        holder = make_engine(pg)
        lost: list[BaseException] = []

        def send() -> None:
            try:
                answer = api.post(**request, headers=key)
                lost.append(AssertionError(f"the killed server answered: {answer.status_code} {answer.text}"))
            except httpx.TransportError as exc:
                lost.append(exc)

        try:
            with holder.connect() as conn:
                held = conn.begin()
                counter = "SELECT key FROM throttles WHERE key = :k FOR UPDATE"
                assert conn.execute(text(counter), {"k": f"rate:invitations:ws:{ws}"}).first() is not None
                client = threading.Thread(target=send)
                client.start()
                waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                until(lambda: scalar(pg, waiting), 30, "the request did not reach its transaction", first)
                first.kill()  # kill -9 mid-request
                first.wait()
                held.rollback()
            client.join(30)
        finally:
            holder.dispose()
        assert lost and isinstance(lost[0], httpx.TransportError), lost  # the client never got an answer

        def retried() -> httpx.Response | None:
            answer = other.post(**request, headers=key)
            if answer.status_code == 409:  # the dead process's key, until it is stale
                assert answer.json()["error"]["code"] == "idempotency_in_flight", answer.text
                return None
            return answer

        made = until(retried, 30, "the retry was not taken over", second)
        assert made.status_code == 201, made.text
        replay = other.post(**request, headers=key)
        assert replay.status_code == 201 and replay.headers.get("idempotent-replayed") == "true"
        assert replay.json()["id"] == made.json()["id"]
        until(lambda: smtp.inbox.to("killed@example.com"), 30, "the invitation was not delivered", worker)
        time.sleep(1)  # anything sent twice would arrive now
        assert len(smtp.inbox.to("killed@example.com")) == 1
        one = "SELECT count(*) FROM {} WHERE email = 'killed@example.com'"
        assert scalar(pg, one.format("members")) == 1 and scalar(pg, one.format("invitations")) == 1
        assert scalar(pg, "SELECT count(*) FROM outbox WHERE recipient = 'killed@example.com'") == 1
        assert second.poll() is None


@pytest.fixture(params=["sqlite", "postgresql"])
def either(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: SQLite in a file of the test's own, or the module's cluster."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg"))
    url = f"sqlite:///{tmp_path / 'admit.db'}"
    migrate.upgrade(url)
    return url


def test_a_worker_killed_mid_send_leaves_its_messages_to_another(either: str) -> None:
    database_url = either
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


def test_a_job_runner_killed_mid_import_is_resumed_by_another(either: str) -> None:
    database_url, count = either, 3 * IMPORTED  # 8 chunks: a fast machine must not finish before the kill
    with serving(database_url, ADMIT_WORKER_IN_SERVE="false") as (base, _), operator_api(database_url, base) as api:
        ws = workspace(api)
        job = api.post(f"/workspaces/{ws}/imports?invite=later&filename=people.csv", content=people_csv(count))
        assert job.status_code in (201, 202), job.text
        job_id = job.json()["id"]
        lease = {"ADMIT_JOB_LEASE_SECONDS": "3"}
        first = start(database_url, "worker", **lease)
        position = "SELECT position FROM jobs WHERE id = :id"

        def started_then_killed() -> bool:  # the kill is sent from the check itself, not after a poll's sleep
            if (scalar(database_url, position, id=job_id) or 0) > 0:
                first.send_signal(signal.SIGKILL)
                return True
            return False

        try:
            until(started_then_killed, 60, "the import did not start", first)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert scalar(database_url, "SELECT state FROM jobs WHERE id = :id", id=job_id) == "running"
        assert 0 < scalar(database_url, position, id=job_id) < count
        with working(database_url, **lease) as second:
            done = "SELECT state FROM jobs WHERE id = :id"
            until(lambda: scalar(database_url, done, id=job_id) != "running", 90, "the import was not resumed", second)
        shown = api.get(f"/jobs/{job_id}").json()
    assert shown["state"] == "done" and shown["counts"].get("created") == count, shown
    assert scalar(database_url, "SELECT count(*) FROM members WHERE workspace_id = :ws", ws=ws) == count
    distinct = "SELECT count(DISTINCT email) FROM members WHERE workspace_id = :ws"
    assert scalar(database_url, distinct, ws=ws) == count


# -- 3. a hanging SMTP server or SMS gateway -------------------------------------------------


def test_a_hanging_sms_gateway_holds_up_neither_requests_nor_email(pg: str) -> None:
    database_url = pg
    with smtp_server() as smtp, sms_gateway() as gateway:
        gateway.stall.set()
        env = smtp_env(
            smtp.port,
            ADMIT_SMS_PROVIDER="webhook",
            ADMIT_SMS_URL=gateway.url,
            ADMIT_SMS_TIMEOUT="2",
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
        env = smtp_env(hang.port, ADMIT_SMTP_TIMEOUT="2", ADMIT_SMS_PROVIDER="webhook", ADMIT_SMS_URL=gateway.url)
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
