"""Invited people in a real browser, from the email in the dev mailbox to the workspace: a
provisioned member activates their account under the composition policy and meets the terms of
service (journey 7); a person invited by address alone signs up with an emailed code; a German
invitee does it all in German."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from support.browser import open_email, screenshot
from support.processes import admit, backend, field, product_app, server

PASSWORD = "meadow-compass-lantern-91"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_journey_7_activate_with_the_composition_policy_then_accept_the_terms_on_a_phone(
    page: Page, database_url: str, tmp_path: Path
) -> None:
    kind = backend(database_url)
    org = field(admit(database_url, "org", "create", "Kramerica").stdout, "id")
    ws = field(
        admit(
            database_url, "workspace", "create", org, "Kramerica Industries", "--password-policy", "composition"
        ).stdout,
        "id",
    )
    terms = tmp_path / "Kramerica terms.pdf"
    terms.write_bytes(PDF)
    admit(database_url, "terms", "publish", ws, str(terms))
    with server(database_url) as base, product_app("Kramerica app") as app:
        admit(database_url, "workspace", "update", ws, "--app-url", f"{app}/")  # another origin
        admit(
            database_url,
            *("member", "add", ws, "--email", "cosmo@kramerica.example"),
            *("--first-name", "Cosmo", "--last-name", "Kramer", "--role", "admin"),
            ADMIT_BASE_URL=base,
        )
        open_email(page, base, "You are invited to Kramerica Industries")
        link = page.locator("pre a").first.get_attribute("href")
        assert link and link.startswith(f"{base}/i/adm_inv_")
        page.locator("pre a").first.click()  # the link in the plain-text version
        expect(page).to_have_url(f"{base}/welcome")
        expect(page.get_by_role("heading")).to_have_text("You are invited to Kramerica Industries")
        expect(page.get_by_role("button", name="Activate account")).to_be_visible()
        expect(page.get_by_text("At least 10 characters")).to_be_visible()  # the rules before typing
        screenshot(page, f"welcome-activate-{kind}")
        password = page.get_by_label("Password", exact=True)
        password.fill("kramer")
        expect(page.locator("li[data-rule=min_length]")).not_to_have_class("ok")
        expect(page.locator("li[data-rule=lowercase]")).to_have_class("ok")
        expect(page.locator("li[data-rule=uppercase]")).not_to_have_class("ok")
        password.fill("Giddyup-Kramerica-7")
        for rule in ("min_length", "uppercase", "lowercase", "digit_or_symbol"):
            expect(page.locator(f"li[data-rule={rule}]")).to_have_class("ok")
        page.get_by_role("button", name="Show").click()  # read what was typed before sending it
        expect(password).to_have_attribute("type", "text")
        expect(page.get_by_role("button", name="Hide")).to_have_attribute("aria-pressed", "true")
        screenshot(page, f"welcome-activate-filled-{kind}")
        page.get_by_role("button", name="Hide").click()
        expect(password).to_have_attribute("type", "password")
        page.get_by_role("button", name="Activate account").click()

        # Signed in: the terms of service come before the workspace.
        expect(page).to_have_url(f"{base}/terms/{ws}")
        expect(page.get_by_role("heading")).to_have_text("Terms of Service")
        submit = page.get_by_role("button", name="Submit")
        expect(submit).to_be_disabled()
        page.get_by_label("I have read and accept").check()
        expect(submit).to_be_disabled()  # ticked, but not downloaded yet
        screenshot(page, f"terms-{kind}")
        skipped = page.request.post(  # a direct request that skips the download
            f"{base}/terms/{ws}/accept",
            form={
                "csrftoken": page.locator("input[name=csrftoken]").first.input_value(),
                "version": "1",
                "agree": "yes",
            },
        )
        assert skipped.status == 400
        page.goto(f"{base}/go/{ws}")  # straight to the workspace: sent back to the terms
        expect(page).to_have_url(f"{base}/terms/{ws}")

        # Sign out and in again (the AppXite order): the terms are still asked for.
        page.context.clear_cookies()
        page.goto(f"{base}/sign-in?next=/go/{ws}")
        page.get_by_label("Email, username or phone").fill("cosmo@kramerica.example")
        page.get_by_label("Password", exact=True).fill("Giddyup-Kramerica-7")
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{base}/terms/{ws}")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download").click()  # a form: the server records it
        assert download.value.suggested_filename == "Kramerica terms.pdf"
        assert Path(download.value.path()).read_bytes() == PDF
        expect(submit).to_be_disabled()
        page.get_by_label("I have read and accept").check()
        expect(submit).to_be_enabled()
        screenshot(page, f"terms-ready-{kind}")
        submit.click()
        expect(page).to_have_url(f"{app}/")  # the workspace's app, on its own origin
        expect(page.get_by_role("heading")).to_have_text("Kramerica app")
        page.goto(f"{base}/")
        expect(page.get_by_role("link", name="Kramerica Industries")).to_be_visible()
        screenshot(page, f"home-after-terms-{kind}")
        page.goto(link)  # the same link again, once used
        expect(page.get_by_role("heading")).to_have_text("This invitation has already been used")
        screenshot(page, f"dead-link-accepted-{kind}")
    listed = admit(database_url, "terms", "list", ws).stdout
    assert re.search(r"│\s*1\s*│.*│\s*1\s*│", listed), listed  # version 1, accepted once


def test_person_invited_by_address_signs_up_with_an_emailed_code(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Vandelay Imports").stdout, "id")
    with server(database_url) as base:
        admit(database_url, "invite", ws, "art@vandelay.example", ADMIT_BASE_URL=base)
        open_email(page, base, "You are invited to Vandelay Imports")
        page.locator("pre a").first.click()
        expect(page.get_by_role("heading")).to_have_text("You are invited to Vandelay Imports")
        expect(page.get_by_text("The first step is to verify your email address")).to_be_visible()
        screenshot(page, f"welcome-sign-up-{kind}")
        page.get_by_role("button", name="Sign up").click()
        expect(page.get_by_role("heading")).to_have_text("Verify your email address")
        screenshot(page, f"welcome-verify-{kind}")
        page.get_by_label("Verification code").fill("12345")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("alert")).to_contain_text("This code is not correct")
        screenshot(page, f"welcome-verify-wrong-{kind}")
        open_email(page, base, "Your verification code")
        code = re.search(r"\d{6}", page.get_by_role("heading", level=1).inner_text())  # the subject
        assert code
        page.goto(f"{base}/welcome")
        page.get_by_label("Verification code").fill(code.group(0))
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_text("is verified")).to_be_visible()
        page.get_by_label("First name").fill("Art")
        page.get_by_label("Last name").fill("Vandelay")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        screenshot(page, f"welcome-profile-{kind}")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading")).to_have_text("You are in Vandelay Imports")
        screenshot(page, f"joined-after-sign-up-{kind}")


def test_german_invitee_joins_in_german(page: Page, database_url: str) -> None:
    org = field(admit(database_url, "org", "create", "Brandt").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Brandt Werke", "--language", "de").stdout, "id")
    kind = backend(database_url)
    with server(database_url) as base:
        admit(
            database_url,
            *("invite", ws, "greta@brandt.example", "--first-name", "Greta", "--last-name", "Brandt"),
            ADMIT_BASE_URL=base,
        )
        open_email(page, base, "Sie sind zu Brandt Werke eingeladen")
        page.locator("pre a").first.click()
        expect(page.get_by_role("heading")).to_have_text("Sie sind zu Brandt Werke eingeladen")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        page.get_by_label("Passwort", exact=True).fill(PASSWORD)
        expect(page.locator("li[data-rule=min_length]")).to_have_text("Mindestens 15 Zeichen")
        screenshot(page, f"welcome-claim-german-{kind}")
        page.get_by_role("button", name="Konto aktivieren").click()
        expect(page.get_by_role("heading")).to_have_text("Sie sind in Brandt Werke")
        screenshot(page, f"joined-german-{kind}")
        page.goto(f"{base}/")  # the browser asks for English; Greta's account speaks German
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_role("heading", level=1)).to_have_text("Hallo Greta")
        screenshot(page, f"home-german-{kind}")
