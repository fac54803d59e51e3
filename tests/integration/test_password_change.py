"""Changing the password, on both databases: an account created by an import with an initial
one-time password is sent to change it after signing in, from the home page, on the way into a
workspace and from the admin pages; the new password follows the default policy, the flag is
cleared, other sessions end, the change is audited and the person continues where they wanted."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import client
from support.pages import csrf, sign_in

from admit.adapters.spreadsheets import write_csv
from admit.admin import imports, jobs, tenancy
from admit.domain.errors import SecretRejected
from admit.flows.settings import password_change
from admit.flows.signin import sessions
from admit.shared.context import Actor, Context

INITIAL = "granite-puffin-orchard-14"
CHOSEN = "lighthouse-meadow-copper-88"


def imported(ctx: Context, operator: Actor, workspace: Any, email: str = "ina@example.com", role: str = "admin") -> str:
    """A person an import created with an initial password; returns their account id."""
    data = write_csv(
        ["Email", "First name", "Last name", "Permission type", "Initial password"],
        [[email, "Ina", "Vogel", role, INITIAL]],
    )
    job = imports.start(ctx, operator, workspace.id, data, "people.csv", invite="later")
    jobs.run_next(ctx, job.id)
    assert jobs.get(ctx, operator, job.id).counts == {"created": 1, "activated": 1}
    token, account = sessions.sign_in(ctx, email, INITIAL)
    sessions.sign_out(ctx, token)
    return str(account.id)


def test_an_initial_password_must_be_changed_before_going_anywhere(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"app_url": "https://app.example.com/"})
    account_id = imported(ctx, operator, workspace)
    assert password_change.must_change(ctx, account_id)
    browser = client(ctx)
    signed_in = sign_in(browser, "ina@example.com", INITIAL, f"/go/{workspace.id}")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == f"/change-password?next=/go/{workspace.id}"
    old_session = browser.cookies["admit_session"]
    for path in ("/", f"/go/{workspace.id}", f"/admin/{workspace.id}/people"):
        sent = browser.get(path, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"].startswith("/change-password?next="), path
    page = browser.get(signed_in.headers["location"])
    assert page.status_code == 200 and "Choose your own password" in page.text and "one-time password" in page.text
    assert "At least 15 characters" in page.text and 'src="/static/password.js"' in page.text
    assert 'id="password-rules"' in page.text and 'name="next" value="/go/' in page.text
    token = csrf(page.text)
    url = "/change-password"
    fields = {"next": f"/go/{workspace.id}", "csrftoken": token}
    assert browser.post(url, data={**fields, "csrftoken": ""}).status_code == 403
    wrong = browser.post(url, data={**fields, "current_password": "nope", "password": CHOSEN})
    assert wrong.status_code == 401 and "The current password is not correct." in wrong.text
    weak = browser.post(url, data={**fields, "current_password": INITIAL, "password": "short"})
    assert weak.status_code == 422 and "At least 15 characters" in weak.text
    same = browser.post(url, data={**fields, "current_password": INITIAL, "password": INITIAL})
    assert same.status_code == 422 and "different from your current one" in same.text
    personal = browser.post(url, data={**fields, "current_password": INITIAL, "password": "ina@example.com1"})
    assert personal.status_code == 422
    assert password_change.must_change(ctx, account_id)  # nothing changed yet
    done = browser.post(url, data={**fields, "current_password": INITIAL, "password": CHOSEN}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/go/{workspace.id}"
    assert not password_change.must_change(ctx, account_id)
    assert browser.cookies["admit_session"] != old_session
    going = browser.get(f"/go/{workspace.id}", follow_redirects=False)
    assert going.headers["location"] == "https://app.example.com/"
    assert browser.get(f"/admin/{workspace.id}/people").status_code == 200
    assert sessions.authenticate_session(ctx, browser.cookies["admit_session"]) == account_id
    again = client(ctx)
    assert sign_in(again, "ina@example.com", INITIAL, "/").status_code == 401
    assert sign_in(again, "ina@example.com", CHOSEN, "/").headers["location"] == "/"
    with ctx.uow() as uow:
        events = [e.action for e in uow.events.list(None, action="account.password_changed")]
    assert events == ["account.password_changed"]


def test_the_old_session_ends_when_the_password_changes(ctx: Context, operator: Actor, workspace: Any) -> None:
    imported(ctx, operator, workspace)
    browser = client(ctx)
    sign_in(browser, "ina@example.com", INITIAL, "/")
    other_device = sessions.sign_in(ctx, "ina@example.com", INITIAL)[0]
    page = browser.get("/change-password?next=/").text
    browser.post(
        "/change-password",
        data={"current_password": INITIAL, "password": CHOSEN, "next": "/", "csrftoken": csrf(page)},
    )
    assert browser.get("/").status_code == 200 and "Hello Ina" in browser.get("/").text
    with pytest.raises(SecretRejected):
        sessions.authenticate_session(ctx, other_device)


def test_anyone_signed_in_may_change_their_password_and_visitors_sign_in_first(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    imported(ctx, operator, workspace)
    visitor = client(ctx).get("/change-password?next=/admin", follow_redirects=False)
    assert visitor.headers["location"] == "/sign-in?next=/change-password%3Fnext%3D/admin"
    browser = client(ctx)
    sign_in(browser, "ina@example.com", INITIAL, "/")
    page = browser.get("/change-password").text
    browser.post(
        "/change-password",
        data={
            "current_password": INITIAL,
            "password": CHOSEN,
            "next": "https://evil.example/",
            "csrftoken": csrf(page),
        },
    )
    voluntary = browser.get("/change-password").text
    assert "Change your password" in voluntary and "Current password" in voluntary
    moved = browser.post(
        "/change-password",
        data={
            "current_password": CHOSEN,
            "password": "quartz-harbor-willow-31",
            "next": "//evil",
            "csrftoken": csrf(voluntary),
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/"  # never another site


def test_the_api_offers_an_account_with_an_initial_password_only_the_change_and_sign_out(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    imported(ctx, operator, workspace, "ian@example.com")
    signed_in = client(ctx).post("/api/v1/sessions", json={"identifier": "ian@example.com", "password": INITIAL})
    assert signed_in.status_code == 201 and signed_in.json()["password_change_required"] is True
    api = client(ctx, signed_in.json()["token"])
    for method, path in (("GET", "/api/v1/me/invitations"), ("GET", f"/api/v1/workspaces/{workspace.id}/members")):
        refused = api.request(method, path)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "password_change_required"
    weak = api.post("/api/v1/me/password", json={"current_password": INITIAL, "new_password": "short"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    changed = api.post("/api/v1/me/password", json={"current_password": INITIAL, "new_password": CHOSEN})
    assert changed.status_code == 200 and changed.json()["password_change_required"] is False
    assert api.get("/api/v1/me/invitations").status_code == 401  # the old session ended with the change
    fresh = client(ctx, changed.json()["token"])
    assert fresh.get("/api/v1/me/invitations").status_code == 200
    assert fresh.get(f"/api/v1/workspaces/{workspace.id}/members").status_code == 200
    again = client(ctx).post("/api/v1/sessions", json={"identifier": "ian@example.com", "password": CHOSEN})
    assert again.json()["password_change_required"] is False


def test_an_account_with_an_initial_password_can_sign_out_through_the_api(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    imported(ctx, operator, workspace, "ida@example.com")
    token = client(ctx).post("/api/v1/sessions", json={"identifier": "ida@example.com", "password": INITIAL})
    api = client(ctx, token.json()["token"])
    assert api.delete("/api/v1/sessions/current").status_code == 204
    after = api.post("/api/v1/me/password", json={"current_password": INITIAL, "new_password": CHOSEN})
    assert after.status_code == 401


def test_no_page_door_lets_an_initial_password_act(ctx: Context, operator: Actor, workspace: Any) -> None:
    """The service refuses the session; pages turn that into the change-password page."""
    imported(ctx, operator, workspace, "ivo@example.com")
    browser = client(ctx)
    assert sign_in(browser, "ivo@example.com", INITIAL, "/").status_code == 303
    for path in ("/", f"/go/{workspace.id}", f"/admin/{workspace.id}/people", f"/terms/{workspace.id}"):
        response = browser.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/change-password?next=")
    with pytest.raises(Exception) as refused:
        sessions.authenticate_session(ctx, browser.cookies["admit_session"])
    assert getattr(refused.value, "code", None) == "password_change_required"


@pytest.mark.parametrize("weak", ["passwordpassword", "passwortpasswort", "123456789012345", "qwertzuiopasdfgh"])
def test_keyboard_rows_sequences_and_repeats_are_refused_through_the_api(
    ctx: Context, operator: Actor, workspace: Any, weak: str
) -> None:
    imported(ctx, operator, workspace, "ian@example.com")
    signed_in = client(ctx).post("/api/v1/sessions", json={"identifier": "ian@example.com", "password": INITIAL})
    api = client(ctx, signed_in.json()["token"])
    refused = api.post("/api/v1/me/password", json={"current_password": INITIAL, "new_password": weak})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "weak_password"
    assert "Keyboard rows, sequences and repeats" in refused.json()["error"]["message"]
    changed = api.post("/api/v1/me/password", json={"current_password": INITIAL, "new_password": CHOSEN})
    assert changed.status_code == 200
