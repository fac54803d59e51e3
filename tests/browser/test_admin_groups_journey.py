"""Groups in a real browser against `admit serve`, at desktop and phone size: from People to
Groups, create a group, add two people picked from the workspace, set the role the group
grants, and see the group on a person's page; no page scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import backend, server


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scrolling"


@pytest.mark.parametrize(("size", "width", "height"), [("phone", 390, 844)])  # the desktop layout: other journeys
# The rules behind this page are tested over HTTP on both databases; the journey runs on one
# (the suite's time goes to browser runs).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_create_a_group_add_two_people_and_see_it_on_a_person(
    page: Page, database_url: str, size: str, width: int, height: int
) -> None:
    kind = backend(database_url)
    page.set_viewport_size({"width": width, "height": height})
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Grady")
        ws.provision("ada@grady.example", "Ada")
        ws.provision("bo@grady.example", "Bo")
        ws.sign_in(page)
        page.locator("#groups-link").click()
        expect(page.get_by_role("heading", name="Groups")).to_be_visible()
        expect(page.get_by_text("No groups yet.")).to_be_visible()
        page.get_by_label("New group").fill("Night <crew>")
        page.get_by_role("button", name="Create group").click()
        expect(page.get_by_role("heading", name="Night <crew>")).to_be_visible()
        expect(page.get_by_role("status")).to_have_text("The group was created.")
        page.get_by_label("Ada Frontline").check()
        page.get_by_label("Bo Frontline").check()
        page.get_by_role("button", name="Add to group").click()
        expect(page.get_by_role("status")).to_have_text("The people were added to the group.")
        expect(page.locator("tr[data-member]")).to_have_count(2)
        page.get_by_label("Role its members get in this workspace").select_option("member")
        page.get_by_role("button", name="Save role").click()
        expect(page.get_by_role("status")).to_have_text("The group's role was saved.")
        expect(page.get_by_label("Role its members get in this workspace")).to_have_value("member")
        no_sideways_scroll(page)
        screenshot(page, f"admin-group-{size}-{kind}")
        page.get_by_role("link", name="Ada Frontline").click()
        groups = page.locator("section[aria-labelledby=groups-title]")
        expect(groups.get_by_role("link", name="Night <crew>")).to_be_visible()
        no_sideways_scroll(page)
        screenshot(page, f"admin-person-groups-{size}-{kind}")
        page.goto(f"{base}/admin/{ws.id}/groups")
        expect(page.locator("tbody tr", has_text="Night <crew>")).to_contain_text("2")
        no_sideways_scroll(page)
        screenshot(page, f"admin-groups-{size}-{kind}")
