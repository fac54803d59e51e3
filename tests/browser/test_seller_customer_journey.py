"""A seller's administrator invites a person into a customer organization with a role and the
customer's SSO provider (issue 17, AppXite), in a real browser against `admit serve` (SQLite) and
the npm oidc-provider: the organization area's Customers link, the search box, the "Invite into a
customer" form (desktop and phone, no sideways scrolling); the invitee's welcome page offers only
that provider, and they join the customer's workspace through it with the chosen role."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from support.browser import screenshot
from support.oidc_providers import npm_provider
from support.processes import admit, field, invitation_link, server

PASSWORD = "quartz-meadow-harbor-29"


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scrolling"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_seller_administrator_invites_into_a_customer_with_its_sso_provider(page: Page, database_url: str) -> None:
    seller = field(admit(database_url, "org", "create", "Northwind Cloud", "--plan", "enterprise").stdout, "id")
    hq = field(admit(database_url, "workspace", "create", seller, "Northwind HQ").stdout, "id")
    acme = field(admit(database_url, "org", "customers", seller, "create", "Acme Foods").stdout, "id")
    admit(database_url, "org", "customers", seller, "create", "Bolt Motors")
    kitchen = field(admit(database_url, "workspace", "create", acme, "Acme Kitchen").stdout, "id")
    with server(database_url) as base, npm_provider([f"{base}/sso/callback"]) as issuer:
        admit(database_url, "member", "add", hq, "--email", "sam@northwind.example", ADMIT_BASE_URL=base)
        token = invitation_link(database_url, "sam@northwind.example").rsplit("/", 1)[1]
        claimed = httpx.post(f"{base}/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
        assert claimed.status_code == 200, claimed.text
        admit(database_url, "org", "admin", "add", seller, "sam@northwind.example")
        out = admit(
            database_url, "sso", "add", acme, "Acme Entra", "--issuer", issuer, "--client-id", "admit",
            ADMIT_SSO_CLIENT_SECRET="npm-secret",
        ).stdout  # fmt: skip
        provider = field(out, "id")
        admit(database_url, "workspace", "login", kitchen, "--method", "password", "--method", f"sso:{provider}")

        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{base}/admin")
        page.get_by_label("Email, username or phone").fill("sam@northwind.example")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{base}/admin/org/{seller}")
        page.get_by_role("link", name="Customers", exact=True).click()
        expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
        expect(page.locator("tbody")).to_contain_text("Bolt Motors")
        page.get_by_label("Search organizations").fill("acme")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.locator("tbody")).not_to_contain_text("Bolt Motors")
        expect(page.locator("tbody tr", has_text="Acme Foods")).to_contain_text("Acme Kitchen")
        page.get_by_label("Organization and workspace").select_option(f"{acme}/{kitchen}")
        page.get_by_label("Email", exact=True).fill("ada.lovelace@acme.example")
        page.get_by_label("Role").select_option("owner")
        page.get_by_label("Identity provider").select_option(provider)
        page.get_by_role("button", name="Send invitation").click()
        role = page.get_by_label("Role")
        expect(role).to_have_attribute("aria-invalid", "true")  # the delegated role is admin, never owner
        expect(page.get_by_label("Email", exact=True)).to_have_value("ada.lovelace@acme.example")
        role.select_option("admin")
        page.get_by_label("Identity provider").select_option(provider)
        page.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_role("status")).to_have_text("The invitation was sent. It is valid for 7 days.")
        _no_sideways_scroll(page)
        screenshot(page, "seller-customers-desktop-sqlite")
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        expect(page.get_by_role("heading", name="Invite into a customer")).to_be_visible()
        _no_sideways_scroll(page)
        screenshot(page, "seller-customers-phone-sqlite")

        page.context.clear_cookies()
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(invitation_link(database_url, "ada.lovelace@acme.example"))
        expect(page.get_by_role("heading")).to_have_text("You are invited to Acme Kitchen")
        expect(page.get_by_label("Password")).to_have_count(0)  # only the chosen provider
        screenshot(page, "seller-invitation-welcome-sqlite")
        page.get_by_role("button", name="Continue with Acme Entra").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(issuer)}/"))
        page.locator("input[name=login]").fill("ada.lovelace@acme.example")
        page.locator("input[name=password]").fill("any password")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading")).to_have_text("Confirm your name")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading")).to_have_text("You are in Acme Kitchen")
        listing = admit(database_url, "member", "list", kitchen).stdout
        assert "ada.lovelace@acme.example" in listing and "active" in listing and "admin" in listing
