"""Terms of service in the workspace admin console, on both databases: publishing a version by
upload (the service's complaint next to the file field, nothing published on a refusal), the
list of versions with how many accounts accepted each, a version's document and who accepted
which version as CSV (formula cells neutralised); and the service functions behind them."""

from __future__ import annotations

import codecs
import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.clock import FixedClock
from support.outbox import messages, token_for
from support.pages import browser_signed_in, csrf

from admit.admin import members
from admit.admin import terms as admin_terms
from admit.admin.profiles import MemberInput
from admit.domain.errors import NotFound, PermissionDenied
from admit.flows.invitation import claims
from admit.flows.terms import acceptance
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "meadow-copper-violin-37"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def joined(ctx: Context, operator: Actor, workspace: Any, email: str, role: str, **names: str) -> Actor:
    """A person who accepted an invitation to ``workspace`` with ``role``, as an actor."""
    given = MemberInput(email=email, role=role, **names)
    created, _ = members.provision(ctx, operator, workspace.id, given, invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    account_id = members.get(ctx, operator, str(created.id)).account_id
    assert account_id is not None
    return Actor(ActorKind.ACCOUNT, id=account_id, name=email)


def browser_of(ctx: Context, email: str) -> TestClient:
    return browser_signed_in(ctx, email, PASSWORD)


def publish(browser: TestClient, workspace: Any, name: str, content: bytes, **data: str) -> Any:
    token = csrf(browser.get(f"/admin/{workspace.id}/terms").text)
    return browser.post(
        f"/admin/{workspace.id}/terms",
        data={"csrftoken": token, **data},
        files={"document": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )


def accept(ctx: Context, who: Actor, workspace: Any, version: int) -> None:
    """The member's side: download the version in a terms flow, then accept it."""
    assert who.id is not None
    held = acceptance.record_download(ctx, who.id, workspace.id, version, None)["flow"]
    acceptance.accept(ctx, who.id, workspace.id, version, held)


def row_of(page: str, version: int) -> str:
    return page.split(f'<tr data-version="{version}">', 1)[1].split("</tr>", 1)[0]


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(content[len(codecs.BOM_UTF8) :].decode("utf-8"), newline="")))


def test_a_published_version_is_listed_and_an_acceptance_is_counted_and_exported(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    joined(ctx, operator, workspace, "olga@example.com", "owner", first_name="Olga", last_name="Berg")
    kai = joined(ctx, operator, workspace, "kai@example.com", "member", first_name="Kai", last_name="Klein")
    browser = browser_of(ctx, "olga@example.com")
    empty = browser.get(f"/admin/{workspace.id}/terms")
    assert empty.status_code == 200 and "No terms published yet." in empty.text
    assert 'aria-current="page">Terms<' in empty.text and "acceptances.csv" not in empty.text
    done = publish(browser, workspace, "Terms 2026.pdf", PDF)
    assert done.status_code == 303 and done.headers["location"] == f"/admin/{workspace.id}/terms?done=1"
    page = browser.get(done.headers["location"]).text
    assert "Version 1 was published." in page
    row = row_of(page, 1)
    assert "Terms 2026.pdf" in row and "Olga Berg" in row and '"acceptances">0<' in row
    assert clock.now().strftime("%Y-%m-%d %H:%M") in row
    document = browser.get(f"/admin/{workspace.id}/terms/1/document")
    assert document.status_code == 200 and document.content == PDF
    assert document.headers["content-type"] == "application/pdf"
    assert document.headers["content-disposition"] == "attachment; filename*=UTF-8''Terms%202026.pdf"
    for missing in ("2", "x", "99999999999999999999"):
        refused = browser.get(f"/admin/{workspace.id}/terms/{missing}/document")
        assert refused.status_code == 404 and "Not found" in refused.text, missing
    accept(ctx, kai, workspace, 1)
    assert '"acceptances">1<' in row_of(browser.get(f"/admin/{workspace.id}/terms").text, 1)
    exported = browser.get(f"/admin/{workspace.id}/terms/acceptances.csv")
    assert exported.status_code == 200 and exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"].startswith("attachment;")
    assert read_csv(exported.content) == [
        ["Version", "Name", "Email", "Accepted at (UTC)"],
        ["1", "Kai Klein", "kai@example.com", clock.now().strftime("%Y-%m-%d %H:%M:%S")],
    ]
    second = publish(browser, workspace, "terms.txt", "Neue AGB ü".encode(), notify="yes")
    assert second.headers["location"].endswith("?done=2")
    assert len(messages(ctx, recipient="kai@example.com", kind="terms_updated")) == 1  # "Email every active member"
    page = browser.get(f"/admin/{workspace.id}/terms").text
    assert page.index('data-version="2"') < page.index('data-version="1"')
    assert '"acceptances">0<' in row_of(page, 2) and '"acceptances">1<' in row_of(page, 1)
    text = browser.get(f"/admin/{workspace.id}/terms/2/document")
    assert text.headers["content-type"] == "text/plain; charset=utf-8" and text.text == "Neue AGB ü"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("terms.exe", b"MZ\x90\x00\x03\x00\x00\x00\xff\xfe", "the terms must be a PDF or a UTF-8 text file"),
        ("terms.pdf", b"just text", "this file is named .pdf but is not a PDF"),
        ("terms.txt", b"", "the terms document is empty"),
        ("big.txt", b"a" * (admin_terms.MAX_BYTES + 1), "the terms document is larger than 5 MB"),
    ],
)
def test_a_refused_file_is_explained_next_to_the_field_and_nothing_is_published(
    ctx: Context, operator: Actor, workspace: Any, name: str, content: bytes, message: str
) -> None:
    joined(ctx, operator, workspace, "olga@example.com", "admin")
    browser = browser_of(ctx, "olga@example.com")
    refused = publish(browser, workspace, name, content, notify="yes")
    assert refused.status_code == 422, refused.text[:500]
    assert refused.headers["content-type"].startswith("text/html")
    assert f'<p class="field-error" id="document-error">{message}</p>' in refused.text
    assert 'aria-invalid="true"' in refused.text and 'id="notify" name="notify" value="yes" checked' in refused.text
    assert admin_terms.versions(ctx, operator, workspace.id) == []


def test_the_error_is_shown_in_the_administrators_language(ctx: Context, operator: Actor, workspace: Any) -> None:
    joined(ctx, operator, workspace, "olga@example.com", "admin", language="de")
    browser = browser_of(ctx, "olga@example.com")
    refused = publish(browser, workspace, "terms.pdf", b"just text")
    assert refused.status_code == 422 and "Nutzungsbedingungen" in refused.text
    assert "this file is named .pdf but is not a PDF" not in refused.text


def test_a_member_is_refused_and_nothing_is_published(ctx: Context, operator: Actor, workspace: Any) -> None:
    joined(ctx, operator, workspace, "olga@example.com", "owner")
    joined(ctx, operator, workspace, "mia@example.com", "member")
    member = browser_of(ctx, "mia@example.com")
    listed = member.get(f"/admin/{workspace.id}/terms")
    assert listed.status_code == 403 and "You cannot administer this workspace" in listed.text
    member_token = csrf(member.get("/sign-in").text)  # a page with this browser's form token
    refused = member.post(
        f"/admin/{workspace.id}/terms",
        data={"csrftoken": member_token},
        files={"document": ("terms.pdf", PDF, "application/pdf")},
    )
    assert refused.status_code == 403 and "Traceback" not in refused.text
    for path in ("terms/acceptances.csv", "terms/1/document"):
        assert member.get(f"/admin/{workspace.id}/{path}").status_code == 403, path
    assert admin_terms.versions(ctx, operator, workspace.id) == []


def test_formula_cells_are_neutralised_in_the_csv(ctx: Context, operator: Actor, workspace: Any) -> None:
    joined(ctx, operator, workspace, "olga@example.com", "owner")
    hostile = joined(
        ctx, operator, workspace, "eve@example.com", "member", first_name='=HYPERLINK("x")', last_name="@SUM(1)"
    )
    plus = joined(ctx, operator, workspace, "pat@example.com", "member", first_name="+49", last_name="-1")
    browser = browser_of(ctx, "olga@example.com")
    publish(browser, workspace, "terms.txt", b"Be kind.")
    accept(ctx, hostile, workspace, 1)
    accept(ctx, plus, workspace, 1)
    rows = read_csv(browser.get(f"/admin/{workspace.id}/terms/acceptances.csv").content)
    names = sorted(row[1] for row in rows[1:])
    assert names == ["'+49 -1", '\'=HYPERLINK("x") @SUM(1)']


def test_the_service_functions_check_the_permission(ctx: Context, operator: Actor, workspace: Any, org: Any) -> None:
    guest = joined(ctx, operator, workspace, "gus@example.com", "guest")
    admin_terms.publish(ctx, operator, workspace.id, filename="t.txt", document=b"Terms")
    for call in (
        lambda: admin_terms.acceptances(ctx, guest, workspace.id),
        lambda: admin_terms.document(ctx, guest, workspace.id, 1),
    ):
        with pytest.raises(PermissionDenied):
            call()
    member = joined(ctx, operator, workspace, "mia@example.com", "member")
    with pytest.raises(PermissionDenied):
        admin_terms.publish(ctx, member, workspace.id, filename="t.txt", document=b"Mine")
    assert admin_terms.document(ctx, member, workspace.id, 1).document == b"Terms"
    with pytest.raises(NotFound):
        admin_terms.document(ctx, member, workspace.id, 2)
    assert admin_terms.acceptances(ctx, member, workspace.id) == []
