"""The audit log in words, on both databases: each common event is a sentence naming who did
what to whom (people by their names), names are shown as text (markup escaped), details are
readable text, an event type without a sentence of its own gets a generic one, and a German
administrator reads German sentences."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from fastapi.testclient import TestClient
from support.api import api_token, client
from support.clock import FixedClock
from support.outbox import token_for
from support.pages import browser_signed_in

from admit.admin import invitations, members
from admit.admin import terms as admin_terms
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.flows.terms import acceptance
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "harbor-quill-meadow-81"


def admin(ctx: Context, operator: Actor, workspace: Any, email: str, first: str, last: str, **kw: Any) -> Actor:
    given = MemberInput(email=email, role="owner", first_name=first, last_name=last, **kw)
    created, _ = members.provision(ctx, operator, workspace.id, given, invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    account_id = members.get(ctx, operator, str(created.id)).account_id
    assert account_id is not None
    return Actor(ActorKind.ACCOUNT, id=account_id, name=f"{first} {last}")


def browser_of(ctx: Context, email: str) -> TestClient:
    return browser_signed_in(ctx, email, PASSWORD)


def sentences(html: str) -> list[str]:
    """The log's sentences as a reader sees them, newest first."""
    cells = re.findall(r'<td class="sentence">(.*?)</td>', html, re.S)
    return [unescape(re.sub(r"\s+", " ", cell)).strip() for cell in cells]


def story(ctx: Context, operator: Actor, workspace: Any, clock: FixedClock) -> Actor:
    """Dana invites, resends, revokes, changes a role, publishes terms, suspends and removes."""
    dana = admin(ctx, operator, workspace, "dana@example.com", "Dana", "Demo")
    kai_invitation, kai = invitations.invite(
        ctx, dana, workspace.id, MemberInput(email="kai@example.com", first_name="Kai", last_name="Klein")
    )
    invitations.resend(ctx, dana, kai_invitation.id)
    kai_account = claims.accept_with_token(ctx, token_for(ctx, "kai@example.com"), password=PASSWORD)
    hostile = MemberInput(email="lee@example.com", first_name="<b>Lee</b>", last_name="<script>x</script>")
    lee_invitation, _ = invitations.invite(ctx, dana, workspace.id, hostile)
    invitations.revoke(ctx, dana, lee_invitation.id)
    members.update(ctx, dana, kai.id, {"role": "admin"})
    members.update(ctx, dana, kai.id, {"department": "Sales", "job_profile": "Buyer"})
    admin_terms.publish(ctx, dana, workspace.id, filename="terms.txt", document=b"Be kind.")
    account_id = members.get(ctx, operator, kai.id).account_id
    assert account_id is not None and kai_account is not None
    held = acceptance.record_download(ctx, account_id, workspace.id, 1, None)["flow"]
    acceptance.accept(ctx, account_id, workspace.id, 1, held)
    members.suspend(ctx, dana, kai.id)
    members.remove(ctx, dana, kai.id)
    with ctx.uow(write=True) as uow:  # a type no sentence knows (say, from a newer version)
        uow.events.add(
            organization_id=workspace.organization_id,
            workspace_id=workspace.id,
            actor_type="account",
            actor_id=dana.id,
            action="widget.polished",
            subject_type="member",
            subject_id=kai.id,
            data={"colours": ["red", "blue"], "size": {"w": 2, "tags": ["a", "b"]}, "ok": True},
            created_at=clock.now(),
        )
        uow.commit()
    return dana


def test_the_log_reads_as_sentences_with_names_escaped(
    ctx: Context, operator: Actor, org: Any, workspace: Any, clock: FixedClock
) -> None:
    api = client(ctx, api_token(ctx, org.id, role="admin"))
    person = {"email": "zoe@example.com", "first_name": "Zoe", "last_name": "Zed", "invite": False}
    assert api.post(f"/api/v1/workspaces/{workspace.id}/members", json=person).status_code == 201
    story(ctx, operator, workspace, clock)
    page = browser_of(ctx, "dana@example.com").get(f"/admin/{workspace.id}/audit")
    assert page.status_code == 200
    said = sentences(page.text)
    for expected in (
        "Dana Demo invited Kai Klein as Member",
        "Dana Demo added Kai Klein as Member",
        "Dana Demo sent the invitation to Kai Klein again",
        "Kai Klein accepted the invitation",
        "Kai Klein joined the workspace",
        "Dana Demo revoked the invitation to <b>Lee</b> <script>x</script>",
        "Dana Demo changed the role of Kai Klein to Admin",
        "Dana Demo changed the details of Kai Klein",
        "Dana Demo published the terms of service (version 1)",
        "Kai Klein accepted the terms (version 1)",
        "Dana Demo suspended Kai Klein",
        "Dana Demo removed Kai Klein",
        "Event “widget.polished” by Dana Demo, about Kai Klein",
        "API token “test” added Zoe Zed as Member",
    ):
        assert expected in said, (expected, said)
    assert said[0].startswith("Event “widget.polished”") and said[1] == "Dana Demo removed Kai Klein"
    body = page.text.split("<tbody>")[1].split("</tbody>")[0]
    assert "<b>Lee" not in body and "<script>x" not in body and "&lt;b&gt;Lee&lt;/b&gt;" in body
    assert "['" not in body and "{'" not in body and "True" not in body  # never a Python value
    text = unescape(re.sub(r"<[^>]+>", "", body))
    assert "colours: red, blue" in text and "size: w: 2, tags: a, b" in text and "ok: yes" in text
    assert "Changed: Department, Job profile" in text and "Previous role: Member" in text
    assert "Previous status: Suspended" in text and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text)


def test_a_german_administrator_reads_german_sentences(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    story(ctx, operator, workspace, clock)
    admin(ctx, operator, workspace, "gerd@example.com", "Gerd", "Graf", language="de")
    page = browser_of(ctx, "gerd@example.com").get(f"/admin/{workspace.id}/audit")
    said = sentences(page.text)
    for expected in (
        "Dana Demo hat Kai Klein als Mitglied eingeladen",
        "Dana Demo hat Kai Klein gesperrt",
        "Dana Demo hat Kai Klein entfernt",
        "Dana Demo hat die Rolle von Kai Klein auf Admin geändert",
        "Kai Klein hat die Nutzungsbedingungen akzeptiert (Version 1)",
    ):
        assert expected in said, (expected, said)
    assert not any(" invited " in s or " removed " in s for s in said)
