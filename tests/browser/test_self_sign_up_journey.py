"""Self-sign-up in a real browser on a phone (390x844) against `admit serve`: a person signs up from
the workspace's sign-in page ("Create one now!"), picking their department, with the code from
the dev mailbox; then an administrator turns on approval and creates a department link in the
console, downloads its QR code and poster (both decode to the link's URL), a second person signs
up through the link and waits, the administrator approves them, and a paused link answers a
friendly page. Screenshots at phone and desktop sizes."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Locator, Page, expect
from support.browser import AdminWorkspace, open_email, screenshot
from support.pdfs import decode_png, qr_codes, read
from support.processes import backend, server

PASSWORD = "quartz-meadow-lantern-93"
PHONE = {"width": 390, "height": 844}


def fits(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def code_from_mailbox(page: Page, base: str) -> str:
    open_email(page, base, "Your verification code")
    found = re.search(r"\d{6}", page.get_by_role("heading", level=1).inner_text())
    assert found
    return found.group(0)


def download(page: Page, row: Locator, name: str) -> tuple[str, bytes]:
    """Click a download link in the row: the file name the browser offers and the bytes."""
    with page.expect_download() as started:
        row.get_by_role("link", name=name).click()
    file = started.value
    return file.suggested_filename, Path(file.path()).read_bytes()


def enter_code_and_password(page: Page, base: str, kind: str, name: str) -> None:
    expect(page.get_by_text("We sent a code to")).to_be_visible()
    code = code_from_mailbox(page, base)
    page.goto(f"{base}/sign-up/next")
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("is confirmed")).to_be_visible()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    screenshot(page, f"self-sign-up-password-{name}-phone-{kind}")
    page.get_by_role("button", name="Create account").click()


def test_self_sign_up_and_a_department_link_with_approval_on_a_phone(
    page: Page, browser: Browser, database_url: str
) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Pendant")
        shop = httpx.patch(
            f"{base}/api/v1/workspaces/{ws.id}",
            headers=ws.headers,
            json={"departments": ["Bakery", "Tills", "Warehouse"]},
        )
        assert shop.status_code == 200, shop.text
        enabled = httpx.patch(
            f"{base}/api/v1/workspaces/{ws.id}/signup-settings",
            headers=ws.headers,
            json={"enabled": True, "departments_pickable": ["Bakery", "Tills"]},
        )
        assert enabled.status_code == 200, enabled.text

        # 1. From the workspace's sign-in page, picking a department.
        page.goto(f"{base}/sign-in?workspace={ws.id}")
        page.get_by_role("link", name="Create one now!").click()
        expect(page.get_by_role("heading")).to_have_text("Join Pendant Floor")
        page.get_by_label("First name").fill("Ana")
        page.get_by_label("Last name").fill("Baker")
        page.get_by_label("Department").select_option("Bakery")
        page.get_by_label("Email address").fill("ana@pendant.example")
        fits(page)
        screenshot(page, f"self-sign-up-form-phone-{kind}")
        page.set_viewport_size({"width": 1280, "height": 900})
        screenshot(page, f"self-sign-up-form-desktop-{kind}")
        page.set_viewport_size(PHONE)
        page.get_by_role("button", name="Send me a code").click()
        enter_code_and_password(page, base, kind, "form")
        expect(page.get_by_role("heading")).to_have_text("You are in Pendant Floor")
        screenshot(page, f"self-sign-up-joined-phone-{kind}")

        # 2. The console: approval required, a link for the warehouse.
        admin = browser.new_context(viewport=PHONE).new_page()
        ws.sign_in(admin)
        admin.get_by_role("navigation", name="Administration").get_by_role("link", name="Sign-up").click()
        expect(admin.get_by_role("heading", name="Sign-up", exact=True)).to_be_visible()
        admin.get_by_label("An administrator approves each sign-up").check()
        admin.get_by_role("button", name="Save").click()
        expect(admin.get_by_role("status")).to_have_text("The sign-up settings were saved.")
        admin.locator("#link_department").select_option("Warehouse")
        admin.get_by_label("Maximum number of uses").fill("20")
        admin.get_by_role("button", name="Create link").click()
        expect(admin.get_by_role("status")).to_have_text("The sign-up link was created.")
        row = admin.locator("tbody tr", has_text="Warehouse")
        expect(row).to_contain_text("0 of 20")
        url = row.locator("input.link-url").input_value()
        assert url.startswith(f"{base}/join/adm_sul_")
        fits(admin)
        screenshot(admin, f"admin-signup-phone-{kind}")
        name, png = download(admin, row, "QR (PNG)")
        assert name == "signup-qr-warehouse.png" and decode_png(png) == [url]
        name, pdf = download(admin, row, "Poster (PDF)")
        assert name == "signup-poster-warehouse.pdf" and qr_codes(read(pdf).pages[0]) == [url]
        expect(admin.get_by_role("heading", name="Sign-up", exact=True)).to_be_visible()  # the page stays

        # 3. Through the link: the department is the link's; the person waits for approval.
        person = browser.new_context(viewport=PHONE).new_page()
        person.goto(url)
        expect(person.get_by_text("Department: Warehouse")).to_be_visible()
        person.get_by_label("First name").fill("Wes")
        person.get_by_label("Last name").fill("Shelf")
        person.get_by_label("Email address").fill("wes@pendant.example")
        person.get_by_role("button", name="Send me a code").click()
        enter_code_and_password(person, base, kind, "link")
        expect(person.get_by_text("An administrator will check your sign-up")).to_be_visible()
        screenshot(person, f"self-sign-up-waiting-phone-{kind}")

        # 4. Approved in the console: the member is active.
        admin.reload()
        waiting = admin.locator("#queue tbody tr", has_text="Wes Shelf")
        expect(waiting).to_contain_text("Warehouse")
        screenshot(admin, f"admin-signup-queue-phone-{kind}")
        admin.set_viewport_size({"width": 1280, "height": 900})
        screenshot(admin, f"admin-signup-queue-desktop-{kind}")
        admin.set_viewport_size(PHONE)
        waiting.get_by_role("button", name="Approve").click()
        expect(admin.get_by_role("status")).to_have_text("The sign-up was approved; the person was told.")
        expect(admin.locator("tbody tr", has_text="Warehouse")).to_contain_text("1 of 20")

        # 5. A paused link answers a friendly page.
        admin.locator("tbody tr", has_text="Warehouse").get_by_role("button", name="Pause").click()
        expect(admin.get_by_role("status")).to_have_text("The link is paused.")
        person.goto(url)
        expect(person.get_by_role("heading")).to_have_text("This sign-up link does not work")
        expect(person.get_by_text("This link is paused for now")).to_be_visible()
        fits(person)
        screenshot(person, f"self-sign-up-paused-phone-{kind}")
        person.goto(f"{base}/sign-in")
        person.get_by_label("Email, username or phone").fill("wes@pendant.example")
        person.get_by_label("Password", exact=True).fill(PASSWORD)
        person.get_by_role("button", name="Sign in").click()
        expect(person.get_by_role("heading", name="Sign in")).not_to_be_visible()
