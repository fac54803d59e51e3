"""The terms of service page in a real browser at phone size against `admit serve`: a file that
is neither PDF nor text is explained next to the field, a PDF is published and listed as the
current version with no acceptances yet, its document downloads, and the page fits the phone
and the desktop without scrolling sideways."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import backend, server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_publish_terms_from_a_phone_and_see_them_listed(page: Page, database_url: str, tmp_path: Path) -> None:
    kind = backend(database_url)
    wrong = tmp_path / "logo.pdf"
    wrong.write_bytes(b"\x89PNG\r\n\x1a\n not a pdf")
    terms = tmp_path / "Kessler terms 2026.pdf"
    terms.write_bytes(PDF)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        ws.sign_in(page)
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Terms", exact=True).click()
        expect(page.get_by_role("heading", name="Terms of service", exact=True)).to_be_visible()
        expect(page.get_by_text("No terms published yet.")).to_be_visible()
        upload = page.get_by_label("Document (PDF or text file)")
        upload.set_input_files(str(wrong))
        page.get_by_role("button", name="Publish", exact=True).click()
        expect(upload).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#document-error")).to_have_text("this file is named .pdf but is not a PDF")
        page.get_by_label("Document (PDF or text file)").set_input_files(str(terms))
        page.get_by_role("button", name="Publish", exact=True).click()
        expect(page.get_by_role("status")).to_have_text("Version 1 was published.")
        row = page.locator('tbody tr[data-version="1"]')
        expect(row).to_contain_text("Kessler terms 2026.pdf")
        expect(row).to_contain_text("Current")
        expect(row).to_contain_text("Olivia Stone")
        expect(row.locator("td.acceptances")).to_have_text("0")
        assert fits(page)
        screenshot(page, f"admin-terms-phone-{kind}")
        with page.expect_download() as download:
            row.get_by_role("link", name="Kessler terms 2026.pdf").click()
        assert download.value.suggested_filename == "Kessler terms 2026.pdf"
        assert Path(download.value.path()).read_bytes() == PDF
        page.set_viewport_size({"width": 1280, "height": 800})
        assert fits(page)
        screenshot(page, f"admin-terms-desktop-{kind}")
