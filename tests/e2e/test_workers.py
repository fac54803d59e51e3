"""Two `admit worker` processes drain one outbox: every message is delivered exactly once."""

from __future__ import annotations

import subprocess
import time
from collections import Counter

from support.outbox import enqueue_emails
from support.processes import ADMIT, environment
from support.smtp import smtp_server

from admit.adapters.persistence.database import make_engine
from admit.bootstrap import make_uow_factory

COUNT = 500


def _states(database_url: str) -> Counter[str]:
    engine = make_engine(database_url)
    try:
        with make_uow_factory(engine)() as uow:
            return Counter(row.state for row in uow.outbox.list(limit=COUNT * 2))
    finally:
        engine.dispose()


def _stopped(worker: subprocess.Popen[str]) -> str:
    """The stopped worker's stderr. It finishes what it is doing first: a statement may wait for
    SQLite's lock up to its busy timeout (60 s) before the stop is seen. One that does not stop even
    then is killed (no process outlives the test) and the test fails."""
    try:
        return worker.communicate(timeout=90)[1]
    except subprocess.TimeoutExpired:
        worker.kill()
        leftover = worker.communicate()[1]
        raise AssertionError(f"admit worker did not stop within 90 s of SIGTERM:\n{leftover}") from None


def test_two_workers_deliver_five_hundred_messages_exactly_once(database_url: str) -> None:
    enqueue_emails(database_url, COUNT)
    with smtp_server() as smtp:
        env = environment(
            database_url,
            ADMIT_SMTP_HOST="127.0.0.1",
            ADMIT_SMTP_PORT=str(smtp.port),
            ADMIT_SMTP_SECURITY="plain",
            ADMIT_DELIVERY_POLL_SECONDS="0.2",
            ADMIT_DELIVERY_BATCH="25",
        )
        workers = [
            subprocess.Popen([ADMIT, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        try:
            deadline = time.monotonic() + 240
            while _states(database_url)["sent"] < COUNT and time.monotonic() < deadline:
                assert all(w.poll() is None for w in workers), [w.stderr.read() for w in workers if w.stderr]
                time.sleep(0.5)
        finally:
            for w in workers:
                w.terminate()
            errors = [_stopped(w) for w in workers]
        received = smtp.inbox.ids()
    assert _states(database_url) == Counter({"sent": COUNT}), errors
    assert len(received) == COUNT and len(set(received)) == COUNT
    assert all(w.returncode == 0 for w in workers), errors
