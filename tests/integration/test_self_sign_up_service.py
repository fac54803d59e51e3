"""Self-sign-up in the services, on both databases: the settings' and links' rules (never above
member, departments checked on the server), the flow by email code and by SMS code, the short
code's attempt cap, allowed domains, the daily cap, an existing account never attached, links
paused / expired / used up / rotated, and the approval queue with its notices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from support.clock import FixedClock
from support.outbox import messages

from admit.admin import signup_links, signup_settings, tenancy
from admit.domain.errors import (
    Conflict,
    InvalidCode,
    InvalidCredentials,
    NotFound,
    PermissionDenied,
    SecretRejected,
    ValidationFailed,
)
from admit.domain.roles import Role
from admit.flows.signin import sessions
from admit.flows.signup import self_sign_up
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "lantern-orchard-pebble-58"


@pytest.fixture
def shop(ctx: Context, operator: Actor, workspace: Any) -> Any:
    changes = {"departments": ["Bakery", "Tills", "Warehouse"], "job_profiles": ["Cashier"], "sms_enabled": True}
    return tenancy.update_workspace(ctx, operator, workspace.id, changes)


def enable(ctx: Context, operator: Actor, shop: Any, **extra: Any) -> None:
    given = {"enabled": True, "departments_pickable": ["Bakery", "Tills"], **extra}
    signup_settings.save(ctx, operator, shop.id, given)


def last_code(ctx: Context, recipient: str) -> str:
    return str(messages(ctx, recipient=recipient, kind="email_verification")[-1]["payload"]["code"])


def sign_up(ctx: Context, shop: Any, email: str = "ann@example.com", **kw: Any) -> str:
    handle = self_sign_up.request(
        ctx, workspace_id=shop.id, first_name="Ann", last_name="Lee", email=email, department="Bakery", **kw
    )
    assert self_sign_up.verify(ctx, handle, last_code(ctx, email)) == "verified"
    return handle


# Settings and links -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["admin", "owner", "root", None])
def test_settings_and_links_never_give_more_than_member(ctx: Context, operator: Actor, shop: Any, role: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        signup_settings.save(ctx, operator, shop.id, {"enabled": True, "default_role": role})
    assert refused.value.field == "default_role"
    with pytest.raises(ValidationFailed) as refused:
        signup_links.create(ctx, operator, shop.id, {"department": "Tills", "role": role or "superuser"})
    assert refused.value.field == "role"


def test_departments_and_domains_are_checked(ctx: Context, operator: Actor, shop: Any) -> None:
    for given, field in (
        ({"departments_pickable": ["Bakery", "Moon base"]}, "departments_pickable"),
        ({"default_department": "<script>"}, "default_department"),
        ({"default_job_profile": "Pilot"}, "default_job_profile"),
        ({"allowed_domains": ["not a domain"]}, "allowed_domains"),
        ({"allowed_domains": ["x.example"] * 51}, "allowed_domains"),
        ({"daily_cap": 0}, "daily_cap"),
        ({"daily_cap": "5"}, "daily_cap"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            signup_settings.save(ctx, operator, shop.id, given)
        assert refused.value.field == field
    with pytest.raises(ValidationFailed):
        signup_links.create(ctx, operator, shop.id, {"department": "Moon base"})
    with pytest.raises(ValidationFailed):
        signup_links.create(ctx, operator, shop.id, {"department": "Tills", "max_uses": 0})
    saved = signup_settings.save(ctx, operator, shop.id, {"allowed_domains": ["@Example.COM", "example.com"]})
    assert saved.allowed_domains == ["example.com"]


def test_a_member_may_not_manage_sign_up(ctx: Context, operator: Actor, shop: Any) -> None:
    member = Actor(ActorKind.API_TOKEN, organization_id=shop.organization_id, role=Role.MEMBER)
    with pytest.raises(PermissionDenied):
        signup_settings.save(ctx, member, shop.id, {"enabled": True})
    with pytest.raises(PermissionDenied):
        signup_links.create(ctx, member, shop.id, {"department": "Tills"})
    other = Actor(ActorKind.API_TOKEN, organization_id="0" * 32, role=Role.OWNER)
    with pytest.raises(NotFound):
        signup_links.list_links(ctx, other, shop.id)


# The flow ----------------------------------------------------------------------------------------------
def test_sign_up_by_email_creates_an_active_member_and_signs_in(ctx: Context, operator: Actor, shop: Any) -> None:
    enable(ctx, operator, shop, default_job_profile="Cashier")
    form = self_sign_up.form(ctx, workspace_id=shop.id)
    assert form.departments == ["Bakery", "Tills"] and form.by_email and form.by_phone
    handle = sign_up(ctx, shop)
    done = self_sign_up.complete(ctx, handle, PASSWORD)
    assert done["status"] == "active" and done["session"]
    assert sessions.live_session(ctx, done["session"]).account_id == done["account_id"]
    with ctx.uow() as uow:
        member = uow.members.get(shop.organization_id, done["member_id"])
    assert member is not None
    assert (member.role, member.department, member.job_profile, member.status) == (
        "member",
        "Bakery",
        "Cashier",
        "active",
    )
    token, _ = sessions.sign_in(ctx, "ann@example.com", PASSWORD)
    assert token
    with pytest.raises(SecretRejected):  # the handle is done with
        self_sign_up.complete(ctx, handle, PASSWORD)


def test_sign_up_by_username_and_sms_code(ctx: Context, operator: Actor, shop: Any) -> None:
    enable(ctx, operator, shop)
    handle = self_sign_up.request(
        ctx,
        workspace_id=shop.id,
        first_name="Bo",
        last_name="Ng",
        username="bo.ng",
        phone="+41 79 123 45 67",
        department="Tills",
    )
    sent = messages(ctx, recipient="+41791234567", kind="email_verification")
    assert sent[-1]["channel"] == "sms"
    assert self_sign_up.verify(ctx, handle, sent[-1]["payload"]["code"]) == "verified"
    done = self_sign_up.complete(ctx, handle, PASSWORD)
    token, _ = sessions.sign_in(ctx, "bo.ng", PASSWORD)
    assert token and done["status"] == "active"


def test_a_tampered_department_is_refused(ctx: Context, operator: Actor, shop: Any) -> None:
    enable(ctx, operator, shop)
    for department in ("Warehouse", "Moon base", None, ["Bakery"]):
        with pytest.raises(ValidationFailed) as refused:
            self_sign_up.request(
                ctx, workspace_id=shop.id, first_name="A", last_name="B", email="a@example.com", department=department
            )
        assert refused.value.field == "department"


def test_the_short_code_allows_five_wrong_tries(ctx: Context, operator: Actor, shop: Any) -> None:
    enable(ctx, operator, shop)
    handle = self_sign_up.request(
        ctx, workspace_id=shop.id, first_name="A", last_name="B", email="a@example.com", department="Tills"
    )
    right = last_code(ctx, "a@example.com")
    wrong = "000000" if right != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(InvalidCode) as refused:
            self_sign_up.verify(ctx, handle, wrong)
        assert refused.value.attempts_left == left
    with pytest.raises(SecretRejected):
        self_sign_up.verify(ctx, handle, wrong)
    with pytest.raises(SecretRejected):  # the right code no longer works either
        self_sign_up.verify(ctx, handle, right)
    with pytest.raises(PermissionDenied):
        self_sign_up.complete(ctx, handle, PASSWORD)


def test_allowed_domains_and_the_closed_form(ctx: Context, operator: Actor, shop: Any) -> None:
    with pytest.raises(SecretRejected) as closed:
        self_sign_up.form(ctx, workspace_id=shop.id)
    assert closed.value.code == "signup_closed"
    enable(ctx, operator, shop, allowed_domains=["example.com"])
    with pytest.raises(ValidationFailed) as refused:
        self_sign_up.request(
            ctx, workspace_id=shop.id, first_name="A", last_name="B", email="a@evil.example", department="Tills"
        )
    assert refused.value.code == "domain_not_allowed"
    assert sign_up(ctx, shop, "a@example.com")


def test_the_daily_cap(ctx: Context, operator: Actor, shop: Any, clock: FixedClock) -> None:
    enable(ctx, operator, shop, daily_cap=1)
    self_sign_up.complete(ctx, sign_up(ctx, shop, "one@example.com"), PASSWORD)
    with pytest.raises(SecretRejected) as capped:
        self_sign_up.form(ctx, workspace_id=shop.id)
    assert capped.value.code == "daily_cap"
    clock.advance(days=1)
    assert self_sign_up.form(ctx, workspace_id=shop.id)


def test_an_existing_account_is_never_attached(ctx: Context, operator: Actor, shop: Any) -> None:
    enable(ctx, operator, shop)
    self_sign_up.complete(ctx, sign_up(ctx, shop, "ann@example.com"), PASSWORD)
    second = tenancy.create_workspace(ctx, operator, shop.organization_id, "Second")
    tenancy.update_workspace(ctx, operator, second.id, {"departments": ["Bakery"]})
    signup_settings.save(ctx, operator, second.id, {"enabled": True, "departments_pickable": ["Bakery"]})
    handle = self_sign_up.request(
        ctx, workspace_id=second.id, first_name="Eve", last_name="X", email="ann@example.com", department="Bakery"
    )
    assert self_sign_up.verify(ctx, handle, last_code(ctx, "ann@example.com")) == "existing"
    with pytest.raises(Conflict) as refused:
        self_sign_up.complete(ctx, handle, "another-long-password-77")
    assert refused.value.code == "sign_in_required"
    token, account = sessions.sign_in(ctx, "ann@example.com", PASSWORD)  # the old password still works
    assert token and account.first_name == "Ann"


# Links and approval ------------------------------------------------------------------------------------
def token_of(link: Any) -> str:
    return str(link.url.rsplit("/", 1)[1])


def test_link_states_answer_kindly(ctx: Context, operator: Actor, shop: Any, clock: FixedClock) -> None:
    link = signup_links.create(
        ctx,
        operator,
        shop.id,
        {"department": "Warehouse", "max_uses": 1, "expires_at": clock.now() + timedelta(days=2)},
    )
    assert link.url.startswith("https://admit.example.test/join/adm_sul_")
    assert signup_links.link_url(ctx, link) == link.url
    form = self_sign_up.form(ctx, link_token=token_of(link))
    assert form.department == "Warehouse" and form.departments == [] and form.via_link
    with pytest.raises(ValidationFailed):  # the department comes from the link only
        self_sign_up.request(
            ctx, link_token=token_of(link), first_name="A", last_name="B", email="a@example.com", department="Bakery"
        )
    for token in (token_of(link)[:-1] + "x", "adm_inv_" + "x" * 43, "<script>", "x" * 5000):
        with pytest.raises(SecretRejected) as bad:
            self_sign_up.form(ctx, link_token=token)
        assert bad.value.code == "link_invalid"
    signup_links.pause(ctx, operator, shop.id, link.id)
    with pytest.raises(SecretRejected) as paused:
        self_sign_up.form(ctx, link_token=token_of(link))
    assert paused.value.code == "link_paused"
    signup_links.resume(ctx, operator, shop.id, link.id)
    handle = self_sign_up.request(ctx, link_token=token_of(link), first_name="A", last_name="B", email="a@example.com")
    self_sign_up.verify(ctx, handle, last_code(ctx, "a@example.com"))
    done = self_sign_up.complete(ctx, handle, PASSWORD)
    assert done["status"] == "active"
    assert signup_links.get(ctx, operator, shop.id, link.id).uses == 1
    with pytest.raises(SecretRejected) as used:
        self_sign_up.form(ctx, link_token=token_of(link))
    assert used.value.code == "link_used_up"
    other = signup_links.create(
        ctx, operator, shop.id, {"department": "Tills", "expires_at": clock.now() + timedelta(hours=1)}
    )
    clock.advance(hours=2)
    with pytest.raises(SecretRejected) as expired:
        self_sign_up.form(ctx, link_token=token_of(other))
    assert expired.value.code == "link_expired"


def test_rotating_a_link_retires_the_old_url_and_delete_removes_it(ctx: Context, operator: Actor, shop: Any) -> None:
    link = signup_links.create(ctx, operator, shop.id, {"department": "Tills"})
    rotated = signup_links.rotate(ctx, operator, shop.id, link.id)
    assert rotated.url != link.url
    with pytest.raises(SecretRejected):
        self_sign_up.form(ctx, link_token=token_of(link))
    assert self_sign_up.form(ctx, link_token=token_of(rotated)).department == "Tills"
    signup_links.delete(ctx, operator, shop.id, link.id)
    assert signup_links.list_links(ctx, operator, shop.id) == []
    with pytest.raises(SecretRejected):
        self_sign_up.form(ctx, link_token=token_of(rotated))


def test_approval_queue_approve_and_reject_with_notices(ctx: Context, operator: Actor, shop: Any) -> None:
    signup_settings.save(ctx, operator, shop.id, {"approval_required": True})
    link = signup_links.create(ctx, operator, shop.id, {"department": "Warehouse", "role": "guest"})
    handles = []
    for email in ("ann@example.com", "bob@example.com"):
        handle = self_sign_up.request(ctx, link_token=token_of(link), first_name="P", last_name="Q", email=email)
        self_sign_up.verify(ctx, handle, last_code(ctx, email))
        assert self_sign_up.complete(ctx, handle, PASSWORD) == {"status": "pending_approval", "workspace_id": shop.id}
        handles.append(handle)
    with pytest.raises(InvalidCredentials):  # not a member yet: no account, no sign-in
        sessions.sign_in(ctx, "ann@example.com", PASSWORD)
    queued = signup_settings.queue(ctx, operator, shop.id)
    assert [q.email for q in queued] == ["ann@example.com", "bob@example.com"]
    done = self_sign_up.approve(ctx, operator, shop.id, queued[0].id)
    self_sign_up.reject(ctx, operator, shop.id, queued[1].id)
    with pytest.raises(Conflict):
        self_sign_up.reject(ctx, operator, shop.id, queued[0].id)
    assert signup_settings.queue(ctx, operator, shop.id) == []
    assert messages(ctx, recipient="ann@example.com", kind="signup_approved")
    assert messages(ctx, recipient="bob@example.com", kind="signup_rejected")
    token, _ = sessions.sign_in(ctx, "ann@example.com", PASSWORD)
    assert token
    with ctx.uow() as uow:
        member = uow.members.get(shop.organization_id, done["member_id"])
    assert member is not None and (member.role, member.department) == ("guest", "Warehouse")
    assert self_sign_up.state(ctx, handles[1])["state"] == "rejected"
    assert signup_links.get(ctx, operator, shop.id, link.id).uses == 2


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"first_name": "A\x00B"}, "first_name"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"last_name": ["list"]}, "last_name"),
        ({"email": "a\x00@example.com"}, "email"),
        ({"email": "", "username": "bo", "phone": "not a phone"}, "phone"),
        ({"email": "", "username": "<b>", "phone": "+41791234567"}, "username"),
    ],
)
def test_hostile_details_are_refused_next_to_their_field(
    ctx: Context, operator: Actor, shop: Any, given: dict[str, Any], field: str
) -> None:
    enable(ctx, operator, shop)
    details = {"first_name": "A", "last_name": "B", "email": "a@example.com", "department": "Tills", **given}
    with pytest.raises(ValidationFailed) as refused:
        self_sign_up.request(ctx, workspace_id=shop.id, **details)
    assert refused.value.field == field
