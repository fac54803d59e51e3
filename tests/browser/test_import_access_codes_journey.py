"""Access codes for a whole import in a real browser against `admit serve`: an administrator
imports a spreadsheet on the console (two people without email, one with), the finished job's
page offers "Access codes for the 2 people in this import who have no email or phone", and
"Print sheet (PDF)" downloads a sheet whose QR codes (decoded from the PDF) open the redeem page
with the code filled in, on a phone. Screenshots at desktop and phone size, no sideways scroll."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from support.browser import AdminWorkspace, screenshot
from support.pdfs import qr_codes, read, text_of
from support.processes import backend, server


def fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


# The rules behind this page are tested over HTTP on both databases; the journey runs on one
# (the suite's time goes to browser runs).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_prints_the_codes_of_a_whole_import(browser: Browser, database_url: str, tmp_path: Path) -> None:
    kind = backend(database_url)
    people = tmp_path / "shift.csv"
    people.write_text(
        "Email;First name;Last name;External ID\n;Ana;Silva;E-1\n;Ben;Costa;E-2\ncy@kessler.example;Cy;Mail;E-3\n",
        encoding="utf-8",
    )
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        admin = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        ws.sign_in(admin)
        admin.get_by_role("navigation", name="Administration").get_by_role("link", name="Import").click()
        admin.get_by_label("Spreadsheet").set_input_files(str(people))
        admin.get_by_label("Invite later").check()
        admin.get_by_role("button", name="Import", exact=True).click()
        expect(admin.get_by_role("status")).to_have_text("Finished.", timeout=30_000)
        offer = admin.locator("#job-codes")
        expect(offer.get_by_role("heading")).to_have_text(
            "Access codes for the 2 people in this import who have no email or phone"
        )
        expect(offer).to_contain_text("withdraws the earlier codes")
        screenshot(admin, f"import-codes-offer-desktop-{kind}")
        assert fits(admin)
        admin.set_viewport_size({"width": 390, "height": 844})
        screenshot(admin, f"import-codes-offer-phone-{kind}")
        assert fits(admin)
        admin.set_viewport_size({"width": 1280, "height": 800})
        with admin.expect_download() as downloaded:
            offer.get_by_role("button", name="Print sheet (PDF)").click()
        assert downloaded.value.suggested_filename == "access-codes.pdf"
        pdf = Path(downloaded.value.path()).read_bytes()
        text = text_of(pdf)
        assert "Ana Silva" in text and "Ben Costa" in text and "Cy Mail" not in text and "Kessler Floor" in text
        urls = qr_codes(read(pdf).pages[0])
        assert len(urls) == 2 and all(u.startswith(f"{base}/code?c=") for u in urls)

        phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        phone.goto(urls[0])
        code = urls[0].split("?c=", 1)[1]
        expect(phone.get_by_label("Access code")).to_have_value(code)
        phone.get_by_role("button", name="Continue").click()
        expect(phone.get_by_role("heading", name="Join Kessler Floor")).to_be_visible()
        expect(phone.locator("main")).to_contain_text("Ana Silva")
        assert fits(phone)
