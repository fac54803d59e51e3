"""No page that carries a token lets the browser send a Referer: not the redirect from the
invitation link, not the page's own styles and scripts, not the next page a person clicks to."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, Request, expect
from support.processes import admit, field, server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PASSWORD = "lantern-meadow-copper-83"


def test_invitation_and_reset_pages_never_send_a_referer(page: Page, database_url: str) -> None:
    org = field(admit(database_url, "org", "create", "Pendant").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Pendant Publishing").stdout, "id")
    with server(database_url) as base:
        admit(database_url, "invite", ws, "ref@pendant.example", ADMIT_BASE_URL=base)
        link = _newest_link(database_url, "/i/adm_inv_")
        httpx.post(f"{base}/api/v1/invitations/accept", json={"token": link.rsplit("/", 1)[1], "password": PASSWORD})
        sent: list[tuple[str, str | None]] = []

        def note(request: Request) -> None:
            sent.append((request.url, request.all_headers().get("referer")))

        page.on("requestfinished", note)
        page.goto(link)  # used by now: the dead-link page offers "Sign in"
        page.get_by_role("link", name="Sign in").click()
        expect(page.get_by_role("heading")).to_have_text("Sign in")
        page.get_by_role("link", name="Forgot password?").click()
        page.get_by_label("Email").fill("ref@pendant.example")
        page.get_by_role("button").first.click()
        reset = _newest_link(database_url, "/reset/adm_pwr_")
        page.goto(reset)
        page.get_by_label("Password", exact=True).fill("a-brand-new-lantern-password")
        page.get_by_role("button", name="Save password").click()  # a form POST from the reset page
        expect(page).not_to_have_url(reset)
        assert any("/i/adm_inv_" in url for url, _ in sent) and any("/reset/" in url for url, _ in sent)
        assert len(sent) > 6
        assert [(url, referer) for url, referer in sent if referer] == []


def _newest_link(database_url: str, marker: str) -> str:
    for line in admit(database_url, "outbox", "list", "--reveal").stdout.splitlines():
        for word in line.replace("│", " ").split():
            if marker in word:
                return word
    raise AssertionError(f"no link with {marker}")
