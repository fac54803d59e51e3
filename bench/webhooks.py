"""Webhook benchmark: 10,000 events delivered by the webhook worker to a local receiver, against
a plain ``httpx`` loop posting the same signed bodies over one connection.

    .venv/bin/python bench/webhooks.py [--count 10000] [--batch 200]

The receiver is a minimal HTTP/1.1 responder in its own process on 127.0.0.1 (it counts and
answers 200). The events are published through ``shared.context.record`` (an audit event each,
``member.suspended``) in transactions of 500, untimed. The worker's time includes claiming (in
sequence order), unsealing the secret, signing (PyPI standardwebhooks), the pinned POST, reading
the answer and recording every attempt in SQLite; the baseline gets the bodies already signed and
only posts them. Prints events per second and CPU milliseconds per event of each; last line
``ratio: X`` = worker events per second / baseline events per second (target: at least 0.5).
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from admit.adapters.delivery.webhooks import Sender, headers
from admit.adapters.identity.hashing import Argon2Hasher
from admit.adapters.persistence.database import make_engine
from admit.adapters.persistence.migrate import upgrade
from admit.admin import tenancy, webhooks
from admit.bootstrap import SystemClock, SystemRandom, make_uow_factory
from admit.domain.events import EventType
from admit.entrypoints.workers.webhook_worker import WebhookPolicy, WebhookWorker, body_of
from admit.shared.context import SYSTEM, Actor, Context, record

RECEIVER = """
import asyncio, sys
count = 0
async def serve(reader, writer):
    global count
    try:
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            length = 0
            for line in head.split(b"\\r\\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            count += 1
            writer.write(b"HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\ncontent-type: text/plain\\r\\n\\r\\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    server.close()
    print(count, flush=True)
asyncio.run(main())
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def publish(ctx: Context, count: int, port: int) -> tuple[str, str, float]:
    operator = Actor.operator("bench")
    org = tenancy.create_organization(ctx, operator, "Bench", plan="business")
    workspace = tenancy.create_workspace(ctx, operator, org.id, "Bench workspace")
    endpoint, secret = webhooks.create(ctx, operator, org.id, url=f"http://127.0.0.1:{port}/hooks")
    started = time.perf_counter()
    done = 0
    while done < count:
        with ctx.uow(write=True) as uow:
            for i in range(done, min(done + 500, count)):
                record(
                    uow, SYSTEM, EventType.MEMBER_SUSPENDED, "member", f"{i:032x}", ctx.clock.now(),
                    organization_id=org.id, workspace_id=workspace.id,
                )  # fmt: skip
            uow.commit()
        done = min(done + 500, count)
    return endpoint["id"], secret, time.perf_counter() - started


def baseline(ctx: Context, port: int, secret: str) -> tuple[int, float, float]:
    """Sign every body first (untimed), then time a plain httpx loop over one connection."""
    from sqlalchemy import select

    from admit.adapters.persistence import tables as t

    with ctx.uow() as uow:
        rows = uow.conn.execute(select(t.webhook_events.c.id, t.webhook_events.c.payload)).all()
    now = datetime.now(UTC)
    prepared = [(body, headers(row.id, now, body, [secret])) for row in rows for body in [body_of(row.payload)]]
    url = f"http://127.0.0.1:{port}/hooks"
    started, cpu = time.perf_counter(), time.process_time()
    with httpx.Client(timeout=15, follow_redirects=False, trust_env=False) as client:
        for body, sent in prepared:
            client.post(url, content=body.encode(), headers=sent).raise_for_status()
    return len(prepared), time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert receiver.stdout is not None and receiver.stdout.readline().strip() == "ready"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        ctx = Context(uow=make_uow_factory(engine), clock=SystemClock(), random=SystemRandom(),
                      hasher=Argon2Hasher(), base_url="https://admit.example.com", secret_key="b" * 40,
                      embedded_database=True)  # fmt: skip
        ctx = dataclasses.replace(ctx, dev_mode=True)  # the receiver is on loopback
        _, secret, publish_seconds = publish(ctx, args.count, port)
        print(f"published: {args.count} events in {publish_seconds:.2f} s "
              f"({args.count / publish_seconds:.0f}/s, an audit event and a webhook message each)")  # fmt: skip
        base_count, base_seconds, base_cpu = baseline(ctx, port, secret)
        worker = WebhookWorker(ctx, Sender(allow_private=True), WebhookPolicy(batch=args.batch))
        started, cpu = time.perf_counter(), time.process_time()
        while worker.run_once():
            pass
        worker_seconds, worker_cpu = time.perf_counter() - started, time.process_time() - cpu
        worker.sender.close()
        with ctx.uow() as uow:
            from sqlalchemy import func, select

            from admit.adapters.persistence import tables as t

            sent = uow.conn.execute(
                select(func.count()).select_from(t.webhook_messages).where(t.webhook_messages.c.state == "sent")
            ).scalar_one()
        engine.dispose()
    if receiver.stdin:
        receiver.stdin.close()
    received = int(receiver.stdout.read().strip() or 0)
    receiver.wait()
    assert sent == args.count and received == base_count + args.count, (sent, received)
    worker_rate, base_rate = args.count / worker_seconds, base_count / base_seconds
    print(f"baseline (plain httpx, one connection, pre-signed): {base_count} events in {base_seconds:.2f} s "
          f"= {base_rate:.0f} events/s, {1000 * base_cpu / base_count:.3f} ms CPU per event")  # fmt: skip
    print(f"webhook worker (claim in order, sign, pinned POST, record): {args.count} events in "
          f"{worker_seconds:.2f} s = {worker_rate:.0f} events/s, {1000 * worker_cpu / args.count:.3f} ms CPU "
          f"per event (batch {args.batch}, {datetime.now(UTC):%Y-%m-%d})")  # fmt: skip
    print(f"receiver got {received} requests")
    print(f"ratio: {worker_rate / base_rate:.2f}")


if __name__ == "__main__":
    main()
