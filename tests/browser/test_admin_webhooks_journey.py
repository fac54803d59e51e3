"""The webhooks page in a real browser at phone size against `admit serve` (which runs the webhook
worker): from Settings, add an endpoint (a refused address is shown next to its field, what was
typed is kept), see its secret once, send a test event to a receiver on loopback that verifies it
with the npm standardwebhooks library, and find the delivery in the log; then at desktop size."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import backend, server
from support.webhook_receiver import webhook_receiver


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


# The rules behind this page are tested over HTTP on both databases; the journey runs on one.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_add_an_endpoint_and_see_a_test_event_delivered_on_a_phone(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    with webhook_receiver() as receiver, server(database_url, ADMIT_DELIVERY_POLL_SECONDS="0.2") as base:
        receiver.now(datetime.now(UTC))
        ws = AdminWorkspace(database_url, base, "Kessler")
        ws.sign_in(page)
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Webhooks", exact=True).click()
        expect(page.get_by_text("No webhooks yet.")).to_be_visible()
        address = page.get_by_label("Address (https://)")
        address.fill("ftp://hooks.kessler.example/in")
        page.get_by_label("member.suspended").check()
        page.get_by_role("button", name="Add the endpoint").click()
        expect(address).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#url-error")).to_contain_text("https:// address")
        expect(address).to_have_value("ftp://hooks.kessler.example/in")
        expect(page.get_by_label("member.suspended")).to_be_checked()
        no_horizontal_scroll(page)
        screenshot(page, f"admin-webhooks-error-phone-{kind}")
        address.fill(f"{receiver.url}/kessler")  # http on loopback: dev mode
        page.get_by_role("button", name="Add the endpoint").click()
        expect(page.get_by_role("heading")).to_have_text("The endpoint is added")
        expect(page.get_by_role("alert")).to_have_text("Copy the secret now; it will not be shown again.")
        secret = page.locator("#webhook-secret").inner_text().strip()
        assert secret.startswith("whsec_")
        receiver.secrets(secret)
        no_horizontal_scroll(page)
        screenshot(page, f"admin-webhook-secret-phone-{kind}")
        page.get_by_role("link", name="Back to the webhooks").click()
        row = page.locator("tbody tr", has_text=f"{receiver.url}/kessler")
        expect(row).to_contain_text("member.suspended")
        expect(page.locator("main")).not_to_contain_text(secret)
        row.get_by_role("button", name="Send a test event").click()
        expect(page.get_by_role("status")).to_have_text("A test event is on its way.")
        no_horizontal_scroll(page)
        screenshot(page, f"admin-webhooks-phone-{kind}")
        deadline = time.monotonic() + 20
        while not receiver.received() and time.monotonic() < deadline:
            time.sleep(0.2)
        [got] = receiver.received()
        assert got["verified"] == [True] and got["envelope"]["type"] == "webhook.test"
        page.locator("tbody tr", has_text=f"{receiver.url}/kessler").get_by_role("link", name="Delivery log").click()
        expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
        attempt = page.locator("tr[data-attempt]").first
        expect(attempt).to_contain_text("200")
        expect(attempt).to_contain_text("thanks")
        expect(page.locator("tr[data-message]").first).to_contain_text(got["id"])
        no_horizontal_scroll(page)
        screenshot(page, f"admin-webhook-log-phone-{kind}")
        page.set_viewport_size({"width": 1280, "height": 800})
        no_horizontal_scroll(page)
        screenshot(page, f"admin-webhook-log-desktop-{kind}")
        page.get_by_role("link", name="Back to the webhooks").click()
        screenshot(page, f"admin-webhooks-desktop-{kind}")
