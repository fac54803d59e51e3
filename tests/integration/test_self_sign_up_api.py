"""Public self-sign-up and the signed-in join through the REST API, on both databases, with the
rules the pages' tests check: what a form or link offers (closed, tampered, paused, used up), the
email and SMS code journeys ending signed in, a tampered department refused, wrong codes counted,
codes sent too often throttled, an existing account's address never attached (and the start's
answer the same as for a new address), and the signed-in join through a link or a workspace's
form by session token only (the link's department and profile, uses counted once, the approval
queue)."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.outbox import messages, token_for

from admit.admin import members, signup_links, signup_settings, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchard-pebble-58"
BASE = "https://admit.example.test"


@pytest.fixture
def shop(ctx: Context, operator: Actor, workspace: Any) -> Any:
    changes = {"departments": ["Bakery", "Tills", "Warehouse"], "job_profiles": ["Cashier"], "sms_enabled": True}
    return tenancy.update_workspace(ctx, operator, workspace.id, changes)


def code(ctx: Context, recipient: str) -> str:
    return str(messages(ctx, recipient=recipient, kind="email_verification")[-1]["payload"]["code"])


def token_of(link: Any) -> str:
    return str(link.url.removeprefix(f"{BASE}/join/"))


def membership(ctx: Context, shop: Any, account_id: str) -> Any:
    with ctx.uow() as uow:
        return uow.members.for_account(shop.organization_id, shop.id, account_id)


def person(ctx: Context, operator: Actor, shop: Any, email: str) -> str:
    """An account (a member of another workspace of the organization); its id."""
    other = tenancy.create_workspace(ctx, operator, shop.organization_id, f"Elsewhere {email}")
    members.provision(ctx, operator, other.id, MemberInput(email=email, first_name="Ann", last_name="Lee"), invite=True)
    return str(claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)["account_id"])


def session_for(ctx: Context, email: str) -> str:
    answer = client(ctx).post("/api/v1/sessions", json={"identifier": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def error(answer: Any) -> tuple[int, str, str | None]:
    body = answer.json()["error"]
    return answer.status_code, body["code"], body["field"]


def test_what_a_form_or_link_offers(ctx: Context, operator: Actor, shop: Any) -> None:
    api = client(ctx)
    assert error(api.get(f"/api/v1/signup/workspaces/{shop.id}"))[:2] == (400, "signup_closed")
    assert error(api.get("/api/v1/signup/workspaces/%3Cscript%3E"))[:2] == (400, "signup_closed")
    signup_settings.save(ctx, operator, shop.id, {"enabled": True, "departments_pickable": ["Bakery", "Tills"]})
    offer = api.get(f"/api/v1/signup/workspaces/{shop.id}").json()
    assert offer["departments"] == ["Bakery", "Tills"] and offer["by_phone"] and not offer["via_link"]
    link = signup_links.create(ctx, operator, shop.id, {"department": "Warehouse", "max_uses": 1})
    shown = api.get(f"/api/v1/signup/links/{token_of(link)}")
    assert shown.status_code == 200 and shown.headers["referrer-policy"] == "no-referrer"
    assert shown.json()["department"] == "Warehouse" and shown.json()["via_link"] and shown.json()["departments"] == []
    for tampered in (token_of(link)[:-2] + "zz", "adm_inv_x", "%3Cscript%3E"):
        refused = api.get(f"/api/v1/signup/links/{tampered}")
        assert error(refused)[:2] == (400, "link_invalid") and "<script>" not in refused.text
    signup_links.pause(ctx, operator, shop.id, link.id)
    assert error(api.get(f"/api/v1/signup/links/{token_of(link)}"))[:2] == (400, "link_paused")
    signup_links.resume(ctx, operator, shop.id, link.id)
    tampered_department = api.post(
        "/api/v1/signup",
        json={"link": token_of(link), "first_name": "A", "last_name": "B", "email": "a@example.com", "department": "x"},
    )
    assert error(tampered_department) == (422, "unknown_department", "department")
    started = api.post(
        "/api/v1/signup", json={"link": token_of(link), "first_name": "A", "last_name": "B", "email": "a@example.com"}
    )
    assert started.status_code == 201
    flow = started.json()["flow"]
    assert api.post("/api/v1/signup/verify", json={"flow": flow, "code": code(ctx, "a@example.com")}).json() == {
        "state": "verified"
    }
    assert api.post("/api/v1/signup/complete", json={"flow": flow, "password": PASSWORD}).json()["status"] == "active"
    assert error(api.get(f"/api/v1/signup/links/{token_of(link)}"))[:2] == (400, "link_used_up")


def test_sign_up_by_email_ends_signed_in(ctx: Context, operator: Actor, shop: Any) -> None:
    signup_settings.save(ctx, operator, shop.id, {"enabled": True, "departments_pickable": ["Bakery", "Tills"]})
    api = client(ctx)
    details = {"workspace_id": shop.id, "first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
    assert error(api.post("/api/v1/signup", json={**details, "department": "Warehouse"}))[2] == "department"
    assert error(api.post("/api/v1/signup", json=details)) == (422, "department_required", "department")
    assert error(api.post("/api/v1/signup", json={**details, "first_name": "A\u0007"}))[2] == "first_name"
    assert messages(ctx, recipient="ann@example.com", kind="email_verification") == []
    started = api.post("/api/v1/signup", json={**details, "department": "Tills"}, headers={"accept-language": "de"})
    assert started.status_code == 201
    flow = started.json()["flow"]
    sent = messages(ctx, recipient="ann@example.com", kind="email_verification")
    assert len(sent) == 1 and sent[0]["language"] == "de"
    early = api.post("/api/v1/signup/complete", json={"flow": flow, "password": PASSWORD})
    assert error(early)[:2] == (403, "not_verified")
    wrong = "000000" if code(ctx, "ann@example.com") != "000000" else "111111"
    refused = api.post("/api/v1/signup/verify", json={"flow": flow, "code": wrong})
    assert error(refused)[:2] == (400, "invalid_code")
    assert api.post("/api/v1/signup/verify", json={"flow": flow, "code": code(ctx, "ann@example.com")}).json() == {
        "state": "verified"
    }
    weak = api.post("/api/v1/signup/complete", json={"flow": flow, "password": "short"})
    assert error(weak)[0] == 422 and error(weak)[2] == "password"
    done = api.post("/api/v1/signup/complete", json={"flow": flow, "password": PASSWORD})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "active" and body["workspace_id"] == shop.id and body["token"].startswith("adm_ses_")
    member = membership(ctx, shop, body["account_id"])
    assert member.department == "Tills" and member.role == "member" and member.email == "ann@example.com"
    assert client(ctx, body["token"]).delete("/api/v1/sessions/current").status_code == 204
    assert error(api.post("/api/v1/signup/complete", json={"flow": flow, "password": PASSWORD}))[1] == "signup_done"


def test_sign_up_by_username_and_sms_code(ctx: Context, operator: Actor, shop: Any) -> None:
    signup_settings.save(ctx, operator, shop.id, {"enabled": True, "default_department": "Tills"})
    api = client(ctx)
    details = {"workspace_id": shop.id, "first_name": "Bo", "last_name": "Ng", "username": "bo.ng"}
    assert error(api.post("/api/v1/signup", json=details)) == (422, "phone_required", "phone")
    started = api.post("/api/v1/signup", json={**details, "phone": "+41791234567"})
    assert started.status_code == 201
    flow = started.json()["flow"]
    sms = messages(ctx, recipient="+41791234567", kind="email_verification")
    assert sms and sms[-1]["channel"] == "sms"
    api.post("/api/v1/signup/verify", json={"flow": flow, "code": code(ctx, "+41791234567")})
    done = api.post("/api/v1/signup/complete", json={"flow": flow, "password": PASSWORD}).json()
    assert done["status"] == "active"
    member = membership(ctx, shop, done["account_id"])
    assert (member.username, member.phone, member.email, member.department) == ("bo.ng", "+41791234567", None, "Tills")


def test_codes_sent_too_often_are_throttled(ctx: Context, operator: Actor, shop: Any) -> None:
    signup_settings.save(ctx, operator, shop.id, {"enabled": True})
    api = client(ctx)
    flow = api.post(
        "/api/v1/signup", json={"workspace_id": shop.id, "first_name": "C", "last_name": "D", "email": "c@example.com"}
    ).json()["flow"]
    answers = [api.post("/api/v1/signup/resend", json={"flow": flow}) for _ in range(8)]
    assert answers[0].status_code == 204
    throttled = [a for a in answers if a.status_code == 429]
    assert throttled and int(throttled[0].headers["retry-after"]) > 0
    assert throttled[0].json()["error"]["code"] == "too_many_attempts"
    assert error(api.post("/api/v1/signup/resend", json={"flow": "adm_flw_nothing"}))[1] == "signup_expired"


def test_an_existing_accounts_address_is_never_attached(ctx: Context, operator: Actor, shop: Any) -> None:
    account_id = person(ctx, operator, shop, "ann@example.com")
    signup_settings.save(ctx, operator, shop.id, {"enabled": True})
    api = client(ctx)
    details = {"workspace_id": shop.id, "first_name": "Eve", "last_name": "V"}
    known = api.post("/api/v1/signup", json={**details, "email": "ann@example.com"})
    unknown = api.post("/api/v1/signup", json={**details, "email": "new@example.com"})
    assert known.status_code == unknown.status_code == 201
    assert set(known.json()) == set(unknown.json()) == {"flow"}  # nothing says which address is known
    flow = known.json()["flow"]
    verified = api.post("/api/v1/signup/verify", json={"flow": flow, "code": code(ctx, "ann@example.com")})
    assert verified.json() == {"state": "existing"}
    refused = api.post("/api/v1/signup/complete", json={"flow": flow, "password": "x-new-long-password-1"})
    assert error(refused)[:2] == (409, "sign_in_required")
    assert membership(ctx, shop, account_id) is None


def test_a_signed_in_account_joins_through_a_link(ctx: Context, operator: Actor, shop: Any) -> None:
    account_id = person(ctx, operator, shop, "ann@example.com")
    link = signup_links.create(ctx, operator, shop.id, {"department": "Tills", "job_profile": "Cashier"})
    path = f"/api/v1/join/{token_of(link)}"
    assert error(client(ctx).post(path, json={}))[:2] == (401, "invalid_credentials")
    api_key = api_token(ctx, shop.organization_id, role="admin")
    assert client(ctx, api_key).post(path, json={}).status_code == 401  # an API token is no account
    assert membership(ctx, shop, account_id) is None
    ann = client(ctx, session_for(ctx, "ann@example.com"))
    assert error(ann.post(path, json={"department": "Bakery"})) == (422, "unknown_department", "department")
    assert error(ann.post("/api/v1/join/adm_sul_tampered", json={}))[:2] == (400, "link_invalid")
    joined = ann.post(path, json={})
    assert joined.status_code == 200, joined.text
    assert joined.json()["status"] == "active" and joined.json()["workspace_id"] == shop.id
    member = membership(ctx, shop, account_id)
    assert (member.department, member.job_profile, member.role, member.email) == (
        "Tills",
        "Cashier",
        "member",
        "ann@example.com",
    )
    assert ann.post(path, json={}).json()["status"] == "already_member"
    assert signup_links.get(ctx, operator, shop.id, link.id).uses == 1


def test_a_signed_in_account_joins_a_workspace_form_with_approval(ctx: Context, operator: Actor, shop: Any) -> None:
    account_id = person(ctx, operator, shop, "bo@example.com")
    path = f"/api/v1/signup/workspaces/{shop.id}/join"
    bo = client(ctx, session_for(ctx, "bo@example.com"))
    assert error(bo.post(path, json={}))[:2] == (400, "signup_closed")
    signup_settings.save(
        ctx,
        operator,
        shop.id,
        {"enabled": True, "departments_pickable": ["Bakery", "Tills"], "approval_required": True},
    )
    assert error(bo.post(path, json={})) == (422, "department_required", "department")
    waiting = bo.post(path, json={"department": "Bakery"})
    assert waiting.json()["status"] == "pending_approval" and membership(ctx, shop, account_id) is None
    assert bo.post(path, json={"department": "Bakery"}).json()["status"] == "pending_approval"
    queue = signup_settings.queue(ctx, operator, shop.id)
    assert [q.email for q in queue] == ["bo@example.com"]
    signup_settings.save(
        ctx,
        operator,
        shop.id,
        {"enabled": True, "departments_pickable": ["Bakery"], "allowed_domains": ["elsewhere.example"]},
    )
    other = person(ctx, operator, shop, "cy@example.com")
    cy = client(ctx, session_for(ctx, "cy@example.com"))
    assert error(cy.post(path, json={"department": "Bakery"}))[1] == "domain_not_allowed"
    assert membership(ctx, shop, other) is None
