"""The outbox worker: claims due messages, renders and sends them, records every attempt; what
each outcome means for the message is the domain's (``domain.outbox``). Claiming marks a
message ``sending`` and counts the attempt *before* anything is handed over, so a crash can only
lead to a retry with the same Message-ID / idempotency key, never to a lost message. Any number
of workers may run against PostgreSQL (``FOR UPDATE SKIP LOCKED``); on SQLite the claim takes the
write lock (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import logging
import random
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from admit.adapters.delivery.render import render
from admit.adapters.delivery.transports import DeliveryFailed, Outgoing, Transport
from admit.adapters.persistence.database import outage
from admit.admin.outbox import masked_link
from admit.config import Settings
from admit.domain import outbox as rules
from admit.domain.events import EventType
from admit.domain.outbox import MessageState
from admit.domain.ports import UnitOfWork
from admit.domain.records import Message
from admit.shared.context import SYSTEM, Context, record

log = logging.getLogger("admit.adapters.delivery")
CHANNELS = ("email", "sms", "logout")
RENDERED = ("email", "sms")  # read by people; a logout token is made by its transport
MISSING_TRANSPORT = {
    "email": "no SMTP server is configured (ADMIT_SMTP_HOST): the message waits in the outbox",
    "sms": "no SMS gateway is configured (ADMIT_SMS_PROVIDER, ADMIT_SMS_URL): the message waits in the outbox",
    "logout": "this worker does not send back-channel logout tokens: the message waits in the outbox",
}
NOTE_MISSING_EVERY = timedelta(minutes=1)
LEASE_MARGIN = timedelta(seconds=15)  # longer than one send may take: none may still run when the lease ends


@dataclass
class DeliveryPolicy:
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    lease_seconds: float = 120.0
    batch: int = 50
    poll_seconds: float = 1.0
    keep_links: bool = False  # dev mode keeps links (with tokens) for the mailbox page
    jitter: random.Random = field(default_factory=random.Random)

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            max_attempts=settings.delivery_max_attempts,
            backoff_seconds=settings.delivery_backoff_seconds,
            lease_seconds=settings.delivery_lease_seconds,
            batch=settings.delivery_batch,
            poll_seconds=settings.delivery_poll_seconds,
            keep_links=settings.dev_mode,
        )

    def retry_delay(self, attempts: int) -> timedelta:
        return rules.retry_delay(self.backoff_seconds, attempts, self.jitter.random())


class OutboxWorker:
    def __init__(self, ctx: Context, transports: dict[str, Transport], policy: DeliveryPolicy) -> None:
        self.ctx = ctx
        self.transports = transports
        self.policy = policy
        self.missing = [channel for channel in CHANNELS if channel not in transports]
        self.noted_missing_at: datetime | None = None

    def note_missing_transports(self) -> int:
        """Mark the waiting messages of every channel this worker cannot send (a worker without
        SMTP still runs jobs and SMS): each says what is missing, so operators see why."""
        now = self.ctx.clock.now()
        if not self.missing or (self.noted_missing_at and now - self.noted_missing_at < NOTE_MISSING_EVERY):
            return 0
        self.noted_missing_at = now
        with self.ctx.uow(write=True) as uow:
            noted = sum(uow.outbox.note_waiting(channel, MISSING_TRANSPORT[channel]) for channel in self.missing)
            uow.commit()
        return noted

    def run_once(self, channels: Sequence[str] | None = None) -> int:
        """Deliver one batch (of ``channels``, else of every channel this worker sends); returns
        how many messages were claimed."""
        self.note_missing_transports()
        if not self.transports:
            return 0
        now = self.ctx.clock.now()
        with self.ctx.uow(write=True) as uow:
            claimed = uow.outbox.claim(
                list(channels or self.transports),
                now,
                now + timedelta(seconds=self.policy.lease_seconds),
                self.policy.batch,
            )
            allowance = _sms_allowance(uow, claimed, now)
            uow.commit()
        if not claimed:
            return 0
        outcomes = self._deliver(claimed, allowance, now, now + timedelta(seconds=self.policy.lease_seconds))
        done = self.ctx.clock.now()
        with self.ctx.uow(write=True) as uow:
            uow.outbox.finish(outcomes)
            for row, outcome in zip(claimed, outcomes, strict=True):
                if outcome["state"] == MessageState.ABANDONED:
                    record(
                        uow,
                        SYSTEM,
                        EventType.MESSAGE_ABANDONED,
                        "message",
                        str(row.id),
                        done,
                        organization_id=row.organization_id,
                        workspace_id=row.workspace_id,
                        kind=row.kind,
                        channel=row.channel,
                        error=outcome["error"],
                    )
            uow.commit()
        return len(claimed)

    def run_forever(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set: one loop per channel, each in a thread of its own, so a
        stalled SMS gateway never holds up email (nor the reverse)."""
        loops = [
            threading.Thread(target=self._run_channel, args=(stop, channel), name=f"outbox-{channel}", daemon=True)
            for channel in self.transports
        ]
        for loop in loops:
            loop.start()
        for loop in loops:
            loop.join()

    def _run_channel(self, stop: threading.Event, channel: str) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once([channel])
            except Exception as exc:
                if outage(exc):  # a database restart: expected, said without a trace
                    log.warning(
                        "outbox worker (%s): the database is unavailable (%s); retrying", channel, type(exc).__name__
                    )
                else:
                    log.exception("outbox worker (%s) failed; retrying shortly", channel)
                busy = 0
            if not busy:
                stop.wait(self.policy.poll_seconds)

    def _deliver(
        self, claimed: Sequence[Message], allowance: dict[str, int], now: datetime, lease_until: datetime
    ) -> list[dict[str, Any]]:
        """Send each claimed message; one that would start too close to the end of the lease
        (another worker may claim it then) goes back to the queue unsent, its attempt not counted."""
        outcome: dict[int, dict[str, Any]] = {}
        last_start = lease_until - min(LEASE_MARGIN, (lease_until - now) / 2)
        by_channel: dict[str, list[Message]] = defaultdict(list)
        for row in claimed:
            by_channel[row.channel].append(row)
        for channel, rows in by_channel.items():
            try:
                with self.transports[channel].session() as send:
                    for row in rows:
                        late = self.ctx.clock.now() >= last_start
                        if late:
                            outcome[row.id] = _released(row, now)
                            continue
                        try:
                            outcome[row.id] = self._one(row, send, allowance, now)
                        except DeliveryFailed as failure:
                            outcome[row.id] = self._failed(row, failure, now)
                            raise
            except (
                DeliveryFailed
            ) as failure:  # the connection itself: every unsent one waits (one timeout, not one each)
                for row in rows:
                    outcome.setdefault(row.id, self._failed(row, failure, now))
        return [outcome[row.id] for row in claimed]

    def _one(self, row: Message, send: Any, allowance: dict[str, int], now: datetime) -> dict[str, Any]:
        if row.channel == "sms" and row.workspace_id is not None:
            if allowance.get(row.workspace_id, 1) <= 0:
                return self._deferred(row, now)
            allowance[row.workspace_id] = allowance.get(row.workspace_id, 1) - 1
        try:
            rendered = render(row.kind, row.language, dict(row.payload)) if row.channel in RENDERED else None
        except Exception as exc:
            return self._failed(row, DeliveryFailed(f"cannot render: {exc}", permanent=True), now)
        try:
            send(Outgoing(key=row.key, recipient=row.recipient, rendered=rendered, payload=dict(row.payload)))
        except DeliveryFailed as failure:
            if failure.unreachable:  # timed out or gone: the rest of this channel's batch waits too
                raise
            return self._failed(row, failure, now)
        payload = dict(row.payload)
        if not self.policy.keep_links and "link" in payload:
            payload["link"] = masked_link(str(payload["link"]))  # the secret is spent
        return _outcome(row, MessageState.SENT, next=row.next_attempt_at, sent=now, payload=payload)

    def _failed(self, row: Message, failure: DeliveryFailed, now: datetime) -> dict[str, Any]:
        state = rules.after_failure(row.attempts, self.policy.max_attempts, permanent=failure.permanent)
        if state is MessageState.ABANDONED:
            log.warning("message %s abandoned after %d attempt(s): %s", row.id, row.attempts, failure.reason)
            return _outcome(row, state, next=row.next_attempt_at, error=failure.reason)
        return _outcome(row, state, next=now + self.policy.retry_delay(row.attempts), error=failure.reason)

    def _deferred(self, row: Message, now: datetime) -> dict[str, Any]:
        return _outcome(
            row,
            MessageState.QUEUED,
            next=rules.next_sms_day(now),
            attempts_after=row.attempts - 1,
            error="the workspace's daily SMS limit is reached; sending after midnight UTC",
        )


def _outcome(
    row: Message,
    state: str,
    *,
    next: datetime,
    error: str | None = None,
    sent: datetime | None = None,
    attempts_after: int | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": row.id,
        "attempts": row.attempts,
        "state": str(state),
        "next": next,
        "error": error,
        "sent": sent,
        "attempts_after": row.attempts if attempts_after is None else attempts_after,
        "payload": row.payload if payload is None else payload,
    }


def _released(row: Message, now: datetime) -> dict[str, Any]:
    """Back to the queue unsent, the attempt not counted (the lease was about to end)."""
    return _outcome(row, MessageState.QUEUED, next=now, attempts_after=row.attempts - 1)


def _sms_allowance(uow: UnitOfWork, claimed: Sequence[Message], now: datetime) -> dict[str, int]:
    """How many more SMS each workspace may send today (its daily cap minus what was sent)."""
    since = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    allowance: dict[str, int] = {}
    for workspace_id in {r.workspace_id for r in claimed if r.channel == "sms" and r.workspace_id}:
        workspace = uow.workspaces.get(None, workspace_id)
        cap = workspace.sms_daily_cap if workspace is not None else 0
        allowance[workspace_id] = cap - uow.outbox.sms_sent_since(workspace_id, since)
    return allowance
