"""The workspace settings page of the admin console, on both databases: each section saves
through the settings use case (the REST API's), a refusal is shown next to its field with what
was typed kept, members and other tenants are refused, a form without its CSRF token changes
nothing, hostile input is escaped or refused; and the use case's own checks of what any door
may hand it (wrong types, control characters, sizes)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import client
from support.oidc_providers import mock_provider
from support.outbox import token_for
from support.pages import browser_signed_in, csrf

from admit.admin import audit, identity_providers, members, tenancy
from admit.admin.identity_providers import ProviderInput
from admit.admin.profiles import MemberInput
from admit.domain.errors import NotFound, PermissionDenied, ValidationFailed
from admit.flows.invitation import claims
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "harbour-quill-meadow-64"
# What the page shows for a new workspace (the defaults), as a browser would send it back.
FORM = {
    "name": "Acme Main",
    "app_url": "",
    "default_language": "en",
    "invitation_lifetime_days": "7",
    "access_code_lifetime_days": "30",
    "departments": "",
    "job_profiles": "",
    "email_enabled": "yes",
    "auto_invite": "yes",
    "sms_daily_cap": "500",
    "password_policy": "length",
    "login_password": "yes",
}


def account(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "admin", **kw: Any) -> None:
    given = MemberInput(email=email, role=role, **kw)
    members.provision(ctx, operator, workspace.id, given, invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)


def browser_of(ctx: Context, email: str) -> TestClient:
    return browser_signed_in(ctx, email, PASSWORD)


@pytest.fixture
def admin(ctx: Context, operator: Actor, workspace: Any) -> TestClient:
    account(ctx, operator, workspace, "olga@example.com")
    return browser_of(ctx, "olga@example.com")


def stored(ctx: Context, operator: Actor, workspace: Any) -> Any:
    return tenancy.get_workspace(ctx, operator, workspace.id)


def post(browser: TestClient, workspace: Any, **changes: Any) -> Any:
    token = csrf(browser.get(f"/admin/{workspace.id}/settings").text)
    return browser.post(
        f"/admin/{workspace.id}/settings", data={**FORM, **changes, "csrftoken": token}, follow_redirects=False
    )


# Each section, saved ------------------------------------------------------------------------------
SECTIONS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "general": (
        {"name": "  Acme Floor  ", "app_url": "https://app.acme.example/", "default_language": "de"},
        {"name": "Acme Floor", "app_url": "https://app.acme.example/", "default_language": "de"},
    ),
    "invitations": (
        {"invitation_lifetime_days": " 14 ", "access_code_lifetime_days": "90"},
        {"invitation_lifetime_days": 14, "access_code_lifetime_days": 90},
    ),
    "people": (
        {
            "departments": "Kitchen\r\n\r\n  Service  \r\nDelivery",
            "job_profiles": "Cook\nWaiter",
            "required_department": "yes",
            "required_first_name": "yes",
        },
        {
            "departments": ["Kitchen", "Service", "Delivery"],
            "job_profiles": ["Cook", "Waiter"],
            "required_fields": ["first_name", "department"],
        },
    ),
    "communications": (
        {"email_enabled": "", "sms_enabled": "yes", "auto_invite": "", "sms_daily_cap": "25"},
        {"email_enabled": False, "sms_enabled": True, "auto_invite": False, "sms_daily_cap": 25},
    ),
    "sign-in": ({"password_policy": "composition"}, {"password_policy": "composition", "login_methods": ["password"]}),
}


@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_saves_and_the_page_says_so(
    ctx: Context, operator: Actor, workspace: Any, admin: TestClient, section: str
) -> None:
    page = admin.get(f"/admin/{workspace.id}/settings")
    assert page.status_code == 200 and 'aria-current="page">Settings<' in page.text
    for heading in ("General", "Invitations", "People", "Communications", "Sign-in"):
        assert f">{heading}</h2>" in page.text
    assert "Just-in-time" not in page.text  # the organization has no provider of its own
    typed, expected = SECTIONS[section]
    done = post(admin, workspace, **typed)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/admin/{workspace.id}/settings?done=saved"
    shown = admin.get(done.headers["location"]).text
    assert '<p class="notice" role="status">' in shown
    assert "Settings saved." in shown
    after = stored(ctx, operator, workspace)
    for name, value in expected.items():
        assert getattr(after, name) == value, name
    untouched = {"invitation_lifetime_days": 7, "sms_daily_cap": 500, "name": "Acme Main", "email_enabled": True}
    for name, value in untouched.items():
        if name not in expected:
            assert getattr(after, name) == value, name


def test_the_form_shows_what_is_stored(ctx: Context, operator: Actor, workspace: Any, admin: TestClient) -> None:
    changes = {"departments": ["Kitchen", "Bar"], "sms_enabled": True, "required_fields": ["last_name"]}
    tenancy.update_workspace(ctx, operator, workspace.id, {**changes, "app_url": "https://acme.example/go"})
    page = admin.get(f"/admin/{workspace.id}/settings").text
    assert ">Kitchen\nBar</textarea>" in page and 'value="https://acme.example/go"' in page
    assert re.search(r'name="sms_enabled" value="yes" checked', page)
    assert re.search(r'name="required_last_name" value="yes" checked', page)
    assert not re.search(r'name="required_first_name" value="yes" checked', page)


# Refusals next to their field ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("invitation_lifetime_days", "31"),
        ("invitation_lifetime_days", "0"),
        ("invitation_lifetime_days", "seven"),
        ("invitation_lifetime_days", "99999999999999999999"),
        ("access_code_lifetime_days", "91"),
        ("access_code_lifetime_days", "0"),
        ("app_url", "ftp://files.acme.example"),
        ("app_url", "https://acme.example/a b"),
        ("sms_daily_cap", "-1"),
        ("sms_daily_cap", "3000000000"),
        ("name", "   "),
        ("name", "Acme\x00Main"),
        ("departments", "Kitchen\n" + "x" * 201),
        ("departments", "\n".join(f"D{i}" for i in range(501))),
        ("default_language", "es"),
        ("password_policy", "none"),
        ("login_methods", "no"),
    ],
)
def test_a_refusal_is_shown_next_to_its_field_and_what_was_typed_is_kept(
    ctx: Context, operator: Actor, workspace: Any, admin: TestClient, field: str, typed: str
) -> None:
    before = stored(ctx, operator, workspace)
    kept = {"job_profiles": "Cook\nWaiter", "app_url": "https://kept.example/"}
    typing = {"login_password": typed} if field == "login_methods" else {field: typed}
    bad = post(admin, workspace, **{**kept, **typing})
    assert bad.status_code in (403, 422) and f'id="{field}-error"' in bad.text, bad.text
    assert "Nothing was saved." in bad.text and "Traceback" not in bad.text
    if field not in ("login_methods", "password_policy", "default_language"):
        assert f'aria-describedby="{field}-error"' in bad.text
    assert ">Cook\nWaiter</textarea>" in bad.text  # another section's typed value is kept
    if field in ("invitation_lifetime_days", "access_code_lifetime_days", "sms_daily_cap", "app_url"):
        assert f'value="{typed}"' in bad.text
    assert stored(ctx, operator, workspace) == before


def test_a_provider_needs_the_enterprise_plan_and_single_sign_on_a_provider(
    ctx: Context, operator: Actor, workspace: Any, admin: TestClient
) -> None:
    required = post(admin, workspace, sso_required="yes")
    assert required.status_code == 422 and 'id="sso_required-error"' in required.text
    assert "can only be required when one of the organization" in required.text


# Sign-in with the organization's providers ---------------------------------------------------------
PROVIDER = {"name": "Entra", "issuer": "https://login.contoso.example/v2.0", "client_id": "a", "client_secret": "s"}


def test_the_organizations_providers_and_just_in_time_members(ctx: Context, operator: Actor) -> None:
    big = tenancy.create_organization(ctx, operator, "Big", plan="enterprise")
    workspace = tenancy.create_workspace(ctx, operator, big.id, "Big Main")
    with mock_provider() as issuer:  # its discovery document is read when it is added
        provider = identity_providers.create(ctx, operator, big.id, ProviderInput(**{**PROVIDER, "issuer": issuer})).id
    account(ctx, operator, workspace, "olga@example.com", role="owner")
    admin = browser_of(ctx, "olga@example.com")
    page = admin.get(f"/admin/{workspace.id}/settings").text
    assert "Single sign-on: Entra" in page and "Just-in-time members" in page
    form = {"name": "Big Main", f"login_sso:{provider}": "yes"}
    jit = {"jit_enabled": "yes", "jit_domains": "big.example\r\nbig.test", "default_role": "guest"}
    wrong = post(admin, workspace, **form, **jit, default_department="Nowhere")
    assert wrong.status_code == 422 and 'id="default_department-error"' in wrong.text
    assert 'value="Nowhere"' in wrong.text and ">big.example\r\nbig.test</textarea>" in wrong.text
    done = post(admin, workspace, **form, **jit, departments="Nowhere", default_department="Nowhere")
    assert done.status_code == 303, done.text
    after = stored(ctx, operator, workspace)
    assert after.login_methods == ["password", f"sso:{provider}"] and after.jit_enabled is True
    assert after.jit_domains == ["big.example", "big.test"] and after.default_role == "guest"
    assert after.default_department == "Nowhere"
    required = post(admin, workspace, **form, **jit, sso_required="yes", departments="Nowhere")
    assert required.status_code == 303 and stored(ctx, operator, workspace).sso_required is True
    owner_role = post(admin, workspace, **{**form, **jit, "default_role": "owner"})
    assert owner_role.status_code == 422 and 'id="default_role-error"' in owner_role.text
    only_unknown = {**jit, "login_password": "", "login_sso:not-offered": "yes"}
    unknown = post(admin, workspace, **only_unknown)  # a method not offered is ignored: none is left
    assert unknown.status_code == 422 and 'id="login_methods-error"' in unknown.text


# Who may --------------------------------------------------------------------------------------------
def test_a_member_without_manage_settings_is_refused_and_nothing_changes(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com")
    token = csrf(browser_of(ctx, "olga@example.com").get(f"/admin/{workspace.id}/settings").text)
    account(ctx, operator, workspace, "mia@example.com", role="member")
    member = browser_of(ctx, "mia@example.com")
    before = stored(ctx, operator, workspace)
    assert member.get(f"/admin/{workspace.id}/settings").status_code == 403
    own = csrf(member.get("/sign-in").text)
    for given in (own, token):
        refused = member.post(f"/admin/{workspace.id}/settings", data={**FORM, "name": "Mine", "csrftoken": given})
        assert refused.status_code == 403 and "Traceback" not in refused.text
    assert stored(ctx, operator, workspace) == before


def test_another_organizations_workspace_is_not_found(ctx: Context, operator: Actor, admin: TestClient) -> None:
    globex = tenancy.create_organization(ctx, operator, "Globex")
    theirs = tenancy.create_workspace(ctx, operator, globex.id, "Globex Main")
    assert admin.get(f"/admin/{theirs.id}/settings").status_code == 404
    token = csrf(admin.get("/sign-in").text)
    refused = admin.post(f"/admin/{theirs.id}/settings", data={**FORM, "csrftoken": token})
    assert refused.status_code == 404 and stored(ctx, operator, theirs).name == "Globex Main"


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    ctx: Context, operator: Actor, workspace: Any, admin: TestClient
) -> None:
    refused = admin.post(f"/admin/{workspace.id}/settings", data={**FORM, "name": "Forged"}, follow_redirects=False)
    assert refused.status_code == 403 and "Traceback" not in refused.text
    assert stored(ctx, operator, workspace).name == "Acme Main"


def test_a_signed_out_visitor_is_sent_to_sign_in(ctx: Context, workspace: Any) -> None:
    answer = client(ctx).get(f"/admin/{workspace.id}/settings", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next=")


# Hostile input and languages ---------------------------------------------------------------------
def test_markup_is_saved_as_text_and_shown_escaped(
    ctx: Context, operator: Actor, workspace: Any, admin: TestClient
) -> None:
    markup = '<script>alert(1)</script>"><b>Acme</b>'
    done = post(admin, workspace, name=markup, departments="<img src=x onerror=alert(1)>")
    assert done.status_code == 303
    assert stored(ctx, operator, workspace).name == markup
    page = admin.get(f"/admin/{workspace.id}/settings").text
    assert "<script>alert(1)" not in page and "<b>Acme" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;b&gt;Acme&lt;/b&gt;" in page
    bad = post(admin, workspace, name=markup, invitation_lifetime_days="<i>7</i>")
    assert bad.status_code == 422 and "<i>7" not in bad.text and 'value="&lt;i&gt;7&lt;/i&gt;"' in bad.text


def test_a_german_administrator_sees_the_page_in_german(ctx: Context, operator: Actor, workspace: Any) -> None:
    account(ctx, operator, workspace, "olga@example.com", language="de")
    browser = browser_of(ctx, "olga@example.com")
    page = browser.get(f"/admin/{workspace.id}/settings").text
    assert '<html lang="de">' in page and "<h1>Einstellungen</h1>" in page and ">Kommunikation</h2>" in page
    bad = post(browser, workspace, invitation_lifetime_days="40")
    assert bad.status_code == 422 and "ganze Zahl von Tagen" in bad.text
    french = client(ctx).get("/sign-in", headers={"accept-language": "fr"})
    assert french.status_code == 200
    account(ctx, operator, workspace, "fanny@example.com", language="fr")
    assert "<h1>Paramètres</h1>" in browser_of(ctx, "fanny@example.com").get(f"/admin/{workspace.id}/settings").text


# The use case's own checks (every door) ----------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"invitation_lifetime_days": "7"}, "invitation_lifetime_days"),
        ({"invitation_lifetime_days": True}, "invitation_lifetime_days"),
        ({"sms_daily_cap": 2**31}, "sms_daily_cap"),
        ({"departments": ["ok", "bad\x00"]}, "departments"),
        ({"departments": "Kitchen"}, "departments"),
        ({"job_profiles": ["x" * 201]}, "job_profiles"),
        ({"jit_domains": ["a.example"] * 501}, "jit_domains"),
        ({"app_url": "https://acme.example/" + "x" * 500}, "app_url"),
        ({"app_url": "https://acme.example/\nx"}, "app_url"),
        ({"default_department": "a\x00"}, "default_department"),
        ({"name": "Acme\x1bMain"}, "name"),
        ({"name": 7}, "name"),
    ],
)
def test_the_use_case_refuses_what_no_door_should_store(
    ctx: Context, operator: Actor, workspace: Any, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        tenancy.update_workspace(ctx, operator, workspace.id, changes)
    assert refused.value.field == field
    assert stored(ctx, operator, workspace) == workspace


def test_the_settings_are_read_only_by_those_who_may_change_them(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "mia@example.com", role="member")
    [mia] = [m for m in members.list_members(ctx, operator, workspace.id) if m.email == "mia@example.com"]
    actor = Actor(ActorKind.ACCOUNT, id=str(mia.account_id), name="mia@example.com")
    with pytest.raises(PermissionDenied):
        tenancy.settings_of(ctx, actor, workspace.id)
    with pytest.raises(PermissionDenied):
        tenancy.update_workspace(ctx, actor, workspace.id, {"name": "Mine"})
    seen, choices = tenancy.settings_of(ctx, operator, workspace.id)
    assert seen.id == workspace.id and [c.method for c in choices] == ["password"]
    globex = tenancy.create_organization(ctx, operator, "Globex")
    with pytest.raises(NotFound):
        tenancy.settings_of(ctx, actor, tenancy.create_workspace(ctx, operator, globex.id, "G").id)


def test_an_unchanged_name_is_not_recorded_as_a_change(ctx: Context, operator: Actor, workspace: Any) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"name": " Acme Main ", "sms_daily_cap": 500})
    assert audit.events(ctx, operator, workspace.id, action="workspace.updated") == []
    tenancy.update_workspace(ctx, operator, workspace.id, {"name": "Acme Floor"})
    [changed] = audit.events(ctx, operator, workspace.id, action="workspace.updated")
    assert changed["data"]["fields"] == ["name"]
