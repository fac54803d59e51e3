"""Access codes in a real browser against `admit serve`: an administrator adds a person without
email on the console (a name and an external ID), creates their access code (shown once), and the
person, on a 390x844 phone, opens the sign-in page, follows "I have an access code", types the
code in lower case with spaces, sees the workspace and their name, chooses a username and a
password and lands signed in; the code then fails as a code and as a password. Screenshots at
phone and desktop size, with no horizontal scrolling."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from support.browser import AdminWorkspace, screenshot
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
        admin.get_by_role("link", name="Add person").click()
        admin.get_by_label("First name").fill("Ana")
        admin.get_by_label("Last name").fill("Silva")
        admin.get_by_label("External ID").fill("E-4711")
        admin.get_by_role("button", name="Add and invite").click()
        expect(admin.get_by_role("heading", name="Ana Silva")).to_be_visible()
        expect(admin.locator("#code-state")).to_have_text("No access code yet.")
        admin.get_by_role("button", name="Create an access code").click()
        expect(admin.get_by_role("heading")).to_have_text("Access code for Ana Silva")
        code = admin.locator("#access-code").inner_text().strip()
        assert len(code) == 19 and code.count("-") == 3
        screenshot(admin, f"access-code-shown-desktop-{kind}")
        assert fits(admin)
        admin.set_viewport_size({"width": 390, "height": 844})
        screenshot(admin, f"access-code-shown-phone-{kind}")
        assert fits(admin)
        admin.set_viewport_size({"width": 1280, "height": 800})
        admin.get_by_role("link", name="Back to the person").click()
        expect(admin.locator("#code-state")).to_contain_text("A code is live until")
        expect(admin.locator("main")).not_to_contain_text(code)

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
        field.fill(code.lower().replace("-", " "))
        person.get_by_role("button", name="Continue").click()
        expect(person.get_by_role("heading", name="Join Lindgren Floor")).to_be_visible()
        expect(person.locator("main")).to_contain_text("Ana Silva")
        screenshot(person, f"access-code-redeem-phone-{kind}")
        assert fits(person)
        person.get_by_label("Choose a username").fill("ana.silva")
        person.get_by_label("Choose a password").fill(PASSWORD)
        person.get_by_role("button", name="Join and sign in").click()
        expect(person.get_by_role("heading", name="Lindgren Floor")).to_be_visible()
        expect(person).to_have_url(f"{base}/joined/{ws.id}")
        screenshot(person, f"access-code-joined-phone-{kind}")
        assert fits(person)
        person.set_viewport_size({"width": 1280, "height": 800})
        screenshot(person, f"access-code-joined-desktop-{kind}")

        again = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        again.goto(f"{base}/code?c={code}")
        expect(again.get_by_label("Access code")).to_have_value(code)
        again.get_by_role("button", name="Continue").click()
        expect(again.locator("#code-error")).to_contain_text("already been used")
        again.goto(f"{base}/sign-in")
        again.get_by_label("Email, username or phone").fill("ana.silva")
        again.get_by_label("Password", exact=True).fill(code)
        again.get_by_role("button", name="Sign in").click()
        expect(again.get_by_role("alert")).to_contain_text("not correct")
        admin.reload()
        expect(admin.locator("#code-state")).to_contain_text("The code was redeemed on")
        admin_context.close()
        phone_context.close()
