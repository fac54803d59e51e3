"""Access codes in a real browser against `admit serve`: an administrator adds three people without
email on the console (a name and an external ID each), selects them on the access-codes page and
downloads the code sheet (PDF); the test reads the sheet and decodes each card's QR code back to
the redeem address with the code. One person, on a 390x844 phone, opens the sign-in page, follows
"I have an access code", types the code from the sheet in lower case with spaces, sees the
workspace and their name, chooses a username and a password and lands signed in; the code then
fails as a code and as a password. Another opens their QR code's address (the code filled in) and
joins. For the third the administrator creates a new code (shown once), which withdraws the
printed one. Then a username + phone member activates with the access code sent by SMS, and later
signs in with the username, the phone number, and an email address they added themselves
(confirmed by a code). Screenshots at phone and desktop size, with no horizontal scrolling."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect
from support.browser import AdminWorkspace, open_email, screenshot
from support.pdfs import qr_codes, read, text_of
from support.processes import backend, server

PASSWORD = "harbor-violet-anchor-93"


def fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_admin_makes_a_code_and_a_person_redeems_it_on_a_phone(browser: Browser, database_url: str) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Lindgren")
        admin_context = browser.new_context(viewport={"width": 1280, "height": 800})
        admin = admin_context.new_page()
        ws.sign_in(admin)
        people = {"Ana": "E-4711", "Ben": "E-4712", "Cleo": "E-4713"}
        for first, external_id in people.items():
            admin.goto(f"{base}/admin/{ws.id}/people")
            admin.get_by_role("link", name="Add person").click()
            admin.get_by_label("First name").fill(first)
            admin.get_by_label("Last name").fill("Silva")
            admin.get_by_label("External ID").fill(external_id)
            admin.get_by_role("button", name="Add and invite").click()
            expect(admin.get_by_role("heading", name=f"{first} Silva")).to_be_visible()
            expect(admin.locator("#code-state")).to_have_text("No access code yet.")

        # The code sheet for the three, printed from the console's access-codes page.
        admin.get_by_role("link", name="Access codes for people without email").click()
        for first in people:
            admin.get_by_label(f"{first} Silva").check()
        screenshot(admin, f"access-code-sheet-selection-desktop-{kind}")
        assert fits(admin)
        with admin.expect_download() as downloaded:
            admin.get_by_role("button", name="Print sheet (PDF)").click()
        pdf = Path(downloaded.value.path()).read_bytes()
        text = text_of(pdf)
        assert all(f"{first} Silva" in text for first in people) and "Lindgren Floor" in text
        urls = [url for page in read(pdf).pages for url in qr_codes(page)]
        assert len(urls) == 3 and all(url.startswith(f"{base}/code?c=") for url in urls)
        codes = [url.split("?c=", 1)[1] for url in urls]
        assert len(set(codes)) == 3 and all(len(c) == 19 and c.count("-") == 3 and c in text for c in codes)

        # The first types the code from the sheet on a phone.
        phone_context = browser.new_context(viewport={"width": 390, "height": 844})
        person = phone_context.new_page()
        person.goto(f"{base}/sign-in")
        person.get_by_role("link", name="I have an access code").click()
        expect(person.get_by_role("heading", name="Enter your access code")).to_be_visible()
        field = person.get_by_label("Access code")
        expect(field).to_have_attribute("autocomplete", "off")
        expect(field).to_have_attribute("autocapitalize", "characters")
        field.fill("2222 2222 2222 2222")
        person.get_by_role("button", name="Continue").click()
        expect(person.locator("#code-error")).to_contain_text("not valid")
        expect(field).to_have_value("2222 2222 2222 2222")
        screenshot(person, f"access-code-wrong-phone-{kind}")
        code = codes[0]
        field.fill(code.lower().replace("-", " "))
        person.get_by_role("button", name="Continue").click()
        expect(person.get_by_role("heading", name="Join Lindgren Floor")).to_be_visible()
        main = person.locator("main").inner_text()
        [first_name] = [first for first in people if f"{first} Silva" in main]
        screenshot(person, f"access-code-redeem-phone-{kind}")
        assert fits(person)
        username = f"{first_name.lower()}.silva"
        person.get_by_label("Choose a username").fill(username)
        person.get_by_label("Choose a password").fill(PASSWORD)
        person.get_by_role("button", name="Join and sign in").click()
        expect(person.get_by_role("heading", name="Lindgren Floor")).to_be_visible()
        expect(person).to_have_url(f"{base}/joined/{ws.id}")
        screenshot(person, f"access-code-joined-phone-{kind}")
        assert fits(person)
        person.set_viewport_size({"width": 1280, "height": 800})
        screenshot(person, f"access-code-joined-desktop-{kind}")

        # The second opens their QR code's address: the code is filled in.
        scanned = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        scanned.goto(urls[1])
        expect(scanned.get_by_label("Access code")).to_have_value(codes[1])
        scanned.get_by_role("button", name="Continue").click()
        expect(scanned.get_by_role("heading", name="Join Lindgren Floor")).to_be_visible()
        main = scanned.locator("main").inner_text()
        [second_name] = [first for first in people if f"{first} Silva" in main]
        assert second_name != first_name
        scanned.get_by_label("Choose a username").fill(f"{second_name.lower()}.silva")
        scanned.get_by_label("Choose a password").fill(PASSWORD)
        scanned.get_by_role("button", name="Join and sign in").click()
        expect(scanned).to_have_url(f"{base}/joined/{ws.id}")

        # The third gets a new code on their page, shown once; the printed one stops working.
        [third_name] = [first for first in people if first not in (first_name, second_name)]
        admin.goto(f"{base}/admin/{ws.id}/people")
        admin.get_by_role("link", name=f"{third_name} Silva").click()
        expect(admin.locator("#code-state")).to_contain_text("A code is live until")
        admin.get_by_role("button", name="Create a new access code").click()
        expect(admin.get_by_role("heading")).to_have_text(f"Access code for {third_name} Silva")
        shown = admin.locator("#access-code").inner_text().strip()
        assert len(shown) == 19 and shown.count("-") == 3 and shown != codes[2]
        screenshot(admin, f"access-code-shown-desktop-{kind}")
        assert fits(admin)
        admin.set_viewport_size({"width": 390, "height": 844})
        screenshot(admin, f"access-code-shown-phone-{kind}")
        assert fits(admin)
        admin.set_viewport_size({"width": 1280, "height": 800})
        admin.get_by_role("link", name="Back to the person").click()
        expect(admin.locator("#code-state")).to_contain_text("A code is live until")
        expect(admin.locator("main")).not_to_contain_text(shown)
        printed = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        printed.goto(urls[2])
        printed.get_by_role("button", name="Continue").click()
        expect(printed.locator("#code-error")).to_be_visible()
        expect(printed.get_by_role("heading", name="Join Lindgren Floor")).to_have_count(0)

        again = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        again.goto(f"{base}/code?c={code}")
        expect(again.get_by_label("Access code")).to_have_value(code)
        again.get_by_role("button", name="Continue").click()
        expect(again.locator("#code-error")).to_contain_text("already been used")
        again.goto(f"{base}/sign-in")
        again.get_by_label("Email, username or phone").fill(username)
        again.get_by_label("Password", exact=True).fill(code)
        again.get_by_role("button", name="Sign in").click()
        expect(again.get_by_role("alert")).to_contain_text("not correct")
        admin.goto(f"{base}/admin/{ws.id}/people")
        admin.get_by_role("link", name=f"{first_name} Silva").click()
        expect(admin.locator("#code-state")).to_contain_text("The code was redeemed on")
        admin_context.close()
        phone_context.close()


def newest_message(page: Page, base: str, recipient: str, pattern: str) -> str:
    """The first match of ``pattern`` in the newest message to ``recipient`` the dev mailbox lists."""
    deadline = time.monotonic() + 20
    while True:
        page.goto(f"{base}/dev/mailbox")
        rows = page.locator("tbody tr", has_text=recipient)
        for index in range(rows.count()):
            found = re.search(pattern, rows.nth(index).inner_text())
            if found:
                return found.group(0)
        assert time.monotonic() < deadline, f"no message to {recipient} matching {pattern}"
        time.sleep(0.2)


def sign_in_as(page: Page, base: str, identifier: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email, username or phone").fill(identifier)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello Tom")).to_be_visible()


def sign_out(page: Page, base: str) -> None:
    page.goto(f"{base}/")
    page.get_by_role("button", name="Sign out").click()


def test_a_username_and_phone_member_activates_by_sms_code_and_adds_an_email(
    browser: Browser, database_url: str
) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Harbour")
        sms = httpx.patch(f"{base}/api/v1/workspaces/{ws.id}", headers=ws.headers, json={"sms_enabled": True})
        assert sms.status_code == 200, sms.text
        admin = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        ws.sign_in(admin)
        admin.get_by_role("link", name="Add person").click()
        admin.get_by_label("Username").fill("tom.berg")
        admin.get_by_label("Phone").fill("+41791234567")
        admin.get_by_label("First name").fill("Tom")
        admin.get_by_label("Last name").fill("Berg")
        admin.get_by_role("button", name="Add and invite").click()
        expect(admin.get_by_role("status")).to_contain_text("Tom Berg was added and invited.")
        admin.get_by_role("link", name="Tom Berg").click()
        admin.get_by_role("button", name="Send a new code by SMS").click()
        expect(admin.locator("#code-state")).to_contain_text("A code is live until")

        # On the phone: the code from the text message, typed; the username is already theirs.
        phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        code = newest_message(phone, base, "+41791234567", r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}")
        phone.goto(f"{base}/sign-in")
        phone.get_by_role("link", name="I have an access code").click()
        phone.get_by_label("Access code").fill(code)
        phone.get_by_role("button", name="Continue").click()
        expect(phone.get_by_role("heading", name="Join Harbour Floor")).to_be_visible()
        expect(phone.locator("main")).to_contain_text("Tom Berg")
        expect(phone.get_by_label("Choose a username")).to_have_count(0)
        phone.get_by_label("Choose a password").fill(PASSWORD)
        phone.get_by_role("button", name="Join and sign in").click()
        expect(phone).to_have_url(f"{base}/joined/{ws.id}")

        # Later: signs in with the username, then with the phone number.
        sign_out(phone, base)
        sign_in_as(phone, base, "tom.berg")
        sign_out(phone, base)
        sign_in_as(phone, base, "+41 79 123 45 67")

        # Adds an email address, confirmed by the code sent to it; then signs in with it.
        phone.get_by_role("link", name="Add an email address").click()
        expect(phone.get_by_role("heading", name="Add an email address")).to_be_visible()
        phone.get_by_label("Email address").fill("tom@harbour.example")
        phone.get_by_role("button", name="Send me a code").click()
        expect(phone.get_by_text("We sent a code to tom@harbour.example")).to_be_visible()
        screenshot(phone, f"add-email-code-phone-{kind}")
        assert fits(phone)
        open_email(phone, base, "Your verification code")
        expect(phone.locator("body")).to_contain_text("tom@harbour.example")
        found = re.search(r"\b\d{6}\b", phone.get_by_role("heading", level=1).inner_text())
        assert found
        verification = found.group(0)
        phone.goto(f"{base}/settings/email")
        phone.get_by_label("Verification code").fill(verification)
        phone.get_by_role("button", name="Add the address").click()
        expect(phone.get_by_role("status")).to_contain_text("The address was added")
        expect(phone.locator("#signs-in-with")).to_contain_text("tom@harbour.example")
        screenshot(phone, f"add-email-added-phone-{kind}")
        assert fits(phone)
        sign_out(phone, base)
        sign_in_as(phone, base, "tom@harbour.example")
        expect(phone.get_by_text("Harbour Floor")).to_be_visible()
