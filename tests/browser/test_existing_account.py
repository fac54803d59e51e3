"""Journeys 1 and 4 in a real browser: an existing account joins another workspace by signing in
(and lands in its app, on another origin);
a signed-in person accepts and declines from the home page; the wrong account is stopped."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect
from support.browser import screenshot
from support.processes import admit, field, invitation_link, product_app, server

PASSWORD = "thistle-harbor-lantern-36"


def _claim(base: str, token: str) -> None:
    response = httpx.post(f"{base}/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert response.status_code == 200, response.text


def _sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email, username or phone").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_existing_account_signs_in_and_joins_another_workspace(page: Page, database_url: str) -> None:
    kind = database_url.split(":")[0].split("+")[0]
    org = field(admit(database_url, "org", "create", "Pendant").stdout, "id")
    first = field(admit(database_url, "workspace", "create", org, "Pendant Publishing").stdout, "id")
    second = field(admit(database_url, "workspace", "create", org, "Pendant Books").stdout, "id")
    with server(database_url) as base, product_app("Pendant Books app") as app:
        admit(database_url, "workspace", "update", second, "--app-url", f"{app}/books")  # another origin
        admit(database_url, "invite", first, "elaine@pendant.example", ADMIT_BASE_URL=base)
        _claim(base, invitation_link(database_url, "elaine@pendant.example").rsplit("/", 1)[1])
        admit(database_url, "invite", second, "elaine@pendant.example", ADMIT_BASE_URL=base)
        page.goto(invitation_link(database_url, "elaine@pendant.example"))
        expect(page.get_by_role("heading")).to_have_text("You are invited to Pendant Books")
        expect(page.get_by_text("You already have an account")).to_be_visible()
        screenshot(page, f"welcome-existing-account-{kind}")
        # One step: she signed in to accept, so signing in here joins (no confirmation page).
        page.get_by_label("Password", exact=True).fill("not-her-password-00")
        page.get_by_role("button", name="Sign in and join").click()
        expect(page.get_by_role("alert")).to_have_text("The identifier or password is not correct.")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        visited: list[str] = []
        page.on("request", lambda request: visited.append(request.url) if request.is_navigation_request() else None)
        page.get_by_role("button", name="Sign in and join").click()
        # Straight into the app, on its own origin: the POST's redirect through /go passes the
        # page's form-action (which allows the app's origin); no "Let's go" page in between.
        expect(page.get_by_role("heading")).to_have_text("Pendant Books app")
        assert page.url == f"{app}/books"
        assert visited == [f"{base}/welcome/sign-in", f"{base}/go/{second}", f"{app}/books"]
        screenshot(page, f"joined-into-the-app-{kind}")


def test_home_lists_invitations_to_accept_or_decline_and_stops_the_wrong_account(page: Page, database_url: str) -> None:
    kind = database_url.split(":")[0].split("+")[0]
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    home_ws = field(admit(database_url, "workspace", "create", org, "Vandelay HQ").stdout, "id")
    latex = field(admit(database_url, "workspace", "create", org, "Latex").stdout, "id")
    matches = field(admit(database_url, "workspace", "create", org, "Matches").stdout, "id")
    with server(database_url) as base:
        for email in ("art@vandelay.example", "kel@vandelay.example"):
            admit(database_url, "invite", home_ws, email, ADMIT_BASE_URL=base)
            _claim(base, invitation_link(database_url, email).rsplit("/", 1)[1])
        admit(database_url, "invite", latex, "art@vandelay.example", ADMIT_BASE_URL=base)
        admit(database_url, "invite", matches, "art@vandelay.example", ADMIT_BASE_URL=base)
        page.goto(f"{base}/sign-in")
        _sign_in(page, "art@vandelay.example")
        expect(page.get_by_role("heading", name="Invitations (2)")).to_be_visible()
        screenshot(page, f"home-pending-{kind}")
        page.locator(".card.inner", has_text="Matches").get_by_role("link", name="Decline").click()
        expect(page.get_by_role("heading")).to_have_text("Decline the invitation to Matches?")  # asks first
        screenshot(page, f"home-decline-confirm-{kind}")
        page.get_by_role("button", name="Decline invitation").click()
        expect(page.get_by_role("status")).to_have_text("Invitation declined. Nothing else has changed.")
        page.locator(".card.inner", has_text="Latex").get_by_role("button", name="Accept and join").click()
        expect(page.get_by_role("heading")).to_have_text("You are in Latex")
        page.goto(f"{base}/")
        workspaces = page.locator("section", has_text="Your workspaces")
        expect(workspaces).to_contain_text("Latex")
        expect(workspaces).not_to_contain_text("Matches")
        screenshot(page, f"home-after-{kind}")
        admit(database_url, "invite", matches, "kel@vandelay.example", ADMIT_BASE_URL=base)
        page.goto(invitation_link(database_url, "kel@vandelay.example"))  # kel's link, art signed in
        expect(page.get_by_role("heading")).to_have_text("This invitation is for another account")  # before any click
        expect(page.get_by_role("button", name="Accept and join")).to_have_count(0)
        expect(page.get_by_text("kel@vandelay.example")).to_be_visible()
        screenshot(page, f"wrong-account-{kind}")
        page.get_by_role("button", name="Switch account").click()
        expect(page.get_by_role("heading")).to_have_text("You are invited to Matches")
