"""Helpers for the browser tests: screenshots of the pages they visit (for people to look at),
the dev mailbox, and a workspace whose owner can sign in to the admin pages."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from support.processes import admit, field, invitation_link

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_email(page: Page, base: str, subject: str) -> None:
    """Open the newest message with this subject in the dev mailbox once the worker has sent it."""
    page.goto(f"{base}/dev/mailbox")
    deadline = time.monotonic() + 20
    row = page.locator("tbody tr", has_text=subject).first
    while time.monotonic() < deadline and (row.count() == 0 or "sent" not in row.inner_text()):
        time.sleep(0.2)
        page.reload()
    row.get_by_role("link").first.click()


class AdminWorkspace:
    """A workspace with an owner who has claimed their account, and an API token to provision
    people awaiting invitation quickly."""

    PASSWORD = "saddle-beacon-thimble-47"

    def __init__(self, database_url: str, base: str, name: str) -> None:
        self.database_url, self.base = database_url, base
        org = field(admit(database_url, "org", "create", name).stdout, "id")
        self.id = field(admit(database_url, "workspace", "create", org, f"{name} Floor").stdout, "id")
        self.owner = f"owner@{name.lower()}.example"
        admit(
            database_url,
            *("member", "add", self.id, "--email", self.owner),
            *("--first-name", "Olivia", "--last-name", "Stone", "--role", "owner"),
            ADMIT_BASE_URL=base,
        )
        token = invitation_link(database_url, self.owner).rsplit("/", 1)[1]
        claimed = httpx.post(f"{base}/api/v1/invitations/accept", json={"token": token, "password": self.PASSWORD})
        assert claimed.status_code == 200, claimed.text
        api_token = field(admit(database_url, "token", "create", org, "--role", "admin").stdout, "token")
        self.headers = {"authorization": f"Bearer {api_token}"}

    def provision(self, email: str, first_name: str, **extra: Any) -> None:
        response = httpx.post(
            f"{self.base}/api/v1/workspaces/{self.id}/members",
            headers=self.headers,
            json={"email": email, "first_name": first_name, "last_name": "Frontline", "invite": False, **extra},
        )
        assert response.status_code == 201, response.text

    def sign_in(self, page: Page) -> None:
        """Through the real sign-in page, starting from the admin pages."""
        page.goto(f"{self.base}/admin")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Email, username or phone").fill(self.owner)
        page.get_by_label("Password", exact=True).fill(self.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Administration")).to_be_visible()
        page.get_by_role("link", name=re.compile("Floor$")).click()
        expect(page.get_by_role("heading", name="People")).to_be_visible()
