"""Invitation reminders, on both databases: the ``reminder_days`` setting (off by default; a whole
number of days from 1 to the invitation lifetime less one) through the use case, the REST API and
the settings page; the sweep, with the injected clock moved, queues one reminder exactly when an
invitation's expiry is that close, never twice, never for an invitation that is declined,
revoked, accepted or expired, never when reminders are off; the reminder's link opens the
welcome page, its language is the invitee's, and sweeps racing each other queue it once."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import api_token, client
from support.clock import FixedClock
from support.outbox import messages, token_for
from support.pages import browser_signed_in, csrf

from admit.adapters.delivery.render import render
from admit.admin import invitations, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import ValidationFailed
from admit.entrypoints.workers.periodic import expire_forever
from admit.flows.invitation import claims
from admit.shared import endings
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchard-pebble-52"


def remind_in(ctx: Context, operator: Actor, workspace: Any, days: int | None, lifetime: int = 7) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"invitation_lifetime_days": lifetime, "reminder_days": days})


def invite(ctx: Context, operator: Actor, workspace: Any, email: str, **kw: Any) -> Any:
    return invitations.invite(ctx, operator, workspace.id, MemberInput(email=email, **kw))[0]


def reminders(ctx: Context, email: str | None = None) -> list[dict[str, Any]]:
    return messages(ctx, recipient=email, kind="invitation_reminder")


def actions(ctx: Context, workspace: Any, subject_id: str) -> list[str]:
    with ctx.uow() as uow:
        return [e.action for e in reversed(uow.events.list(workspace.organization_id, subject_id=subject_id))]


# The setting ---------------------------------------------------------------------------------------
def test_reminders_are_off_by_default_and_take_whole_days_within_the_lifetime(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    assert workspace.reminder_days is None
    assert tenancy.update_workspace(ctx, operator, workspace.id, {"reminder_days": 6}).reminder_days == 6
    for bad in (0, -1, 7, 30, 10**30, "3", 2.5, True, "<b>1</b>", "1\x00"):
        with pytest.raises(ValidationFailed) as refused:
            tenancy.update_workspace(ctx, operator, workspace.id, {"reminder_days": bad})
        assert refused.value.field == "reminder_days", bad
    # Shortening the lifetime below the reminder is refused on the reminder, nothing saved.
    with pytest.raises(ValidationFailed, match="from 1 to 2 before expiry") as refused:
        tenancy.update_workspace(ctx, operator, workspace.id, {"invitation_lifetime_days": 3})
    assert refused.value.field == "reminder_days"
    with pytest.raises(ValidationFailed, match="no room"):
        tenancy.update_workspace(ctx, operator, workspace.id, {"invitation_lifetime_days": 1, "reminder_days": 1})
    assert tenancy.get_workspace(ctx, operator, workspace.id).invitation_lifetime_days == 7
    assert tenancy.update_workspace(ctx, operator, workspace.id, {"reminder_days": None}).reminder_days is None


def test_the_api_sets_shows_and_refuses_the_reminder(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    path = f"/api/v1/workspaces/{workspace.id}"
    assert api.get(path).json()["reminder_days"] is None
    set_ = api.patch(path, json={"reminder_days": 2})
    assert set_.status_code == 200 and set_.json()["reminder_days"] == 2
    for bad in (0, 7, 99999999999999999999, "soon", [1]):
        refused = api.patch(path, json={"reminder_days": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["error"]["field"] == "reminder_days", refused.json()
    assert api.get(path).json()["reminder_days"] == 2
    off = api.patch(path, json={"reminder_days": None})
    assert off.status_code == 200 and off.json()["reminder_days"] is None
    created = api.post(
        f"/api/v1/organizations/{org.id}/workspaces",
        json={"name": "Night shift", "invitation_lifetime_days": 10, "reminder_days": 9},
    )
    assert created.status_code == 201 and created.json()["reminder_days"] == 9
    too_late = api.post(f"/api/v1/organizations/{org.id}/workspaces", json={"name": "Day shift", "reminder_days": 7})
    assert too_late.status_code == 422 and too_late.json()["error"]["field"] == "reminder_days"
    member_api = client(ctx, api_token(ctx, org.id, role="member"))
    assert member_api.patch(path, json={"reminder_days": 3}).status_code == 403
    assert api.get(path).json()["reminder_days"] is None


# The settings page -------------------------------------------------------------------------------
FORM = {
    "name": "Acme Main",
    "default_language": "en",
    "invitation_lifetime_days": "7",
    "access_code_lifetime_days": "30",
    "email_enabled": "yes",
    "auto_invite": "yes",
    "sms_daily_cap": "500",
    "password_policy": "length",
    "login_password": "yes",
}


@pytest.fixture
def admin(ctx: Context, operator: Actor, workspace: Any) -> TestClient:
    members.provision(ctx, operator, workspace.id, MemberInput(email="olga@example.com", role="admin"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "olga@example.com"), password=PASSWORD)
    return browser_signed_in(ctx, "olga@example.com", PASSWORD)


def post(browser: TestClient, workspace: Any, **changes: str) -> Any:
    token = csrf(browser.get(f"/admin/{workspace.id}/settings").text)
    return browser.post(
        f"/admin/{workspace.id}/settings", data={**FORM, **changes, "csrftoken": token}, follow_redirects=False
    )


def reminder_input(html: str) -> str:
    found = re.search(r'<input type="number" id="reminder_days"[^>]*>', html)
    assert found, html
    return found.group(0)


def test_the_settings_page_sets_clears_and_refuses_the_reminder(
    ctx: Context, operator: Actor, workspace: Any, admin: TestClient
) -> None:
    page = admin.get(f"/admin/{workspace.id}/settings")
    assert page.status_code == 200 and 'value=""' in reminder_input(page.text)
    saved = post(admin, workspace, reminder_days=" 3 ")
    assert saved.status_code == 303
    assert tenancy.get_workspace(ctx, operator, workspace.id).reminder_days == 3
    assert 'value="3"' in reminder_input(admin.get(saved.headers["location"]).text)
    for typed in ("7", "0", "-2", "soon", "<b>2</b>", "9" * 40):
        refused = post(admin, workspace, reminder_days=typed)
        assert refused.status_code == 422, typed
        assert 'id="reminder_days-error"' in refused.text and 'aria-invalid="true"' in reminder_input(refused.text)
        assert "less than the days invitations are valid for" in refused.text
        if typed == "<b>2</b>":
            assert "<b>2</b>" not in refused.text and "&lt;b&gt;2&lt;/b&gt;" in reminder_input(refused.text)
        else:
            assert f'value="{typed}"' in reminder_input(refused.text)  # what was typed is kept
        assert tenancy.get_workspace(ctx, operator, workspace.id).reminder_days == 3
    # A shorter lifetime that leaves no room for the reminder is refused next to the reminder.
    refused = post(admin, workspace, invitation_lifetime_days="3", reminder_days="3")
    assert refused.status_code == 422 and 'id="reminder_days-error"' in refused.text
    assert post(admin, workspace, reminder_days="").status_code == 303  # empty: no reminder
    assert tenancy.get_workspace(ctx, operator, workspace.id).reminder_days is None


def test_a_member_cannot_change_the_reminder_on_the_page(ctx: Context, operator: Actor, workspace: Any) -> None:
    members.provision(ctx, operator, workspace.id, MemberInput(email="mia@example.com"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "mia@example.com"), password=PASSWORD)
    member = browser_signed_in(ctx, "mia@example.com", PASSWORD)
    assert member.get(f"/admin/{workspace.id}/settings").status_code == 403
    own = csrf(member.get("/sign-in").text)
    refused = member.post(f"/admin/{workspace.id}/settings", data={**FORM, "reminder_days": "2", "csrftoken": own})
    assert refused.status_code == 403 and "Traceback" not in refused.text
    assert tenancy.get_workspace(ctx, operator, workspace.id).reminder_days is None


# The sweep ---------------------------------------------------------------------------------------
def test_one_reminder_is_queued_exactly_when_the_expiry_is_that_close(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    remind_in(ctx, operator, workspace, 2)
    invitation = invite(ctx, operator, workspace, "ann@example.com", first_name="Ann")
    first_token = token_for(ctx, "ann@example.com")
    clock.advance(days=5, seconds=-1)  # expires in two days and a second
    assert invitations.remind_due(ctx) == 0 and reminders(ctx) == []
    clock.advance(seconds=1)  # two days exactly
    assert invitations.remind_due(ctx) == 1
    assert invitations.remind_due(ctx) == 0  # never twice
    clock.advance(days=1)
    assert invitations.remind_due(ctx) == 0
    [sent] = reminders(ctx)
    assert sent["recipient"] == "ann@example.com" and sent["channel"] == "email" and sent["language"] == "en"
    assert sent["subject_id"] == invitation.id
    rendered = render(sent["kind"], sent["language"], sent["payload"])
    assert rendered.subject.startswith("Reminder: your invitation to join Acme Main expires on ")
    assert "Ann" in rendered.text and sent["payload"]["link"] in rendered.text
    # Neither a resend nor a new expiry: the invitation is as it was, reminded once.
    after = invitations.get(ctx, operator, invitation.id)
    assert after.send_count == 1 and after.expires_at == invitation.expires_at and after.state == "pending"
    with ctx.uow() as uow:
        stored = uow.invitations.get(workspace.organization_id, invitation.id)
        assert stored is not None and stored.reminded_at == clock.now() - timedelta(days=1)
    assert actions(ctx, workspace, invitation.id) == ["invitation.created", "invitation.reminded"]
    # The reminder's link works (and so does the first one, until the invitation ends).
    reminder_token = token_for(ctx, "ann@example.com")
    assert reminder_token != first_token
    for token in (reminder_token, first_token):
        browser = client(ctx)
        opened = browser.get(f"/i/{token}", follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/welcome"
        welcome = browser.get("/welcome")
        assert welcome.status_code == 200 and "Acme Main" in unescape(welcome.text)
    claims.accept_with_token(ctx, reminder_token, password=PASSWORD)
    assert invitations.get(ctx, operator, invitation.id).state == "accepted"


def test_invitations_that_ended_get_no_reminder(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    remind_in(ctx, operator, workspace, 3)
    declined = invite(ctx, operator, workspace, "dee@example.com")
    claims.decline_with_token(ctx, token_for(ctx, "dee@example.com"))
    revoked = invite(ctx, operator, workspace, "rae@example.com")
    invitations.revoke(ctx, operator, revoked.id)
    invite(ctx, operator, workspace, "ace@example.com")
    claims.accept_with_token(ctx, token_for(ctx, "ace@example.com"), password=PASSWORD)
    clock.advance(days=6)
    assert invitations.remind_due(ctx) == 0
    # Expired (lapsed, and marked expired by the expiry sweep) ones neither.
    lapsed = invite(ctx, operator, workspace, "lou@example.com")
    clock.advance(days=7)
    assert invitations.remind_due(ctx) == 0
    assert endings.expire_due(ctx) == 1 and invitations.remind_due(ctx) == 0
    assert reminders(ctx) == []
    assert invitations.get(ctx, operator, lapsed.id).state == "expired"
    assert "invitation.reminded" not in actions(ctx, workspace, declined.id)


def test_no_reminder_when_reminders_are_off_or_switched_off(
    ctx: Context, operator: Actor, workspace: Any, org: Any, clock: FixedClock
) -> None:
    invite(ctx, operator, workspace, "off@example.com")
    other = tenancy.create_workspace(ctx, operator, org.id, "Reminding", tenancy.WorkspaceSettings(reminder_days=1))
    invite(ctx, operator, other, "on@example.com")
    third = tenancy.create_workspace(ctx, operator, org.id, "Changed its mind")
    remind_in(ctx, operator, third, 1)
    invite(ctx, operator, third, "later@example.com")
    remind_in(ctx, operator, third, None)
    clock.advance(days=6, hours=12)
    assert invitations.remind_due(ctx) == 1
    assert [m["recipient"] for m in reminders(ctx)] == ["on@example.com"]


def test_the_reminder_speaks_the_invitees_language_on_each_channel(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True, "reminder_days": 1})
    invite(ctx, operator, workspace, "jan@example.com", phone="+49 30 901820", language="de", first_name="Jan")
    invite(ctx, operator, workspace, "eve@example.com", language="fr")
    clock.advance(days=6)
    assert invitations.remind_due(ctx) == 2
    sent = {(m["recipient"], m["channel"]): m for m in reminders(ctx)}
    assert set(sent) == {("jan@example.com", "email"), ("+4930901820", "sms"), ("eve@example.com", "email")}
    german = sent[("jan@example.com", "email")]
    assert german["language"] == "de" and sent[("+4930901820", "sms")]["language"] == "de"
    subject = render(german["kind"], "de", german["payload"]).subject
    assert subject.startswith("Erinnerung: Ihre Einladung zu Acme Main läuft am ") and subject.endswith(" ab")
    sms = render("invitation_reminder", "de", sent[("+4930901820", "sms")]["payload"]).sms
    assert sms.startswith("Erinnerung:") and "/i/adm_inv_" in sms
    french = sent[("eve@example.com", "email")]
    assert french["language"] == "fr"
    assert render(french["kind"], "fr", french["payload"]).subject.startswith("Rappel : votre invitation")


def test_racing_sweeps_queue_each_reminder_once(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    remind_in(ctx, operator, workspace, 2)
    emails = [f"p{i}@example.com" for i in range(6)]
    for email in emails:
        invite(ctx, operator, workspace, email)
    clock.advance(days=5, hours=1)
    sweeps = 8
    barrier = threading.Barrier(sweeps)

    def sweep(_: int) -> int:
        barrier.wait()
        return invitations.remind_due(ctx, batch=2)

    with ThreadPoolExecutor(sweeps) as pool:
        counts = list(pool.map(sweep, range(sweeps)))
    assert sum(counts) == len(emails), counts
    assert sorted(m["recipient"] for m in reminders(ctx)) == sorted(emails)


def test_the_audit_log_says_a_reminder_was_sent(
    ctx: Context, operator: Actor, workspace: Any, admin: TestClient, clock: FixedClock
) -> None:
    remind_in(ctx, operator, workspace, 1)
    invite(ctx, operator, workspace, "kai@example.com", first_name="Kai", last_name="<i>Klein</i>")
    clock.advance(days=6)
    assert invitations.remind_due(ctx) == 1
    page = admin.get(f"/admin/{workspace.id}/audit")
    cells = [
        unescape(re.sub(r"\s+", " ", c)).strip()
        for c in re.findall(r'<td class="sentence">(.*?)</td>', page.text, re.S)
    ]
    assert cells[0] == "A reminder was sent to Kai <i>Klein</i>", cells
    assert "<i>Klein" not in page.text


def test_serves_periodic_sweep_queues_the_reminders(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    remind_in(ctx, operator, workspace, 1)
    invite(ctx, operator, workspace, "sam@example.com")
    clock.advance(days=6)

    async def run_a_while() -> None:
        task = asyncio.create_task(expire_forever(ctx, 0.05))
        for _ in range(200):
            if reminders(ctx):
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run_a_while())
    assert [m["recipient"] for m in reminders(ctx)] == ["sam@example.com"]
