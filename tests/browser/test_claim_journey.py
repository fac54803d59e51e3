"""An invited person, in a real browser: from the email in the dev mailbox to the workspace."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect
from support.browser import screenshot
from support.processes import admit, field, server

PASSWORD = "meadow-compass-lantern-91"


def _open_invitation_email(page: Page, base: str, subject: str) -> None:
    page.goto(f"{base}/dev/mailbox")
    deadline = time.monotonic() + 20
    while "sent" not in page.locator("tbody tr").first.inner_text() and time.monotonic() < deadline:
        page.reload()
    page.get_by_role("link", name=subject).click()


def test_invited_person_activates_an_account_on_a_phone(page: Page, database_url: str) -> None:
    org = field(admit(database_url, "org", "create", "Kramerica").stdout, "id")
    ws = field(
        admit(
            database_url,
            "workspace",
            "create",
            org,
            "Kramerica Industries",
            "--app-url",
            "https://app.kramerica.example",
        ).stdout,
        "id",
    )
    kind = database_url.split(":")[0].split("+")[0]
    with server(database_url) as base:
        admit(database_url, "invite", ws, "cosmo@kramerica.example", "--first-name", "Cosmo", ADMIT_BASE_URL=base)
        _open_invitation_email(page, base, "You are invited to Kramerica Industries")
        link = page.locator("pre a").first.get_attribute("href")
        assert link and link.startswith(f"{base}/i/adm_inv_")
        page.locator("pre a").first.click()  # the link in the plain-text version
        expect(page).to_have_url(f"{base}/welcome")
        expect(page.get_by_role("heading")).to_have_text("You are invited to Kramerica Industries")
        expect(page.get_by_label("First name")).to_have_value("Cosmo")
        screenshot(page, f"welcome-claim-{kind}")
        page.get_by_label("Password", exact=True).fill("too short")
        expect(page.locator("li[data-rule=min_length]")).not_to_have_class("ok")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        expect(page.locator("li[data-rule=min_length]")).to_have_class("ok")
        page.get_by_label("Last name").fill("Kramer")
        screenshot(page, f"welcome-claim-filled-{kind}")
        page.get_by_role("button", name="Activate account").click()
        expect(page.get_by_role("heading")).to_have_text("You are in Kramerica Industries")
        expect(page.get_by_role("link", name="Let's go")).to_have_attribute("href", "https://app.kramerica.example")
        screenshot(page, f"joined-{kind}")
        page.goto(link)  # the same link again, once used
        expect(page.get_by_role("heading")).to_have_text("This invitation has already been used")
        screenshot(page, f"dead-link-accepted-{kind}")


def test_german_invitee_joins_in_german(page: Page, database_url: str) -> None:
    org = field(admit(database_url, "org", "create", "Brandt").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Brandt Werke", "--language", "de").stdout, "id")
    kind = database_url.split(":")[0].split("+")[0]
    with server(database_url) as base:
        admit(database_url, "invite", ws, "greta@brandt.example", "--first-name", "Greta", ADMIT_BASE_URL=base)
        _open_invitation_email(page, base, "Sie sind zu Brandt Werke eingeladen")
        page.locator("pre a").first.click()
        expect(page.get_by_role("heading")).to_have_text("Sie sind zu Brandt Werke eingeladen")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        page.get_by_label("Passwort", exact=True).fill(PASSWORD)
        expect(page.locator("li[data-rule=min_length]")).to_have_text("Mindestens 15 Zeichen")
        screenshot(page, f"welcome-claim-german-{kind}")
        page.get_by_role("button", name="Konto aktivieren").click()
        expect(page.get_by_role("heading")).to_have_text("Sie sind in Brandt Werke")
        screenshot(page, f"joined-german-{kind}")
