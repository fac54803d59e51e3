"""The invitation use cases on both databases: invite, resend, revoke, accept, decline, expire."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from support.clock import FixedClock
from support.factories import invite
from support.outbox import messages, token_for

from admit.adapters.persistence import tables as t
from admit.admin import invitations, members
from admit.admin.profiles import MemberInput
from admit.domain.errors import Conflict, InvalidTransition, PermissionDenied, SecretRejected, WeakPassword
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.shared import endings
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "tangerine-otter-quilt-88"


def test_invitation_writes_member_event_and_outbox_in_one_go(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitation = invite(ctx, operator, workspace, "Ann@Example.com", first_name="Ann")
    assert invitation.state == "pending"
    sent = messages(ctx, recipient="ann@example.com")
    assert [m["kind"] for m in sent] == ["invitation"]
    assert sent[0]["payload"]["link"].startswith("https://admit.example.test/i/adm_inv_")
    assert sent[0]["state"] == "queued"
    with ctx.uow() as uow:
        actions = [e.action for e in reversed(uow.events.list(workspace.organization_id))]
    assert actions[-2:] == ["member.provisioned", "invitation.created"]


def test_invitation_lifetime_follows_the_workspace(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitation = invite(ctx, operator, workspace, "ann@example.com")
    assert (invitation.expires_at - ctx.clock.now()).days == 7


def test_only_the_secret_digest_is_stored(ctx: Context, operator: Actor, workspace: Any, engine: Any) -> None:
    invite(ctx, operator, workspace, "ann@example.com")
    token = token_for(ctx, "ann@example.com")
    with engine.connect() as conn:
        stored = conn.execute(select(t.secrets.c.digest)).scalars().all()
        invitation_row = conn.execute(select(t.invitations)).one()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64
    assert token not in repr(dict(invitation_row._mapping))


def test_accepting_with_a_new_password_creates_the_account_and_activates_the_member(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    invite(ctx, operator, workspace, "ann@example.com")
    result = claims.accept_with_token(
        ctx, token_for(ctx, "ann@example.com"), password=PASSWORD, first_name="Ann", last_name="Lee"
    )
    assert result["status"] == "active"
    member = members.get(ctx, operator, result["member_id"])
    assert member.status == "active" and member.account_id == result["account_id"]
    token, account = sessions.sign_in(ctx, "ANN@example.com", PASSWORD)
    assert token.startswith("adm_ses_") and account.id == result["account_id"]


def test_accepted_token_cannot_be_replayed(ctx: Context, operator: Actor, workspace: Any) -> None:
    invite(ctx, operator, workspace, "ann@example.com")
    token = token_for(ctx, "ann@example.com")
    claims.accept_with_token(ctx, token, password=PASSWORD)
    with pytest.raises(SecretRejected):
        claims.accept_with_token(ctx, token, password=PASSWORD)
    with pytest.raises(SecretRejected):
        claims.decline_with_token(ctx, token)


def test_weak_password_is_refused_and_nothing_changes(ctx: Context, operator: Actor, workspace: Any) -> None:
    invite(ctx, operator, workspace, "ann@example.com")
    token = token_for(ctx, "ann@example.com")
    with pytest.raises(WeakPassword):
        claims.accept_with_token(ctx, token, password="short")
    assert invitations.list_invitations(ctx, operator, workspace.id)[0].state == "pending"
    claims.accept_with_token(ctx, token, password=PASSWORD)


def test_resend_keeps_the_invitation_and_only_the_newest_link_works(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    first = invite(ctx, operator, workspace, "ann@example.com")
    old = token_for(ctx, "ann@example.com")
    clock.advance(days=3)
    resent = invitations.resend(ctx, operator, first.id)
    new = token_for(ctx, "ann@example.com")
    assert resent.id == first.id and resent.send_count == 2 and new != old
    assert resent.expires_at == clock.now() + (first.expires_at - first.created_at)
    assert [m["kind"] for m in messages(ctx, recipient="ann@example.com")] == ["invitation", "invitation_resent"]
    with pytest.raises(SecretRejected):
        claims.accept_with_token(ctx, old, password=PASSWORD)
    assert claims.accept_with_token(ctx, new, password=PASSWORD)["status"] == "active"


def test_revoked_invitation_cannot_be_accepted_and_member_awaits_invitation(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    invitation = invite(ctx, operator, workspace, "ann@example.com")
    token = token_for(ctx, "ann@example.com")
    assert invitations.revoke(ctx, operator, invitation.id).state == "revoked"
    with pytest.raises(SecretRejected):
        claims.accept_with_token(ctx, token, password=PASSWORD)
    assert members.get(ctx, operator, invitation.member_id).status == "provisioned"
    with pytest.raises(InvalidTransition):
        invitations.revoke(ctx, operator, invitation.id)


def test_expired_invitation_cannot_be_accepted(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    invitation = invite(ctx, operator, workspace, "ann@example.com")
    token = token_for(ctx, "ann@example.com")
    clock.advance(days=7)
    assert invitations.get(ctx, operator, invitation.id).state == "expired"
    with pytest.raises(SecretRejected):
        claims.accept_with_token(ctx, token, password=PASSWORD)
    with pytest.raises(InvalidTransition):
        invitations.resend(ctx, operator, invitation.id)


def test_expiry_sweep_marks_lapsed_invitations_and_returns_members(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    lapsing = invite(ctx, operator, workspace, "ann@example.com")
    clock.advance(days=6)
    fresh = invite(ctx, operator, workspace, "bob@example.com")
    clock.advance(days=1, seconds=1)
    assert endings.expire_due(ctx) == 1
    assert endings.expire_due(ctx) == 0
    assert invitations.get(ctx, operator, lapsing.id).state == "expired"
    assert invitations.get(ctx, operator, fresh.id).state == "pending"
    assert members.get(ctx, operator, lapsing.member_id).status == "provisioned"
    expired = invitations.list_invitations(ctx, operator, workspace.id, state="expired")
    assert [i.id for i in expired] == [lapsing.id]


def test_decline_leaves_existing_account_untouched(ctx: Context, operator: Actor, workspace: Any, org: Any) -> None:
    invite(ctx, operator, workspace, "ann@example.com")
    account_id = claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)["account_id"]
    from admit.admin import tenancy

    other = tenancy.create_workspace(ctx, operator, org.id, "Second")
    second = invite(ctx, operator, other, "ann@example.com")
    pending = claims.pending_for_account(ctx, account_id)
    assert [p.id for p in pending] == [second.id] and pending[0].workspace_name == "Second"
    declined = claims.decline_for_account(ctx, account_id, second.id)
    assert declined.state == "declined"
    assert claims.pending_for_account(ctx, account_id) == []
    _, account = sessions.sign_in(ctx, "ann@example.com", PASSWORD)
    assert account.id == account_id
    assert members.get(ctx, operator, second.member_id).status == "provisioned"


def test_existing_account_joins_by_signing_in(ctx: Context, operator: Actor, workspace: Any, org: Any) -> None:
    invite(ctx, operator, workspace, "ann@example.com")
    account_id = claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)["account_id"]
    from admit.admin import tenancy

    other = tenancy.create_workspace(ctx, operator, org.id, "Second")
    invite(ctx, operator, other, "ann@example.com")
    token = token_for(ctx, "ann@example.com")
    assert claims.inspect_token(ctx, token)["has_account"] is True
    with pytest.raises(Conflict) as refused:
        claims.accept_with_token(ctx, token, password="another-long-passphrase-1")
    assert refused.value.code == "sign_in_required"
    result = claims.accept_with_token(ctx, token, account_id=account_id)
    assert result["account_id"] == account_id and result["status"] == "active"


def test_wrong_account_cannot_use_someone_elses_invitation(ctx: Context, operator: Actor, workspace: Any) -> None:
    invite(ctx, operator, workspace, "bob@example.com")
    bob = claims.accept_with_token(ctx, token_for(ctx, "bob@example.com"), password=PASSWORD)["account_id"]
    invitation = invite(ctx, operator, workspace, "ann@example.com")
    token = token_for(ctx, "ann@example.com")
    with pytest.raises(Conflict) as refused:
        claims.accept_with_token(ctx, token, account_id=bob)
    assert refused.value.code == "wrong_account"
    from admit.domain.errors import NotFound

    with pytest.raises(NotFound):
        claims.accept_for_account(ctx, bob, invitation.id)
    assert invitations.get(ctx, operator, invitation.id).state == "pending"


def test_invite_later_member_stays_silent_and_cannot_be_claimed(ctx: Context, operator: Actor, workspace: Any) -> None:
    member, invitation = members.provision(
        ctx, operator, workspace.id, MemberInput(email="cat@example.com"), invite=False
    )
    assert invitation is None and member.status == "provisioned"
    assert messages(ctx, recipient="cat@example.com") == []
    assert invitations.list_invitations(ctx, operator, workspace.id) == []
    from admit.domain.errors import InvalidCredentials

    with pytest.raises(InvalidCredentials):
        sessions.sign_in(ctx, "cat@example.com", PASSWORD)
    later = invitations.invite_member(ctx, operator, member.id)
    assert later.state == "pending" and len(messages(ctx, recipient="cat@example.com")) == 1


def test_role_above_the_inviters_own_cannot_be_granted(ctx: Context, workspace: Any) -> None:
    admin = Actor(
        ActorKind.API_TOKEN,
        id="t",
        organization_id=workspace.organization_id,
        role=__import__("admit.domain.roles", fromlist=["Role"]).Role.ADMIN,
        name="admin token",
    )
    with pytest.raises(PermissionDenied):
        invitations.invite(ctx, admin, workspace.id, MemberInput(email="boss@example.com", role="owner"))
    invitation, _ = invitations.invite(ctx, admin, workspace.id, MemberInput(email="peer@example.com", role="admin"))
    assert invitation.role == "admin"


def test_inviting_someone_already_invited_asks_for_a_resend(ctx: Context, operator: Actor, workspace: Any) -> None:
    invite(ctx, operator, workspace, "ann@example.com")
    with pytest.raises(Conflict) as refused:
        invite(ctx, operator, workspace, "ann@example.com")
    assert refused.value.code == "already_invited"


def test_sms_is_used_for_members_without_email(ctx: Context, operator: Actor, workspace: Any) -> None:
    from admit.admin import tenancy

    _, by_code = members.provision(  # SMS is off: invited by access code (no message)
        ctx, operator, workspace.id, MemberInput(username="fred", phone="+49 30 901820"), invite=True
    )
    assert by_code is not None and by_code.channels == ["code"] and messages(ctx, recipient="+4930901820") == []
    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True})
    _, invitation = members.provision(
        ctx, operator, workspace.id, MemberInput(username="frontline.fred", phone="+49 30 901820"), invite=True
    )
    assert invitation is not None and invitation.channels == ["sms"]
    [message] = messages(ctx, recipient="+4930901820")
    assert message["channel"] == "sms"
    token = message["payload"]["link"].rsplit("/", 1)[1]
    account_id = claims.accept_with_token(ctx, token, password=PASSWORD)["account_id"]
    for identifier in ("frontline.fred", "+4930901820"):
        assert sessions.sign_in(ctx, identifier, PASSWORD)[1].id == account_id


def test_email_and_sms_both_go_out_when_both_are_enabled_and_known(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    from admit.admin import tenancy

    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True})
    _, invitation = members.provision(
        ctx, operator, workspace.id, MemberInput(email="both@example.com", phone="+49 30 901820"), invite=True
    )
    assert invitation is not None and invitation.channels == ["email", "sms"]
    sent = messages(ctx)
    assert sorted((m["channel"], m["recipient"]) for m in sent) == [
        ("email", "both@example.com"),
        ("sms", "+4930901820"),
    ]
    assert sent[0]["payload"]["link"] == sent[1]["payload"]["link"]
    tenancy.update_workspace(ctx, operator, workspace.id, {"email_enabled": False})
    _, only_sms = members.provision(
        ctx, operator, workspace.id, MemberInput(email="sms@example.com", phone="+49 30 901821"), invite=True
    )
    assert only_sms is not None and only_sms.channels == ["sms"]


def test_auto_invite_setting_decides_when_the_caller_does_not(ctx: Context, operator: Actor, workspace: Any) -> None:
    from admit.admin import tenancy

    # Off in a new workspace (the Workplace article): people pushed before launch wait silently.
    member, invitation = members.provision(ctx, operator, workspace.id, MemberInput(email="a@example.com"), invite=None)
    assert invitation is None and member.status == "provisioned"
    tenancy.update_workspace(ctx, operator, workspace.id, {"auto_invite": True})
    member, invitation = members.provision(ctx, operator, workspace.id, MemberInput(email="b@example.com"), invite=None)
    assert invitation is not None and member.status == "invited"


def test_invite_all_turns_on_automatic_invitations_and_says_so_in_the_audit_log(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    from admit.admin import bulk_invites, tenancy

    members.provision(ctx, operator, workspace.id, MemberInput(email="early@example.com"), invite=None)
    assert tenancy.get_workspace(ctx, operator, workspace.id).auto_invite is False
    bulk_invites.invite_all(ctx, operator, workspace.id)
    assert tenancy.get_workspace(ctx, operator, workspace.id).auto_invite is True
    with ctx.uow() as uow:
        events = uow.events.list(workspace.organization_id, workspace_id=workspace.id)
    turned_on = [e for e in events if e.action == "workspace.updated" and e.data.get("by") == "invite_all"]
    assert len(turned_on) == 1 and turned_on[0].data["fields"] == ["auto_invite"]
    later, invitation = members.provision(
        ctx, operator, workspace.id, MemberInput(email="later@example.com"), invite=None
    )
    assert invitation is not None and later.status == "invited"
    bulk_invites.invite_all(ctx, operator, workspace.id)  # already on: no second event
    with ctx.uow() as uow:
        events = uow.events.list(workspace.organization_id, workspace_id=workspace.id)
    assert len([e for e in events if e.data.get("by") == "invite_all"]) == 1


def test_a_members_pending_invitation_is_found_for_resend(ctx: Context, operator: Actor, workspace: Any) -> None:
    sent = invite(ctx, operator, workspace, "res@example.com")
    assert invitations.pending_for_member(ctx, operator, sent.member_id).id == sent.id
    waiting, _ = members.provision(ctx, operator, workspace.id, MemberInput(email="wait@example.com"), invite=False)
    with pytest.raises(Conflict) as refused:
        invitations.pending_for_member(ctx, operator, waiting.id)
    assert refused.value.code == "not_invited"
