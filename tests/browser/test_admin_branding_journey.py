"""Branding in a real browser against `admit serve`: an administrator sets an accent colour (a
colour too light for white text is explained next to the field) and uploads a PNG logo on the
settings page; an invited person then opens their link and sees the logo and the colour on the
welcome page. Screenshots of the branding section and the branded welcome page at desktop
(1280×800) and phone (390×844) size, neither scrolling sideways."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from support.browser import SCREENSHOTS, AdminWorkspace, screenshot
from support.images import png
from support.processes import backend, invitation_link, server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def loaded_width(page: Page, selector: str) -> int:
    """The image's width in pixels once it has loaded (0: it did not)."""
    page.wait_for_function(f"document.querySelector('{selector}').complete")
    return int(page.evaluate(f"document.querySelector('{selector}').naturalWidth"))


def section_shot(page: Page, name: str) -> None:
    """The Branding and Logo sections of the settings page (one picture; page coordinates)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    top = page.locator("section", has=page.get_by_role("heading", name="Branding"))
    bottom = page.locator("section", has=page.get_by_role("heading", name="Logo", exact=True))
    first = top.evaluate("e => e.getBoundingClientRect().top + window.scrollY")
    last = bottom.evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
    width = page.evaluate("document.documentElement.clientWidth")
    clip = {"x": 0, "y": first - 8, "width": width, "height": last - first + 16}
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, clip=clip)


def test_an_admin_brands_the_workspace_and_an_invitee_sees_it(page: Page, database_url: str, tmp_path: Path) -> None:
    kind = backend(database_url)
    logo = tmp_path / "kessler.png"
    logo.write_bytes(png(160, 48, rgb=(122, 31, 0)))
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Kessler")
        page.set_viewport_size(DESKTOP)
        ws.sign_in(page)
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Settings").click()
        expect(page.get_by_role("heading", name="Branding")).to_be_visible()
        colour = page.get_by_label("Accent colour (optional)")
        colour.fill("#FFE066")
        page.get_by_role("button", name="Save settings").click()
        expect(colour).to_have_attribute("aria-invalid", "true")
        expect(colour).to_have_value("#FFE066")
        expect(page.locator("#accent_color-error")).to_contain_text("dark enough")
        colour.fill("#7A1F00")
        expect(page.get_by_label("Pick the accent colour")).to_have_value("#7a1f00")  # kept in step by script
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("status")).to_have_text("Settings saved.")
        expect(page.get_by_label("Accent colour (optional)")).to_have_value("#7a1f00")

        page.get_by_label("Upload a logo (PNG or SVG)").set_input_files(str(logo))
        page.get_by_role("button", name="Upload logo").click()
        expect(page.get_by_role("status")).to_have_text("The logo was saved.")
        preview = page.get_by_role("img", name="Logo of Kessler Floor")
        expect(preview).to_be_visible()
        assert loaded_width(page, "img.logo-preview") == 160
        assert fits(page)
        section_shot(page, f"admin-branding-desktop-{kind}")
        page.set_viewport_size(PHONE)
        assert fits(page)
        section_shot(page, f"admin-branding-phone-{kind}")

        ws.provision("ida@kessler.example", "Ida", invite=True)
        browser = page.context.browser
        assert browser is not None
        invitee = browser.new_context(viewport=PHONE).new_page()  # a browser of her own, not signed in
        invitee.goto(invitation_link(database_url, "ida@kessler.example"))
        expect(invitee.get_by_role("heading", name="You are invited to Kessler Floor")).to_be_visible()
        shown = invitee.get_by_role("img", name="Kessler Floor")
        expect(shown).to_be_visible()
        assert loaded_width(invitee, "img.brand-logo") == 160  # loaded under the page's CSP
        assert (shown.bounding_box() or {"height": 99})["height"] <= 48
        button = invitee.locator("main button[type=submit]").first
        expect(button).to_have_css("background-color", "rgb(122, 31, 0)")
        assert fits(invitee)
        screenshot(invitee, f"branded-welcome-phone-{kind}")
        invitee.set_viewport_size(DESKTOP)
        assert fits(invitee)
        screenshot(invitee, f"branded-welcome-desktop-{kind}")
        invitee.context.close()
