"""Journey 6 (the Workplace article) in a real browser against `admit serve`: an owner signs in
through the sign-in page and invites people who are awaiting invitation — everyone ("Invite All"),
a list from a CSV and from an XLSX file ("Choose people to invite"), one person from the people
list and a resend — and an import with "Invite later" followed by Invite All. Each time the
invitation is reviewed, a personal message previewed and the sending confirmed; the emails
arrive in the dev mailbox."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import admit, backend, server

from admit.adapters.spreadsheets import write_csv, write_xlsx


def _invitations_sent(page: Page, base: str, recipients: set[str], subject: str) -> None:
    """Every recipient's invitation is in the dev mailbox, delivered."""
    deadline = time.monotonic() + 30
    while True:
        page.goto(f"{base}/dev/mailbox")
        rows = [row.inner_text() for row in page.locator("tbody tr").all()]
        delivered = {r for r in recipients if any(r in row and subject in row and "sent" in row for row in rows)}
        if delivered == recipients or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert delivered == recipients, rows


def _review_and_send(page: Page, message: str, question: str, kind: str, shot: str) -> None:
    """Review the default invitation, add a message, preview again, Send, then OK."""
    preview = page.locator("pre.email-text")
    expect(preview).to_contain_text("Let's go:")
    expect(preview).not_to_contain_text(message)
    page.get_by_label("Personal message (optional)").fill(message)
    page.get_by_role("button", name="Preview again").click()
    expect(page.locator("pre.email-text")).to_contain_text(message)
    screenshot(page, f"admin-{shot}-review-{kind}")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("heading", name=question)).to_be_visible()
    screenshot(page, f"admin-{shot}-confirm-{kind}")
    page.get_by_role("button", name="OK").click()


def _finished(page: Page, text: str) -> None:
    """The job page refreshes itself until the job is done."""
    expect(page.get_by_role("status")).to_have_text("Finished.", timeout=30_000)
    expect(page.locator("ul.summary")).to_contain_text(text)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the import journey below runs on both
def test_invite_all_from_unsent_invitations(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        for name in ("Ada", "Ben", "Cleo"):
            ws.provision(f"{name.lower()}@kessler.example", name)
        ws.sign_in(page)
        expect(page.locator("ul.counts")).to_contain_text("3 Awaiting invitation")
        screenshot(page, f"admin-people-{kind}")
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Unsent invitations").click()
        expect(page.get_by_text("3 people are awaiting invitation.")).to_be_visible()
        screenshot(page, f"admin-unsent-{kind}")
        page.get_by_role("link", name="Invite All").click()
        expect(page.get_by_role("heading", name="Invite All")).to_be_visible()
        _review_and_send(page, "Welcome to the night shift!", "Invite 3 people?", kind, "invite-all")
        _finished(page, "3 people invited.")
        screenshot(page, f"admin-invite-all-done-{kind}")
        recipients = {f"{n}@kessler.example" for n in ("ada", "ben", "cleo")}
        _invitations_sent(page, base, recipients, "Olivia Stone invited you to Kessler Floor")
        page.get_by_role("link", name="Olivia Stone invited you to Kessler Floor").first.click()
        expect(page.locator("pre")).to_contain_text("Welcome to the night shift!")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the file rules are tested over HTTP on both
def test_choose_people_to_invite_with_a_csv_and_with_an_xlsx(page: Page, database_url: str, tmp_path: Path) -> None:
    kind = backend(database_url)
    listed = tmp_path / "night-shift.csv"
    listed.write_bytes(write_csv(["External ID"], [["HR-1"], ["HR-404"], ["HR-2"]]))
    workbook = tmp_path / "day-shift.xlsx"
    workbook.write_bytes(write_xlsx(["Email"], [["dora@kessler.example"], ["nobody@kessler.example"]]))
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        for n, name in enumerate(("Ada", "Ben", "Cleo", "Dora"), start=1):
            ws.provision(f"{name.lower()}@kessler.example", name, external_id=f"HR-{n}")
        ws.sign_in(page)
        for upload, question, shot, invited in (
            (listed, "Invite 2 listed people?", "choose-csv", {"ada@kessler.example", "ben@kessler.example"}),
            (workbook, "Invite 1 listed person?", "choose-xlsx", {"dora@kessler.example"}),
        ):
            page.goto(f"{base}/admin/{ws.id}/invitations")
            page.get_by_role("link", name="Choose people to invite").click()
            page.get_by_label("Import file").set_input_files(str(upload))
            screenshot(page, f"admin-{shot}-upload-{kind}")
            page.get_by_role("button", name="Next").click()
            expect(page.locator("p.lead")).to_contain_text(upload.name)
            expect(page.locator("#matched-rows tbody tr")).to_have_count(len(invited))  # before anything is sent
            expect(page.locator("#unmatched-rows")).to_contain_text("Matches nobody in this workspace")
            _review_and_send(page, f"From the {upload.stem} list", question, kind, shot)
            _finished(page, f"{len(invited)} {'people' if len(invited) > 1 else 'person'} invited.")
            expect(page.locator("ul.summary")).to_contain_text("1 row matches nobody.")
            problems = page.locator("table.problems tbody tr")
            expect(problems).to_have_count(1)
            expect(problems.first).to_contain_text("no member with this")
            screenshot(page, f"admin-{shot}-done-{kind}")
            _invitations_sent(page, base, invited, "Olivia Stone invited you to Kessler Floor")
        page.goto(f"{base}/admin/{ws.id}/people?status=provisioned")
        expect(page.locator("tbody tr")).to_have_count(1)
        expect(page.locator("tbody tr").first).to_contain_text("Cleo")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the file rules are tested over HTTP on both
def test_invite_and_resend_one_person_from_the_people_list_on_a_phone(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        ws.provision("eve@kessler.example", "Eve")
        ws.provision("finn@kessler.example", "Finn")
        ws.sign_in(page)
        page.get_by_label("Account status", exact=True).select_option(label="Awaiting invitation")
        page.get_by_role("button", name="Filter").click()
        row = page.locator("tbody tr", has_text="Eve Frontline")
        expect(row).to_contain_text("Awaiting invitation")
        screenshot(page, f"admin-people-phone-{kind}")
        row.get_by_role("link", name="Invite").click()
        expect(page.get_by_role("heading", name="Invite Eve Frontline")).to_be_visible()
        _review_and_send(page, "Your badge is at reception.", "Invite Eve Frontline?", kind, "invite-one")
        expect(page.get_by_role("status")).to_have_text("Eve Frontline was invited.")
        expect(page).to_have_url(re.compile(r"status=provisioned"))  # back to the filtered list
        page.goto(f"{base}/admin/{ws.id}/people?status=invited")
        row = page.locator("tbody tr", has_text="Eve Frontline")
        expect(row).to_contain_text("Invited")
        row.get_by_role("link", name="Resend").click()
        expect(page.get_by_role("heading", name="Resend the invitation to Eve Frontline")).to_be_visible()
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.get_by_role("heading", name="Resend the invitation to Eve Frontline?")).to_be_visible()
        page.get_by_role("button", name="OK").click()
        expect(page.get_by_role("status")).to_have_text("The invitation to Eve Frontline was sent again.")
        screenshot(page, f"admin-resent-phone-{kind}")
        _invitations_sent(page, base, {"eve@kessler.example"}, "Olivia Stone invited you to Kessler Floor")
        outbox = admit(database_url, "outbox", "list").stdout
        assert "invitation_resent" in outbox and "finn@kessler.example" not in outbox


def test_an_import_with_invite_later_then_invite_all(page: Page, database_url: str, tmp_path: Path) -> None:
    kind = backend(database_url)
    people = tmp_path / "frontline.csv"
    people.write_bytes(
        write_csv(
            ["Email", "First name", "Last name", "External ID"],
            [
                ["gus@kessler.example", "Gus", "Frontline", "HR-7"],
                ["hana@kessler.example", "Hana", "Frontline", "HR-8"],
                ["not-an-email", "Ivo", "Frontline", "HR-9"],
            ],
        )
    )
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        ws.sign_in(page)
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Import").click()
        expect(page.get_by_role("link", name="XLSX").first).to_have_attribute(
            "href", f"/admin/{ws.id}/import/template.xlsx"
        )
        page.get_by_label("Spreadsheet").set_input_files(str(people))
        page.get_by_label("Invite later").check()
        page.get_by_label("Dry run").check()
        screenshot(page, f"admin-import-form-{kind}")
        page.get_by_role("button", name="Import", exact=True).click()
        _finished(page, "2 people would be created.")
        expect(page.get_by_text("Dry run: nothing was written and nothing was sent.")).to_be_visible()
        screenshot(page, f"admin-import-dry-run-{kind}")
        page.get_by_role("link", name="Import more people").click()
        page.get_by_label("Spreadsheet").set_input_files(str(people))
        page.get_by_label("Invite later").check()
        page.get_by_role("button", name="Import", exact=True).click()
        _finished(page, "2 people created.")
        expect(page.locator("ul.summary")).to_contain_text("Awaiting invitation: 2")
        expect(page.locator("ul.summary")).to_contain_text("1 row has errors.")
        expect(page.locator("table.problems tbody tr").first).to_contain_text("not a valid email address")
        expect(page.get_by_role("link", name="Download report (CSV)")).to_be_visible()
        screenshot(page, f"admin-import-done-{kind}")
        assert "gus@kessler.example" not in admit(database_url, "outbox", "list").stdout  # nobody told yet
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Unsent invitations").click()
        expect(page.get_by_text("2 people are awaiting invitation.")).to_be_visible()
        page.get_by_role("link", name="Invite All").click()
        _review_and_send(page, "Training starts Monday.", "Invite 2 people?", kind, "import-invite-all")
        _finished(page, "2 people invited.")
        _invitations_sent(
            page, base, {"gus@kessler.example", "hana@kessler.example"}, "Olivia Stone invited you to Kessler Floor"
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the import journey below runs on both
def test_each_persons_invitation_preview_is_the_email_they_will_get(page: Page, database_url: str) -> None:
    """Inviting one person once previewed the first member awaiting invitation's email (another
    name, another language)."""
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        people = {"Eve": ("de", "Hallo Eve,"), "Finn": ("fr", "Bonjour Finn,"), "Gus": ("en", "Hello Gus,")}
        for name, (language, _) in people.items():
            ws.provision(f"{name.lower()}@kessler.example", name, language=language)
        ws.sign_in(page)
        for name, (_, greeting) in people.items():
            page.goto(f"{base}/admin/{ws.id}/people?status=provisioned")
            page.locator("tbody tr", has_text=f"{name} Frontline").get_by_role("link", name="Invite").click()
            expect(page.get_by_role("heading", name=f"Invite {name} Frontline")).to_be_visible()
            expect(page.locator("pre.email-text")).to_contain_text(greeting)
            for other in people.keys() - {name}:
                expect(page.locator("pre.email-text")).not_to_contain_text(other)
        screenshot(page, f"admin-invite-preview-{kind}")
