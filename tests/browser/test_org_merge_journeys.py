"""Organization invitations and merges in a real browser against `admit serve` (issue 17,
Smartsheet's "Invitation to join a Smartsheet account"), SQLite, one server for the module:

- a paid user opens the invitation email in the dev mailbox, follows its link, signs in, sees the
  merge plan (desktop and phone, no sideways scrolling), accepts, and their workspace moves;
- a business plan's system administrator's merge is refused for lack of licences (the page says
  how many are needed and free; nothing moves), the operator raises the seats with the CLI, and
  the same invitation is accepted;
- a signed-in person sees the invitation on their home page and declines it there; nothing else
  changes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text
from sqlalchemy.engine import Engine
from support.browser import open_email, screenshot
from support.processes import admit, field, invitation_link, server

from admit.adapters.persistence import migrate

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PASSWORD = "lantern-orchard-pebble-58"


@pytest.fixture(scope="module")
def base(sqlite_url: str) -> Iterator[str]:
    """One `admit serve` for the module's journeys (each uses organizations of its own)."""
    migrate.upgrade(sqlite_url)
    with server(sqlite_url) as url:
        yield url


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scrolling"


def _organization(database_url: str, name: str, plan: str, workspace: str) -> tuple[str, str]:
    org = field(admit(database_url, "org", "create", name, "--plan", plan).stdout, "id")
    return org, field(admit(database_url, "workspace", "create", org, workspace).stdout, "id")


def _person(database_url: str, base: str, workspace: str, email: str, first_name: str, *, claim: bool = True) -> None:
    admit(
        database_url, "member", "add", workspace, "--email", email, "--first-name", first_name,
        "--last-name", "Tester", "--role", "owner", ADMIT_BASE_URL=base,
    )  # fmt: skip
    if claim:
        token = invitation_link(database_url, email).rsplit("/", 1)[1]
        claimed = httpx.post(f"{base}/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
        assert claimed.status_code == 200, claimed.text


def _sign_in(page: Page, email: str) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email, username or phone").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _org_of(engine: Engine, workspace: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(text("SELECT organization_id FROM workspaces WHERE id = :w"), {"w": workspace}).one()[0]
        )


def _invitation(engine: Engine, org: str) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT state, refusal FROM organization_invitations WHERE organization_id = :o"), {"o": org}
        ).one()
    return str(row[0]), row[1]


def test_a_paid_user_follows_the_email_sees_the_merge_plan_and_joins(
    page: Page, base: str, database_url: str, engine: Engine
) -> None:
    globex, _ = _organization(database_url, "Globex", "business", "Globex HQ")
    studio, studio_ws = _organization(database_url, "Pat Studio", "pro", "Pat Sketches")
    _person(database_url, base, studio_ws, "pat@studio.example", "Pat")
    admit(database_url, "org", "invite", globex, "pat@studio.example", ADMIT_BASE_URL=base)

    open_email(page, base, "You are invited to join the account of Globex")
    email = page.frame_locator("iframe")
    link = email.get_by_role("link", name="Accept").get_attribute("href")
    assert link is not None and link.startswith(f"{base}/org-invitations/adm_oin_")
    assert email.get_by_role("link", name="Decline").get_attribute("href") == f"{link}?answer=decline"
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Join the account of Globex?")
    expect(page.get_by_text("Sent to pat@studio.example")).to_be_visible()
    page.get_by_role("link", name="Sign in to answer").click()
    _sign_in(page, "pat@studio.example")

    expect(page.get_by_role("heading", level=1)).to_have_text("Join the account of Globex?")
    plan = page.get_by_role("region", name="What accepting does")
    expect(plan).to_contain_text("Your account Pat Studio is acquired by Globex: its billing stops and it is closed.")
    expect(plan).to_contain_text("Workspaces that move: 1 (Pat Sketches)")
    expect(plan).to_contain_text("People who move: 1")
    expect(plan).to_contain_text("Licences needed: 1 (licences are not enforced)")
    page.set_viewport_size({"width": 1280, "height": 800})
    _no_sideways_scroll(page)
    screenshot(page, "org-merge-plan-desktop-sqlite")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_role("button", name="Accept and join")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "org-merge-plan-phone-sqlite")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Accept and join").click()
    expect(page.get_by_role("status")).to_have_text("You joined the organization's account.")
    expect(page.get_by_role("region", name="Your workspaces")).to_contain_text("Pat Sketches")
    assert _org_of(engine, studio_ws) == globex
    assert _invitation(engine, globex) == ("accepted", None)
    with engine.connect() as conn:
        closed = conn.execute(text("SELECT plan, seats FROM organizations WHERE id = :o"), {"o": studio}).one()
    assert tuple(closed) == ("free", 0)  # the acquired account is closed: its billing stops


def test_a_business_merge_refused_for_lack_of_licences_is_accepted_once_seats_are_raised(
    page: Page, base: str, database_url: str, engine: Engine
) -> None:
    initech, _ = _organization(database_url, "Initech", "business", "Initech Main")
    admit(database_url, "org", "seats", initech, "--seats", "1", "--enforce")
    hooli, campus = _organization(database_url, "Hooli", "business", "Hooli Campus")
    _person(database_url, base, campus, "gavin@hooli.example", "Gavin")
    admit(database_url, "org", "admin", "add", hooli, "gavin@hooli.example")
    for email in ("dinesh@hooli.example", "gilfoyle@hooli.example"):
        admit(database_url, "member", "add", campus, "--email", email, "--no-invite")
    admit(database_url, "org", "invite", initech, "gavin@hooli.example", ADMIT_BASE_URL=base)

    page.goto(f"{base}/sign-in?next=/")
    _sign_in(page, "gavin@hooli.example")
    card = page.locator(".invitation-card", has_text="Initech")
    card.get_by_role("link", name="See what joining changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join the account of Initech?")
    plan = page.get_by_role("region", name="What accepting does")
    expect(plan).to_contain_text("People who move: 3")
    expect(plan).to_contain_text("Licences needed: 3; available: 1")
    expect(plan).to_contain_text("System administrators who lose the role: 1")
    expect(plan.get_by_role("alert")).to_contain_text("Initech needs 3 free licences")
    here = page.url
    page.get_by_role("button", name="Accept and join").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This invitation cannot be accepted now: Initech needs 3 free licences for the licensed users acquired"
        " and has 1; nothing moves until it has enough."
    )
    expect(plan).to_contain_text("Licence enforcement becomes the inviting account's")
    _no_sideways_scroll(page)
    screenshot(page, "org-merge-refused-desktop-sqlite")
    assert _org_of(engine, campus) == hooli  # nothing moved
    state, refusal = _invitation(engine, initech)
    assert state == "pending" and refusal is not None and "needs 3 free licences" in refusal  # the inviting side knows
    assert "gavin@hooli.example" in admit(database_url, "org", "admin", "list", hooli).stdout

    admit(database_url, "org", "seats", initech, "--seats", "3", "--enforce")
    page.goto(here)
    expect(page.get_by_role("region", name="What accepting does")).to_contain_text("Licences needed: 3; available: 3")
    page.get_by_role("button", name="Accept and join").click()
    expect(page.get_by_role("status")).to_have_text("You joined the organization's account.")
    assert _org_of(engine, campus) == initech
    assert _invitation(engine, initech) == ("accepted", None)
    assert "gavin@hooli.example" not in admit(database_url, "org", "admin", "list", hooli).stdout


def test_a_signed_in_person_declines_on_the_home_page_and_nothing_changes(
    page: Page, base: str, database_url: str, engine: Engine
) -> None:
    umbrella, _ = _organization(database_url, "Umbrella", "business", "Umbrella Labs")
    _, corner_ws = _organization(database_url, "Corner", "free", "Corner Shop")
    _person(database_url, base, corner_ws, "jill@corner.example", "Jill")
    page.goto(f"{base}/sign-in?next=/")
    _sign_in(page, "jill@corner.example")
    admit(database_url, "org", "invite", umbrella, "jill@corner.example", ADMIT_BASE_URL=base)
    page.reload()
    card = page.locator(".invitation-card", has_text="Umbrella")
    expect(card).to_contain_text("You are invited to join the account of Umbrella.")
    card.get_by_role("link", name="Decline").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join the account of Umbrella?")
    expect(page.get_by_role("button", name="Accept and join")).to_have_count(0)
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("status")).to_have_text(
        "Invitation to join the account declined. Nothing else has changed."
    )
    expect(page.locator(".invitation-card", has_text="Umbrella")).to_have_count(0)
    assert _invitation(engine, umbrella) == ("declined", None)
    assert _org_of(engine, corner_ws) != umbrella
    with engine.connect() as conn:
        joined = conn.execute(text("SELECT count(*) FROM members WHERE organization_id = :o"), {"o": umbrella})
        assert joined.scalar_one() == 0
