"""A person's page in a real browser at phone size against `admit serve`: open a person from
People, change their permission type, revoke their pending invitation after confirming, and see
both in the person's history; the page fits the phone's width, and is looked at on a desktop too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import backend, server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_open_a_person_change_their_role_and_revoke_their_invitation_on_a_phone(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        ws.provision("rosa@kessler.example", "Rosa", invite=True, department="Sales")
        ws.sign_in(page)
        page.get_by_role("link", name="Rosa Frontline").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Rosa Frontline")
        role = page.get_by_label("Permission type")
        expect(role).to_have_value("member")
        expect(page.get_by_label("First name")).to_have_value("Rosa")
        role.select_option(label="Admin")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        expect(page.get_by_label("Permission type")).to_have_value("admin")
        invitation = page.locator("tr[data-invitation]")
        expect(invitation).to_contain_text("Pending")
        expect(invitation).to_contain_text("Email")
        assert page.evaluate(FITS), "the person's page scrolls sideways on a phone"
        screenshot(page, f"admin-person-phone-{kind}")
        invitation.get_by_role("link", name="Revoke").click()
        expect(page.get_by_role("heading", name="Revoke the invitation to Rosa Frontline?")).to_be_visible()
        page.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("status")).to_have_text("The invitation was revoked.")
        expect(invitation).to_contain_text("Revoked")
        expect(invitation.get_by_role("link", name="Revoke")).to_have_count(0)
        expect(page.locator(".person-state")).to_contain_text("Awaiting invitation")
        history = page.locator("tr[data-action]")
        expect(history.first).to_contain_text("Invitation revoked")
        expect(history.first).to_contain_text("Olivia Stone")  # who did it, by name as in the audit log
        expect(page.locator("tr[data-action='member.updated']")).to_contain_text("Changed: Role")
        assert page.evaluate(FITS), "the person's page scrolls sideways on a phone"
        page.set_viewport_size({"width": 1280, "height": 800})
        screenshot(page, f"admin-person-desktop-{kind}")
