"""Single sign-on in a real browser against real OpenID providers on loopback, clicking through the
providers' own pages: journey 1 (a password account joins an SSO-only workspace through the npm
oidc-provider), journey 2 (an SSO account joins a workspace without that provider, once with a
personal provider served by oidc-provider-mock and once with email and password), just-in-time
members, and the page shown when the provider is down."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect
from support.browser import open_email, screenshot
from support.oidc_providers import mock_provider, npm_provider, set_user
from support.processes import admit, backend, field, invitation_link, server

PASSWORD = "pebble-orchard-lantern-47"


def _provider(database_url: str, org: str | None, name: str, issuer: str) -> str:
    args = ["sso", "add", org, name] if org else ["sso", "add-personal", name]
    out = admit(
        database_url, *args, "--issuer", issuer, "--client-id", "admit", ADMIT_SSO_CLIENT_SECRET="npm-secret"
    ).stdout
    return field(out, "id")


def _npm_sign_in(page: Page, login: str) -> None:
    """The npm oidc-provider's own login and consent pages."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def _mock_sign_in(page: Page, sub: str) -> None:
    """oidc-provider-mock's authorization form."""
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def test_journey_1_password_account_signs_up_with_the_sso_only_workspace_provider(
    page: Page, database_url: str
) -> None:
    kind = backend(database_url)
    org = field(admit(database_url, "org", "create", "Contoso", "--plan", "enterprise").stdout, "id")
    home = field(admit(database_url, "workspace", "create", org, "Contoso Home").stdout, "id")
    projects = field(admit(database_url, "workspace", "create", org, "Contoso Projects").stdout, "id")
    with server(database_url) as base, npm_provider([f"{base}/sso/callback"]) as issuer:
        pid = _provider(database_url, org, "Contoso Entra", issuer)
        admit(database_url, "workspace", "login", projects, "--method", f"sso:{pid}", "--sso-required")
        admit(database_url, "invite", home, "ada.lovelace@contoso.example", ADMIT_BASE_URL=base)
        token = invitation_link(database_url, "ada.lovelace@contoso.example").rsplit("/", 1)[1]
        claimed = httpx.post(f"{base}/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
        assert claimed.status_code == 200, claimed.text
        admit(database_url, "invite", projects, "ada.lovelace@contoso.example", ADMIT_BASE_URL=base)
        page.goto(invitation_link(database_url, "ada.lovelace@contoso.example"))
        expect(page.get_by_role("heading")).to_have_text("You are invited to Contoso Projects")
        expect(page.get_by_role("status")).to_contain_text("requires single sign-on")
        expect(page.get_by_label("Password")).to_have_count(0)
        screenshot(page, f"sso-welcome-journey-1-{kind}")
        page.get_by_role("button", name="Sign up with Contoso Entra").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(issuer)}/"))
        screenshot(page, f"sso-npm-provider-login-{kind}")
        _npm_sign_in(page, "ada.lovelace@contoso.example")
        expect(page.get_by_role("heading")).to_have_text("Confirm your name")
        expect(page.get_by_label("First name")).to_have_value("Ada")
        expect(page.get_by_label("Last name")).to_have_value("Lovelace")
        screenshot(page, f"sso-confirm-name-{kind}")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading")).to_have_text("You are in Contoso Projects")
        listing = admit(database_url, "member", "list", projects).stdout
        assert "active" in listing and "ada.lovelace@contoso.example" in listing


def test_journey_2_sso_account_joins_a_workspace_without_that_provider(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    org = field(admit(database_url, "org", "create", "Globex", "--plan", "enterprise").stdout, "id")
    corp = field(admit(database_url, "workspace", "create", org, "Globex Corp").stdout, "id")
    partners = field(admit(database_url, "workspace", "create", org, "Globex Partners").stdout, "id")
    with server(database_url) as base, npm_provider([f"{base}/sso/callback"]) as corp_issuer, mock_provider() as live:
        corp_id = _provider(database_url, org, "Globex Entra", corp_issuer)
        personal = _provider(database_url, None, "Microsoft (personal)", live)
        admit(
            database_url,
            "workspace",
            "login",
            corp,
            "--method",
            f"sso:{corp_id}",
            "--sso-required",
            "--jit",
            "--jit-domain",
            "globex.example",
        )
        admit(database_url, "workspace", "login", partners, "--method", "password", "--method", f"personal:{personal}")
        for login in ("bo.berg@globex.example", "cy.tam@globex.example"):  # their SSO accounts, just in time
            page.context.clear_cookies()
            page.goto(f"{base}/sso/w/{corp}")
            page.get_by_role("button", name="Sign in with Globex Entra").click()
            _npm_sign_in(page, login)
            expect(page.get_by_role("heading")).to_have_text("You are in Globex Corp")
        # Bo: Continue with Microsoft (personal).
        page.context.clear_cookies()
        set_user(live, "bo-live", email="bo@outlook.example", email_verified=True, given_name="Bo", family_name="Berg")
        admit(database_url, "invite", partners, "bo.berg@globex.example", ADMIT_BASE_URL=base)
        page.goto(invitation_link(database_url, "bo.berg@globex.example"))
        expect(page.get_by_role("status")).to_contain_text("does not offer")
        screenshot(page, f"sso-welcome-journey-2-{kind}")
        page.get_by_role("button", name="Continue with Microsoft (personal)").click()
        _mock_sign_in(page, "bo-live")
        expect(page.get_by_label("First name")).to_have_value("Bo")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading")).to_have_text("You are in Globex Partners")
        # Cy: Continue with email address and password (code, then password and names).
        page.context.clear_cookies()
        admit(database_url, "invite", partners, "cy.tam@globex.example", ADMIT_BASE_URL=base)
        page.goto(invitation_link(database_url, "cy.tam@globex.example"))
        page.get_by_role("button", name="Continue with email address and password").click()
        expect(page.get_by_role("heading")).to_have_text("Verify your email address")
        open_email(page, base, "Your verification code")
        code = re.search(r"\d{6}", page.get_by_role("heading", level=1).inner_text())
        assert code
        page.goto(f"{base}/welcome")
        page.get_by_label("Verification code").fill(code.group(0))
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("First name").fill("Cy")
        page.get_by_label("Last name").fill("Tam")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading")).to_have_text("You are in Globex Partners")
        listing = admit(database_url, "member", "list", partners).stdout
        assert listing.count("active") == 2


def test_just_in_time_member_and_the_provider_down_page(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    org = field(admit(database_url, "org", "create", "Initech", "--plan", "enterprise").stdout, "id")
    floor = field(admit(database_url, "workspace", "create", org, "Initech Floor").stdout, "id")
    down = field(admit(database_url, "workspace", "create", org, "Initech Down").stdout, "id")
    with server(database_url) as base, mock_provider() as issuer:
        pid = _provider(database_url, org, "Initech ID", issuer)
        admit(
            database_url,
            "workspace",
            "login",
            floor,
            "--method",
            f"sso:{pid}",
            "--jit",
            "--jit-domain",
            "initech.example",
            "--default-role",
            "guest",
        )
        set_user(
            issuer,
            "milton",
            email="milton@initech.example",
            email_verified=True,
            given_name="Milton",
            family_name="Waddams",
        )
        page.goto(f"{base}/sso/w/{floor}")
        screenshot(page, f"sso-workspace-sign-in-{kind}")
        page.get_by_role("button", name="Sign in with Initech ID").click()
        _mock_sign_in(page, "milton")
        expect(page.get_by_role("heading")).to_have_text("You are in Initech Floor")
        listing = admit(database_url, "member", "list", floor).stdout
        assert "milton@initech.example" in listing and "guest" in listing and "active" in listing
        with mock_provider() as backup:  # up when it is added (its discovery is read), then down
            dead = _provider(database_url, org, "Initech Backup", backup)
        admit(database_url, "workspace", "login", down, "--method", f"sso:{dead}", "--sso-required")
        page.context.clear_cookies()
        page.goto(f"{base}/sso/w/{down}")
        page.get_by_role("button", name="Sign in with Initech Backup").click()
        expect(page.get_by_role("heading")).to_have_text("The sign-in service is not available")
        expect(page.get_by_label("Password")).to_have_count(0)
        screenshot(page, f"sso-provider-down-{kind}")
