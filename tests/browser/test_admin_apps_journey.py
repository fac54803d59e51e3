"""The apps page in a real browser at phone size against `admit serve`: register an app (a bad
redirect URI is shown next to its field, what was typed is kept), see its secret once, find it in
the list (without the secret), and look at the list at desktop size too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import backend, server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_register_an_app_and_see_its_secret_once_on_a_phone(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        ws.sign_in(page)
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Apps").click()
        expect(page.get_by_text("No apps yet.")).to_be_visible()
        page.get_by_role("link", name="Register an app").click()
        page.get_by_label("Name", exact=True).fill("Kessler Shop")
        redirects = page.get_by_label("Redirect URIs", exact=True)
        redirects.fill("shop.kessler.example/callback")
        page.get_by_label("Login URL").fill("https://shop.kessler.example/login")
        page.get_by_label("Refresh tokens").check()
        page.get_by_role("button", name="Register", exact=True).click()
        expect(redirects).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#redirect_uris-error")).to_contain_text("one per line")
        expect(page.get_by_label("Name", exact=True)).to_have_value("Kessler Shop")
        screenshot(page, f"admin-app-error-phone-{kind}")
        redirects.fill("https://shop.kessler.example/callback\nhttps://shop.kessler.example/again")
        page.get_by_role("button", name="Register", exact=True).click()
        expect(page.get_by_role("heading")).to_have_text("Kessler Shop is registered")
        expect(page.get_by_role("alert")).to_have_text("Copy the secret now; it will not be shown again.")
        secret = page.locator("#client-secret").inner_text()
        client_id = page.locator("#client-id").inner_text()
        assert secret.strip() and client_id.strip()
        screenshot(page, f"admin-app-secret-phone-{kind}")
        page.get_by_role("link", name="Back to the apps").click()
        row = page.locator("tbody tr", has_text="Kessler Shop")
        expect(row).to_contain_text(client_id)
        expect(row).to_contain_text("https://shop.kessler.example/login")
        expect(page.locator("main")).not_to_contain_text(secret)
        screenshot(page, f"admin-apps-phone-{kind}")
        page.set_viewport_size({"width": 1280, "height": 900})
        screenshot(page, f"admin-apps-desktop-{kind}")
        row.get_by_role("link", name="Remove").click()
        expect(page.get_by_role("heading", name="Remove Kessler Shop?")).to_be_visible()
        page.get_by_role("button", name="Remove").click()
        expect(page.get_by_role("status")).to_have_text("The app was removed.")
