"""The organization area in a real browser against `admit serve` (SQLite): a system
administrator follows the Settings page's "Organization" link, reads the licence report by
workspace on a desktop and on a phone (no sideways scrolling), sets the allowed email domains,
and the Add person page then refuses an invitation outside them, next to the email field."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from support.browser import screenshot
from support.processes import admit, field, invitation_link, server

PASSWORD = "orchid-lantern-summit-52"


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scrolling"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_system_administrator_reads_licences_and_limits_invitations(page: Page, database_url: str) -> None:
    with server(database_url) as base:
        org = field(admit(database_url, "org", "create", "Kessler", "--plan", "enterprise").stdout, "id")
        ws = field(admit(database_url, "workspace", "create", org, "Kessler Floor").stdout, "id")
        admit(database_url, "workspace", "create", org, "Kessler Depot")
        admit(
            database_url, "member", "add", ws, "--email", "sys@kessler.example", "--role", "admin", ADMIT_BASE_URL=base
        )
        token = invitation_link(database_url, "sys@kessler.example").rsplit("/", 1)[1]
        claimed = httpx.post(f"{base}/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
        assert claimed.status_code == 200, claimed.text
        admit(database_url, "member", "add", ws, "--email", "pending@kessler.example", ADMIT_BASE_URL=base)
        admit(database_url, "org", "admin", "add", org, "sys@kessler.example")
        admit(database_url, "org", "seats", org, "--seats", "3", "--enforce")

        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{base}/admin")
        page.get_by_label("Email, username or phone").fill("sys@kessler.example")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name=re.compile("Floor$")).click()
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Organization", exact=True).click()
        expect(page.get_by_role("heading", name="Organization", exact=True)).to_be_visible()
        expect(page.locator(".licence-totals")).to_contain_text("3 seats: 1 in use, 1 reserved, 1 free.")
        depot = page.locator("tbody tr", has_text="Kessler Depot")
        expect(depot).to_contain_text("0")
        expect(page.locator("tbody tr", has_text="Kessler Floor")).to_be_visible()
        expect(page.locator("tr", has_text="sys@kessler.example")).to_contain_text("System administrator")
        _no_sideways_scroll(page)
        screenshot(page, "admin-org-desktop-sqlite")

        domains = page.get_by_label("Allowed email domains")
        domains.fill("kessler.example, <not a domain>")
        page.get_by_role("button", name="Save security controls").click()
        expect(domains).to_have_attribute("aria-invalid", "true")
        expect(domains).to_have_value("kessler.example, <not a domain>")
        domains.fill("kessler.example")
        page.get_by_role("button", name="Save security controls").click()
        expect(page.get_by_role("status")).to_have_text("Security controls saved.")
        expect(page.get_by_label("Allowed email domains")).to_have_value("kessler.example")

        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        expect(page.locator(".licence-totals")).to_be_visible()
        _no_sideways_scroll(page)
        screenshot(page, "admin-org-phone-sqlite")

        page.goto(f"{base}/admin/{ws}/people/new")
        email = page.get_by_label("Email", exact=True)
        email.fill("eve@evil.example")
        page.get_by_role("button", name="Add and invite").click()
        expect(email).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#email-error")).to_contain_text("evil.example is not allowed")
        expect(email).to_have_value("eve@evil.example")
        _no_sideways_scroll(page)
        screenshot(page, "admin-org-invite-refused-phone-sqlite")
