"""Building a worker against real servers, with the test's clock."""

from __future__ import annotations

import random
from typing import Any

from admit.adapters.delivery.transports import transports_for
from admit.config import Settings
from admit.entrypoints.workers.outbox_worker import DeliveryPolicy, OutboxWorker
from admit.oidc_provider import backchannel
from admit.shared.context import Context


def settings(**values: Any) -> Settings:
    defaults: dict[str, Any] = {
        "dev_mode": False,
        "secret_key": "k" * 40,
        "mail_from": "Admit <admit@mail.example.com>",
    }
    return Settings(_env_file=None, **{**defaults, **values})  # type: ignore[call-arg]


def worker(ctx: Context, *, max_attempts: int = 5, logout: bool = False, **values: Any) -> OutboxWorker:
    """A worker with the test's clock; ``logout``: it sends back-channel logout tokens too, signed
    with ``ctx``'s keys."""
    policy = DeliveryPolicy(
        max_attempts=max_attempts,
        backoff_seconds=60,
        lease_seconds=120,
        batch=50,
        keep_links=False,
        jitter=random.Random(7),
    )
    sign = backchannel.signer(ctx) if logout else None
    return OutboxWorker(ctx, transports_for(settings(**values), sign), policy)


def drain(worker: OutboxWorker) -> int:
    total = 0
    while batch := worker.run_once():
        total += batch
    return total
