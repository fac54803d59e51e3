"""Webhooks end to end on both databases: events published in the transaction of the change,
signed by Admit (PyPI standardwebhooks) and verified by a real receiver on loopback with the npm
standardwebhooks library on the raw body; ordering and exactly-once per webhook-id through a
receiver outage and a worker crash; the retry schedule, stopping, abandonment and disabling."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from support.clock import FixedClock
from support.org_worlds import PersonSpec, build, signed_in
from support.webhook_receiver import Receiver, webhook_receiver

from admit.adapters.delivery.webhooks import Sender
from admit.adapters.persistence import tables as t
from admit.admin import invitations, members, webhooks
from admit.admin import organization_invitations as org_invitations
from admit.admin.profiles import MemberInput
from admit.domain import webhooks as catalogue
from admit.domain.events import EventType
from admit.entrypoints.workers.webhook_worker import WebhookPolicy, WebhookWorker
from admit.flows.invitation import claims
from admit.shared import endings
from admit.shared.context import SYSTEM, Actor, Context, record

BOSS = PersonSpec("boss@acme.example", role="owner", org_role="system_admin")


@pytest.fixture
def clock() -> FixedClock:
    """Near the real time: the receiver's signature check has a five-minute tolerance."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def dev(ctx: Context) -> Context:
    return dataclasses.replace(ctx, dev_mode=True, secret_key="k" * 40)


@pytest.fixture
def receiver(clock: FixedClock) -> Iterator[Receiver]:
    with webhook_receiver() as running:
        running.now(clock.now())
        yield running


def attempts(ctx: Context) -> int:
    with ctx.uow() as uow:
        return len(uow.conn.execute(select(t.webhook_attempts.c.id)).all())


def run(ctx: Context, *, timeout: float = 15.0, rounds: int = 50) -> int:
    """Deliver until nothing is due at the clock's time; how many attempts were made."""
    worker = WebhookWorker(ctx, Sender(allow_private=True, timeout=timeout), WebhookPolicy(batch=20))
    before = attempts(ctx)
    try:
        for _ in range(rounds):
            if not worker.run_once():
                break
    finally:
        worker.sender.close()
    return attempts(ctx) - before


def endpoint(dev: Context, operator: Actor, org: Any, receiver: Receiver, **kw: Any) -> tuple[dict[str, Any], str]:
    created, secret = webhooks.create(dev, operator, org.id, url=f"{receiver.url}/hooks", **kw)
    receiver.secrets(secret)
    return created, secret


def every_event(dev: Context, operator: Actor, workspace: Any, clock: FixedClock) -> dict[str, str]:
    """Make every event in the catalogue happen through the services (those whose doors need more
    than a service call are recorded as their services record them); the tokens handed out."""
    tokens: dict[str, str] = {}
    first, _ = invitations.invite(dev, operator, workspace.id, MemberInput(email="ann@example.com"))
    tokens["first"] = latest_link_token(dev, "ann@example.com")
    invitations.resend(dev, operator, first.id)
    tokens["resent"] = latest_link_token(dev, "ann@example.com")
    claims.accept_with_token(dev, tokens["resent"], password="a long enough password 1")
    member_id = first.member_id
    members.update(dev, operator, member_id, {"role": "admin"})
    members.suspend(dev, operator, member_id)
    members.reactivate(dev, operator, member_id)
    second, _ = invitations.invite(dev, operator, workspace.id, MemberInput(email="bo@example.com"))
    tokens["second"] = latest_link_token(dev, "bo@example.com")
    invitations.revoke(dev, operator, second.id)
    invitations.invite(dev, operator, workspace.id, MemberInput(email="cy@example.com"))
    tokens["third"] = latest_link_token(dev, "cy@example.com")
    claims.decline_with_token(dev, tokens["third"])
    fourth, _ = invitations.invite(dev, operator, workspace.id, MemberInput(email="di@example.com"))
    clock.advance(days=60)
    endings.expire_due(dev)
    members.remove(dev, operator, member_id)
    now = clock.now()
    scope = {"organization_id": workspace.organization_id, "workspace_id": workspace.id}
    with dev.uow(write=True) as uow:
        record(uow, SYSTEM, EventType.TERMS_ACCEPTED, "member", member_id, now, **scope, version=1, sha256="0" * 64)
        record(
            uow, SYSTEM, EventType.MEMBER_CHANGE_HELD, "member", fourth.member_id, now, **scope,
            hold_id="h1", held_action="suspend", applied_within_hour=9, workspace_size=20,
        )  # fmt: skip
        record(
            uow, SYSTEM, EventType.MESSAGE_ABANDONED, "message", "7", now, **scope,
            kind="invitation", channel="email", error="no such mailbox",
        )  # fmt: skip
        uow.commit()
    return tokens


def latest_link_token(dev: Context, email: str) -> str:
    """The token of the newest invitation link sent to ``email`` (resending replaced the first)."""
    with dev.uow() as uow:
        rows = uow.conn.execute(
            select(t.outbox.c.payload).where(t.outbox.c.recipient == email).order_by(t.outbox.c.id.desc())
        ).all()
    return str(rows[0].payload["link"]).rsplit("/", 1)[1]


def test_every_event_type_arrives_verified_by_the_npm_library_in_sequence_order(
    dev: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock, receiver: Receiver
) -> None:
    endpoint(dev, operator, org, receiver)
    tokens = every_event(dev, operator, workspace, clock)
    receiver.now(clock.now())
    webhooks.send_test(dev, operator, org.id, webhooks.list_endpoints(dev, operator, org.id)[0]["id"])
    assert run(dev) > 0
    got = receiver.received()
    assert all(row["verified"] == [True] for row in got), [row["verified"] for row in got]
    types = [row["envelope"]["type"] for row in got]
    expected = set(catalogue.CATALOGUE) - {"organization.merged"}  # merges: the last test of this module
    assert set(types) == expected, expected ^ set(types)
    sequences = [row["envelope"]["sequence"] for row in got]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    for row in got:
        envelope = row["envelope"]
        assert set(envelope) == {"type", "id", "timestamp", "organization_id", "workspace_id", "sequence", "data"}
        assert envelope["id"] == row["id"] and envelope["organization_id"] == org.id
        assert row["host"] == receiver.url.removeprefix("http://")
    role = next(r["envelope"]["data"] for r in got if r["envelope"]["type"] == "member.role_changed")
    assert role["role"] == "admin" and role["previous_role"] == "member"
    updated = next(r["envelope"]["data"] for r in got if r["envelope"]["type"] == "member.updated")
    assert updated["fields"] == ["role"]
    # Never a secret or token in a payload (nor in what is stored to be sent).
    bodies = " ".join(row["body"] for row in got)
    with dev.uow() as uow:
        stored = json.dumps([r.payload for r in uow.conn.execute(select(t.webhook_events)).all()])
        sealed = [r.secret for r in uow.conn.execute(select(t.webhook_endpoints)).all()]
    for token in tokens.values():
        assert token not in bodies and token not in stored
    assert "adm_" not in bodies and "whsec_" not in bodies and "whsec_" not in stored
    assert all(not s.startswith("whsec_") for s in sealed)  # sealed at rest


def test_receiver_down_then_up_every_event_once_per_id_in_order(
    dev: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock, receiver: Receiver
) -> None:
    endpoint(dev, operator, org, receiver, event_types=["invitation.created"])
    for i in range(6):
        invitations.invite(dev, operator, workspace.id, MemberInput(email=f"p{i}@example.com"))
    receiver.mode("503")
    assert run(dev, timeout=1) == 1  # the first fails; the others wait behind it (order)
    clock.advance(seconds=5)
    receiver.now(clock.now())
    receiver.mode("hang")
    assert run(dev, timeout=0.5) == 1  # a timeout
    clock.advance(minutes=4)
    assert run(dev, timeout=0.5) == 0  # the third attempt is due 5 minutes after the second
    clock.advance(minutes=1)
    receiver.now(clock.now())
    receiver.mode("ok")
    assert run(dev) == 6
    got = receiver.received()
    assert [row["envelope"]["sequence"] for row in got] == sorted(row["envelope"]["sequence"] for row in got)
    assert len({row["id"] for row in got}) == len(got) == 6
    assert all(row["verified"] == [True] for row in got)
    first = got[0]["id"]
    assert [row["id"] for row in receiver.seen()].count(first) == 3  # 503, timeout, 200: one webhook-id
    log = webhooks.deliveries(dev, operator, org.id, webhooks.list_endpoints(dev, operator, org.id)[0]["id"])
    statuses = [(a["attempt"], a["status"]) for a in reversed(log["attempts"]) if a["event_id"] == first]
    assert statuses == [(1, 503), (2, None), (3, 200)]
    assert next(a for a in log["attempts"] if a["status"] == 503)["response"] == "down for maintenance"
    clock.advance(hours=1)
    assert run(dev) == 0  # nothing is sent twice


def test_a_worker_crash_mid_send_is_retried_with_the_same_webhook_id(
    dev: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock, receiver: Receiver
) -> None:
    endpoint(dev, operator, org, receiver, event_types=["invitation.created"])
    invitations.invite(dev, operator, workspace.id, MemberInput(email="ann@example.com"))

    class Crash(Exception):
        pass

    class CrashingSender(Sender):
        def send(self, *args: Any, **kw: Any) -> Any:
            super().send(*args, **kw)  # delivered, then the worker dies before recording it
            raise Crash

    crashing = WebhookWorker(dev, CrashingSender(allow_private=True), WebhookPolicy(lease_seconds=60))
    try:
        with pytest.raises(Crash):
            crashing.run_once()
    finally:
        crashing.sender.close()
    assert run(dev) == 0  # leased to the crashed worker
    clock.advance(seconds=61)
    receiver.now(clock.now())
    assert run(dev) == 1
    ids = [row["id"] for row in receiver.received()]
    assert len(ids) == 2 and ids[0] == ids[1]  # at least once, always the same id: receivers deduplicate
    with dev.uow() as uow:
        [message] = uow.conn.execute(select(t.webhook_messages)).all()
    assert message.state == "sent" and message.attempts == 2


def test_schedule_stop_abandon_tells_owners_and_five_days_disable(
    dev: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock, receiver: Receiver
) -> None:
    invitations.invite(dev, operator, workspace.id, MemberInput(email="owner@example.com", role="owner"))
    with dev.uow(write=True) as uow:  # an active owner
        uow.conn.execute(t.members.update().values(status="active"))
        uow.commit()
    created, _ = endpoint(dev, operator, org, receiver, event_types=["member.suspended"])
    receiver.mode("503")
    webhooks.send_test(dev, operator, org.id, created["id"])
    waits = []
    for _ in range(catalogue.MAX_ATTEMPTS):
        assert run(dev, timeout=1) == 1
        with dev.uow() as uow:
            [message] = uow.conn.execute(select(t.webhook_messages)).all()
        waits.append(message.next_attempt_at - clock.now())
        clock.advance(seconds=(message.next_attempt_at - clock.now()).total_seconds())
    assert message.state == "abandoned" and message.attempts == catalogue.MAX_ATTEMPTS
    assert waits[:-1] == list(catalogue.SCHEDULE[1:])
    with dev.uow() as uow:
        notices = uow.conn.execute(select(t.outbox).where(t.outbox.c.kind == "webhook_notice")).all()
    assert [n.recipient for n in notices] == ["owner@example.com"] and notices[0].payload["disabled"] is False
    # Five days of failures disable the endpoint and tell its owners.
    clock.advance(days=4)
    webhooks.send_test(dev, operator, org.id, created["id"])
    assert run(dev, timeout=1) == 1
    shown = webhooks.get(dev, operator, org.id, created["id"])
    assert shown["enabled"] is False and shown["disabled_reason"] == "failing for 5 days"
    with dev.uow() as uow:
        notices = uow.conn.execute(select(t.outbox).where(t.outbox.c.kind == "webhook_notice")).all()
    assert [n.payload["disabled"] for n in notices] == [False, True]
    # 410 Gone stops retries at once (the failed test event first: an endpoint's events keep their order).
    webhooks.set_enabled(dev, operator, org.id, created["id"], True)
    receiver.mode("410")
    event_id = webhooks.send_test(dev, operator, org.id, created["id"])
    assert run(dev, timeout=1) == 0
    clock.advance(seconds=5)
    receiver.now(clock.now())
    assert run(dev, timeout=1) == 2
    with dev.uow() as uow:
        gone = uow.conn.execute(select(t.webhook_messages).where(t.webhook_messages.c.event_id == event_id)).one()
    assert gone.state == "abandoned" and gone.attempts == 1


def test_rotation_signs_with_both_secrets_for_24_hours(
    dev: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock, receiver: Receiver
) -> None:
    created, old = endpoint(dev, operator, org, receiver)
    _, new = webhooks.rotate(dev, operator, org.id, created["id"])
    assert new != old and new.startswith("whsec_")
    receiver.secrets(old, new)
    webhooks.send_test(dev, operator, org.id, created["id"])
    run(dev)
    clock.advance(hours=24, seconds=1)
    receiver.now(clock.now())
    webhooks.send_test(dev, operator, org.id, created["id"])
    run(dev)
    during, after = receiver.received()
    assert during["verified"] == [True, True] and len(during["signature"].split()) == 2
    assert after["verified"][1] is True and after["verified"][0] != True  # noqa: E712 - the old one stopped
    assert len(after["signature"].split()) == 1


def test_replay_and_redeliver_since_use_the_same_webhook_ids(
    dev: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock, receiver: Receiver
) -> None:
    created, _ = endpoint(dev, operator, org, receiver)
    first = webhooks.send_test(dev, operator, org.id, created["id"])
    clock.advance(minutes=1)
    since = clock.now()
    second = webhooks.send_test(dev, operator, org.id, created["id"])
    receiver.now(clock.now())
    run(dev)
    log = webhooks.deliveries(dev, operator, org.id, created["id"])
    message_id = next(m["id"] for m in log["messages"] if m["event_id"] == first)
    assert webhooks.replay(dev, operator, org.id, created["id"], message_id) == 1
    assert webhooks.redeliver_since(dev, operator, org.id, created["id"], since.isoformat()) == 1
    run(dev)
    assert [row["id"] for row in receiver.received()] == [first, second, first, second]


def test_an_event_no_endpoint_wants_is_not_stored(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    with ctx.uow() as uow:
        assert uow.conn.execute(select(t.webhook_events)).all() == []


def test_an_endpoint_gets_only_its_types_and_its_workspace(
    dev: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock, receiver: Receiver
) -> None:
    from admit.admin import tenancy

    other = tenancy.create_workspace(dev, operator, org.id, "Other")
    endpoint(dev, operator, org, receiver, event_types=["invitation.created"], workspace_id=workspace.id)
    invitations.invite(dev, operator, workspace.id, MemberInput(email="ann@example.com"))
    invitations.invite(dev, operator, other.id, MemberInput(email="bo@example.com"))
    first, _ = invitations.invite(dev, operator, workspace.id, MemberInput(email="cy@example.com"))
    invitations.revoke(dev, operator, first.id)
    run(dev)
    got = receiver.received()
    assert [r["envelope"]["type"] for r in got] == ["invitation.created", "invitation.created"]
    assert {r["envelope"]["workspace_id"] for r in got} == {workspace.id}
    assert [r["envelope"]["sequence"] for r in got] == [1, 2]


def test_sequence_counter_is_per_organization_and_unique(ctx: Context) -> None:
    from admit.admin import tenancy

    first = tenancy.create_organization(ctx, Actor.operator(), "One")
    second = tenancy.create_organization(ctx, Actor.operator(), "Two")
    with ctx.uow(write=True) as uow:
        numbers = [uow.webhooks.next_sequence(first.id) for _ in range(3)] + [uow.webhooks.next_sequence(second.id)]
        uow.commit()
    assert numbers == [1, 2, 3, 1]
    assert timedelta(0) == catalogue.SCHEDULE[0]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite: one writer, nothing overlaps
def test_four_workers_at_once_keep_each_endpoints_order(
    dev: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock, receiver: Receiver
) -> None:
    """Several workers claiming side by side (on PostgreSQL they really overlap) never send an
    endpoint's events out of ``sequence`` order, and each event arrives once."""
    endpoint(dev, operator, org, receiver, event_types=["member.suspended"])
    with dev.uow(write=True) as uow:
        for i in range(120):
            record(
                uow, SYSTEM, EventType.MEMBER_SUSPENDED, "member", f"{i:032x}", clock.now(),
                organization_id=org.id, workspace_id=workspace.id,
            )  # fmt: skip
        uow.commit()
    receiver.now(clock.now())
    errors: list[BaseException] = []

    def work() -> None:
        worker = WebhookWorker(dev, Sender(allow_private=True, timeout=15), WebhookPolicy(batch=3))
        try:
            for _ in range(200):
                if not worker.run_once() and not pending(dev):
                    break
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            worker.sender.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    sequences = [row["envelope"]["sequence"] for row in receiver.received()]
    assert len(sequences) == 120 and len(set(sequences)) == 120
    assert sequences == sorted(sequences)


def pending(ctx: Context) -> int:
    with ctx.uow() as uow:
        rows = uow.conn.execute(
            select(t.webhook_messages.c.id).where(t.webhook_messages.c.state.in_(("queued", "sending", "failed")))
        ).all()
    return len(rows)


def test_a_merge_arrives_as_organization_merged_verified_by_the_npm_library(
    dev: Context, operator: Actor, clock: FixedClock, receiver: Receiver
) -> None:
    """The one catalogue type the test above cannot make with a service call in a workspace."""
    acme = build(dev, operator, "Acme", seats=3, enforced=True, people=[BOSS])
    endpoint(dev, operator, acme.org, receiver, event_types=["organization.merged"])
    pat = PersonSpec("pat@pro.example", role="owner", org_role="system_admin")
    paid = build(dev, operator, "Pat Pro", plan="pro", seats=1, people=[pat])
    _, token = org_invitations.invite(dev, acme.actor(BOSS.email), acme.org.id, pat.email)
    org_invitations.accept(dev, signed_in(dev, paid.accounts[pat.email]), token=token)
    receiver.now(clock.now())
    assert run(dev) == 1
    (got,) = receiver.received()
    assert got["verified"] == [True]
    envelope = got["envelope"]
    assert (envelope["type"], envelope["organization_id"]) == ("organization.merged", acme.org.id)
    assert paid.org.id in json.dumps(envelope["data"])
    assert "adm_" not in got["body"]  # never the invitation's token
