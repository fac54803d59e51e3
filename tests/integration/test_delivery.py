"""The outbox worker against a real SMTP server (aiosmtpd) and a real HTTP SMS gateway on
loopback, on both databases: content, language, headers, links, retries and abandonment."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.clock import FixedClock
from support.delivery import drain, worker
from support.factories import invite
from support.outbox import messages
from support.sms_gateway import sms_gateway
from support.smtp import SmtpServer, smtp_server

from admit.admin import invitations, members, outbox, tenancy
from admit.admin.profiles import MemberInput
from admit.shared.context import Actor, Context


def test_invitation_email_arrives_with_text_html_headers_and_link(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    invitations.invite(
        ctx,
        operator,
        workspace.id,
        MemberInput(email="ann@example.com", first_name="Ann"),
        message="<b>Welcome</b> to the team",
    )
    with smtp_server() as smtp:
        assert drain(worker(ctx, **smtp.settings())) == 1
        [mail] = smtp.inbox.to("ann@example.com")
    [row] = messages(ctx, recipient="ann@example.com")
    assert mail["From"] == "Admit <admit@mail.example.com>"
    assert mail["Subject"] == "You are invited to Acme Main"
    assert mail["Message-ID"] == f"<{row['key']}@mail.example.com>"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Hello Ann," in text and "<b>Welcome</b> to the team" in text
    assert "&lt;b&gt;Welcome&lt;/b&gt;" in html and "<b>Welcome</b>" not in html
    links = [word for word in text.split() if word.startswith("http")]
    assert links and all(link.startswith("https://admit.example.test/i/adm_inv_") for link in links)
    assert f'href="{links[0]}"' in html
    assert row["state"] == "sent" and row["attempts"] == 1 and row["sent_at"] is not None
    assert "adm_inv_" not in str(row["payload"])  # the sent link's secret is not kept at rest


def test_language_is_the_members_then_the_workspaces(ctx: Context, operator: Actor, org: Any) -> None:
    french = tenancy.create_workspace(
        ctx, operator, org.id, "Atelier", tenancy.WorkspaceSettings(default_language="fr")
    )
    invitations.invite(ctx, operator, french.id, MemberInput(email="de@example.com", language="de"))
    invitations.invite(ctx, operator, french.id, MemberInput(email="fr@example.com"))
    with smtp_server() as smtp:
        drain(worker(ctx, **smtp.settings()))
        assert smtp.inbox.to("de@example.com")[0]["Subject"] == "Sie sind zu Atelier eingeladen"
        assert smtp.inbox.to("fr@example.com")[0]["Subject"] == "Vous êtes invité à rejoindre Atelier"
        german = smtp.inbox.to("de@example.com")[0].get_body(("plain",)).get_content()
    assert "Los geht’s:" in german and "Diese Einladung ist gültig bis" in german


def test_smtp_down_while_200_invitations_are_created_then_each_arrives_exactly_once(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    smtp = SmtpServer()  # not started: connections are refused
    for i in range(200):
        invite(ctx, operator, workspace, f"p{i}@example.com")
    runner = worker(ctx, **smtp.settings())
    assert drain(runner) == 200
    assert {m["state"] for m in messages(ctx)} == {"failed"}
    assert "cannot reach the SMTP server" in messages(ctx)[0]["last_error"]
    smtp.start()
    try:
        clock.advance(seconds=30)  # still backing off: nothing is due yet
        assert drain(runner) == 0
        clock.advance(minutes=2)
        assert drain(runner) == 200
        assert drain(runner) == 0
        received = smtp.inbox.ids()
    finally:
        smtp.stop()
    assert len(received) == 200 and len(set(received)) == 200
    assert {m["state"] for m in messages(ctx)} == {"sent"}
    assert sorted(m["attempts"] for m in messages(ctx)) == [2] * 200


def test_refused_recipient_is_abandoned_at_once_and_reported(ctx: Context, operator: Actor, workspace: Any) -> None:
    invite(ctx, operator, workspace, "gone@example.com")
    with smtp_server() as smtp:
        smtp.inbox.refuse.add("gone@example.com")
        drain(worker(ctx, **smtp.settings()))
    [row] = messages(ctx, recipient="gone@example.com")
    assert row["state"] == "abandoned" and "550" in row["last_error"]
    with ctx.uow() as uow:
        assert [e.action for e in uow.events.list(workspace.organization_id, subject_id=str(row["id"]))] == [
            "message.abandoned"
        ]


def test_transient_failures_end_abandoned_after_the_last_attempt(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    invite(ctx, operator, workspace, "ann@example.com")
    runner = worker(ctx, max_attempts=3, **SmtpServer().settings())
    states = []
    for _ in range(3):
        drain(runner)
        states.append(messages(ctx)[0]["state"])
        clock.advance(hours=7)
    assert states == ["failed", "failed", "abandoned"]


def test_sms_gateway_answering_500_then_200_is_retried_with_the_same_key(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True})
    members.provision(ctx, operator, workspace.id, MemberInput(username="fred", phone="+49 30 901820"), invite=True)
    with sms_gateway() as gateway:
        gateway.script = [500]
        runner = worker(ctx, sms_provider="webhook", sms_url=gateway.url, sms_token="gw-secret")
        drain(runner)
        assert messages(ctx)[0]["state"] == "failed" and "500" in messages(ctx)[0]["last_error"]
        clock.advance(minutes=2)
        drain(runner)
        first, second = gateway.requests
    assert messages(ctx)[0]["state"] == "sent"
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"] == messages(ctx)[0]["key"]
    assert second["headers"]["Authorization"] == "Bearer gw-secret"
    assert second["body"]["to"] == "+4930901820"
    assert second["body"]["body"].startswith("You are invited to Acme Main. Join: https://admit.example.test/i/")


def test_permanent_gateway_refusal_is_abandoned_shown_to_admins_and_can_be_retried(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True})
    members.provision(ctx, operator, workspace.id, MemberInput(username="fred", phone="+49 30 901820"), invite=True)
    api = client(ctx, api_token(ctx, org.id))
    with sms_gateway() as gateway:
        gateway.script = [400]
        runner = worker(ctx, sms_provider="webhook", sms_url=gateway.url)
        drain(runner)
        abandoned = api.get(f"/api/v1/workspaces/{workspace.id}/messages", params={"state": "abandoned"}).json()
        assert len(abandoned) == 1 and "400" in abandoned[0]["last_error"] and "payload" not in abandoned[0]
        retried = api.post(f"/api/v1/messages/{abandoned[0]['id']}/retry")
        assert retried.status_code == 200 and retried.json()["state"] == "queued"
        again = api.post(f"/api/v1/messages/{abandoned[0]['id']}/retry")
        assert again.status_code == 409 and again.json()["error"]["code"] == "not_retryable"
        drain(runner)
        assert len(gateway.delivered()) == 1
    assert outbox.list_messages(ctx, operator, workspace_id=workspace.id)[0].state == "sent"


def test_twilio_compatible_gateway_gets_a_form_post(ctx: Context, operator: Actor, workspace: Any) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True})
    members.provision(ctx, operator, workspace.id, MemberInput(username="fred", phone="+49 30 901820"), invite=True)
    with sms_gateway() as gateway:
        drain(
            worker(
                ctx,
                sms_provider="twilio",
                sms_url=gateway.url,
                sms_account_sid="AC123",
                sms_auth_token="tw-secret",
                sms_from="+15005550006",
            )
        )
        [request] = gateway.requests
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request["body"]["To"] == "+4930901820" and request["body"]["From"] == "+15005550006"
    assert request["headers"]["Authorization"].startswith("Basic ")
    assert request["headers"]["I-Twilio-Idempotency-Token"] == messages(ctx)[0]["key"]


def test_daily_sms_cap_defers_the_rest_to_the_next_day(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True, "sms_daily_cap": 1})
    for i in range(2):
        members.provision(
            ctx, operator, workspace.id, MemberInput(username=f"u{i}", phone=f"+49 30 90182{i}"), invite=True
        )
    with sms_gateway() as gateway:
        runner = worker(ctx, sms_provider="webhook", sms_url=gateway.url)
        drain(runner)
        assert len(gateway.delivered()) == 1
        waiting = [m for m in messages(ctx) if m["state"] == "queued"]
        assert len(waiting) == 1 and "daily SMS limit" in waiting[0]["last_error"] and waiting[0]["attempts"] == 0
        clock.advance(days=1)
        drain(runner)
        assert len(gateway.delivered()) == 2


def test_email_and_sms_both_reach_a_member_with_both(ctx: Context, operator: Actor, workspace: Any) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True})
    members.provision(
        ctx, operator, workspace.id, MemberInput(email="both@example.com", phone="+49 30 901820"), invite=True
    )
    with smtp_server() as smtp, sms_gateway() as gateway:
        drain(worker(ctx, sms_provider="webhook", sms_url=gateway.url, **smtp.settings()))
        assert len(smtp.inbox.to("both@example.com")) == 1
        assert [r["body"]["to"] for r in gateway.delivered()] == ["+4930901820"]


@pytest.mark.parametrize("dev_mode", [True, False])
def test_dev_mailbox_exists_only_in_dev_mode(ctx: Context, operator: Actor, workspace: Any, dev_mode: bool) -> None:
    from fastapi.testclient import TestClient
    from support.delivery import settings

    from admit.entrypoints.web.app import create_app

    invite(ctx, operator, workspace, "ann@example.com", first_name="Ann")
    with TestClient(create_app(settings(dev_mode=dev_mode), ctx, background=False)) as browser:
        listing = browser.get("/dev/mailbox")
        if not dev_mode:
            assert listing.status_code == 404
            return
        assert listing.status_code == 200 and "You are invited to Acme Main" in listing.text
        assert listing.headers["referrer-policy"] == "no-referrer"
        message_id = messages(ctx)[0]["id"]
        page = browser.get(f"/dev/mailbox/{message_id}")
    assert page.status_code == 200 and "Hello Ann," in page.text
    assert 'href="https://admit.example.test/i/adm_inv_' in page.text
