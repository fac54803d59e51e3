"""The console in a real browser: its header sits on one row at desktop size and stacks without
horizontal scrolling on a phone; an administrator whose account speaks German reads the people
list, a person's page, the settings and the audit log in German."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import admit, backend, field, invitation_link, server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Every item of the header, as the person sees them.
HEADER_ITEMS = ".admin-header :is(.brand, .workspace-name, nav li, .switcher > summary, .signed-in-as, button)"


def _rows(page: Page) -> list[dict[str, Any]]:
    boxes: list[dict[str, Any]] = page.locator(HEADER_ITEMS).evaluate_all(
        "items => items.map(e => { const b = e.getBoundingClientRect();"
        " return {text: e.textContent.trim(), top: b.top, bottom: b.bottom, right: b.right} })"
    )
    return boxes


def _horizontal_scroll(page: Page) -> int:
    scroll: int = page.evaluate("document.scrollingElement.scrollWidth")
    return scroll


def _shortened(page: Page) -> list[str]:
    """The header's names shown shortened (with an ellipsis) for want of room."""
    names: list[str] = page.locator(".admin-header :is(.workspace-name, .signed-in-as)").evaluate_all(
        "items => items.filter(e => e.scrollWidth > e.clientWidth).map(e => e.textContent)"
    )
    return names


def _join_second_workspace(database_url: str, base: str, ws: AdminWorkspace, name: str) -> str:
    """The owner administers a second workspace (the header then offers the switcher)."""
    org = httpx.get(f"{base}/api/v1/workspaces/{ws.id}", headers=ws.headers).json()["organization_id"]
    second = field(admit(database_url, "workspace", "create", org, name).stdout, "id")
    admit(database_url, "member", "add", second, "--email", ws.owner, "--role", "admin", ADMIT_BASE_URL=base)
    token = invitation_link(database_url, ws.owner).rsplit("/", 1)[1]
    session = httpx.post(f"{base}/api/v1/sessions", json={"identifier": ws.owner, "password": ws.PASSWORD})
    assert session.status_code == 201, session.text
    accepted = httpx.post(
        f"{base}/api/v1/invitations/accept",
        json={"token": token},
        headers={"authorization": f"Bearer {session.json()['token']}"},
    )
    assert accepted.status_code == 200, accepted.text
    return second


def test_the_console_header_is_one_row_on_a_desktop_and_stacks_on_a_phone(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        _join_second_workspace(database_url, base, ws, "Kessler Warehouse")
        page.set_viewport_size({"width": 1280, "height": 800})
        ws.sign_in(page)
        expect(page.get_by_text("Switch workspace")).to_be_visible()
        items = _rows(page)
        assert len(items) >= 12, items  # brand, workspace, 10 sections, switcher, name, sign out
        assert max(i["top"] for i in items) < min(i["bottom"] for i in items), items  # one row
        assert max(i["right"] for i in items) <= 1280 and _horizontal_scroll(page) <= 1280
        assert not _shortened(page)  # the workspace's and the person's names fit whole
        screenshot(page, f"admin-header-desktop-{kind}")
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        assert _horizontal_scroll(page) <= 390
        assert max(i["right"] for i in _rows(page)) <= 390
        screenshot(page, f"admin-header-phone-{kind}")


def test_an_administrator_whose_account_speaks_german_reads_the_console_in_german(
    page: Page, database_url: str
) -> None:
    kind = backend(database_url)
    org = field(admit(database_url, "org", "create", "Brauerei").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Brauerei Floor", "--language", "de").stdout, "id")
    with server(database_url) as base:
        owner = "olivia@brauerei.example"
        admit(
            database_url,
            *("member", "add", ws, "--email", owner, "--first-name", "Olivia", "--last-name", "Stein"),
            *("--role", "owner"),
            ADMIT_BASE_URL=base,
        )
        token = invitation_link(database_url, owner).rsplit("/", 1)[1]
        claimed = httpx.post(
            f"{base}/api/v1/invitations/accept", json={"token": token, "password": AdminWorkspace.PASSWORD}
        )
        assert claimed.status_code == 200, claimed.text  # her account speaks the workspace's German
        admit(database_url, "member", "add", ws, "--email", "sam@brauerei.example", "--first-name", "Sam")
        page.goto(f"{base}/admin")  # the browser asks for English; her account's choice wins
        page.get_by_label("Email, username or phone").fill(owner)
        page.get_by_label("Password", exact=True).fill(AdminWorkspace.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Verwaltung")).to_be_visible()
        page.get_by_role("link", name="Brauerei Floor").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Personen")
        header = page.locator(".admin-header")
        expect(header).to_contain_text("Angemeldet als Olivia Stein")
        expect(header.get_by_role("button", name="Abmelden")).to_be_visible()
        expect(page.get_by_role("link", name="Person hinzufügen")).to_be_visible()
        # The longer German words: the sections still on one row, nothing shortened or cut off
        # (the account part may move whole to a second row).
        sections = page.locator(".admin-header nav li").evaluate_all(
            "items => items.map(e => e.getBoundingClientRect().top)"
        )
        assert len(sections) == 10 and len(set(sections)) == 1, sections
        assert not _shortened(page) and _horizontal_scroll(page) <= 1280
        screenshot(page, f"admin-people-german-{kind}")
        page.get_by_role("link", name=re.compile("Sam")).first.click()
        expect(page.get_by_role("heading", name="Profil")).to_be_visible()
        expect(page.get_by_role("heading", name="Verlauf")).to_be_visible()
        expect(page.get_by_role("button", name="Speichern", exact=True)).to_be_visible()
        history = page.locator("section[aria-labelledby=trail-title]")
        expect(history).to_contain_text("Ein Betreiber")  # who added Sam, in words (not "operator")
        screenshot(page, f"admin-person-german-{kind}")
        nav = page.get_by_role("navigation", name="Verwaltung")
        nav.get_by_role("link", name="Einstellungen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Einstellungen")
        expect(page.get_by_role("button", name="Einstellungen speichern")).to_be_visible()
        nav.get_by_role("link", name="Protokoll").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Protokoll")
        log = page.locator("main table")
        expect(log).to_contain_text("Anmeldemethode: Passwort")  # her account's creation, in German
        expect(log).to_contain_text("Kennungen: E-Mail")
        assert "credential" not in log.inner_text() and "identifiers" not in log.inner_text()
        screenshot(page, f"admin-audit-german-{kind}")
