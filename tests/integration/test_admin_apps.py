"""Apps (OpenID clients) in the workspace admin console and who may manage them, on both
databases: registering one (errors next to the field, the secret shown once), the list of the
apps serving the workspace, removing one after a confirmation page; and the rules in the use
cases: a person manages an app only if they manage settings in every workspace it is bound to,
an app for every workspace only by the organization (API tokens, operators), another
organization's app is not found."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import api_token, client
from support.outbox import token_for
from support.pages import csrf

from admit.admin import members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import NotFound, PermissionDenied
from admit.flows.invitation import claims
from admit.oidc_provider import clients
from admit.oidc_provider.clients import ClientInput
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "lantern-orchard-pebble-58"
FORM = {
    "name": "Shop",
    "redirect_uris": "https://shop.example/callback\r\nhttps://shop.example/cb2\r\n",
    "initiate_login_uri": "https://shop.example/login",
    "post_logout_redirect_uris": "https://shop.example/bye",
    "backchannel_logout_uri": "",
    "client_type": "confidential",
    "refresh_tokens": "yes",
    "scope_profile": "yes",
    "scope_email": "yes",
}


def account(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "admin", **kw: Any) -> Actor:
    """A person who accepted an invitation to ``workspace`` with ``role``, as an actor."""
    given = MemberInput(email=email, role=role, **kw)
    created, _ = members.provision(ctx, operator, workspace.id, given, invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    account_id = members.get(ctx, operator, str(created.id)).account_id
    assert account_id is not None
    return Actor(ActorKind.ACCOUNT, id=account_id, name=email)


def join(ctx: Context, operator: Actor, workspace: Any, who: Actor, role: str) -> None:
    """The account joins another workspace with ``role``."""
    email = who.name
    members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), account_id=who.id)


def browser_of(ctx: Context, email: str) -> TestClient:
    browser = client(ctx)
    form = browser.get("/sign-in").text
    done = browser.post(
        "/sign-in", data={"identifier": email, "password": PASSWORD, "csrftoken": csrf(form)}, follow_redirects=False
    )
    assert done.status_code == 303
    return browser


def app(ctx: Context, operator: Actor, org_id: str, name: str, *workspace_ids: str) -> str:
    given = ClientInput(name, [f"https://{name.lower()}.example/cb"], workspace_ids=list(workspace_ids))
    created, _ = clients.create(ctx, operator, org_id, given)
    return str(created["client_id"])


@pytest.fixture
def second(ctx: Context, operator: Actor, org: Any) -> Any:
    return tenancy.create_workspace(ctx, operator, org.id, "Acme Second")


# The pages -----------------------------------------------------------------------------------------
def test_registering_an_app_shows_its_secret_once_and_keeps_the_values_on_an_error(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com", role="owner")
    browser = browser_of(ctx, "olga@example.com")
    listed = browser.get(f"/admin/{workspace.id}/apps")
    assert listed.status_code == 200 and "No apps yet." in listed.text and 'aria-current="page">Apps<' in listed.text
    form = browser.get(f"/admin/{workspace.id}/apps/new").text
    token = csrf(form)
    bad = browser.post(
        f"/admin/{workspace.id}/apps/new",
        data={**FORM, "redirect_uris": "http://shop.example/cb", "name": "<b>Shop</b>", "csrftoken": token},
    )
    assert bad.status_code == 422 and 'id="redirect_uris-error"' in bad.text
    assert 'aria-describedby="redirect_uris-error"' in bad.text and "http://shop.example/cb</textarea>" in bad.text
    assert 'value="&lt;b&gt;Shop&lt;/b&gt;"' in bad.text and "<b>Shop" not in bad.text
    assert clients.list_clients(ctx, operator, org.id) == []
    done = browser.post(f"/admin/{workspace.id}/apps/new", data={**FORM, "csrftoken": token})
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    assert "it will not be shown again" in done.text
    assert "https://admit.example.test/.well-known/openid-configuration" in done.text
    secret = re.search(r'id="client-secret">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    [created] = clients.list_clients(ctx, operator, org.id)
    assert created["workspace_ids"] == [workspace.id] and created["initiate_login_uri"] == "https://shop.example/login"
    assert created["redirect_uris"] == ["https://shop.example/callback", "https://shop.example/cb2"]
    assert created["grant_types"] == ["authorization_code", "refresh_token"]
    assert created["allowed_scopes"] == ["openid", "profile", "email"]
    listed = browser.get(f"/admin/{workspace.id}/apps").text
    assert created["client_id"] in listed and "https://shop.example/login" in listed and secret not in listed


def test_a_public_app_has_no_secret_and_no_refresh_tokens(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com")
    browser = browser_of(ctx, "olga@example.com")
    token = csrf(browser.get(f"/admin/{workspace.id}/apps/new").text)
    done = browser.post(f"/admin/{workspace.id}/apps/new", data={**FORM, "client_type": "public", "csrftoken": token})
    assert done.status_code == 200 and 'id="client-secret"' not in done.text and "PKCE" in done.text
    [created] = clients.list_clients(ctx, operator, org.id)
    assert created["token_endpoint_auth_method"] == "none" and created["grant_types"] == ["authorization_code"]


def test_the_list_shows_the_apps_serving_the_workspace_and_removes_after_confirming(
    ctx: Context, operator: Actor, org: Any, workspace: Any, second: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com")
    ours = app(ctx, operator, org.id, "Ours", workspace.id)
    everywhere = app(ctx, operator, org.id, "Everywhere")
    theirs = app(ctx, operator, org.id, "Theirs", second.id)
    globex = tenancy.create_organization(ctx, operator, "Globex")
    foreign = app(ctx, operator, globex.id, "Foreign")
    browser = browser_of(ctx, "olga@example.com")
    listed = browser.get(f"/admin/{workspace.id}/apps").text
    assert ours in listed and everywhere in listed and theirs not in listed and foreign not in listed
    assert f"/apps/{ours}/remove" in listed and f"/apps/{everywhere}/remove" not in listed
    assert "Managed by the organization" in listed
    for other in (theirs, foreign, "no-such-app"):
        assert browser.get(f"/admin/{workspace.id}/apps/{other}/remove").status_code == 404, other
    confirm = browser.get(f"/admin/{workspace.id}/apps/{ours}/remove")
    assert confirm.status_code == 200 and "Remove Ours?" in confirm.text
    assert len(clients.list_clients(ctx, operator, org.id)) == 3  # asking changed nothing
    token = csrf(confirm.text)
    refused = browser.post(f"/admin/{workspace.id}/apps/{everywhere}/remove", data={"csrftoken": token})
    assert refused.status_code == 403 and "Traceback" not in refused.text
    missing = browser.post(f"/admin/{workspace.id}/apps/{theirs}/remove", data={"csrftoken": token})
    assert missing.status_code == 404
    done = browser.post(f"/admin/{workspace.id}/apps/{ours}/remove", data={"csrftoken": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/admin/{workspace.id}/apps?done=removed"
    assert "The app was removed." in browser.get(done.headers["location"]).text
    assert {a["name"] for a in clients.list_clients(ctx, operator, org.id)} == {"Everywhere", "Theirs"}


def test_an_app_is_edited_and_given_a_new_secret_from_the_console(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com")
    ours = app(ctx, operator, org.id, "Ours", workspace.id)
    everywhere = app(ctx, operator, org.id, "Everywhere")
    browser = browser_of(ctx, "olga@example.com")
    listed = browser.get(f"/admin/{workspace.id}/apps").text
    assert f"/apps/{ours}/edit" in listed and f"/apps/{ours}/secret" in listed
    assert f"/apps/{everywhere}/edit" not in listed
    form = browser.get(f"/admin/{workspace.id}/apps/{ours}/edit")
    assert form.status_code == 200 and "Edit Ours" in form.text and "https://ours.example/cb</textarea>" in form.text
    assert 'name="client_type"' not in form.text  # the type is shown, not offered
    token = csrf(form.text)
    bad = browser.post(
        f"/admin/{workspace.id}/apps/{ours}/edit",
        data={**FORM, "name": "<i>Ours</i>", "redirect_uris": "ftp://ours.example/cb", "csrftoken": token},
    )
    assert bad.status_code == 422 and 'id="redirect_uris-error"' in bad.text and "ftp://ours.example/cb" in bad.text
    assert 'value="&lt;i&gt;Ours&lt;/i&gt;"' in bad.text
    assert clients.get(ctx, operator, org.id, ours)["name"] == "Ours"  # nothing saved
    done = browser.post(f"/admin/{workspace.id}/apps/{ours}/edit", data={**FORM, "csrftoken": token})
    assert done.status_code == 200 and "The app was saved." in done.text
    saved = clients.get(ctx, operator, org.id, ours)
    assert saved["name"] == "Shop" and saved["redirect_uris"] == [
        "https://shop.example/callback",
        "https://shop.example/cb2",
    ]
    assert saved["grant_types"] == ["authorization_code", "refresh_token"] and saved["workspace_ids"] == [workspace.id]
    assert (
        browser.post(f"/admin/{workspace.id}/apps/{everywhere}/edit", data={**FORM, "csrftoken": token}).status_code
        == 403
    )
    assert browser.get(f"/admin/{workspace.id}/apps/no-such-app/edit").status_code == 404
    ask = browser.get(f"/admin/{workspace.id}/apps/{ours}/secret")
    assert ask.status_code == 200 and "Make a new secret for Shop?" in ask.text and 'id="client-secret"' not in ask.text
    made = browser.post(f"/admin/{workspace.id}/apps/{ours}/secret", data={"csrftoken": token})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    secret = re.search(r'id="client-secret">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
    assert secret.startswith("adm_cls_") and secret not in browser.get(f"/admin/{workspace.id}/apps").text
    public = clients.create(
        ctx, operator, org.id, ClientInput("Spa", ["https://spa.example/cb"], "public", workspace_ids=[workspace.id])
    )[0]["client_id"]
    none = browser.post(f"/admin/{workspace.id}/apps/{public}/secret", data={"csrftoken": token})
    assert none.status_code == 422 and "Spa has no secret" in none.text


def test_a_member_is_refused_the_apps_pages(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    account(ctx, operator, workspace, "mia@example.com", role="member")
    ours = app(ctx, operator, org.id, "Ours", workspace.id)
    browser = browser_of(ctx, "mia@example.com")
    for path in ("apps", "apps/new", f"apps/{ours}/remove"):
        assert browser.get(f"/admin/{workspace.id}/{path}").status_code == 403, path


def test_the_apps_pages_speak_german(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    account(ctx, operator, workspace, "olga@example.com", language="de")
    browser = browser_of(ctx, "olga@example.com")
    listed = browser.get(f"/admin/{workspace.id}/apps").text
    assert '<html lang="de">' in listed and "App registrieren" in listed
    token = csrf(browser.get(f"/admin/{workspace.id}/apps/new").text)
    bad = browser.post(
        f"/admin/{workspace.id}/apps/new",
        data={**FORM, "name": " ", "csrftoken": token},
        headers={"accept-language": "de"},
    )
    assert bad.status_code == 422 and "Geben Sie der App einen Namen" in bad.text


# The rules, in the use cases ---------------------------------------------------------------------
def test_a_person_manages_only_apps_bound_to_workspaces_where_they_manage_settings(
    ctx: Context, operator: Actor, org: Any, workspace: Any, second: Any
) -> None:
    admin = account(ctx, operator, workspace, "olga@example.com")  # admin of the first workspace only
    join(ctx, operator, second, admin, "member")
    both = app(ctx, operator, org.id, "Both", workspace.id, second.id)
    theirs = app(ctx, operator, org.id, "Theirs", second.id)
    everywhere = app(ctx, operator, org.id, "Everywhere")
    seen = clients.list_clients(ctx, admin, org.id, workspace_id=workspace.id)
    assert {a["name"]: a["manageable"] for a in seen} == {"Both": False, "Everywhere": False}
    with pytest.raises(PermissionDenied):
        clients.remove(ctx, admin, org.id, both, workspace_id=workspace.id)
    with pytest.raises(PermissionDenied):
        clients.remove(ctx, admin, org.id, everywhere, workspace_id=workspace.id)
    with pytest.raises(NotFound):
        clients.remove(ctx, admin, org.id, theirs, workspace_id=workspace.id)
    with pytest.raises(PermissionDenied):  # a member of the second workspace
        clients.remove(ctx, admin, org.id, theirs, workspace_id=second.id)
    with pytest.raises(PermissionDenied):
        clients.list_clients(ctx, admin, org.id)  # a person acts from a workspace
    for bound in ([], [second.id], [workspace.id, second.id]):
        with pytest.raises(PermissionDenied):
            clients.create(
                ctx,
                admin,
                org.id,
                ClientInput("X", ["https://x.example/cb"], workspace_ids=bound),
                workspace_id=workspace.id,
            )
    mine, _ = clients.create(
        ctx,
        admin,
        org.id,
        ClientInput("Mine", ["https://m.example/cb"], workspace_ids=[workspace.id]),
        workspace_id=workspace.id,
    )
    clients.remove(ctx, admin, org.id, mine["client_id"], workspace_id=workspace.id)
    assert len(clients.list_clients(ctx, operator, org.id)) == 3


def test_an_admin_of_both_workspaces_manages_an_app_bound_to_both(
    ctx: Context, operator: Actor, org: Any, workspace: Any, second: Any
) -> None:
    admin = account(ctx, operator, workspace, "olga@example.com")
    join(ctx, operator, second, admin, "owner")
    both = app(ctx, operator, org.id, "Both", workspace.id, second.id)
    [seen] = clients.list_clients(ctx, admin, org.id, workspace_id=second.id)
    assert seen["manageable"] is True
    clients.remove(ctx, admin, org.id, both, workspace_id=workspace.id)
    assert clients.list_clients(ctx, operator, org.id) == []


def test_another_organizations_app_is_not_found_and_a_member_is_refused(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    admin = account(ctx, operator, workspace, "olga@example.com")
    member = account(ctx, operator, workspace, "mia@example.com", role="member")
    globex = tenancy.create_organization(ctx, operator, "Globex")
    foreign_workspace = tenancy.create_workspace(ctx, operator, globex.id, "Globex Main")
    foreign = app(ctx, operator, globex.id, "Foreign", foreign_workspace.id)
    with pytest.raises(NotFound):
        clients.remove(ctx, admin, org.id, foreign, workspace_id=workspace.id)
    with pytest.raises(NotFound):
        clients.remove(ctx, admin, globex.id, foreign, workspace_id=workspace.id)
    with pytest.raises(NotFound):
        clients.list_clients(ctx, admin, globex.id, workspace_id=foreign_workspace.id)
    with pytest.raises(PermissionDenied):
        clients.list_clients(ctx, member, org.id, workspace_id=workspace.id)


def test_the_api_keeps_organization_wide_management_for_tokens(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    everywhere = app(ctx, operator, org.id, "Everywhere")
    api = client(ctx, api_token(ctx, org.id, role="admin"))
    [listed] = api.get(f"/api/v1/organizations/{org.id}/clients").json()
    assert listed["client_id"] == everywhere and "manageable" not in listed
    member_api = client(ctx, api_token(ctx, org.id, role="member"))
    assert member_api.delete(f"/api/v1/organizations/{org.id}/clients/{everywhere}").status_code == 403
    assert api.delete(f"/api/v1/organizations/{org.id}/clients/{everywhere}").status_code == 204


def _public_jwks(kid: str) -> str:
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048, auto_kid=False)
    return json.dumps({"keys": [{**key.as_dict(private=False), "kid": kid}]})


def test_an_app_with_its_own_keys_is_registered_and_edited_from_the_console(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com")
    browser = browser_of(ctx, "olga@example.com")
    form = browser.get(f"/admin/{workspace.id}/apps/new").text
    assert 'name="auth" value="secret" checked' in form and 'id="jwks_uri"' in form and 'id="jwks"' in form
    token = csrf(form)
    keyed = {**FORM, "auth": "keys", "csrftoken": token}
    nothing = browser.post(f"/admin/{workspace.id}/apps/new", data=keyed)
    assert nothing.status_code == 422 and 'id="jwks-error"' in nothing.text and 'value="keys" checked' in nothing.text
    not_json = browser.post(f"/admin/{workspace.id}/apps/new", data={**keyed, "jwks": '{"keys": [<script>'})
    assert not_json.status_code == 422 and "the key set is not JSON" in not_json.text
    assert "&lt;script&gt;" in not_json.text and "<script>" not in not_json.text  # kept, escaped
    huge = browser.post(f"/admin/{workspace.id}/apps/new", data={**keyed, "jwks": "x" * 70_000})
    assert huge.status_code == 422 and "longer than 64 KB" in huge.text
    private = browser.post(
        f"/admin/{workspace.id}/apps/new", data={**keyed, "jwks": '{"keys": [{"kty": "RSA", "d": "x", "n": "y"}]}'}
    )
    assert private.status_code == 422 and 'id="jwks-error"' in private.text
    both = browser.post(
        f"/admin/{workspace.id}/apps/new",
        data={**keyed, "jwks": _public_jwks("k1"), "jwks_uri": "https://shop.example/jwks.json"},
    )
    assert both.status_code == 422 and 'id="jwks_uri-error"' in both.text
    assert clients.list_clients(ctx, operator, org.id) == []  # nothing half-written
    by_address = browser.post(
        f"/admin/{workspace.id}/apps/new", data={**keyed, "jwks_uri": " https://shop.example/jwks.json "}
    )
    assert by_address.status_code == 200 and 'id="client-secret"' not in by_address.text
    assert "signs its token requests with its own keys" in by_address.text
    assert "https://shop.example/jwks.json" in by_address.text
    pasted = browser.post(f"/admin/{workspace.id}/apps/new", data={**keyed, "name": "Till", "jwks": _public_jwks("k1")})
    assert pasted.status_code == 200 and '<code class="id">k1</code>' in pasted.text
    made = {a["name"]: a for a in clients.list_clients(ctx, operator, org.id)}
    assert made["Shop"]["token_endpoint_auth_method"] == "private_key_jwt" and not made["Shop"]["client_secret_set"]
    assert made["Shop"]["jwks_uri"] == "https://shop.example/jwks.json" and made["Shop"]["jwks"] is None
    assert made["Till"]["jwks"]["keys"][0]["kid"] == "k1" and made["Till"]["jwks_uri"] is None
    listed = browser.get(f"/admin/{workspace.id}/apps").text
    assert listed.count("Signs with its keys") == 2 and f"/apps/{made['Shop']['client_id']}/secret" not in listed
    # Editing: the keys are on the form; an address replaces pasted keys; the method stays.
    till = made["Till"]["client_id"]
    edit = browser.get(f"/admin/{workspace.id}/apps/{till}/edit").text
    assert "With its own keys (private_key_jwt)." in edit and 'name="auth"' not in edit
    assert "&#34;kid&#34;: &#34;k1&#34;" in edit or "&quot;kid&quot;: &quot;k1&quot;" in edit
    values = {**FORM, "name": "Till", "jwks": "", "jwks_uri": "https://till.example/keys", "csrftoken": token}
    saved = browser.post(f"/admin/{workspace.id}/apps/{till}/edit", data={**values, "auth": "secret"})
    assert saved.status_code == 200 and "The app was saved." in saved.text
    now = clients.get(ctx, operator, org.id, till)
    assert now["token_endpoint_auth_method"] == "private_key_jwt"  # "auth" on an edit is ignored
    assert now["jwks_uri"] == "https://till.example/keys" and now["jwks"] is None
    cleared = browser.post(f"/admin/{workspace.id}/apps/{till}/edit", data={**values, "jwks_uri": ""})
    assert cleared.status_code == 422 and 'id="jwks-error"' in cleared.text
    assert clients.get(ctx, operator, org.id, till)["jwks_uri"] == "https://till.example/keys"  # unchanged
    # A secret app's edit form offers no keys.
    ours = app(ctx, operator, org.id, "Ours", workspace.id)
    plain = browser.get(f"/admin/{workspace.id}/apps/{ours}/edit").text
    assert "With a client secret." in plain and 'id="jwks"' not in plain
    kept = browser.post(
        f"/admin/{workspace.id}/apps/{ours}/edit", data={**FORM, "jwks_uri": "https://x.example/k", "csrftoken": token}
    )
    assert kept.status_code == 200 and clients.get(ctx, operator, org.id, ours)["jwks_uri"] is None
