"""The member lifecycle SCIM needs, in the member service (every door), on both databases:
suspension from every live status (an invited member's invitation revoked, its link answering a
friendly page), reactivation to active with an account else to awaiting invitation, removal from
every live status; a suspension by an identity provider ends the person's reach into the
workspace at once (their session's next request, their app's refresh token)."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import client
from support.outbox import code_for, messages, token_for
from test_admin_apps import PASSWORD, account, browser_of
from test_oidc_tokens import _member_id, _refresh, _started, _userinfo

from admit.admin import invitations, members, scim_tokens
from admit.admin.profiles import MemberInput
from admit.domain.errors import InvalidCredentials, InvalidTransition, PermissionDenied
from admit.domain.roles import Role
from admit.flows.settings import emails
from admit.flows.signin import sessions
from admit.shared.context import Actor, ActorKind, Context


def scim_actor(ctx: Context, operator: Actor, org: Any, workspace: Any, role: str = "admin") -> Actor:
    """The actor a SCIM request acts as: its token (organization, workspace, role ceiling)."""
    created, _ = scim_tokens.create(ctx, operator, org.id, name="Entra ID", role=role, workspace_id=workspace.id)
    return Actor(
        ActorKind.SCIM,
        id=str(created["id"]),
        organization_id=org.id,
        workspace_id=workspace.id,
        role=Role(role),
        name="Entra ID",
    )


def member_of(ctx: Context, operator: Actor, workspace: Any, email: str) -> str:
    return next(str(m.id) for m in members.list_members(ctx, operator, workspace.id) if m.email == email)


def provisioned(ctx: Context, operator: Actor, workspace: Any, email: str) -> str:
    member, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email), invite=False)
    return str(member.id)


def test_a_provisioned_member_is_suspended_and_reactivated_back_to_awaiting_invitation(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    member_id = provisioned(ctx, operator, workspace, "pia@example.com")
    assert members.suspend(ctx, operator, member_id).status == "suspended"
    assert members.reactivate(ctx, operator, member_id).status == "provisioned"
    assert members.get(ctx, operator, member_id).status == "provisioned"
    with pytest.raises(InvalidTransition):
        members.reactivate(ctx, operator, member_id)  # only a suspended member


def test_an_invited_member_is_suspended_their_invitation_revoked_and_its_link_answers_kindly(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    member, invitation = members.provision(
        ctx, operator, workspace.id, MemberInput(email="ivo@example.com"), invite=True
    )
    assert invitation is not None
    token = token_for(ctx, "ivo@example.com")
    assert members.suspend(ctx, operator, member.id).status == "suspended"
    assert invitations.get(ctx, operator, invitation.id).state == "revoked"
    page = client(ctx).get(f"/i/{token}")
    assert page.status_code in (200, 404, 410) and "<html" in page.text and "Traceback" not in page.text
    assert "withdrawn" in page.text.lower() or "no longer" in page.text.lower()
    assert members.reactivate(ctx, operator, member.id).status == "provisioned"  # no account: awaiting invitation
    with ctx.uow() as uow:
        actions = [e.action for e in uow.events.list(None, subject_id=member.id)]
    assert actions[:2] == ["member.reactivated", "member.suspended"]


def test_an_active_member_is_suspended_and_reactivated_to_active(ctx: Context, operator: Actor, workspace: Any) -> None:
    account(ctx, operator, workspace, "ada@example.com", role="member")
    member_id = member_of(ctx, operator, workspace, "ada@example.com")
    assert members.suspend(ctx, operator, member_id).status == "suspended"
    assert members.reactivate(ctx, operator, member_id).status == "active"


@pytest.mark.parametrize("status", ["provisioned", "invited", "active", "suspended"])
def test_a_member_is_removed_from_every_live_status(
    ctx: Context, operator: Actor, org: Any, workspace: Any, status: str
) -> None:
    email = f"{status}@example.com"
    if status == "active" or status == "suspended":
        account(ctx, operator, workspace, email, role="member")
        member_id = member_of(ctx, operator, workspace, email)
        if status == "suspended":
            members.suspend(ctx, operator, member_id)
    else:
        member, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email), invite=status == "invited")
        member_id = member.id
    assert members.get(ctx, operator, member_id).status == status
    scim = scim_actor(ctx, operator, org, workspace)
    assert members.remove(ctx, scim, member_id).status == "removed"
    with ctx.uow() as uow:
        event = next(e for e in uow.events.list(None, subject_id=member_id) if e.action == "member.removed")
    assert event.actor_type == "scim"


def test_a_suspended_persons_session_stops_reaching_the_workspace_at_the_next_request(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com", role="admin")
    browser = browser_of(ctx, "olga@example.com")
    assert browser.get(f"/admin/{workspace.id}/people").status_code == 200
    member_id = member_of(ctx, operator, workspace, "olga@example.com")
    members.suspend(ctx, scim_actor(ctx, operator, org, workspace), member_id)
    refused = browser.get(f"/admin/{workspace.id}/people", follow_redirects=False)
    assert refused.status_code in (303, 403, 404)
    from admit.shared.access import workspace_for

    with ctx.uow() as uow, pytest.raises(PermissionDenied):
        olga = Actor(ActorKind.ACCOUNT, id=members.get(ctx, operator, member_id).account_id)
        workspace_for(uow, olga, workspace.id)


def test_a_suspension_by_scim_refuses_the_apps_refresh_token_and_access_token(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    browser, client_id, secret, first = _started(ctx, org, workspace)
    member_id = _member_id(ctx, org, workspace)
    members.suspend(ctx, scim_actor(ctx, operator, org, workspace), member_id)
    refused = _refresh(browser, client_id, secret, first["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert _userinfo(browser, first["access_token"]) == 401
    with ctx.uow() as uow:
        suspended = next(e for e in uow.events.list(org.id) if e.action == "member.suspended")
    assert suspended.actor_type == "scim"


def test_scim_cannot_suspend_someone_above_its_tokens_role(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "owen@example.com", role="owner")
    member_id = member_of(ctx, operator, workspace, "owen@example.com")
    with pytest.raises(PermissionDenied):
        members.suspend(ctx, scim_actor(ctx, operator, org, workspace), member_id)
    assert members.get(ctx, operator, member_id).status == "active"


def test_scim_changes_a_claimed_members_address_in_the_directory_only_until_the_person_confirms_it(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "ada@example.com", role="member")
    member_id = member_of(ctx, operator, workspace, "ada@example.com")
    scim = scim_actor(ctx, operator, org, workspace)
    changed = members.update(ctx, scim, member_id, {"email": "ada.new@example.com", "username": "ada"})
    assert changed.email == "ada.new@example.com" and changed.username == "ada"
    account_id = members.get(ctx, operator, member_id).account_id
    assert account_id is not None
    assert emails.identifiers(ctx, account_id) == ["ada@example.com"]  # not how she signs in: not yet
    with pytest.raises(InvalidCredentials):
        sessions.sign_in(ctx, "ada.new@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials):
        sessions.sign_in(ctx, "ada", PASSWORD)  # a username from SCIM is not added either
    [confirm] = messages(ctx, kind="address_to_confirm")
    [notice] = messages(ctx, kind="address_changed")
    assert confirm["recipient"] == "ada.new@example.com" and confirm["payload"]["link"].endswith("/settings/email")
    assert notice["recipient"] == "ada@example.com" and notice["payload"]["address"] == "ada.new@example.com"
    assert messages(ctx, kind="identifier_added") == []
    # Ada, signed in as before, adds the address; the code sent to it proves it is hers
    handle = emails.start(ctx, account_id, "ada.new@example.com")
    emails.confirm(ctx, account_id, handle, code_for(ctx, "ada.new@example.com"))
    assert sessions.sign_in(ctx, "ada.new@example.com", PASSWORD)[1].id == account_id


def test_an_administrator_changing_the_address_still_adds_it_at_once(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    account(ctx, operator, workspace, "bo@example.com", role="member")
    member_id = member_of(ctx, operator, workspace, "bo@example.com")
    members.update(ctx, operator, member_id, {"email": "bo.new@example.com"})
    assert messages(ctx, kind="address_to_confirm") == []
    assert [m["recipient"] for m in messages(ctx, kind="identifier_added")] == ["bo.new@example.com"]
    assert sessions.sign_in(ctx, "bo.new@example.com", PASSWORD)[1] is not None
