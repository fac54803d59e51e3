"""Delivery benchmark: 10,000 invitations enqueued, then delivered by the outbox worker to a local
SMTP sink, against a plain ``smtplib`` loop sending the same messages over one connection.

    .venv/bin/python bench/delivery.py [--count 10000] [--batch 200]

The sink is aiosmtpd in its own process on 127.0.0.1 (it only counts). The worker's time includes
claiming, rendering the templates, SMTP and recording every outcome in SQLite; the baseline gets
the messages already rendered and only sends them. Last line: ``ratio: X`` = worker messages per
second / baseline messages per second (target: at least 0.5).
"""

from __future__ import annotations

import argparse
import random
import smtplib
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from admit.adapters.delivery.render import render
from admit.adapters.delivery.transports import SmtpTransport
from admit.adapters.identity.hashing import Argon2Hasher
from admit.adapters.persistence.database import make_engine
from admit.adapters.persistence.migrate import upgrade
from admit.admin import invitations, tenancy
from admit.admin.profiles import MemberInput
from admit.bootstrap import SystemClock, SystemRandom, make_uow_factory
from admit.entrypoints.workers.outbox_worker import DeliveryPolicy, OutboxWorker
from admit.shared.context import Actor, Context

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller
class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 OK"
c = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
print(Count.n, flush=True)
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings(port: int) -> object:
    from admit.config import Settings

    return Settings(
        _env_file=None,
        dev_mode=True,
        smtp_host="127.0.0.1",
        smtp_port=port,  # type: ignore[call-arg]
        smtp_security="plain",
        mail_from="Admit <bench@mail.example.com>",
    )


def enqueue(ctx: Context, count: int) -> tuple[str, float]:
    operator = Actor.operator("bench")
    org = tenancy.create_organization(ctx, operator, "Bench", plan="business")
    workspace = tenancy.create_workspace(ctx, operator, org.id, "Bench workspace")
    started = time.perf_counter()
    for i in range(count):
        invitations.invite(
            ctx, operator, workspace.id, MemberInput(email=f"person{i}@bench.example.com", first_name=f"Person {i}")
        )
    return workspace.id, time.perf_counter() - started


def baseline(ctx: Context, port: int, transport: SmtpTransport) -> tuple[int, float]:
    """Render everything first (untimed), then time a plain smtplib loop over one connection."""
    with ctx.uow() as uow:
        rows = list(uow.outbox.list(limit=10**7))
    prepared = []
    for row in rows:
        rendered = render(row.kind, row.language, dict(row.payload))
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = "bench@mail.example.com", row.recipient, rendered.subject
        email["Message-ID"] = f"<baseline-{row.key}@mail.example.com>"
        email.set_content(rendered.text)
        email.add_alternative(rendered.html, subtype="html")
        prepared.append(email)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for email in prepared:
            connection.send_message(email)
    return len(prepared), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        ctx = Context(
            uow=make_uow_factory(engine),
            clock=SystemClock(),
            random=SystemRandom(),
            hasher=Argon2Hasher(),
            base_url="https://admit.example.com",
        )
        _, enqueue_seconds = enqueue(ctx, args.count)
        print(
            f"enqueued: {args.count} invitations in {enqueue_seconds:.2f} s "
            f"({args.count / enqueue_seconds:.0f}/s, through the invite use case)"
        )
        transport = SmtpTransport(settings(port))  # type: ignore[arg-type]
        base_count, base_seconds = baseline(ctx, port, transport)
        policy = DeliveryPolicy(batch=args.batch, keep_links=False, jitter=random.Random(1))
        worker = OutboxWorker(ctx, {"email": transport}, policy)
        started = time.perf_counter()
        delivered = 0
        while batch := worker.run_once():
            delivered += batch
        worker_seconds = time.perf_counter() - started
        with ctx.uow() as uow:
            sent = sum(1 for row in uow.outbox.list(limit=10**7) if row.state == "sent")
        engine.dispose()
    sink.stdin.close() if sink.stdin else None
    received = int(sink.stdout.read().strip() or 0)
    sink.wait()
    assert sent == args.count and received == base_count + args.count, (sent, received)
    worker_rate, base_rate = delivered / worker_seconds, base_count / base_seconds
    print(
        f"baseline (plain smtplib, one connection, pre-rendered): {base_count} messages in "
        f"{base_seconds:.2f} s = {base_rate:.0f} messages/s"
    )
    print(
        f"outbox worker (claim, render en/html+text, SMTP, record): {delivered} messages in "
        f"{worker_seconds:.2f} s = {worker_rate:.0f} messages/s  (batch {args.batch}, {datetime.now(UTC):%Y-%m-%d})"
    )
    print(f"sink received {received} messages")
    print(f"ratio: {worker_rate / base_rate:.2f}")


if __name__ == "__main__":
    main()
