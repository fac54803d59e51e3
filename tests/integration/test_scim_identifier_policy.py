"""Issue 16: what a new email address or phone number from SCIM does to a member who claimed an
account, by the workspace's ``scim_identifier_changes`` policy, over HTTP on both databases.
Under ``verify`` (the default) the account signs in as before, the new address and number are told
how to add themselves (the new phone on ``/settings/phone``, by a texted code) and the old address
is told; under ``trust`` the new identifiers sign in at once and the old address is told, and
another account's identifier is 409 uniqueness. The policy is set through the REST API, the CLI
and the console's settings page, by those who may change settings only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import api_token, client
from support.outbox import messages, token_for
from support.pages import browser_signed_in, csrf, sign_in
from support.processes import admit

from admit.admin import members, scim_tokens, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.flows.settings import emails
from admit.shared.context import Actor, Context

PASSWORD = "saffron-lattice-harbor-71"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
NEW_PHONE = "+4915112345678"


def claimed(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "member", **kw: Any) -> str:
    """A member who accepted their invitation (an account signing in with ``email``); the member's id."""
    member, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role, **kw), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    return str(member.id)


def scim_client(ctx: Context, operator: Actor, org: Any, workspace: Any) -> TestClient:
    _, plaintext = scim_tokens.create(ctx, operator, org.id, name="Entra ID", role="admin", workspace_id=workspace.id)
    return client(ctx, plaintext)


def scim_patch(scim: TestClient, member_id: str, email: str, phone: str | None = None) -> Any:
    operations: list[dict[str, Any]] = [
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": email},
    ]
    if phone is not None:
        operations.append({"op": "add", "path": "phoneNumbers", "value": [{"type": "mobile", "value": phone}]})
    return scim.patch(f"/scim/v2/Users/{member_id}", json={"schemas": [PATCH], "Operations": operations})


def signs_in(ctx: Context, identifier: str) -> bool:
    answer = sign_in(client(ctx), identifier, PASSWORD)
    assert answer.status_code in (303, 401), answer.text
    return bool(answer.status_code == 303)


def policy(ctx: Context, operator: Actor, workspace: Any) -> str:
    return str(tenancy.get_workspace(ctx, operator, workspace.id).scim_identifier_changes)


# verify (the default) ---------------------------------------------------------------------------
def test_under_verify_a_scim_change_tells_the_new_address_phone_and_old_address_and_signs_in_as_before(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    assert policy(ctx, operator, workspace) == "verify"  # the default
    member_id = claimed(ctx, operator, workspace, "ada@example.com")
    answer = scim_patch(scim_client(ctx, operator, org, workspace), member_id, "ada.new@example.com", NEW_PHONE)
    assert answer.status_code == 200, answer.text
    listed = members.get(ctx, operator, member_id)
    assert (listed.email, listed.phone) == ("ada.new@example.com", NEW_PHONE)  # the directory entry changed
    assert signs_in(ctx, "ada@example.com")
    assert not signs_in(ctx, "ada.new@example.com") and not signs_in(ctx, NEW_PHONE)  # not yet
    [confirm] = messages(ctx, kind="address_to_confirm")
    [notice] = messages(ctx, kind="address_changed")
    [text] = messages(ctx, kind="phone_to_confirm")
    assert confirm["recipient"] == "ada.new@example.com" and confirm["payload"]["link"].endswith("/settings/email")
    assert notice["recipient"] == "ada@example.com" and notice["payload"]["address"] == "ada.new@example.com"
    assert text["recipient"] == NEW_PHONE and text["channel"] == "sms"
    assert text["payload"]["link"] == "https://admit.example.test/settings/phone"
    assert messages(ctx, kind="identifier_added") == [] and messages(ctx, kind="sign_in_address_changed") == []
    with ctx.uow() as uow:  # the SMS was counted against the organization's SMS limits
        counted = uow.throttles.get(f"rate:sms:org:{org.id}")
    assert counted is not None and counted.failures == 1


# trust ------------------------------------------------------------------------------------------
def test_under_trust_a_scim_change_signs_in_at_once_and_the_old_address_is_told(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"scim_identifier_changes": "trust"})
    member_id = claimed(ctx, operator, workspace, "bo@example.com")
    answer = scim_patch(scim_client(ctx, operator, org, workspace), member_id, "bo.new@example.com", NEW_PHONE)
    assert answer.status_code == 200, answer.text
    assert signs_in(ctx, "bo.new@example.com") and signs_in(ctx, NEW_PHONE) and signs_in(ctx, "bo@example.com")
    assert [m["recipient"] for m in messages(ctx, kind="identifier_added")] == ["bo.new@example.com"]
    [notice] = messages(ctx, kind="sign_in_address_changed")
    assert notice["recipient"] == "bo@example.com" and notice["payload"]["address"] == "bo.new@example.com"
    assert messages(ctx, kind="address_to_confirm") == [] and messages(ctx, kind="phone_to_confirm") == []


def test_under_trust_another_accounts_address_is_409_uniqueness_and_changes_nothing(
    ctx: Context, operator: Actor, org: Any, workspace: Any, database_url: str
) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"scim_identifier_changes": "trust"})
    other = tenancy.create_workspace(ctx, operator, org.id, "Acme Annex")
    claimed(ctx, operator, other, "cy@example.com")  # another account, in another workspace
    member_id = claimed(ctx, operator, workspace, "dee@example.com")
    before = members.get(ctx, operator, member_id)
    sent = len(messages(ctx))
    answer = scim_patch(scim_client(ctx, operator, org, workspace), member_id, "cy@example.com", NEW_PHONE)
    assert answer.status_code == 409, answer.text
    assert answer.json()["scimType"] == "uniqueness" and "another account" in answer.json()["detail"]
    assert members.get(ctx, operator, member_id) == before
    assert len(messages(ctx)) == sent
    assert signs_in(ctx, "dee@example.com") and not signs_in(ctx, NEW_PHONE)


# setting the policy -----------------------------------------------------------------------------
def test_the_policy_is_set_through_the_rest_api_by_an_admin_only_and_audited(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    admin = client(ctx, api_token(ctx, org.id, role="admin"))
    shown = admin.get(f"/api/v1/workspaces/{workspace.id}")
    assert shown.status_code == 200 and shown.json()["scim_identifier_changes"] == "verify"
    changed = admin.patch(f"/api/v1/workspaces/{workspace.id}", json={"scim_identifier_changes": "trust"})
    assert changed.status_code == 200 and changed.json()["scim_identifier_changes"] == "trust"
    assert policy(ctx, operator, workspace) == "trust"
    with ctx.uow() as uow:
        [event] = [e for e in uow.events.list(org.id) if e.action == "workspace.updated"]
    assert event.data["fields"] == ["scim_identifier_changes"]
    unknown = admin.patch(f"/api/v1/workspaces/{workspace.id}", json={"scim_identifier_changes": "always"})
    assert unknown.status_code == 422 and "scim_identifier_changes" in unknown.text
    assert "verify" in unknown.text and "trust" in unknown.text
    member = client(ctx, api_token(ctx, org.id, role="member"))
    refused = member.patch(f"/api/v1/workspaces/{workspace.id}", json={"scim_identifier_changes": "verify"})
    assert refused.status_code == 403
    assert policy(ctx, operator, workspace) == "trust"
    schema = admin.get("/api/v1/openapi.json").json()["components"]["schemas"]["WorkspacePatch"]
    described = schema["properties"]["scim_identifier_changes"]
    assert "verify" in described["description"] and "trust" in described["description"]


def test_the_service_refuses_an_unknown_value_naming_the_field(ctx: Context, operator: Actor, workspace: Any) -> None:
    from admit.domain.errors import ValidationFailed

    for bad in ("", "Trust", None, 1):
        with pytest.raises(ValidationFailed) as refused:
            tenancy.update_workspace(ctx, operator, workspace.id, {"scim_identifier_changes": bad})
        assert refused.value.field == "scim_identifier_changes"
    assert policy(ctx, operator, workspace) == "verify"


def test_the_policy_is_set_through_the_cli(database_url: str, ctx: Context, operator: Actor, workspace: Any) -> None:
    done = admit(database_url, "workspace", "update", workspace.id, "--scim-identifier-changes", "trust")
    assert "trust" in done.stdout
    assert policy(ctx, operator, workspace) == "trust"
    refused = admit(
        database_url, "workspace", "update", workspace.id, "--scim-identifier-changes", "sometimes", check=False
    )
    said = " ".join((refused.stdout + refused.stderr).split())
    assert refused.returncode == 1 and "(scim_identifier_changes)" in said and "Traceback" not in said
    assert policy(ctx, operator, workspace) == "trust"


def settings_form(browser: TestClient, workspace: Any) -> tuple[str, dict[str, str]]:
    page = browser.get(f"/admin/{workspace.id}/settings").text
    form = {
        "name": "Acme Main",
        "default_language": "en",
        "invitation_lifetime_days": "7",
        "access_code_lifetime_days": "30",
        "email_enabled": "yes",
        "sms_daily_cap": "500",
        "password_policy": "length",
        "login_password": "yes",
        "csrftoken": csrf(page),
    }
    return page, form


def test_the_policy_is_set_on_the_console_settings_page_by_an_admin_only(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    claimed(ctx, operator, workspace, "olga@example.com", role="admin")
    olga = browser_signed_in(ctx, "olga@example.com", PASSWORD)
    page, form = settings_form(olga, workspace)
    assert 'name="scim_identifier_changes" value="verify" checked' in page
    assert "Trust the directory" in page and "The person confirms it first" in page
    saved = olga.post(
        f"/admin/{workspace.id}/settings", data={**form, "scim_identifier_changes": "trust"}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    assert policy(ctx, operator, workspace) == "trust"
    assert 'name="scim_identifier_changes" value="trust" checked' in olga.get(saved.headers["location"]).text
    with ctx.uow() as uow:
        assert any(
            e.action == "workspace.updated" and e.data["fields"] == ["scim_identifier_changes"]
            for e in uow.events.list(org.id)
        )
    _, form = settings_form(olga, workspace)
    odd = olga.post(f"/admin/{workspace.id}/settings", data={**form, "scim_identifier_changes": "<b>maybe"})
    assert odd.status_code == 422 and 'id="scim_identifier_changes-error"' in odd.text and "<b>maybe" not in odd.text
    assert policy(ctx, operator, workspace) == "trust"
    claimed(ctx, operator, workspace, "mia@example.com")
    mia = browser_signed_in(ctx, "mia@example.com", PASSWORD)
    assert mia.get(f"/admin/{workspace.id}/settings").status_code == 403
    refused = mia.post(
        f"/admin/{workspace.id}/settings",
        data={**form, "csrftoken": csrf(mia.get("/sign-in").text), "scim_identifier_changes": "verify"},
    )
    assert refused.status_code == 403
    assert policy(ctx, operator, workspace) == "trust"


# /settings/phone: the person adds the number the directory now lists ---------------------------
def texted_code(ctx: Context, phone: str) -> str:
    [*_, last] = messages(ctx, recipient=phone, kind="phone_verification")
    assert last["channel"] == "sms"
    return str(last["payload"]["code"])


def form_post(browser: TestClient, action: str, **data: str) -> Any:
    token = csrf(browser.get("/settings/phone").text)
    return browser.post(action, data={**data, "csrftoken": token}, follow_redirects=False)


def test_the_texted_code_on_settings_phone_makes_the_number_sign_in(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    member_id = claimed(ctx, operator, workspace, "ada@example.com")
    scim = scim_client(ctx, operator, org, workspace)
    assert scim_patch(scim, member_id, "ada@example.com", NEW_PHONE).status_code == 200
    [told] = messages(ctx, kind="phone_to_confirm")
    assert told["recipient"] == NEW_PHONE and not signs_in(ctx, NEW_PHONE)
    assert client(ctx).get("/settings/phone", follow_redirects=False).headers["location"].startswith("/sign-in")
    ada = browser_signed_in(ctx, "ada@example.com", PASSWORD)
    assert 'href="/settings/phone"' in ada.get("/").text
    page = ada.get("/settings/phone")
    assert page.status_code == 200 and 'name="viewport"' in page.text and 'type="tel"' in page.text
    assert ada.post("/settings/phone", data={"phone": NEW_PHONE}).status_code == 403  # no CSRF token
    refused = form_post(ada, "/settings/phone", phone="<b>12")
    assert refused.status_code == 422 and 'id="phone-error"' in refused.text and "<b>12" not in refused.text
    assert messages(ctx, kind="phone_verification") == []
    sent = form_post(ada, "/settings/phone", phone="+49 151 1234 5678")  # read as sign-in reads it
    assert sent.status_code == 303 and sent.headers["location"] == "/settings/phone"
    assert f"We texted a code to {NEW_PHONE}" in ada.get("/settings/phone").text
    code = texted_code(ctx, NEW_PHONE)
    with ctx.uow() as uow:  # an SMS of no organization counts as the instance's
        counted = uow.throttles.get("rate:sms:org:-")
    assert counted is not None and counted.failures == 1
    wrong = "000000" if code != "000000" else "111111"
    answer = form_post(ada, "/settings/phone/code", code=wrong)
    assert answer.status_code == 422 and "4 more times" in answer.text
    assert not signs_in(ctx, NEW_PHONE)
    added = form_post(ada, "/settings/phone/code", code=code)
    assert added.status_code == 303 and added.headers["location"] == "/settings/phone?done=added"
    assert "The number was added" in ada.get(added.headers["location"]).text
    assert signs_in(ctx, NEW_PHONE)
    assert form_post(ada, "/settings/phone/code", code=code).status_code == 410  # single use: the flow is over
    mine = form_post(ada, "/settings/phone", phone=NEW_PHONE)
    assert mine.status_code == 422 and "already signs in with this number" in mine.text
    with ctx.uow() as uow:
        assert any(e.action == "account.phone_added" for e in uow.events.list(None))


def test_five_wrong_codes_lock_the_code_as_for_an_email_address(ctx: Context, operator: Actor, workspace: Any) -> None:
    claimed(ctx, operator, workspace, "bo@example.com")
    bo = browser_signed_in(ctx, "bo@example.com", PASSWORD)
    assert form_post(bo, "/settings/phone", phone=NEW_PHONE).status_code == 303
    code = texted_code(ctx, NEW_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        answer = form_post(bo, "/settings/phone/code", code=wrong)
        assert answer.status_code == 422 and f"{left} more time" in answer.text
    locked = form_post(bo, "/settings/phone/code", code=wrong)
    assert locked.status_code == 410 and "tried too often" in locked.text
    assert form_post(bo, "/settings/phone/code", code=code).status_code == 410  # withdrawn: the right one too
    assert not signs_in(ctx, NEW_PHONE)


def test_another_accounts_number_is_refused_only_after_its_code(ctx: Context, operator: Actor, workspace: Any) -> None:
    claimed(ctx, operator, workspace, "cy@example.com", phone=NEW_PHONE)  # Cy signs in with the number
    assert signs_in(ctx, NEW_PHONE)
    claimed(ctx, operator, workspace, "dee@example.com")
    dee = browser_signed_in(ctx, "dee@example.com", PASSWORD)
    taken = form_post(dee, "/settings/phone", phone=NEW_PHONE)
    free = form_post(dee, "/settings/phone", phone="+4915199999999")
    assert (taken.status_code, free.status_code) == (303, 303)  # the same answer: nothing told
    assert len(messages(ctx, recipient=NEW_PHONE, kind="phone_verification")) == 1
    assert form_post(dee, "/settings/phone", phone=NEW_PHONE).status_code == 303  # the taken number again
    refused = form_post(dee, "/settings/phone/code", code=texted_code(ctx, NEW_PHONE))
    assert refused.status_code == 409 and "another account already signs in with this number" in refused.text
    assert NEW_PHONE not in emails.identifiers(ctx, account_of(ctx, "dee@example.com"))


def account_of(ctx: Context, email: str) -> str:
    with ctx.uow() as uow:
        found = uow.accounts.by_identifiers([("email", email)])
    assert found is not None
    return str(found.id)
