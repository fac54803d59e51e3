"""Issue 17's organization invitations and merges (Smartsheet), on both databases: each rule of
the merge list is one test (a free user, a paid user, a business plan's system administrator, one
refused for lack of licences, an enterprise one, declining), plus the invitation's own rules (who
invites, the link's purpose, lifetime and single use, the fresh sign-in)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from support.clock import FixedClock
from support.org_worlds import PersonSpec, World, build, events, signed_in, snapshot

from admit.admin import licences, organization_roles
from admit.admin import organization_invitations as oi
from admit.domain import merge
from admit.domain.errors import Conflict, NotFound, PermissionDenied, SecretRejected, ValidationFailed
from admit.shared.context import Actor, Context


def _inviting(ctx: Context, operator: Actor, **kw: Any) -> World:
    people = [PersonSpec("boss@acme.example", role="owner", org_role="system_admin"), *kw.pop("people", [])]
    return build(ctx, operator, "Acme", people=people, **kw)


def _invite(ctx: Context, world: World, email: str) -> tuple[oi.OrgInvitationView, str]:
    return oi.invite(ctx, world.actor("boss@acme.example"), world.org.id, email)


def _outbox(ctx: Context, invitation_id: str) -> list[Any]:
    with ctx.uow() as uow:
        return [m for m in uow.outbox.list(None) if m.subject_id == invitation_id]


def test_a_free_user_becomes_a_licensed_member_of_the_first_workspace_or_a_viewer_when_no_seat_is_left(
    ctx: Context, operator: Actor
) -> None:
    acme = _inviting(ctx, operator, seats=2, enforced=True, workspaces=2)
    free = build(ctx, operator, "Solo", plan="free", people=[PersonSpec("fred@solo.example", org_role="system_admin")])
    _, token = _invite(ctx, acme, "fred@solo.example")
    _, plan = oi.plan_for_account(ctx, free.accounts["fred@solo.example"], token=token)
    oldest = min(acme.workspaces, key=lambda w: (w.created_at, w.id))  # made in one instant: the id decides
    assert (plan.kind, plan.allowed, plan.workspace_id, plan.licence) == (
        merge.FREE_USER, True, oldest.id, "licensed",
    )  # fmt: skip
    assert (plan.licences_needed, plan.licences_available) == (1, 1)
    done = oi.accept(ctx, signed_in(ctx, free.accounts["fred@solo.example"]), token=token)
    assert done.member_id is not None and done.invitation.state == "accepted"
    report = licences.report(ctx, operator, acme.org.id)
    assert (report.used, report.free) == (2, 0)
    assert snapshot(ctx, free.org.id)["workspaces"] == [(free.workspaces[0].id, free.org.id)]  # a free account stays
    with pytest.raises(SecretRejected):  # single use
        oi.preview(ctx, token)
    # The next free user finds no licence left: a resource viewer, not a refusal.
    late = build(ctx, operator, "Late", plan="free", people=[PersonSpec("lou@late.example")])
    _, token = _invite(ctx, acme, "lou@late.example")
    _, plan = oi.plan_for_account(ctx, late.accounts["lou@late.example"], token=token)
    assert (plan.licence, plan.licences_needed, plan.licences_available) == ("viewer", 0, 0)
    oi.accept(ctx, signed_in(ctx, late.accounts["lou@late.example"]), token=token)
    members = snapshot(ctx, acme.org.id)["members"]
    assert sorted((role, licence) for _, _, _, _, role, licence in members) == [
        ("member", "licensed"), ("member", "viewer"), ("owner", "licensed"),
    ]  # fmt: skip
    assert events(ctx, acme.org.id)[-2:] == ["organization.member_joined", "org_invitation.accepted"]


def test_a_paid_users_account_is_acquired_its_workspaces_move_their_licence_is_regranted_and_billing_stops(
    ctx: Context, operator: Actor
) -> None:
    acme = _inviting(ctx, operator, seats=3, enforced=True)
    paid = build(
        ctx, operator, "Pat Pro", plan="pro", seats=1, workspaces=2,
        people=[PersonSpec("pat@pro.example", role="owner", org_role="system_admin")],
    )  # fmt: skip
    invitation, token = _invite(ctx, acme, "pat@pro.example")
    _, plan = oi.plan_for_account(ctx, paid.accounts["pat@pro.example"], invitation_id=invitation.id)
    assert (plan.kind, plan.allowed, plan.acquired_id) == (merge.PAID_USER, True, paid.org.id)
    assert [w for w, _ in plan.workspaces] == [w.id for w in paid.workspaces]
    assert (plan.licences_needed, plan.licences_available, plan.roles_lost) == (
        1,
        2,
        [paid.accounts["pat@pro.example"]],
    )
    oi.accept(ctx, signed_in(ctx, paid.accounts["pat@pro.example"]), token=token)
    after = snapshot(ctx, acme.org.id, paid.org.id)
    assert {org for _, org in after["workspaces"]} == {acme.org.id}  # every workspace moved
    pat = next(m for m in after["members"] if m[0] == paid.members["pat@pro.example"])
    assert pat[1:] == (acme.org.id, paid.workspaces[0].id, "active", "owner", "licensed")  # same level, new account
    assert (paid.org.id, "free", 0) in after["organizations"]  # closed: billing stops there
    assert all(org != paid.org.id for org, _, _ in after["admins"])
    report = licences.report(ctx, operator, acme.org.id)
    assert (report.used, report.free) == (2, 1)
    assert oi.get_invitation(ctx, operator, acme.org.id, invitation.id).acquired_organization_id == paid.org.id
    assert events(ctx, acme.org.id)[-1] == "organization.merged"
    assert "organization.closed" in events(ctx, paid.org.id)


def test_a_business_system_administrator_brings_every_user_levels_kept_admins_lost_groups_renamed_settings_overwritten(
    ctx: Context, operator: Actor
) -> None:
    acme = _inviting(
        ctx, operator, plan="enterprise", seats=10, enforced=True,
        people=[PersonSpec("gina@acme.example", org_role="group_admin")], groups={"Sales": [], "Ops": []},
    )  # fmt: skip
    biz = build(
        ctx, operator, "Beta", plan="business", reserve=False, workspaces=2,
        people=[
            PersonSpec("bea@beta.example", role="owner", org_role="system_admin"),
            PersonSpec("sam@beta.example", role="admin", org_role="system_admin", workspace=1),
            PersonSpec("gus@beta.example", org_role="group_admin"),
            PersonSpec("vic@beta.example", licence="viewer"),
            PersonSpec("ivy@beta.example", status="invited", workspace=1),
        ],
        groups={"sales": ["bea@beta.example", "gus@beta.example"], "Field": ["vic@beta.example"]},
    )  # fmt: skip
    _, token = _invite(ctx, acme, "bea@beta.example")
    bea = biz.accounts["bea@beta.example"]
    _, plan = oi.plan_for_account(ctx, bea, token=token)
    assert (plan.kind, plan.allowed, len(plan.people)) == (merge.BUSINESS_ADMIN, True, 5)
    assert plan.licences_needed == 4  # ivy's pending seat is reserved under Acme's rule (Beta reserved none)
    assert plan.roles_lost == sorted([bea, biz.accounts["sam@beta.example"]])
    assert plan.roles_kept == [biz.accounts["gus@beta.example"]]
    assert [(g.name, g.new_name) for g in plan.groups] == [("Field", "Field"), ("sales", "sales (Beta)")]
    assert [(c.name, c.before, c.after) for c in plan.settings_changed] == [
        ("licences_enforced", False, True),
        ("reserve_seats_for_invitations", False, True),
    ]
    before = snapshot(ctx, acme.org.id, biz.org.id)
    oi.accept(ctx, signed_in(ctx, bea), token=token)
    after = snapshot(ctx, acme.org.id, biz.org.id)
    assert sorted(m[0] for m in after["members"] if m[1] == acme.org.id) == sorted(m[0] for m in before["members"])
    kept = {m[0]: m[4:] for m in before["members"]}
    assert {m[0]: m[4:] for m in after["members"]} == kept  # roles and licence types unchanged
    assert sorted((a, r) for o, a, r in after["admins"]) == sorted([
        (acme.accounts["boss@acme.example"], "system_admin"), (acme.accounts["gina@acme.example"], "group_admin"),
        (biz.accounts["gus@beta.example"], "group_admin"),
    ])  # fmt: skip
    names = sorted(name for _, org, name in after["groups"] if org == acme.org.id)
    assert names == ["Field", "Ops", "Sales", "sales (Beta)"]
    assert sorted(m for g, m, o in after["group_members"] if g == biz.groups["sales"]) == sorted(
        [biz.members["bea@beta.example"], biz.members["gus@beta.example"]]
    )
    assert licences.report(ctx, operator, acme.org.id).used + licences.report(ctx, operator, acme.org.id).reserved == 6
    # The acquired workspaces now follow Acme's settings: Acme's seats count them, Beta has none left.
    assert licences.report(ctx, operator, biz.org.id).workspaces == []
    trail = events(ctx, acme.org.id)
    assert trail.count("organization.workspace_moved") == 2 and trail.count("organization.group_moved") == 2
    assert trail[-1] == "organization.merged"


def test_a_business_merge_without_enough_licences_moves_nothing_tells_both_sides_then_succeeds_with_more(
    ctx: Context, operator: Actor
) -> None:
    acme = _inviting(ctx, operator, seats=2, enforced=True)
    biz = build(
        ctx, operator, "Beta", plan="business",
        people=[PersonSpec("bea@beta.example", role="owner", org_role="system_admin"), PersonSpec("al@beta.example"),
                PersonSpec("vi@beta.example", licence="viewer")],
    )  # fmt: skip
    invitation, token = _invite(ctx, acme, "bea@beta.example")
    bea = biz.accounts["bea@beta.example"]
    _, plan = oi.plan_for_account(ctx, bea, token=token)
    assert (plan.allowed, plan.refusal, plan.licences_needed, plan.licences_available) == (False, "no_licences", 2, 1)
    before = snapshot(ctx, acme.org.id, biz.org.id)
    with pytest.raises(oi.MergeRefused, match=r"needs 2 free licences .* has 1"):
        oi.accept(ctx, signed_in(ctx, bea), token=token)
    assert snapshot(ctx, acme.org.id, biz.org.id) == before
    told = oi.get_invitation(ctx, acme.actor("boss@acme.example"), acme.org.id, invitation.id)
    assert told.state == "pending" and told.refusal is not None and "2 free licences" in told.refusal
    assert events(ctx, acme.org.id)[-1] == "org_invitation.refused"
    licences.set_seats(ctx, operator, acme.org.id, seats=3)
    oi.accept(ctx, signed_in(ctx, bea), token=token)
    assert licences.report(ctx, operator, acme.org.id).free == 0


def test_an_enterprise_system_administrator_cannot_be_acquired_and_the_invitation_says_so(
    ctx: Context, operator: Actor
) -> None:
    acme = _inviting(ctx, operator)
    ent = build(
        ctx, operator, "Umbrella", plan="enterprise", people=[PersonSpec("eve@umb.example", org_role="system_admin")]
    )
    invitation, token = _invite(ctx, acme, "eve@umb.example")
    assert invitation.enterprise
    [message] = _outbox(ctx, invitation.id)
    assert message.payload["enterprise"] is True and message.kind == "organization_invitation"
    _, plan = oi.plan_for_account(ctx, ent.accounts["eve@umb.example"], token=token)
    assert (plan.kind, plan.allowed, plan.refusal) == (merge.ENTERPRISE_ADMIN, False, "enterprise")
    before = snapshot(ctx, acme.org.id, ent.org.id)
    with pytest.raises(oi.MergeRefused, match="enterprise"):
        oi.accept(ctx, signed_in(ctx, ent.accounts["eve@umb.example"]), token=token)
    assert snapshot(ctx, acme.org.id, ent.org.id) == before


def test_declining_changes_nothing_but_the_invitation_and_is_audited(ctx: Context, operator: Actor) -> None:
    acme = _inviting(ctx, operator)
    paid = build(ctx, operator, "Pat", plan="pro", people=[PersonSpec("pat@pro.example", org_role="system_admin")])
    invitation, token = _invite(ctx, acme, "pat@pro.example")
    before = snapshot(ctx, acme.org.id, paid.org.id)
    pat = paid.accounts["pat@pro.example"]
    assert [v.id for v in oi.pending_for_account(ctx, pat)] == [invitation.id]  # the home's notice
    assert oi.decline(ctx, pat, invitation_id=invitation.id).state == "declined"
    assert snapshot(ctx, acme.org.id, paid.org.id) == before
    assert oi.pending_for_account(ctx, pat) == []
    assert events(ctx, acme.org.id)[-1] == "org_invitation.declined"
    with pytest.raises(SecretRejected):  # the link is used up
        oi.preview(ctx, token)
    with pytest.raises(SecretRejected):
        oi.accept(ctx, signed_in(ctx, pat), invitation_id=invitation.id)


def test_accepting_needs_a_sign_in_within_five_minutes(ctx: Context, operator: Actor, clock: FixedClock) -> None:
    acme = _inviting(ctx, operator)
    free = build(ctx, operator, "Free", plan="free", people=[PersonSpec("fay@free.example")])
    _, token = _invite(ctx, acme, "fay@free.example")
    session = signed_in(ctx, free.accounts["fay@free.example"])
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(oi.ReauthenticationRequired):
        oi.accept(ctx, session, token=token)
    assert snapshot(ctx, acme.org.id)["members"][1:] == []
    oi.accept(ctx, signed_in(ctx, free.accounts["fay@free.example"]), token=token)


def test_only_a_business_or_enterprise_system_administrator_invites_and_the_link_lives_seven_days(
    ctx: Context, operator: Actor, clock: FixedClock
) -> None:
    acme = _inviting(ctx, operator, people=[PersonSpec("wendy@acme.example", role="admin")])
    with pytest.raises(PermissionDenied):  # a workspace admin is not a system administrator
        oi.invite(ctx, acme.actor("wendy@acme.example"), acme.org.id, "x@y.example")
    pro = build(ctx, operator, "Pro", plan="pro", people=[PersonSpec("p@pro.example", org_role="system_admin")])
    with pytest.raises(PermissionDenied, match="business or enterprise"):
        oi.invite(ctx, pro.actor("p@pro.example"), pro.org.id, "x@y.example")
    with pytest.raises(NotFound):  # another organization is not found
        oi.invite(ctx, pro.actor("p@pro.example"), acme.org.id, "x@y.example")
    for bad in ("", "not-an-address", "a\x00@b.example", "x" * 400 + "@b.example", 42, None):
        with pytest.raises(ValidationFailed):
            oi.invite(ctx, operator, acme.org.id, bad)
    with pytest.raises(ValidationFailed):
        oi.invite(ctx, operator, acme.org.id, "x@y.example", language="xx")
    invitation, token = _invite(ctx, acme, "new@person.example")
    assert token.startswith("adm_oin_") and invitation.expires_at == clock.now() + timedelta(days=7)
    with pytest.raises(Conflict):
        _invite(ctx, acme, "new@person.example")
    with pytest.raises(Conflict):  # already a member
        _invite(ctx, acme, "wendy@acme.example")
    with pytest.raises(SecretRejected):  # a token of another purpose
        oi.preview(ctx, token.replace("adm_oin_", "adm_inv_"))
    assert oi.preview(ctx, token).organization_name == "Acme"
    clock.advance(days=7)
    with pytest.raises(SecretRejected):
        oi.preview(ctx, token)
    assert [v.state for v in oi.list_invitations(ctx, operator, acme.org.id)] == ["expired"]
    # Only the addressee sees and answers it; the organization role is unchanged by inviting.
    assert organization_roles.list_admins(ctx, operator, acme.org.id)[0].role == "system_admin"


def test_another_person_cannot_answer_an_invitation_sent_to_someone_else(ctx: Context, operator: Actor) -> None:
    acme = _inviting(ctx, operator)
    others = build(ctx, operator, "Other", plan="free", people=[PersonSpec("mal@other.example")])
    invitation, token = _invite(ctx, acme, "victim@else.example")
    mal = others.accounts["mal@other.example"]
    with pytest.raises(NotFound):
        oi.plan_for_account(ctx, mal, token=token)
    with pytest.raises(NotFound):
        oi.decline(ctx, mal, invitation_id=invitation.id)
    with pytest.raises(NotFound):
        oi.accept(ctx, signed_in(ctx, mal), token=token)
    assert oi.get_invitation(ctx, operator, acme.org.id, invitation.id).state == "pending"
