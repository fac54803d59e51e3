"""Dead invitation links in a real browser, on SQLite and PostgreSQL: the emailed link of an
invitation that expired, was revoked, already used, declined or replaced by a resend, a garbage
token and /welcome without a cookie each get their own explanation, the right status (410 for an
ended invitation, 404 for an invalid or missing one) and no password or accept form. An expired
link can ask for a new invitation, which tells the workspace's admin at most once a day.

The server runs on the real clock, so "expired" is reached by moving the invitation's expiry into the
past in the database and letting `admit invitations expire` do the rest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update
from sqlalchemy.engine import Engine
from support.browser import screenshot
from support.processes import admit, backend, field, server

from admit.adapters.persistence.tables import invitations

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PASSWORD = "copper-willow-harbor-58"
INVITEE_FORMS = ", ".join(  # every way onwards from a live invitation
    f"form[action='/welcome/{action}']" for action in ("claim", "accept", "decline", "sign-up", "verify")
)


def _workspace(database_url: str, name: str, *options: str) -> tuple[str, str]:
    """A new organization and workspace; returns their ids."""
    org = field(admit(database_url, "org", "create", f"{name} Org").stdout, "id")
    return org, field(admit(database_url, "workspace", "create", org, name, *options).stdout, "id")


def _outbox(database_url: str) -> list[dict[str, str]]:
    """The rows of `admit outbox list --reveal`, newest first."""
    lines = admit(database_url, "outbox", "list", "--reveal").stdout.splitlines()
    header = next((line for line in lines if line.startswith("┃")), None)
    if header is None:
        return []
    names = [cell.strip() for cell in header.strip("┃").split("┃")]
    return [
        dict(zip(names, (cell.strip() for cell in line.strip("│").split("│")), strict=True))
        for line in lines
        if line.startswith("│")
    ]


def _link(database_url: str, email: str) -> str:
    """The newest invitation link emailed to ``email``."""
    links = [row["link"] for row in _outbox(database_url) if row["recipient"] == email and "/i/adm_inv_" in row["link"]]
    assert links, f"no invitation link for {email}"
    return links[0]


def _invite(database_url: str, base: str, workspace: str, email: str, *options: str) -> tuple[str, str]:
    """Invite ``email`` with the CLI; returns the invitation's id and its emailed link."""
    invitation = field(admit(database_url, "invite", workspace, email, *options, ADMIT_BASE_URL=base).stdout, "id")
    return invitation, _link(database_url, email)


def _claim(base: str, link: str) -> None:
    token = link.rsplit("/", 1)[1]
    response = httpx.post(f"{base}/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert response.status_code == 200, response.text


def _api(database_url: str, base: str, org: str, path: str) -> None:
    """POST to the admin REST API with a fresh API token of the organization."""
    token = field(admit(database_url, "token", "create", org).stdout, "token")
    response = httpx.post(f"{base}/api/v1{path}", json={}, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def _expire(database_url: str, engine: Engine, workspace: str, invitation: str) -> None:
    """Move the invitation's expiry into the past (there is no clock to move), then sweep."""
    with engine.begin() as conn:
        past = datetime.now(UTC) - timedelta(minutes=1)
        conn.execute(update(invitations).where(invitations.c.id == invitation).values(expires_at=past))
    assert "Expired 1 invitation(s)" in admit(database_url, "invitations", "expire").stdout
    assert invitation in admit(database_url, "invitations", "list", workspace, "--state", "expired").stdout


def _reinvite_requests(database_url: str) -> list[dict[str, str]]:
    return [row for row in _outbox(database_url) if row["kind"] == "reinvite_requested"]


@contextmanager
def _fresh_page(browser: Browser) -> Iterator[Page]:
    """A page in a new browser context: no cookies from earlier visits."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def _open_dead_link(page: Page, url: str, *, status: int, heading: str, explanation: str, shot: str) -> None:
    """Open ``url``; the dead-link page explains itself, answers ``status`` and offers no way in."""
    response = page.goto(url)
    assert response is not None
    expect(page).to_have_url(re.compile(r"/welcome$"))
    expect(page.get_by_role("heading")).to_have_text(heading)
    expect(page.locator(".card p")).to_contain_text(explanation)
    expect(page.locator("input[type=password]")).to_have_count(0)
    expect(page.locator(INVITEE_FORMS)).to_have_count(0)
    screenshot(page, shot)
    assert response.status == status, f"{url} answered {response.status}, not {status}"


def test_expired_link_asks_for_a_new_invitation_once_a_day(page: Page, database_url: str, engine: Engine) -> None:
    _, ws = _workspace(database_url, "Sternwood")
    with server(database_url) as base:
        _claim(base, _invite(database_url, base, ws, "vivian@sternwood.example", "--role", "admin")[1])
        invitation, link = _invite(database_url, base, ws, "carmen@sternwood.example")
        _expire(database_url, engine, ws, invitation)
        _open_dead_link(
            page,
            link,
            status=410,
            heading="This invitation has expired",
            explanation="Invitations are valid for a limited time.",
            shot=f"dead-link-expired-{backend(database_url)}",
        )
        page.get_by_role("button", name="Ask for a new invitation").click()
        expect(page.get_by_role("heading")).to_have_text("Request sent")
        expect(page.get_by_text("The workspace's administrators have been told")).to_be_visible()
        screenshot(page, f"dead-link-expired-asked-{backend(database_url)}")
        [request] = _reinvite_requests(database_url)
        assert request["recipient"] == "vivian@sternwood.example" and request["channel"] == "email", request
        page.goto(link)  # the same link again, the same day: the same answer, but nobody is told twice
        page.get_by_role("button", name="Ask for a new invitation").click()
        expect(page.get_by_role("heading")).to_have_text("Request sent")
        expect(page.get_by_text("You asked already today")).to_be_visible()
        assert [row["id"] for row in _reinvite_requests(database_url)] == [request["id"]]


def test_revoked_link(page: Page, database_url: str) -> None:
    org, ws = _workspace(database_url, "Rusty Regan")
    with server(database_url) as base:
        invitation, link = _invite(database_url, base, ws, "mona@regan.example")
        _api(database_url, base, org, f"/invitations/{invitation}/revoke")
        _open_dead_link(
            page,
            link,
            status=410,
            heading="This invitation was withdrawn",
            explanation="The workspace withdrew this invitation.",
            shot=f"dead-link-revoked-{backend(database_url)}",
        )


def test_already_used_link(page: Page, database_url: str) -> None:
    _, ws = _workspace(database_url, "Geiger Books")
    with server(database_url) as base:
        _, link = _invite(database_url, base, ws, "agnes@geiger.example")
        _claim(base, link)
        _open_dead_link(
            page,
            link,
            status=410,
            heading="This invitation has already been used",
            explanation="The invitation was accepted already.",
            shot=f"dead-link-already-used-{backend(database_url)}",
        )
        expect(page.get_by_role("link", name="Sign in")).to_have_attribute("href", "/sign-in")


def test_declined_link(page: Page, browser: Browser, database_url: str) -> None:
    _, ws = _workspace(database_url, "Brody Films")
    with server(database_url) as base:
        _, link = _invite(database_url, base, ws, "joe@brody.example")
        page.goto(link)
        page.get_by_role("button", name="Decline invitation").click()
        expect(page.get_by_role("heading")).to_have_text("Invitation declined")
        with _fresh_page(browser) as fresh:
            _open_dead_link(
                fresh,
                link,
                status=410,
                heading="This invitation was declined",
                explanation="The invitation was declined, so it can no longer be used.",
                shot=f"dead-link-declined-{backend(database_url)}",
            )


def test_replaced_link_and_the_new_one_still_works(page: Page, browser: Browser, database_url: str) -> None:
    org, ws = _workspace(database_url, "Mars Club")
    with server(database_url) as base:
        invitation, old = _invite(database_url, base, ws, "eddie@mars.example")
        _api(database_url, base, org, f"/invitations/{invitation}/resend")
        new = _link(database_url, "eddie@mars.example")
        assert new != old
        _open_dead_link(
            page,
            old,
            status=410,
            heading="A newer invitation was sent",
            explanation="only the newest link works",
            shot=f"dead-link-replaced-{backend(database_url)}",
        )
        with _fresh_page(browser) as fresh:
            assert (response := fresh.goto(new)) is not None and response.status == 200
            expect(fresh.get_by_role("heading")).to_have_text("You are invited to Mars Club")
            expect(fresh.get_by_role("button", name="Decline invitation")).to_be_visible()


def test_garbage_token_is_invalid(page: Page, database_url: str) -> None:
    with server(database_url) as base:
        _open_dead_link(
            page,
            f"{base}/i/adm_inv_nonsense",
            status=404,
            heading="This link is not valid",
            explanation="The link may be incomplete.",
            shot=f"dead-link-invalid-{backend(database_url)}",
        )


def test_welcome_without_a_cookie_is_missing(page: Page, database_url: str) -> None:
    with server(database_url) as base:
        _open_dead_link(
            page,
            f"{base}/welcome",
            status=404,
            heading="No invitation to continue",
            explanation="Open the link in your invitation message again to continue.",
            shot=f"dead-link-missing-{backend(database_url)}",
        )


def test_german_invitee_sees_the_expired_page_in_german(page: Page, database_url: str, engine: Engine) -> None:
    _, ws = _workspace(database_url, "Brandt Werke", "--language", "de")
    with server(database_url) as base:
        invitation, link = _invite(database_url, base, ws, "greta@brandt.example")
        _expire(database_url, engine, ws, invitation)
        page.goto(link)
        screenshot(page, f"dead-link-expired-german-{backend(database_url)}")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_role("heading")).to_have_text("Diese Einladung ist abgelaufen")
        expect(page.get_by_role("button", name="Um eine neue Einladung bitten")).to_be_visible()
