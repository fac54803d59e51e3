"""Identity providers through the API (enterprise plan, secrets never returned), the login policy
and its enforcement on every password path, with the owners' break-glass and the Smartsheet
rule; on both databases."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from support.api import api_token, client
from support.oidc_providers import mock_provider
from support.outbox import messages, token_for
from support.pages import csrf

from admit.adapters.persistence.tables import identity_providers as providers_table
from admit.admin import identity_providers, invitations, members, tenancy
from admit.admin.identity_providers import ProviderInput
from admit.admin.profiles import MemberInput
from admit.domain.errors import PermissionDenied
from admit.flows.invitation import claims
from admit.flows.recovery import password_reset
from admit.flows.signin import sessions
from admit.shared.context import Actor, Context

PASSWORD = "copper-willow-harbour-83"
PROVIDER = {
    "name": "Entra",
    "issuer": "https://login.contoso.example/v2.0",  # replaced by a live provider's (_live_issuer)
    "client_id": "admit",
    "client_secret": "very-secret-value",
}


@pytest.fixture
def ctx(ctx: Context) -> Context:
    """Dev mode: organizations' tokens may name a provider on loopback (the test provider)."""
    return dataclasses.replace(ctx, dev_mode=True)


@pytest.fixture(autouse=True)
def _live_issuer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A provider's discovery document is read when it is added: PROVIDER names a live one."""
    with mock_provider() as issuer:
        monkeypatch.setitem(PROVIDER, "issuer", issuer)
        yield


def test_providers_are_an_enterprise_feature_and_never_return_their_secret(ctx: Context, operator: Actor) -> None:
    business = tenancy.create_organization(ctx, operator, "Small", plan="business")
    big = tenancy.create_organization(ctx, operator, "Big", plan="enterprise")
    refused = client(ctx, api_token(ctx, business.id)).post(
        f"/api/v1/organizations/{business.id}/identity-providers", json=PROVIDER
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "plan_required"
    api = client(ctx, api_token(ctx, big.id))
    created = api.post(
        f"/api/v1/organizations/{big.id}/identity-providers", json={**PROVIDER, "claims": {"groups": "roles"}}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "sso" and body["client_secret_set"] is True and body["claims"]["groups"] == "roles"
    listed = api.get(f"/api/v1/organizations/{big.id}/identity-providers").text
    fetched = api.get(f"/api/v1/identity-providers/{body['id']}").text
    for text in (created.text, listed, fetched):
        assert "very-secret-value" not in text and 'client_secret"' not in text.replace("client_secret_set", "")
    with ctx.uow() as uow:
        stored = uow.conn.execute(select(providers_table.c.client_secret)).scalar_one()
    assert "very-secret-value" not in stored  # encrypted with the instance key
    for bad, field in (
        ({"issuer": "http://idp.example"}, "issuer"),
        ({"issuer": "https://*.idp.example"}, "issuer"),  # no host: refused as a webhook's or an app's
        ({"issuer": "https://id p.example"}, "issuer"),
        ({"scopes": ["email"]}, "scopes"),
        ({"claims": {"shoe_size": "x"}}, "claims"),
    ):
        wrong = api.post(f"/api/v1/organizations/{big.id}/identity-providers", json={**PROVIDER, **bad})
        assert wrong.status_code == 422 and wrong.json()["error"]["field"] == field
    personal = api.post("/api/v1/identity-providers", json=PROVIDER)
    assert personal.status_code == 403  # personal providers are the operator's
    as_operator = client(ctx, api_token(ctx, None)).post("/api/v1/identity-providers", json=PROVIDER)
    assert as_operator.status_code == 201 and as_operator.json()["kind"] == "personal"


def test_login_methods_must_name_real_providers_of_the_organization(ctx: Context, operator: Actor) -> None:
    big = tenancy.create_organization(ctx, operator, "Big", plan="enterprise")
    other = tenancy.create_organization(ctx, operator, "Other", plan="enterprise")
    mine = identity_providers.create(ctx, operator, big.id, ProviderInput(**PROVIDER)).id
    theirs = identity_providers.create(ctx, operator, other.id, ProviderInput(**PROVIDER)).id
    api = client(ctx, api_token(ctx, big.id))
    ws = api.post(f"/api/v1/organizations/{big.id}/workspaces", json={"name": "Main"}).json()
    for patch, field in (
        ({"login_methods": [f"sso:{theirs}"]}, "login_methods"),
        ({"login_methods": [f"personal:{mine}"]}, "login_methods"),
        ({"login_methods": ["password"], "sso_required": True}, "sso_required"),
        ({"login_methods": ["password"], "jit_enabled": True}, "jit_enabled"),
        ({"login_methods": [f"sso:{mine}"], "default_role": "owner"}, "default_role"),
    ):
        response = api.patch(f"/api/v1/workspaces/{ws['id']}", json=patch)
        assert response.status_code == 422 and response.json()["error"]["field"] == field, (patch, response.text)
    done = api.patch(f"/api/v1/workspaces/{ws['id']}", json={"login_methods": [f"sso:{mine}"], "sso_required": True})
    assert done.status_code == 200 and done.json()["sso_required"] is True
    in_use = api.delete(f"/api/v1/identity-providers/{mine}")
    assert in_use.status_code == 409 and in_use.json()["error"]["code"] == "provider_in_use"
    assert api.delete(f"/api/v1/identity-providers/{theirs}").status_code == 404
    with ctx.uow() as uow:
        events = [e.action for e in uow.events.list(big.id)]
    assert "identity_provider.created" in events and "workspace.updated" in events


def _member_of_sso_workspace(ctx: Context, operator: Actor, role: str = "member") -> tuple[Any, Any]:
    """A password account that is an active member of a workspace which then requires SSO."""
    org = tenancy.create_organization(ctx, operator, "Strict", plan="enterprise")
    ws = tenancy.create_workspace(ctx, operator, org.id, "Strict")
    invitations.invite(ctx, operator, ws.id, MemberInput(email="ivy@strict.example", role=role))
    claims.accept_with_token(ctx, token_for(ctx, "ivy@strict.example"), password=PASSWORD)
    pid = identity_providers.create(ctx, operator, org.id, ProviderInput(**PROVIDER)).id
    tenancy.update_workspace(ctx, operator, ws.id, {"login_methods": [f"sso:{pid}"], "sso_required": True})
    return org, ws


def test_sso_required_refuses_password_sign_in_and_reset_for_members(ctx: Context, operator: Actor) -> None:
    _member_of_sso_workspace(ctx, operator)
    with pytest.raises(PermissionDenied) as refused:
        sessions.sign_in(ctx, "ivy@strict.example", PASSWORD)
    assert refused.value.code == "sso_required"
    with pytest.raises(PermissionDenied) as refused:
        sessions.sign_in(ctx, "ivy@strict.example", PASSWORD, break_glass=True)  # not an owner
    assert refused.value.code == "sso_required"
    browser = client(ctx)
    form = browser.get("/sign-in").text
    wrong = browser.post(
        "/sign-in", data={"identifier": "ivy@strict.example", "password": "nope-" * 4, "csrftoken": csrf(form)}
    )
    assert wrong.status_code == 401 and "single sign-on" not in wrong.text  # nothing told before the password
    page = browser.post(
        "/sign-in", data={"identifier": "ivy@strict.example", "password": PASSWORD, "csrftoken": csrf(form)}
    )
    assert page.status_code == 403 and "requires single sign-on" in page.text
    before = len(messages(ctx, recipient="ivy@strict.example"))
    password_reset.request_reset(ctx, "ivy@strict.example")
    assert len(messages(ctx, recipient="ivy@strict.example")) == before  # no reset link, the same answer
    sent = browser.post("/forgot-password", data={"email": "ivy@strict.example", "csrftoken": csrf(form)})
    assert sent.status_code == 200 and "ivy@strict.example" in sent.text
    api = client(ctx).post("/api/v1/sessions", json={"identifier": "ivy@strict.example", "password": PASSWORD})
    assert api.status_code == 403 and api.json()["error"]["code"] == "sso_required"


def test_owners_can_break_the_glass_once_per_sign_in_and_it_is_audited(ctx: Context, operator: Actor) -> None:
    org, ws = _member_of_sso_workspace(ctx, operator, role="owner")
    response = client(ctx).post(
        "/api/v1/sessions", json={"identifier": "ivy@strict.example", "password": PASSWORD, "break_glass": True}
    )
    assert response.status_code == 201
    with ctx.uow() as uow:
        events = [(e.action, e.workspace_id) for e in uow.events.list(org.id)]
    assert ("account.break_glass_sign_in", ws.id) in events
    browser = client(ctx)
    form = browser.get("/sign-in").text
    refused = browser.post(
        "/sign-in", data={"identifier": "ivy@strict.example", "password": PASSWORD, "csrftoken": csrf(form)}
    )
    assert 'name="break_glass"' in refused.text
    inside = browser.post(
        "/sign-in",
        data={
            "identifier": "ivy@strict.example",
            "password": PASSWORD,
            "break_glass": "true",
            "csrftoken": csrf(refused.text),
        },
        follow_redirects=False,
    )
    assert inside.status_code == 303 and "admit_session=adm_ses_" in inside.headers["set-cookie"]


def test_enforcement_reaches_an_invited_person_only_after_they_accept(ctx: Context, operator: Actor) -> None:
    """Smartsheet: until they accept, invited people keep their password; then the rule applies."""
    org = tenancy.create_organization(ctx, operator, "Sheet", plan="enterprise")
    home = tenancy.create_workspace(ctx, operator, org.id, "Home")
    invitations.invite(ctx, operator, home.id, MemberInput(email="joe@sheet.example"))
    claims.accept_with_token(ctx, token_for(ctx, "joe@sheet.example"), password=PASSWORD)
    pid = identity_providers.create(ctx, operator, org.id, ProviderInput(**PROVIDER)).id
    strict = tenancy.create_workspace(ctx, operator, org.id, "Strict")
    tenancy.update_workspace(ctx, operator, strict.id, {"login_methods": [f"sso:{pid}"], "sso_required": True})
    invitations.invite(ctx, operator, strict.id, MemberInput(email="joe@sheet.example"))
    _, account = sessions.sign_in(ctx, "joe@sheet.example", PASSWORD)  # invited, not yet a member
    assert [p.workspace_id for p in claims.pending_for_account(ctx, account.id)] == [strict.id]
    with pytest.raises(PermissionDenied) as refused:
        claims.accept_for_account(ctx, account.id, claims.pending_for_account(ctx, account.id)[0].id)
    assert refused.value.code == "sso_required"
    tenancy.update_workspace(ctx, operator, home.id, {"login_methods": [f"sso:{pid}"], "sso_required": True})
    with pytest.raises(PermissionDenied) as refused:
        sessions.sign_in(ctx, "joe@sheet.example", PASSWORD)  # now a member of a workspace requiring SSO
    assert refused.value.code == "sso_required"


def test_no_password_claim_or_reset_link_into_a_workspace_that_requires_sso(ctx: Context, operator: Actor) -> None:
    org = tenancy.create_organization(ctx, operator, "Strict", plan="enterprise")
    pid = identity_providers.create(ctx, operator, org.id, ProviderInput(**PROVIDER)).id
    ws = tenancy.create_workspace(ctx, operator, org.id, "Strict")
    tenancy.update_workspace(ctx, operator, ws.id, {"login_methods": [f"sso:{pid}"], "sso_required": True})
    invitations.invite(ctx, operator, ws.id, MemberInput(email="kim@strict.example", first_name="Kim", last_name="L"))
    token = token_for(ctx, "kim@strict.example")
    api = client(ctx).post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert api.status_code == 403 and api.json()["error"]["code"] == "sso_required"
    password_reset.request_reset(ctx, "kim@strict.example")
    assert messages(ctx, recipient="kim@strict.example", kind="password_reset") == []
    assert members.list_members(ctx, operator, ws.id)[0].status == "invited"
