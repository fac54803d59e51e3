"""The console's Sign-in page in a real browser against `admit serve` and the npm oidc-provider:
an owner of an enterprise organization copies the redirect URI, adds the provider (a wrong issuer
is shown next to its field, what was typed kept), presses Test connection, signs in at the
provider's own pages and lands on the result page with the claims received and how they map; no
member is created and the owner is still signed in. Screenshots at desktop and phone size."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from support.browser import screenshot
from support.oidc_providers import npm_provider
from support.processes import admit, backend, field, invitation_link, server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PASSWORD = "saddle-beacon-thimble-47"
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def _both_sizes(page: Page, name: str) -> None:
    for width, height, size in ((1280, 800, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate(FITS), f"sideways scrolling on {name} ({size})"
        screenshot(page, f"{name}-{size}")
    page.set_viewport_size({"width": 1280, "height": 800})


def _npm_sign_in(page: Page, login: str) -> None:
    """The npm oidc-provider's own login and consent pages."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_an_owner_adds_and_tests_the_organizations_provider(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    org = field(admit(database_url, "org", "create", "Contoso", "--plan", "enterprise").stdout, "id")
    home = field(admit(database_url, "workspace", "create", org, "Contoso Home").stdout, "id")
    owner = "owner@contoso.example"
    with server(database_url) as base, npm_provider([f"{base}/sso/callback"]) as issuer:
        admit(database_url, "member", "add", home, "--email", owner, "--role", "owner", ADMIT_BASE_URL=base)
        token = invitation_link(database_url, owner).rsplit("/", 1)[1]
        claimed = httpx.post(f"{base}/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
        assert claimed.status_code == 200, claimed.text
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{base}/admin/{home}/people")
        page.get_by_label("Email, username or phone").fill(owner)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Sign-in").click()
        expect(page.get_by_role("heading", name="Sign-in", exact=True)).to_be_visible()
        expect(page.get_by_role("textbox", name="Redirect URI")).to_have_value(f"{base}/sso/callback")
        expect(page.get_by_text("The organization has no identity providers yet.")).to_be_visible()
        page.get_by_label("Name", exact=True).fill("Contoso Entra")
        page.get_by_label("Issuer").fill(f"{issuer}/wrong")
        page.get_by_label("Client ID").fill("admit")
        page.get_by_label("Client secret").fill("npm-secret")
        page.get_by_role("button", name="Add the provider").click()
        expect(page.get_by_label("Issuer")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#issuer-error")).to_contain_text("discovery document")
        expect(page.get_by_label("Name", exact=True)).to_have_value("Contoso Entra")
        page.get_by_label("Issuer").fill(issuer)
        page.get_by_label("Client secret").fill("npm-secret")
        page.get_by_role("button", name="Add the provider").click()
        expect(page.get_by_role("status")).to_contain_text("The provider was added.")
        row = page.locator("tbody tr", has_text="Contoso Entra")
        expect(row).to_contain_text(issuer)
        expect(row).to_contain_text("Not allowed here")
        _both_sizes(page, f"admin-sign-in-{kind}")
        row.get_by_role("button", name="Test connection").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(issuer)}/"))
        _npm_sign_in(page, "ada.lovelace@contoso.example")
        expect(page.get_by_role("heading", name="Contoso Entra works")).to_be_visible()
        mapping = page.locator("#mapping")
        expect(mapping).to_contain_text("given_name → Ada")
        expect(mapping).to_contain_text("family_name → Lovelace")
        expect(mapping).to_contain_text("email → ada.lovelace@contoso.example")
        expect(page.locator("#claims")).to_contain_text("email_verified")
        _both_sizes(page, f"admin-sign-in-test-{kind}")
        page.get_by_role("link", name="Back to sign-in").click()
        expect(page.get_by_role("heading", name="Sign-in", exact=True)).to_be_visible()  # still signed in
        listing = admit(database_url, "member", "list", home).stdout
        assert "ada.lovelace" not in listing and owner in listing
