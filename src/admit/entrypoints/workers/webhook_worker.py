"""The webhook worker: claims due webhook messages (``adapters.persistence.webhook_repositories``:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite, a lease), signs and sends
them (``adapters.delivery.webhooks``) and records every attempt in the delivery log.

Claiming marks a message ``sending`` and counts the attempt before anything is sent, so a crash
mid-send leads to a retry with the same ``webhook-id`` once the lease ends, never to a lost event.
An endpoint gets its events in ``sequence`` order: a message is claimed only when every earlier
pending one of its endpoint is due too, and after a failure the rest of that endpoint's batch goes
back to the queue unsent (its attempt not counted). Retries follow ``domain.webhooks.SCHEDULE``;
after the last attempt (or when the receiver stops retries) the message is abandoned and the
organization's owners are emailed; an endpoint failing for ``FAILING_LIMIT`` is disabled and its
owners told."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from admit.adapters.delivery.webhooks import Result, Sender
from admit.adapters.identity import sealing
from admit.config import Settings
from admit.domain import webhooks as rules
from admit.domain.events import EventType
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.records import Record
from admit.shared.context import SYSTEM, Context, record
from admit.shared.messages import enqueue

log = logging.getLogger("admit.adapters.delivery")
LEASE_MARGIN = timedelta(seconds=20)  # longer than one send may take (15 s)


@dataclass
class WebhookPolicy:
    lease_seconds: float = 120.0
    batch: int = 100
    poll_seconds: float = 1.0


def body_of(payload: Any) -> str:
    """The envelope as sent and signed: compact JSON (the same bytes for every attempt)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def secrets_of(ctx: Context, row: Record, now: datetime) -> list[str]:
    """The endpoint's secret, and the previous one during the overlap after a rotation."""
    current = [sealing.unseal(ctx.secret_key, row.secret, sealing.WEBHOOK)]
    if row.previous_secret and row.previous_until and row.previous_until > now:
        current.append(sealing.unseal(ctx.secret_key, row.previous_secret, sealing.WEBHOOK))
    return current


class WebhookWorker:
    def __init__(self, ctx: Context, sender: Sender, policy: WebhookPolicy | None = None) -> None:
        self.ctx = ctx
        self.sender = sender
        self.policy = policy or WebhookPolicy()

    def run_once(self) -> int:
        """Deliver one batch; how many messages were claimed."""
        now = self.ctx.clock.now()
        lease_until = now + timedelta(seconds=self.policy.lease_seconds)
        with self.ctx.uow(write=True) as uow:
            claimed = uow.webhooks.claim(now, lease_until, self.policy.batch)
            uow.commit()
        if not claimed:
            return 0
        results = self._deliver(claimed, now, lease_until)
        self._record(claimed, results)
        return len(claimed)

    def run_forever(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    busy = self.run_once()
                except Exception:
                    log.exception("webhook worker failed; retrying shortly")
                    busy = 0
                if not busy:
                    stop.wait(self.policy.poll_seconds)
        finally:
            self.sender.close()

    def _deliver(self, claimed: Sequence[Record], now: datetime, lease_until: datetime) -> list[Result | None]:
        """Each message's result; None: released unsent (an earlier one of its endpoint failed,
        or the lease is about to end)."""
        last_start = lease_until - min(LEASE_MARGIN, (lease_until - now) / 2)
        failed_endpoints: set[str] = set()
        results: list[Result | None] = []
        unsealed: dict[str, list[str]] = {}  # endpoint id: its secrets, unsealed once per batch
        for row in claimed:
            if row.endpoint_id in failed_endpoints or self.ctx.clock.now() >= last_start:
                results.append(None)
                continue
            sent_at = self.ctx.clock.now()
            try:
                if row.endpoint_id not in unsealed:
                    unsealed[row.endpoint_id] = secrets_of(self.ctx, row, sent_at)
                secrets = unsealed[row.endpoint_id]
            except Exception as exc:
                result = Result(False, None, 0, None, str(exc)[:300])
            else:
                result = self.sender.send(row.url, row.event_id, sent_at, body_of(row.payload), secrets)
            if not result.ok:
                failed_endpoints.add(row.endpoint_id)
            results.append(result)
        return results

    def _record(self, claimed: Sequence[Record], results: Sequence[Result | None]) -> None:
        done = self.ctx.clock.now()
        outcomes: list[dict[str, Any]] = []
        log_rows: list[dict[str, Any]] = []
        with self.ctx.uow(write=True) as uow:
            endpoints: dict[str, bool] = {}  # endpoint id: any success in this batch
            for row, result in zip(claimed, results, strict=True):
                base = {"id": row.id, "attempts": row.attempts, "sent": None, "error": None}
                if result is None:
                    outcomes.append({**base, "state": "queued", "next": done, "attempts_after": row.attempts - 1})
                    continue
                log_rows.append(
                    {
                        "organization_id": row.organization_id,
                        "endpoint_id": row.endpoint_id,
                        "message_id": row.id,
                        "attempt": row.attempts,
                        "status": result.status,
                        "latency_ms": result.latency_ms,
                        "response": result.response,
                        "error": result.error,
                        "created_at": done,
                    }
                )
                endpoints[row.endpoint_id] = endpoints.get(row.endpoint_id, False) or result.ok
                if result.ok:
                    outcomes.append(
                        {**base, "state": "sent", "next": done, "sent": done, "attempts_after": row.attempts}
                    )
                    continue
                retry = None if (result.stop or not result.retry) else rules.retry_at(row.attempts, done)
                if retry is None:
                    outcomes.append(
                        {
                            **base,
                            "state": "abandoned",
                            "next": done,
                            "error": result.error,
                            "attempts_after": row.attempts,
                        }
                    )
                    self._abandoned(uow, row, result, done)
                else:
                    outcomes.append(
                        {
                            **base,
                            "state": "failed",
                            "next": retry,
                            "error": result.error,
                            "attempts_after": row.attempts,
                        }
                    )
            uow.webhooks.finish(outcomes)
            uow.webhooks.add_attempts(log_rows)
            for endpoint_id, succeeded in endpoints.items():
                self._health(uow, claimed, endpoint_id, succeeded, done)
            uow.commit()

    def _abandoned(self, uow: UnitOfWork, row: Record, result: Result, now: datetime) -> None:
        log.warning(
            "webhook %s to endpoint %s abandoned after %d attempt(s)", row.event_id, row.endpoint_id, row.attempts
        )
        record(
            uow, SYSTEM, EventType.MESSAGE_ABANDONED, "message", str(row.id), now,
            organization_id=row.organization_id, workspace_id=row.workspace_id, kind=row.type, channel="webhook",
            endpoint_id=row.endpoint_id, webhook_id=row.event_id, error=result.error,
        )  # fmt: skip
        tell_owners(
            uow, row.organization_id, {"url": row.url, "type": row.type, "disabled": False}, row.endpoint_id, now
        )

    def _health(self, uow: UnitOfWork, claimed: Sequence[Record], endpoint_id: str, ok: bool, now: datetime) -> None:
        """A success ends an endpoint's failing period; failing for ``FAILING_LIMIT`` disables it."""
        row = next(r for r in claimed if r.endpoint_id == endpoint_id)
        endpoint = uow.webhooks.endpoint(row.organization_id, endpoint_id)
        if endpoint is None:
            return
        if ok:
            if endpoint.failing_since is not None:
                uow.webhooks.update_endpoint(row.organization_id, endpoint_id, failing_since=None)
            return
        if endpoint.failing_since is None:
            uow.webhooks.update_endpoint(row.organization_id, endpoint_id, failing_since=now)
            return
        if endpoint.enabled and now - endpoint.failing_since >= rules.FAILING_LIMIT:
            reason = "failing for 5 days"
            uow.webhooks.update_endpoint(row.organization_id, endpoint_id, enabled=False, disabled_reason=reason)
            record(
                uow, SYSTEM, EventType.WEBHOOK_DISABLED, "webhook", endpoint_id, now,
                organization_id=row.organization_id, workspace_id=endpoint.workspace_id, reason=reason,
            )  # fmt: skip
            tell_owners(uow, row.organization_id, {"url": endpoint.url, "type": "", "disabled": True}, endpoint_id, now)


def for_settings(ctx: Context, settings: Settings) -> WebhookWorker:
    """The worker this configuration runs: private addresses only in dev mode."""
    policy = WebhookPolicy(
        lease_seconds=max(settings.delivery_lease_seconds, 60.0),
        batch=settings.delivery_batch,
        poll_seconds=settings.delivery_poll_seconds,
    )
    return WebhookWorker(ctx, Sender(allow_private=settings.dev_mode), policy)


def start_webhook_worker(settings: Settings, ctx: Context, stop: threading.Event) -> threading.Thread:
    worker = for_settings(ctx, settings)
    thread = threading.Thread(target=worker.run_forever, args=(stop,), name="webhook-worker", daemon=True)
    thread.start()
    return thread


def owners(uow: UnitOfWork, organization_id: str) -> list[tuple[str, str]]:
    """(email, language) of every active owner in the organization's workspaces that sends email, once each."""
    found: dict[str, str] = {}
    for workspace in uow.workspaces.list(organization_id):
        if not workspace.email_enabled:
            continue
        for person in uow.members.list(organization_id, workspace.id, status=MemberStatus.ACTIVE, limit=1000):
            if person.role == "owner" and person.email and person.email.lower() not in found:
                found[person.email.lower()] = person.language or workspace.default_language
    return sorted(found.items())


def tell_owners(
    uow: UnitOfWork, organization_id: str, payload: dict[str, Any], endpoint_id: str, now: datetime
) -> None:
    for email, language in owners(uow, organization_id):
        enqueue(
            uow, kind="webhook_notice", channel="email", recipient=email, language=language, subject_id=endpoint_id,
            organization_id=organization_id, workspace_id=None, payload=payload, now=now,
        )  # fmt: skip
