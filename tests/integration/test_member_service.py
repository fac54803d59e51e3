"""The directory use cases on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from support.outbox import token_for

from admit.admin import invitations, members, tenancy
from admit.admin.profiles import MemberInput
from admit.admin.tenancy import WorkspaceSettings
from admit.domain.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from admit.domain.roles import Role
from admit.flows.invitation import claims
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "cobalt-meadow-lantern-55"


def active_member(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "member") -> dict[str, Any]:
    member, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    return members.get(ctx, operator, member.id)


def test_suspend_reactivate_and_remove_follow_the_lifecycle(ctx: Context, operator: Actor, workspace: Any) -> None:
    member = active_member(ctx, operator, workspace, "ann@example.com")
    assert members.suspend(ctx, operator, member.id).status == "suspended"
    with pytest.raises(InvalidTransition):
        members.suspend(ctx, operator, member.id)
    assert members.reactivate(ctx, operator, member.id).status == "active"
    assert members.remove(ctx, operator, member.id).status == "removed"
    with pytest.raises(InvalidTransition):
        members.reactivate(ctx, operator, member.id)
    with ctx.uow() as uow:
        actions = [e.action for e in uow.events.list(None, subject_id=member.id)]
    assert actions[:4] == ["member.removed", "member.reactivated", "member.suspended", "member.activated"]


def test_removing_an_invited_member_revokes_the_pending_invitation(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    member, invitation = members.provision(ctx, operator, workspace.id, MemberInput(email="a@example.com"), invite=True)
    assert invitation is not None
    members.remove(ctx, operator, member.id)
    assert invitations.get(ctx, operator, invitation.id).state == "revoked"
    from admit.domain.errors import SecretRejected

    with pytest.raises(SecretRejected):
        claims.accept_with_token(ctx, token_for(ctx, "a@example.com"), password=PASSWORD)


def test_a_removed_person_can_be_added_again(ctx: Context, operator: Actor, workspace: Any) -> None:
    first, _ = members.provision(ctx, operator, workspace.id, MemberInput(email="a@example.com"), invite=False)
    with pytest.raises(Conflict) as duplicate:
        members.provision(ctx, operator, workspace.id, MemberInput(email="A@example.com"), invite=False)
    assert duplicate.value.code == "member_exists" and duplicate.value.field == "email"
    members.remove(ctx, operator, first.id)
    again, _ = members.provision(ctx, operator, workspace.id, MemberInput(email="a@example.com"), invite=False)
    assert again.id != first.id


def test_workspace_required_fields_and_choices_are_enforced(ctx: Context, operator: Actor, org: Any) -> None:
    ws = tenancy.create_workspace(
        ctx,
        operator,
        org.id,
        "Frontline",
        WorkspaceSettings(
            required_fields=["first_name", "last_name", "department", "job_profile"],
            departments=["Kitchen"],
            job_profiles=["Cook"],
        ),
    )
    with pytest.raises(ValidationFailed) as missing:
        members.provision(ctx, operator, ws.id, MemberInput(email="a@example.com", first_name="A"), invite=False)
    assert missing.value.field == "last_name"
    with pytest.raises(ValidationFailed) as unknown:
        members.provision(
            ctx,
            operator,
            ws.id,
            MemberInput(email="a@example.com", first_name="A", last_name="B", department="Garage", job_profile="Cook"),
            invite=False,
        )
    assert unknown.value.field == "department"
    member, _ = members.provision(
        ctx,
        operator,
        ws.id,
        MemberInput(email="a@example.com", first_name="A", last_name="B", department="Kitchen", job_profile="Cook"),
        invite=False,
    )
    assert member.department == "Kitchen" and member.language == "en"


def test_email_or_username_and_phone_is_required(ctx: Context, operator: Actor, workspace: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        members.provision(ctx, operator, workspace.id, MemberInput(username="fred"), invite=False)
    assert refused.value.field == "email"
    with pytest.raises(ValidationFailed) as phone:
        members.provision(ctx, operator, workspace.id, MemberInput(username="fred", phone="12"), invite=False)
    assert phone.value.field == "phone"


def test_an_admin_account_cannot_promote_anyone_to_owner(ctx: Context, operator: Actor, workspace: Any) -> None:
    admin = active_member(ctx, operator, workspace, "admin@example.com", role="admin")
    target = active_member(ctx, operator, workspace, "bob@example.com")
    owner = active_member(ctx, operator, workspace, "owner@example.com", role="owner")
    as_admin = Actor(ActorKind.ACCOUNT, id=admin.account_id)
    with pytest.raises(PermissionDenied):
        members.update(ctx, as_admin, target.id, {"role": "owner"})
    with pytest.raises(PermissionDenied):
        members.suspend(ctx, as_admin, owner.id)
    assert members.update(ctx, as_admin, target.id, {"role": "admin", "first_name": "Bob"}).role == "admin"
    as_member = Actor(ActorKind.ACCOUNT, id=target.account_id)
    assert members.get(ctx, as_member, owner.id).role == Role.OWNER


def test_a_suspended_account_loses_its_rights_in_the_workspace(ctx: Context, operator: Actor, workspace: Any) -> None:
    admin = active_member(ctx, operator, workspace, "admin@example.com", role="admin")
    members.suspend(ctx, operator, admin.id)
    with pytest.raises(PermissionDenied):
        members.list_members(ctx, Actor(ActorKind.ACCOUNT, id=admin.account_id), workspace.id)


def test_member_list_filters_by_status_and_pages_with_a_cursor(ctx: Context, operator: Actor, workspace: Any) -> None:
    for i in range(7):
        members.provision(ctx, operator, workspace.id, MemberInput(email=f"p{i}@example.com"), invite=i % 2 == 0)
    seen: list[str] = []
    cursor = None
    while True:
        page = members.list_members(ctx, operator, workspace.id, limit=3, cursor=cursor)
        seen += [m.email for m in page]
        if len(page) < 3:
            break
        cursor = members.make_cursor(page[-1])
    assert sorted(seen) == [f"p{i}@example.com" for i in range(7)] and len(set(seen)) == 7
    invited = members.list_members(ctx, operator, workspace.id, status="invited")
    assert len(invited) == 4
    with pytest.raises(ValidationFailed):
        members.list_members(ctx, operator, workspace.id, status="asleep")


def test_the_directory_filters_by_department_role_and_search(ctx: Context, operator: Actor, org: Any) -> None:
    ws = tenancy.create_workspace(
        ctx, operator, org.id, "Filtered", tenancy.WorkspaceSettings(departments=["Sales", "Ops"])
    )
    people = [
        MemberInput(email="ann.lee@example.com", first_name="Ann", department="Sales"),
        MemberInput(email="bo@example.com", first_name="Bo", last_name="Annesley", department="Ops", role="admin"),
        MemberInput(email="cy@example.com", first_name="Cy", external_id="HR_1%", department="Ops"),
    ]
    for person in people:
        members.provision(ctx, operator, ws.id, person, invite=False)

    def emails(**filters: Any) -> list[str]:
        return sorted(m.email for m in members.list_members(ctx, operator, ws.id, **filters))

    assert emails(department="Ops") == ["bo@example.com", "cy@example.com"]
    assert emails(role="admin") == ["bo@example.com"]
    assert emails(search="ANN") == ["ann.lee@example.com", "bo@example.com"]  # any part, any case
    assert emails(search="ann", department="Sales") == ["ann.lee@example.com"]
    assert emails(search="_1%") == ["cy@example.com"] and emails(search="n%e") == []  # wildcards are literal
    first = members.list_members(ctx, operator, ws.id, limit=2)
    rest = members.list_members(ctx, operator, ws.id, limit=2, cursor=members.make_cursor(first[-1]))
    assert sorted(m.email for m in first + rest) == emails() and len(first + rest) == 3


def test_an_administrator_cannot_suspend_or_remove_themselves(ctx: Context, operator: Actor, workspace: Any) -> None:
    admin = active_member(ctx, operator, workspace, "self@example.com", role="admin")
    other = active_member(ctx, operator, workspace, "other@example.com")
    me = Actor(ActorKind.ACCOUNT, id=admin.account_id)
    for action in (members.suspend, members.remove):
        with pytest.raises(Conflict) as refused:
            action(ctx, me, admin.id)
        assert refused.value.code == "self_lockout"
    assert members.get(ctx, operator, admin.id).status == "active"
    assert members.suspend(ctx, me, other.id).status == "suspended"  # others still can be


def test_a_member_active_at_once_gets_an_initial_password_and_no_invitation(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    """``provision_active`` (the demo's owner): active with an account that must replace its
    initial password, no invitation and no message; the same rules as any other new member."""
    from support.outbox import messages

    from admit.domain.errors import WeakPassword

    with pytest.raises(WeakPassword):
        members.provision_active(ctx, operator, workspace.id, MemberInput(email="ann@example.com"), "short")
    person = MemberInput(email="ann@example.com", first_name="Ann", last_name="Lee", role="admin")
    made = members.provision_active(ctx, operator, workspace.id, person, PASSWORD)
    assert made.status == "active" and made.account_id is not None
    with ctx.uow() as uow:
        account = uow.accounts.get(made.account_id)
        assert account is not None and account.must_change_password
    assert messages(ctx) == []
    assert not list(invitations.list_invitations(ctx, operator, workspace.id))
    with pytest.raises(Conflict):  # an account with this address exists: invite the person instead
        members.provision_active(ctx, operator, workspace.id, MemberInput(email="ann@example.com"), PASSWORD)
    admin = Actor(ActorKind.ACCOUNT, id=made.account_id)
    with pytest.raises(PermissionDenied):  # an admin cannot make an owner, as anywhere else
        members.provision_active(ctx, admin, workspace.id, MemberInput(email="o@example.com", role="owner"), PASSWORD)
