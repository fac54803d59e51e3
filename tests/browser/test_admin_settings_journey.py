"""The workspace settings page in a real browser at phone size against `admit serve`: the owner
changes the app URL and the invitation lifetime and adds departments (a lifetime out of range is
shown next to its field, what was typed kept), saves, and finds the settings stored (read back
through the REST API); the page is looked at on a phone and on a desktop, without sideways
scrolling."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import backend, server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scrolling"


def test_change_the_app_url_lifetime_and_departments_on_a_phone(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Lindqvist")
        ws.sign_in(page)
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Settings").click()
        expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
        for section in ("General", "Invitations", "People", "Communications", "Sign-in"):
            expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
        page.get_by_label("App URL").fill("https://shifts.lindqvist.example/")
        lifetime = page.get_by_label("Invitations are valid for (days)")
        lifetime.fill("45")
        page.get_by_label("Departments").fill("Kitchen\nService\nDelivery")
        page.get_by_role("button", name="Save settings").click()
        expect(lifetime).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#invitation_lifetime_days-error")).to_have_text(
            "Enter a whole number of days from 1 to 30."
        )
        expect(page.get_by_label("Departments")).to_have_value("Kitchen\nService\nDelivery")
        expect(page.get_by_label("App URL")).to_have_value("https://shifts.lindqvist.example/")
        _fits(page)
        lifetime.fill("14")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("status")).to_have_text("Settings saved.")
        expect(lifetime).to_have_value("14")
        expect(page.get_by_label("Departments")).to_have_value("Kitchen\nService\nDelivery")
        _fits(page)
        screenshot(page, f"admin-settings-phone-{kind}")
        stored = httpx.get(f"{base}/api/v1/workspaces/{ws.id}", headers=ws.headers).json()
        assert stored["app_url"] == "https://shifts.lindqvist.example/"
        assert stored["invitation_lifetime_days"] == 14
        assert stored["departments"] == ["Kitchen", "Service", "Delivery"]
        page.set_viewport_size({"width": 1280, "height": 800})
        _fits(page)
        screenshot(page, f"admin-settings-desktop-{kind}")
