"""Terms of service: published per workspace in versions through the API; the server keeps a
member out of the workspace until the newest version is downloaded and accepted, and records
each acceptance with its version and time. On both databases."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import api_token, client
from support.clock import FixedClock
from support.outbox import messages, token_for

from admit.adapters.persistence import tables as t
from admit.admin import invitations, tenancy
from admit.admin import terms as admin_terms
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "juniper-atlas-ribbon-52"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def csrf(html: str) -> str:
    match = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


@pytest.fixture
def shop(ctx: Context, operator: Actor, org: Any) -> Any:
    settings = tenancy.WorkspaceSettings(app_url="https://shop.example.com")
    return tenancy.create_workspace(ctx, operator, org.id, "Acme Shop", settings)


@pytest.fixture
def admin_api(ctx: Context, org: Any) -> TestClient:
    return client(ctx, api_token(ctx, org.id, role="admin"))


def member_browser(ctx: Context, operator: Actor, workspace: Any, email: str = "tia@example.com") -> TestClient:
    """A member who has just joined, signed in in their browser."""
    invitations.invite(ctx, operator, workspace.id, MemberInput(email=email, first_name="Tia", last_name="Ko"))
    browser = client(ctx)
    page = browser.get(f"/i/{token_for(ctx, email)}").text
    joined = browser.post(
        "/welcome/claim", data={"password": PASSWORD, "csrftoken": csrf(page)}, follow_redirects=False
    )
    # into the app when the workspace has one (through /go, which puts the terms first)
    assert joined.headers["location"] == f"/{'go' if workspace.app_url else 'joined'}/{workspace.id}"
    return browser


def download(browser: TestClient, workspace: Any, version: int) -> Any:
    """The page's Download button: a POST, which the server records."""
    page = browser.get(f"/terms/{workspace.id}").text
    return browser.post(f"/terms/{workspace.id}/{version}/download", data={"csrftoken": csrf(page)})


def accept_form(browser: TestClient, workspace: Any, **data: str) -> Any:
    page = browser.get(f"/terms/{workspace.id}").text
    return browser.post(f"/terms/{workspace.id}/accept", data={"csrftoken": csrf(page), **data}, follow_redirects=False)


def test_publishing_versions_through_the_api(admin_api: TestClient, shop: Any, ctx: Context, org: Any) -> None:
    first = admin_api.post(f"/api/v1/workspaces/{shop.id}/terms?filename=terms.pdf", content=PDF)
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["content_type"] == "application/pdf"
    second = admin_api.post(f"/api/v1/workspaces/{shop.id}/terms?filename=AGB%20v2.txt", content="Neue AGB ü".encode())
    assert second.json()["version"] == 2 and second.json()["filename"] == "AGB v2.txt"
    listed = admin_api.get(f"/api/v1/workspaces/{shop.id}/terms").json()
    assert [v["version"] for v in listed] == [2, 1] and listed[0]["acceptances"] == 0
    member_api = client(ctx, api_token(ctx, org.id, role="member"))
    refused = member_api.post(f"/api/v1/workspaces/{shop.id}/terms", content=b"text")
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("filename", "body", "code"),
    [
        ("terms.pdf", b"not a pdf at all", "not_a_pdf"),
        ("terms.bin", b"\x89PNG\r\n\x1a\n\xff\xfe\x00", "unsupported_document"),
        ("terms.txt", b"", "empty_document"),
        ("terms.txt", b"a" * (5 * 1024 * 1024 + 1), "too_large"),
    ],
)
def test_documents_that_are_not_terms_are_refused(
    admin_api: TestClient, shop: Any, filename: str, body: bytes, code: str
) -> None:
    response = admin_api.post(f"/api/v1/workspaces/{shop.id}/terms?filename={filename}", content=body)
    assert response.status_code == 422 and response.json()["error"]["code"] == code
    assert admin_api.get(f"/api/v1/workspaces/{shop.id}/terms").json() == []


def test_the_server_refuses_entry_until_the_terms_are_downloaded_and_accepted(
    ctx: Context, operator: Actor, shop: Any, admin_api: TestClient, clock: FixedClock
) -> None:
    admin_api.post(f"/api/v1/workspaces/{shop.id}/terms?filename=terms.pdf", content=PDF)
    browser = member_browser(ctx, operator, shop)
    for door in (f"/joined/{shop.id}", f"/go/{shop.id}"):  # every way in leads to the terms first
        assert browser.get(door, follow_redirects=False).headers["location"] == f"/terms/{shop.id}"
    page = browser.get(f"/terms/{shop.id}").text
    assert "version 1" in page and re.search(r'id="terms-submit"\s+disabled', page)
    skipped = accept_form(browser, shop, version="1", agree="yes")  # a direct request without the download
    assert skipped.status_code == 400 and "download the terms" in skipped.text
    assert browser.get(f"/terms/{shop.id}/1/download").status_code == 405  # a GET records nothing
    assert accept_form(browser, shop, version="1", agree="yes").status_code == 400
    document = download(browser, shop, 1)
    assert "admit_terms=adm_flw_" in document.headers["set-cookie"]  # the handle only; the record is ours
    assert document.content == PDF and document.headers["content-type"] == "application/pdf"
    assert document.headers["content-disposition"].startswith('attachment; filename="terms.pdf"')
    assert 'id="terms-submit" disabled' not in browser.get(f"/terms/{shop.id}").text
    unticked = accept_form(browser, shop, version="1")
    assert unticked.status_code == 400 and "tick the box" in unticked.text
    assert browser.get(f"/go/{shop.id}", follow_redirects=False).headers["location"] == f"/terms/{shop.id}"
    done = accept_form(browser, shop, version="1", agree="yes")
    assert done.status_code == 303 and done.headers["location"] == f"/go/{shop.id}"
    assert browser.get(f"/go/{shop.id}", follow_redirects=False).headers["location"] == "https://shop.example.com"
    assert "You are in Acme Shop" in browser.get(f"/joined/{shop.id}").text
    with ctx.uow() as uow:
        [row] = uow.conn.execute(t.terms_acceptances.select()).all()
        [event] = [e for e in uow.events.list(None, limit=100) if e.action == "terms.accepted"]
    assert row.version == 1 and row.accepted_at == clock.now()
    assert event.data["version"] == 1


def test_a_new_version_is_asked_for_again_and_an_old_one_cannot_be_accepted(
    ctx: Context, operator: Actor, shop: Any, admin_api: TestClient
) -> None:
    admin_api.post(f"/api/v1/workspaces/{shop.id}/terms", content=b"Version one")
    browser = member_browser(ctx, operator, shop)
    download(browser, shop, 1)
    stale_page = browser.get(f"/terms/{shop.id}").text
    published = admin_api.post(f"/api/v1/workspaces/{shop.id}/terms?notify=true", content=b"Version two")
    assert published.json()["members_notified"] == 1
    [notice] = messages(ctx, recipient="tia@example.com", kind="terms_updated")
    assert notice["payload"]["link"] == f"https://admit.example.test/terms/{shop.id}"
    stale = browser.post(
        f"/terms/{shop.id}/accept", data={"csrftoken": csrf(stale_page), "version": "1", "agree": "yes"}
    )
    assert stale.status_code == 409 and "newer version" in stale.text and "version 2" in stale.text
    download(browser, shop, 2)
    assert accept_form(browser, shop, version="2", agree="yes").headers["location"] == f"/go/{shop.id}"
    assert admin_api.get(f"/api/v1/workspaces/{shop.id}/terms").json()[0]["acceptances"] == 1


def test_terms_are_only_for_members_of_the_workspace(
    ctx: Context, operator: Actor, shop: Any, workspace: Any, admin_api: TestClient
) -> None:
    admin_api.post(f"/api/v1/workspaces/{shop.id}/terms", content=b"Shop terms")
    outsider = member_browser(ctx, operator, workspace, "ola@example.com")  # in Acme Main, not the shop
    own = outsider.get("/sign-in").text
    refused = outsider.post(f"/terms/{shop.id}/1/download", data={"csrftoken": csrf(own)})
    assert refused.status_code == 404
    assert outsider.get(f"/terms/{shop.id}").status_code == 404
    assert client(ctx).get(f"/terms/{shop.id}", follow_redirects=False).headers["location"].startswith("/sign-in")


def test_workspaces_without_terms_let_members_straight_in(ctx: Context, operator: Actor, shop: Any) -> None:
    browser = member_browser(ctx, operator, shop)
    assert browser.get(f"/go/{shop.id}", follow_redirects=False).headers["location"] == "https://shop.example.com"
    assert browser.get(f"/terms/{shop.id}", follow_redirects=False).headers["location"] == f"/go/{shop.id}"


def test_the_terms_gate_follows_an_account_accepting_from_the_api(ctx: Context, operator: Actor, shop: Any) -> None:
    """An account that joined another way (the REST accept) meets the same gate."""
    from admit.flows.terms import acceptance

    admin_terms.publish(ctx, operator, shop.id, filename="t.txt", document=b"Terms")
    invitations.invite(ctx, operator, shop.id, MemberInput(email="uma@example.com"))
    result = claims.accept_with_token(ctx, token_for(ctx, "uma@example.com"), password=PASSWORD)
    assert acceptance.to_accept(ctx, result["account_id"], shop.id) is not None
    flow = acceptance.record_download(ctx, result["account_id"], shop.id, 1, None)["flow"]
    acceptance.accept(ctx, result["account_id"], shop.id, 1, flow)
    assert acceptance.to_accept(ctx, result["account_id"], shop.id) is None
