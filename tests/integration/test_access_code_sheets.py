"""Access codes for a selection as a printed sheet and from the console, on both databases: the
REST API's PDF (fresh codes, audited, never cached; the names printed, each QR code opening the
redeem page with its code, which redeems at ``/code``; a member token refused, another
organization's workspace not found), and the console page listing the people without email
(select, select all, CSV and PDF downloads, an empty selection shown as an error on the page, a
member refused), and the service's list (no email, not joined, only roles the actor may grant;
``manage_people``)."""

from __future__ import annotations

import csv
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import api_token, client
from support.outbox import token_for
from support.pages import csrf
from support.pdfs import qr_codes, read, text_of

from admit.admin import access_codes, audit, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain import access_codes as codes
from admit.domain.errors import NotFound, PermissionDenied
from admit.flows.invitation import claims
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "lantern-orchard-pebble-58"


def frontline(ctx: Context, operator: Actor, workspace: Any, first: str, external_id: str, **kw: Any) -> str:
    given = MemberInput(first_name=first, last_name="Silva", external_id=external_id, **kw)
    created, _ = members.provision(ctx, operator, workspace.id, given, invite=False)
    return str(created.id)


def person(ctx: Context, operator: Actor, workspace: Any, email: str, role: str) -> TestClient:
    """A signed-in browser of a person who joined ``workspace`` with ``role``."""
    members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    browser = client(ctx)
    form = browser.get("/sign-in").text
    done = browser.post(
        "/sign-in", data={"identifier": email, "password": PASSWORD, "csrftoken": csrf(form)}, follow_redirects=False
    )
    assert done.status_code == 303
    return browser


def redeems(ctx: Context, url: str, name: str) -> None:
    """The QR code's address opens the redeem page with the code filled in, and the code redeems."""
    browser = client(ctx)
    assert url.startswith("https://admit.example.test/code?c=")
    opened = browser.get(url.removeprefix("https://admit.example.test"))
    code = url.split("?c=", 1)[1]
    assert opened.status_code == 200 and f'value="{code}"' in opened.text
    step = browser.post("/code", data={"code": code, "csrftoken": csrf(opened.text)})
    assert step.status_code == 200 and name in step.text
    done = browser.post(
        "/code/redeem",
        data={"code": code, "username": name.lower().replace(" ", "."), "password": PASSWORD,
              "csrftoken": csrf(step.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303, done.text


def test_the_api_prints_a_sheet_whose_qr_codes_redeem(ctx: Context, operator: Actor, workspace: Any) -> None:
    ana = frontline(ctx, operator, workspace, "Ana", "E-1")
    ben = frontline(ctx, operator, workspace, "Ben", "E-2")
    old = access_codes.issue(ctx, operator, ana).code
    api = client(ctx, api_token(ctx, workspace.organization_id, role="admin"))
    path = f"/api/v1/workspaces/{workspace.id}/access-codes.pdf"
    answer = api.post(path, json={"member_ids": [ana, ben], "language": "de"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-disposition"] == 'attachment; filename="access-codes.pdf"'
    text = text_of(answer.content)
    assert "Ana Silva" in text and "Ben Silva" in text and "Acme Main" in text and "Zugangscode" in text
    urls = qr_codes(read(answer.content).pages[0])
    assert len(urls) == 2 and all(u.startswith(access_codes.redeem_url(ctx, "")) for u in urls)
    for url in urls:
        assert codes.normalise(url.split("?c=", 1)[1]) and url.split("?c=", 1)[1] in text
    assert access_codes.redeem_url(ctx, old) not in urls  # fresh codes: the old one is withdrawn
    assert access_codes.current(ctx, operator, ana).state == "live"  # type: ignore[union-attr]
    [exported] = audit.events(ctx, operator, workspace.id, action="access_code.exported")
    assert str(exported)
    redeems(ctx, urls[0], "Ana Silva")
    assert members.get(ctx, operator, ana).status == "active"
    for bad in ({"member_ids": []}, {"member_ids": [ben], "language": "xx"}, {"member_ids": ["\x00" * 40]}):
        assert api.post(path, json=bad).status_code == 422, bad
    member_token = client(ctx, api_token(ctx, workspace.organization_id, role="member"))
    assert member_token.post(path, json={"member_ids": [ben]}).status_code == 403
    globex = tenancy.create_organization(ctx, operator, "Globex")
    stranger = client(ctx, api_token(ctx, globex.id, role="admin"))
    assert stranger.post(path, json={"member_ids": [ben]}).status_code == 404


def test_the_console_lists_people_without_email_and_downloads_their_codes(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    ana = frontline(ctx, operator, workspace, "Ana", "E-1")
    ben = frontline(ctx, operator, workspace, "<b>Ben</b>", "E-2")
    members.provision(ctx, operator, workspace.id, MemberInput(email="eve@example.com"), invite=False)
    browser = person(ctx, operator, workspace, "olga@example.com", "owner")
    people = browser.get(f"/admin/{workspace.id}/people").text
    assert f'href="/admin/{workspace.id}/access-codes"' in people
    page = browser.get(f"/admin/{workspace.id}/access-codes")
    assert page.status_code == 200 and "withdraws the earlier codes" in page.text
    assert (
        f'name="pick:{ana}"' in page.text and f'name="pick:{ben}"' in page.text and "eve@example.com" not in page.text
    )
    assert "&lt;b&gt;Ben&lt;/b&gt;" in page.text and "<b>Ben</b>" not in page.text
    assert page.text.count("data-member=") == 2  # not Eve (email) nor Olga (joined)
    assert " checked" not in page.text
    everyone = browser.get(f"/admin/{workspace.id}/access-codes?select=all").text
    assert everyone.count(" checked") == 2
    token = csrf(page.text)
    empty = browser.post(f"/admin/{workspace.id}/access-codes", data={"format": "pdf", "csrftoken": token})
    assert empty.status_code == 422 and 'id="member_ids-error"' in empty.text and "choose 1 to 500" in empty.text
    assert empty.headers["content-type"].startswith("text/html")
    sheet = browser.post(
        f"/admin/{workspace.id}/access-codes",
        data={f"pick:{ana}": "yes", f"pick:{ben}": "yes", "format": "pdf", "csrftoken": token},
    )
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "application/pdf", sheet.text[-1500:]
    assert sheet.headers["cache-control"] == "no-store"
    assert sheet.headers["content-disposition"] == 'attachment; filename="access-codes.pdf"'
    assert "Ana Silva" in text_of(sheet.content) and "<b>Ben</b> Silva" in text_of(sheet.content)
    [first, second] = qr_codes(read(sheet.content).pages[0])
    table = browser.post(
        f"/admin/{workspace.id}/access-codes", data={f"pick:{ben}": "yes", "format": "csv", "csrftoken": token}
    )
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    assert table.headers["cache-control"] == "no-store"
    assert table.headers["content-disposition"] == 'attachment; filename="access-codes.csv"'
    [row] = list(csv.DictReader(table.text.splitlines()))
    assert row["member_id"] == ben and row["url"] != second  # Ben's sheet code was withdrawn
    stale = client(ctx)
    gone = stale.post("/code", data={"code": second.split("?c=", 1)[1], "csrftoken": csrf(stale.get("/code").text)})
    assert gone.status_code == 410 and "withdrawn" in gone.text
    redeems(ctx, first, "Ana Silva")
    assert f'href="/admin/{workspace.id}/access-codes"' in browser.get(f"/admin/{workspace.id}/people/{ben}").text
    after = browser.get(f"/admin/{workspace.id}/access-codes").text
    assert f'name="pick:{ana}"' not in after and f'name="pick:{ben}"' in after
    joined = browser.post(
        f"/admin/{workspace.id}/access-codes", data={f"pick:{ana}": "yes", "format": "csv", "csrftoken": token}
    )
    assert joined.status_code == 409 and "already a member" in joined.text and 'id="member_ids-error"' in joined.text
    assert f'name="pick:{ben}"' in joined.text


def test_a_member_is_refused_the_access_codes_page(ctx: Context, operator: Actor, workspace: Any) -> None:
    ana = frontline(ctx, operator, workspace, "Ana", "E-1")
    browser = person(ctx, operator, workspace, "mia@example.com", "member")
    page = browser.get(f"/admin/{workspace.id}/access-codes")
    assert page.status_code == 403 and "pick:" not in page.text
    token = csrf(browser.get("/").text)
    refused = browser.post(
        f"/admin/{workspace.id}/access-codes", data={f"pick:{ana}": "yes", "format": "pdf", "csrftoken": token}
    )
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert access_codes.current(ctx, operator, ana) is None
    admin = person(ctx, operator, workspace, "sam@example.com", "admin")
    assert admin.get("/admin/nope/access-codes").status_code == 404


def test_the_service_lists_only_people_an_administrator_may_give_a_code(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    ana = frontline(ctx, operator, workspace, "Ana", "E-1")
    boss = frontline(ctx, operator, workspace, "Bea", "E-2", role="owner")
    members.provision(ctx, operator, workspace.id, MemberInput(email="eve@example.com"), invite=False)
    assert [p.id for p in access_codes.without_email(ctx, operator, workspace.id)] == [ana, boss]
    person(ctx, operator, workspace, "sam@example.com", "admin")
    person(ctx, operator, workspace, "mia@example.com", "member")
    sam, mia = (
        Actor(ActorKind.ACCOUNT, id=members.list_members(ctx, operator, workspace.id, search=e)[0].account_id, name=e)
        for e in ("sam@example.com", "mia@example.com")
    )
    assert [p.id for p in access_codes.without_email(ctx, sam, workspace.id)] == [ana]  # not an owner
    with pytest.raises(PermissionDenied):
        access_codes.without_email(ctx, mia, workspace.id)
    with pytest.raises(NotFound):
        access_codes.without_email(ctx, sam, "nope")
