"""The people pages in a real browser against `admit serve`: add a person by hand (a missing field
is shown next to it, then the person is added and invited at once), remove someone after a
confirmation page, read the audit log filtered by action; and a person an import created with a
one-time password chooses their own at the first sign-in, the rules checked as they type."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import admit, backend, field, server

from admit.adapters.spreadsheets import write_csv

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

INITIAL = "juniper-kettle-harbor-29"
CHOSEN = "copper-lantern-meadow-63"


def test_add_a_person_remove_another_and_filter_the_audit_log(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        ws.provision("zed@kessler.example", "Zed")
        ws.sign_in(page)
        page.get_by_role("link", name="Add person").click()
        page.get_by_label("First name").fill("Jo")
        page.get_by_label("Last name").fill("Marsh")
        page.get_by_label("Language").select_option(label="Deutsch")
        page.get_by_role("button", name="Add and invite").click()
        email = page.get_by_label("Email", exact=True)
        expect(email).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#email-error")).to_contain_text("an email, a username and a phone number")
        expect(page.get_by_label("First name")).to_have_value("Jo")  # what was typed is kept
        screenshot(page, f"admin-add-person-error-{kind}")
        email.fill("jo@kessler.example")
        page.get_by_role("button", name="Add and invite").click()
        expect(page.get_by_role("status")).to_have_text("Jo Marsh was added and invited.")
        expect(page.locator("tbody tr", has_text="Jo Marsh")).to_contain_text("Invited")
        page.locator("tbody tr", has_text="Zed Frontline").get_by_role("link", name="Remove").click()
        expect(page.get_by_role("heading", name="Remove Zed Frontline?")).to_be_visible()
        screenshot(page, f"admin-remove-confirm-{kind}")
        page.get_by_role("button", name="Remove").click()
        expect(page.get_by_role("status")).to_have_text("Zed Frontline was removed.")
        expect(page.locator("tbody tr", has_text="Zed Frontline")).to_contain_text("Removed")
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Audit log").click()
        page.get_by_label("Action", exact=True).select_option(label="People (member.…)")
        page.get_by_role("button", name="Filter").click()
        rows = page.locator("tbody tr")
        expect(rows.first).to_contain_text("Olivia Stone removed Zed Frontline")  # who did what to whom
        expect(page.locator("tbody")).not_to_contain_text("invited")
        screenshot(page, f"admin-audit-{kind}")
        deadline = time.monotonic() + 20
        while "jo@kessler.example" not in admit(database_url, "outbox", "list").stdout:
            assert time.monotonic() < deadline, "no invitation for jo@kessler.example"
            time.sleep(0.2)


def test_an_initial_password_from_an_import_is_replaced_at_the_first_sign_in(
    page: Page, database_url: str, tmp_path: Path
) -> None:
    kind = backend(database_url)
    org = field(admit(database_url, "org", "create", "Kessler").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Kessler Floor").stdout, "id")
    people = tmp_path / "admins.csv"
    people.write_bytes(
        write_csv(
            ["Email", "First name", "Last name", "Permission type", "Initial password"],
            [["ina@kessler.example", "Ina", "Vogel", "admin", INITIAL]],
        )
    )
    admit(database_url, "import", str(people), "--workspace", ws, "--invite", "later")
    with server(database_url) as base:
        page.goto(f"{base}/sign-in")
        page.get_by_label("Email, username or phone").fill("ina@kessler.example")
        page.get_by_label("Password", exact=True).fill(INITIAL)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading")).to_have_text("Choose your own password")
        expect(page.get_by_text("At least 15 characters")).to_be_visible()  # the rules before typing
        page.get_by_label("One-time password").fill(INITIAL)
        new = page.get_by_label("New password")
        new.fill("too-short")
        expect(page.locator("li[data-rule=min_length]")).not_to_have_class("ok")
        new.fill(CHOSEN)
        expect(page.locator("li[data-rule=min_length]")).to_have_class("ok")
        screenshot(page, f"change-password-{kind}")
        page.get_by_role("button", name="Save password").click()
        expect(page.get_by_role("heading", name="Hello Ina")).to_be_visible()
        page.get_by_role("link", name="Administration").click()
        expect(page.get_by_role("heading", name="Administration")).to_be_visible()
        page.get_by_role("link", name="Kessler Floor").click()
        expect(page.locator("tbody tr", has_text="Ina Vogel")).to_contain_text("(you)")
        screenshot(page, f"admin-people-after-password-change-{kind}")
