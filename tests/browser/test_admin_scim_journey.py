"""The SCIM page in a real browser at phone size against `admit serve`: from Settings, create a
token (an empty name is shown next to its field), see it once, let an identity provider use it,
read its request log, revoke it after the confirmation page, and see the provider refused."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import backend, server


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


# The rules behind this page are tested over HTTP on both databases; the journey runs on one
# (the suite's time goes to browser runs).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_create_use_and_revoke_a_scim_token_on_a_phone(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        ws.sign_in(page)
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="SCIM provisioning").click()
        expect(page.get_by_text("No SCIM tokens yet.")).to_be_visible()
        page.get_by_label("Highest role it may give").select_option("admin")
        page.get_by_role("button", name="Create the token").click()
        name = page.get_by_label("Name", exact=True)
        expect(name).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#name-error")).to_contain_text("1 to 200 characters")
        expect(page.get_by_label("Highest role it may give")).to_have_value("admin")
        no_horizontal_scroll(page)
        screenshot(page, f"admin-scim-error-phone-{kind}")
        name.fill("Entra ID")
        page.get_by_role("button", name="Create the token").click()
        expect(page.get_by_role("heading")).to_have_text("Entra ID is ready")
        expect(page.get_by_role("alert")).to_have_text("Copy the token now; it will not be shown again.")
        secret = page.locator("#scim-token").inner_text().strip()
        assert secret.startswith("adm_scm_")
        no_horizontal_scroll(page)
        screenshot(page, f"admin-scim-token-phone-{kind}")
        provider = {"authorization": f"Bearer {secret}"}
        assert httpx.get(f"{base}/scim/v2/ServiceProviderConfig", headers=provider).status_code == 200

        page.get_by_role("link", name="Back to SCIM provisioning").click()
        row = page.locator("tbody tr", has_text="Entra ID")
        expect(row).to_contain_text("Admin")
        expect(page.locator("main")).not_to_contain_text(secret)
        no_horizontal_scroll(page)
        screenshot(page, f"admin-scim-phone-{kind}")
        row.get_by_role("link", name="Requests").click()
        expect(page.get_by_role("heading", name="Requests of Entra ID")).to_be_visible()
        expect(page.locator("tbody tr").first).to_contain_text("/scim/v2/ServiceProviderConfig")
        no_horizontal_scroll(page)
        screenshot(page, f"admin-scim-log-phone-{kind}")
        page.set_viewport_size({"width": 1280, "height": 900})
        screenshot(page, f"admin-scim-log-desktop-{kind}")
        page.get_by_role("link", name="Back to SCIM provisioning").click()
        screenshot(page, f"admin-scim-desktop-{kind}")
        page.locator("tbody tr", has_text="Entra ID").get_by_role("link", name="Revoke").click()
        expect(page.get_by_role("heading", name="Revoke Entra ID?")).to_be_visible()
        page.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("status")).to_contain_text("The token was revoked")
        expect(page.locator("tbody tr", has_text="Entra ID")).to_contain_text("Revoked")
        refused = httpx.get(f"{base}/scim/v2/ServiceProviderConfig", headers=provider)
        assert refused.status_code == 401 and refused.json()["status"] == "401"
