"""The example app (examples/shop_app.py: Authlib's OpenID Connect client) signs a person in
through Admit, in a real browser on a phone: from the invitation email to the app showing who
signed in, for which workspace and with which role."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect
from support.browser import open_email, screenshot
from support.postgres import free_port
from support.processes import admit, backend, example_app, field, server

PASSWORD = "harbour-lantern-copper-57"


def _claims(page: Page) -> dict[str, str]:
    rows = page.locator("tr").all()
    return {row.locator("th").inner_text(): row.locator("td").inner_text() for row in rows}


def test_first_invitation_ends_in_the_app_with_the_claims_on_a_phone(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    org = field(admit(database_url, "org", "create", "Pendant Publishing").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Pendant Editorial").stdout, "id")
    port = free_port()
    registered = admit(
        database_url,
        *("clients", "create", org, "Example Shop", "--workspace", ws),
        *("--redirect-uri", f"http://127.0.0.1:{port}/callback", "--login-uri", f"http://127.0.0.1:{port}/login"),
        *("--post-logout-redirect-uri", f"http://127.0.0.1:{port}/"),
        *("--backchannel-logout-uri", f"http://127.0.0.1:{port}/backchannel-logout"),
    ).stdout
    client_id = field(registered, "client_id")
    secret = re.search(r"^client_secret: (\S+)", registered, re.MULTILINE)
    assert secret
    with server(database_url) as base, example_app(base, port, client_id, secret.group(1)) as app:
        admit(database_url, "workspace", "update", ws, "--app-url", f"{app}/")
        added = admit(
            database_url,
            *("member", "add", ws, "--email", "elaine@pendant.example", "--first-name", "Elaine"),
            *("--last-name", "Benes"),
            *("--role", "admin"),
            ADMIT_BASE_URL=base,
        ).stdout
        open_email(page, base, "You are invited to Pendant Editorial")
        page.locator("pre a").first.click()
        expect(page.get_by_role("heading")).to_have_text("You are invited to Pendant Editorial")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        visited: list[str] = []
        page.on("request", lambda request: visited.append(request.url) if request.is_navigation_request() else None)
        page.get_by_role("button", name="Activate account").click()
        # No "Let's go" page: joining leads through /go to the app's login URL (another origin,
        # which the welcome page's form-action allows); the app starts the code flow, Admit
        # answers with a code (the person is signed in already), the app shows the claims.
        expect(page.get_by_role("heading")).to_have_text("Welcome, Elaine")
        assert page.url == f"{app}/"
        assert f"{base}/go/{ws}" in visited and not [url for url in visited if "/joined/" in url]
        claims = _claims(page)
        assert claims["email"] == "elaine@pendant.example" and claims["email_verified"] == "True"
        assert (claims["workspace_id"], claims["workspace_name"]) == (ws, "Pendant Editorial")
        assert (claims["org_id"], claims["org_name"], claims["role"]) == (org, "Pendant Publishing", "admin")
        assert claims["iss"] == base and claims["aud"] == client_id
        screenshot(page, f"example-app-claims-{kind}")
        page.get_by_role("link", name="Sign out", exact=True).click()  # of the app
        expect(page.get_by_text("You are not signed in.")).to_be_visible()
        page.get_by_role("link", name="Sign in with Admit").click()  # Admit's session is still there
        expect(page.get_by_role("heading")).to_have_text("Welcome, Elaine")
        page.get_by_role("link", name="Sign out of Admit too").click()  # RP-initiated logout
        expect(page.get_by_role("heading")).to_have_text("Sign out of Admit?")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You are not signed in.")).to_be_visible()
        assert page.url == f"{app}/"
        page.get_by_role("link", name="Sign in with Admit").click()  # Admit's session has ended
        expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/sign-in\?"))
        page.get_by_label("Email, username or phone").fill("elaine@pendant.example")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading")).to_have_text("Welcome, Elaine")
        # An administrator suspends her: Admit posts a logout token to the app's back-channel
        # URI; the app verifies it with Admit's keys and ends her session there too.
        token = field(admit(database_url, "token", "create", org, "--role", "owner", "--name", "ops").stdout, "token")
        suspended = httpx.post(
            f"{base}/api/v1/members/{field(added, 'id')}/suspend", headers={"authorization": f"Bearer {token}"}
        )
        assert suspended.status_code == 200, suspended.text
        ended = page.get_by_text("Admit ended your session.")
        for _ in range(100):
            page.reload()
            if ended.is_visible():
                break
            page.wait_for_timeout(100)
        expect(ended).to_be_visible()
        screenshot(page, f"example-app-backchannel-logout-{kind}")


def test_a_person_in_two_workspaces_picks_one_and_prompt_none_needs_a_session(page: Page, database_url: str) -> None:
    """The example app (Authlib's client) asks Admit without a workspace: a person in two of the
    app's workspaces picks one on Admit's page and the app gets that one's claims. With
    ``prompt=none`` and no Admit session the app gets ``login_required``; with one, the claims
    at once."""
    kind = backend(database_url)
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    imports = field(admit(database_url, "workspace", "create", org, "Vandelay Imports").stdout, "id")
    exports = field(admit(database_url, "workspace", "create", org, "Vandelay Exports").stdout, "id")
    port = free_port()
    registered = admit(
        database_url,
        *("clients", "create", org, "Example Shop", "--redirect-uri", f"http://127.0.0.1:{port}/callback"),
    ).stdout
    secret = re.search(r"^client_secret: (\S+)", registered, re.MULTILINE)
    assert secret
    with server(database_url) as base, example_app(base, port, field(registered, "client_id"), secret.group(1)) as app:
        page.goto(f"{app}/login?prompt=none")
        expect(page.get_by_text("Admit answered login_required.")).to_be_visible()
        for ws, role in ((imports, "member"), (exports, "admin")):
            admit(
                database_url,
                *("member", "add", ws, "--email", "art@vandelay.example", "--first-name", "Art"),
                *("--last-name", "Vandelay", "--role", role),
                ADMIT_BASE_URL=base,
            )
        open_email(page, base, "You are invited to Vandelay Imports")
        page.locator("pre a").first.click()
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Activate account").click()
        expect(page).to_have_url(f"{base}/joined/{imports}")
        open_email(page, base, "You are invited to Vandelay Exports")
        page.locator("pre a").first.click()  # signed in already: one click joins the second workspace
        page.get_by_role("button", name="Accept and join").click()
        expect(page).to_have_url(f"{base}/joined/{exports}")
        page.goto(f"{app}/login")
        expect(page.get_by_role("heading")).to_have_text("Which workspace?")
        screenshot(page, f"oidc-workspace-choice-{kind}")
        page.get_by_role("button", name="Vandelay Exports").click()
        expect(page.get_by_role("heading")).to_have_text("Welcome, Art")
        claims = _claims(page)
        assert (claims["workspace_id"], claims["role"]) == (exports, "admin")
        page.get_by_role("link", name="Sign out", exact=True).click()  # of the app only
        page.goto(f"{app}/login?prompt=none&workspace={imports}")
        expect(page.get_by_role("heading")).to_have_text("Welcome, Art")  # no page of Admit's
        assert _claims(page)["workspace_id"] == imports
