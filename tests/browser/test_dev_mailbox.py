"""The development mailbox in a real browser: from an invitation to the rendered email."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect
from support.browser import screenshot
from support.processes import admit, field, server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_invitation_email_is_readable_in_the_dev_mailbox(page: Page, database_url: str) -> None:
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Vandelay Imports", "--language", "de").stdout, "id")
    with server(database_url) as base:
        admit(
            database_url,
            "invite",
            ws,
            "art@vandelay.example",
            "--first-name",
            "Art",
            "--message",
            "<b>Willkommen</b> im Team!",
            ADMIT_BASE_URL=base,
        )
        page.goto(f"{base}/dev/mailbox")
        row = page.get_by_role("link", name="Sie sind zu Vandelay Imports eingeladen")
        deadline = time.monotonic() + 20
        while "sent" not in (page.locator("tbody tr").first.inner_text()) and time.monotonic() < deadline:
            page.reload()  # the worker inside `admit serve` delivers within a second
        expect(page.locator("tbody tr").first).to_contain_text("sent")
        screenshot(page, f"dev-mailbox-{database_url.split(':')[0].split('+')[0]}")
        row.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sie sind zu Vandelay Imports eingeladen")
        text = page.locator("pre").inner_text()
        assert "Hallo Art," in text and "<b>Willkommen</b> im Team!" in text
        email = page.frame_locator("iframe")
        expect(email.get_by_role("link", name="Los geht’s")).to_have_attribute(
            "href", f"{base}/i/" + text.split(f"{base}/i/")[1].split()[0]
        )
        expect(email.locator("blockquote")).to_have_text("<b>Willkommen</b> im Team!")
        screenshot(page, f"dev-mailbox-message-{database_url.split(':')[0].split('+')[0]}")


def test_the_dev_mailbox_fits_a_phone_screen(page: Page, database_url: str) -> None:
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Vandelay Industries International").stdout, "id")
    long_address = "bartholomew.featherstonehaugh-cholmondeley@import-export.vandelay.example"
    with server(database_url) as base:
        admit(database_url, "invite", ws, long_address, "--first-name", "Bartholomew", ADMIT_BASE_URL=base)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/dev/mailbox")
        expect(page.get_by_text(long_address)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"dev-mailbox-phone-{database_url.split(':')[0].split('+')[0]}")
        page.get_by_role("link", name="You are invited to Vandelay Industries International").click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"dev-mailbox-message-phone-{database_url.split(':')[0].split('+')[0]}")
