"""Held SCIM deprovisioning in a real browser against `admit serve`: an identity provider
deactivated too many people of a 12-person workspace; the owner sees the notice on People, opens
the held changes at phone size, applies one, dismisses the rest, and the page fits a phone and a
desktop without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from support.browser import AdminWorkspace, screenshot
from support.processes import admit, backend, field, server

from admit.adapters.persistence.database import make_engine
from admit.admin import members
from admit.bootstrap import build_context
from admit.config import Settings
from admit.domain.roles import Role
from admit.shared.context import Actor, ActorKind, Context


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# The rules behind this page are tested over HTTP on both databases; the journey runs on one
# (the suite's time goes to browser runs).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_owner_applies_one_held_deactivation_and_dismisses_the_rest(page: Page, database_url: str) -> None:
    kind = backend(database_url)
    with server(database_url) as base:
        ws = AdminWorkspace(database_url, base, "Brakes")
        for i in range(11):
            ws.provision(f"p{i}@brakes.example", f"Person{i}")
        engine = make_engine(database_url)
        try:
            _journey(page, ws, build_context(Settings(dev_mode=True, _env_file=None), engine), kind)  # type: ignore[call-arg]
        finally:
            engine.dispose()


def _journey(page: Page, ws: AdminWorkspace, ctx: Context, kind: str) -> None:
    with ctx.uow() as uow:
        workspace = uow.workspaces.get(None, ws.id)
        assert workspace is not None
        people = [m.id for m in uow.members.list(workspace.organization_id, ws.id, limit=100) if m.role != "owner"]
    org = workspace.organization_id
    created = admit(
        ws.database_url, "scim", "token", "create", org, "--workspace", ws.id, "--name", "Entra ID", "--role", "admin"
    )
    scim = Actor(
        ActorKind.SCIM, id=field(created.stdout, "id"), organization_id=org, workspace_id=ws.id, role=Role.ADMIN
    )
    answers = [members.suspend(ctx, scim, member_id).status for member_id in people[:4]]
    assert answers == ["suspended", "suspended", "provisioned", "provisioned"]  # 12 people: the third is held
    page.set_viewport_size({"width": 390, "height": 844})
    ws.sign_in(page)
    notice = page.locator("#scim-holds-notice")
    expect(notice).to_contain_text("2 deactivations or removals by an identity provider are held")
    notice.get_by_role("link", name="Review held deprovisioning").click()
    expect(page.get_by_role("heading", name="Held deprovisioning")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(2)
    _no_sideways_scroll(page)
    screenshot(page, f"admin-scim-holds-phone-{kind}")
    page.locator("tbody tr").first.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_have_text("1 held change was applied.")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.set_viewport_size({"width": 1280, "height": 800})
    _no_sideways_scroll(page)
    screenshot(page, f"admin-scim-holds-desktop-{kind}")
    page.get_by_role("button", name="Dismiss the held change").click()
    expect(page.get_by_role("status")).to_have_text("1 held change was dismissed.")
    expect(page.get_by_text("Nothing is held.")).to_be_visible()
    statuses = sorted(members.get(ctx, Actor.operator(), m).status for m in people[:4])
    assert statuses == ["provisioned", "suspended", "suspended", "suspended"]
