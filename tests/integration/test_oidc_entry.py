"""Third-party initiated login, on both databases: "Let's go" (``/go/{workspace}``) sends a person
to the login URL of the app that serves the workspace, with the issuer, the app URL to land on
and the workspace, so that the app starts the code flow; the terms come first; an app that has
no login URL, or serves other workspaces, changes nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from support.api import api_token, client
from support.oidc_flow import ISSUER, PASSWORD, join, register
from support.pages import sign_in

from admit.admin import tenancy, terms
from admit.shared.context import Actor, Context

LOGIN = "https://shop.example.test/login?from=admit"


def _go(ctx: Context, workspace_id: str, email: str) -> Any:
    browser = client(ctx)
    assert sign_in(browser, email, PASSWORD).status_code == 303
    return browser, browser.get(f"/go/{workspace_id}", follow_redirects=False)


def test_lets_go_sends_the_person_to_the_apps_login_url(ctx: Context, org: Any, workspace: Any) -> None:
    tenancy.update_workspace(ctx, Actor.operator(), workspace.id, {"app_url": "https://shop.example.test/home"})
    register(ctx, org.id, name="Everywhere", initiate_login_uri="https://other.example.test/login")
    register(ctx, org.id, name="Shop", workspace_ids=[workspace.id], initiate_login_uri=LOGIN)
    join(ctx, workspace.id, "ada@acme.example")
    _, answer = _go(ctx, workspace.id, "ada@acme.example")
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://shop.example.test/login"
    assert parse_qs(location.query) == {
        "from": ["admit"],  # the login URL's own query is kept
        "iss": [ISSUER],
        "target_link_uri": ["https://shop.example.test/home"],
        "workspace": [workspace.id],
    }


def test_an_app_for_every_workspace_serves_when_none_is_bound(ctx: Context, org: Any, workspace: Any) -> None:
    other = tenancy.create_workspace(ctx, Actor.operator(), org.id, "Acme Other")
    register(ctx, org.id, name="Other's", workspace_ids=[other.id], initiate_login_uri=LOGIN)
    register(ctx, org.id, name="No login URL", workspace_ids=[workspace.id])
    join(ctx, workspace.id, "ada@acme.example")
    _, plain = _go(ctx, workspace.id, "ada@acme.example")
    assert plain.headers["location"] == "/"  # no app URL, no login URL for this workspace
    register(ctx, org.id, name="Everywhere", initiate_login_uri="https://all.example.test/start")
    _, answer = _go(ctx, workspace.id, "ada@acme.example")
    issuer = ISSUER.replace(":", "%3A").replace("/", "%2F")
    assert answer.headers["location"] == f"https://all.example.test/start?iss={issuer}&workspace={workspace.id}"


def test_the_terms_come_first_and_their_form_may_lead_to_the_app(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    register(ctx, org.id, workspace_ids=[workspace.id], initiate_login_uri=LOGIN)
    terms.publish(ctx, operator, workspace.id, filename="terms.txt", document=b"Be kind.")
    join(ctx, workspace.id, "ada@acme.example")
    browser, answer = _go(ctx, workspace.id, "ada@acme.example")
    assert answer.headers["location"] == f"/terms/{workspace.id}"
    shown = browser.get(f"/terms/{workspace.id}")
    assert "form-action 'self' https://shop.example.test" in shown.headers["content-security-policy"]


def test_the_login_url_is_checked_like_every_uri_of_an_app(ctx: Context, org: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    base = {"name": "Shop", "redirect_uris": ["https://shop.example.test/cb"]}
    for bad in ("javascript:alert(1)", "http://shop.example.test/login", "https://shop.example.test/#x", "/login"):
        refused = api.post(f"/api/v1/organizations/{org.id}/clients", json={**base, "initiate_login_uri": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["error"]["field"] == "initiate_login_uri"
    created = api.post(f"/api/v1/organizations/{org.id}/clients", json={**base, "initiate_login_uri": LOGIN})
    assert created.status_code == 201 and created.json()["initiate_login_uri"] == LOGIN
    assert api.get(f"/api/v1/organizations/{org.id}/clients").json()[0]["initiate_login_uri"] == LOGIN
