"""Issue 17's organization roles and security controls, on both databases: a system
administrator acts as owner in every workspace of their organization and nowhere else, only a
system administrator grants the role, the last one stays, a group administrator manages groups;
security controls are enterprise-only and apply at every door (service, REST API; the CLI in
tests/e2e/test_cli_org_controls.py, the page in test_admin_org_area.py)."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.outbox import token_for

from admit.admin import groups, invitations, licences, members, organization_roles, security_controls, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "harbor-quill-meadow-47"


def person(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "member") -> Actor:
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    account_id = members.get(ctx, operator, created.id).account_id
    assert account_id is not None
    return Actor(ActorKind.ACCOUNT, id=account_id, name=email)


@pytest.fixture
def enterprise(ctx: Context, operator: Actor) -> tuple[Any, Any, Any]:
    org = tenancy.create_organization(ctx, operator, "Umbrella", plan="enterprise", seats=50)
    return (
        org,
        tenancy.create_workspace(ctx, operator, org.id, "Labs"),
        tenancy.create_workspace(ctx, operator, org.id, "HQ"),
    )


def test_a_system_administrator_acts_as_owner_in_every_workspace_of_the_organization_only(
    ctx: Context, operator: Actor, enterprise: tuple[Any, Any, Any], workspace: Any
) -> None:
    org, labs, hq = enterprise
    alice = person(ctx, operator, labs, "alice@umbrella.example")
    with pytest.raises(NotFound):
        members.list_members(ctx, alice, hq.id)
    organization_roles.grant(ctx, operator, org.id, "system_admin", email="alice@umbrella.example")
    made, _ = members.provision(ctx, alice, hq.id, MemberInput(email="o@umbrella.example", role="owner"), invite=False)
    assert made.role == "owner"
    with pytest.raises(NotFound):  # another organization's workspace stays not found
        members.list_members(ctx, alice, workspace.id)
    with pytest.raises(NotFound):
        licences.report(ctx, alice, workspace.organization_id)
    report = licences.report(ctx, alice, org.id)
    assert (report.used, report.reserved) == (1, 1)


def test_a_system_administrator_suspended_or_removed_everywhere_is_no_owner(
    ctx: Context, operator: Actor, enterprise: tuple[Any, Any, Any]
) -> None:
    """The organization role needs the person still in: not in a workspace where their own
    membership is suspended, and nowhere once their last membership is gone (a SCIM removal)."""
    org, labs, hq = enterprise
    alice = person(ctx, operator, labs, "alice@umbrella.example")
    organization_roles.grant(ctx, operator, org.id, "system_admin", email="alice@umbrella.example")
    assert members.list_members(ctx, alice, hq.id) is not None  # owner in HQ, a workspace she is not in
    (own,) = [m for m in members.list_members(ctx, operator, labs.id) if m.email == "alice@umbrella.example"]
    members.suspend(ctx, operator, own.id)
    with pytest.raises(PermissionDenied):  # suspended in Labs: nothing there
        members.list_members(ctx, alice, labs.id)
    with pytest.raises(NotFound):  # and no active membership left in the organization: nothing in HQ either
        members.list_members(ctx, alice, hq.id)
    members.reactivate(ctx, operator, own.id)
    assert members.list_members(ctx, alice, hq.id) is not None
    members.remove(ctx, operator, own.id)
    with pytest.raises((NotFound, PermissionDenied)):
        members.list_members(ctx, alice, hq.id)


def test_only_a_system_administrator_grants_and_the_last_one_stays(
    ctx: Context, operator: Actor, enterprise: tuple[Any, Any, Any]
) -> None:
    org, labs, _ = enterprise
    boss = person(ctx, operator, labs, "boss@umbrella.example", role="owner")
    deputy = person(ctx, operator, labs, "deputy@umbrella.example", role="admin")
    with pytest.raises(PermissionDenied):  # a workspace owner is not a system administrator
        organization_roles.grant(ctx, boss, org.id, "system_admin", email="boss@umbrella.example")
    organization_roles.grant(ctx, operator, org.id, "group_admin", email="deputy@umbrella.example")
    with pytest.raises(PermissionDenied):  # nor is a group administrator
        organization_roles.grant(ctx, deputy, org.id, "system_admin", email="deputy@umbrella.example")
    organization_roles.grant(ctx, operator, org.id, "system_admin", email="boss@umbrella.example")
    with pytest.raises(Conflict) as last:
        organization_roles.revoke(ctx, boss, org.id, boss.id)
    assert last.value.code == "last_system_admin"
    with pytest.raises(Conflict):  # turning the last one into a group administrator is the same
        organization_roles.grant(ctx, boss, org.id, "group_admin", account_id=boss.id)
    organization_roles.grant(ctx, boss, org.id, "system_admin", email="deputy@umbrella.example")
    organization_roles.revoke(ctx, deputy, org.id, boss.id)
    assert [(a.email, a.role) for a in organization_roles.list_admins(ctx, deputy, org.id)] == [
        ("deputy@umbrella.example", "system_admin")
    ]
    with pytest.raises(NotFound):  # only members of the organization with an account
        organization_roles.grant(ctx, deputy, org.id, "group_admin", email="stranger@example.com")
    with pytest.raises(ValidationFailed):
        organization_roles.grant(ctx, deputy, org.id, "emperor", email="boss@umbrella.example")


def test_a_group_administrator_manages_the_organizations_groups(
    ctx: Context, operator: Actor, enterprise: tuple[Any, Any, Any]
) -> None:
    org, labs, _ = enterprise
    gus = person(ctx, operator, labs, "gus@umbrella.example", role="guest")
    with pytest.raises(PermissionDenied):
        groups.create(ctx, gus, org.id, "Night shift")
    organization_roles.grant(ctx, operator, org.id, "group_admin", email="gus@umbrella.example")
    assert groups.create(ctx, gus, org.id, "Night shift").display_name == "Night shift"
    with pytest.raises(PermissionDenied):  # but is no system administrator
        security_controls.get(ctx, gus, org.id)


def test_security_controls_belong_to_the_enterprise_plan(ctx: Context, operator: Actor, org: Any) -> None:
    with pytest.raises(PermissionDenied) as refused:
        security_controls.update(ctx, operator, org.id, allowed_email_domains=["example.com"])
    assert refused.value.code == "enterprise_plan_required" and "business plan" in refused.value.message
    assert security_controls.get(ctx, operator, org.id).available is False


def test_allowed_domains_apply_to_invitations_new_members_and_changed_addresses(
    ctx: Context, operator: Actor, enterprise: tuple[Any, Any, Any]
) -> None:
    org, labs, _ = enterprise
    kept, _ = members.provision(ctx, operator, labs.id, MemberInput(email="kept@other.example"), invite=False)
    security_controls.update(ctx, operator, org.id, allowed_email_domains="umbrella.example, @Umbrella.example")
    assert security_controls.get(ctx, operator, org.id).allowed_email_domains == ["umbrella.example"]
    for attempt in (
        lambda: invitations.invite(ctx, operator, labs.id, MemberInput(email="eve@evil.example")),
        lambda: members.provision(ctx, operator, labs.id, MemberInput(email="eve@evil.example"), invite=False),
        lambda: invitations.invite_member(ctx, operator, kept.id),  # added before the rule: not invited now
        lambda: members.update(ctx, operator, kept.id, {"email": "eve@sub.umbrella.example"}),
    ):
        with pytest.raises(ValidationFailed) as refused:
            attempt()
        assert refused.value.code == "domain_not_allowed" and refused.value.field == "email"
    invitations.invite(ctx, operator, labs.id, MemberInput(email="ok@umbrella.example"))
    for hostile in (["<script>"], "a" * 300, ["x\x00.com"], [1], "a.com," * 60):
        with pytest.raises(ValidationFailed):
            security_controls.update(ctx, operator, org.id, allowed_email_domains=hostile)


def test_who_may_invite_system_administrators_only(
    ctx: Context, operator: Actor, enterprise: tuple[Any, Any, Any]
) -> None:
    org, labs, _ = enterprise
    admin = person(ctx, operator, labs, "admin@umbrella.example", role="admin")
    security_controls.update(ctx, operator, org.id, who_may_invite="system-admins")
    with pytest.raises(PermissionDenied) as refused:
        invitations.invite(ctx, admin, labs.id, MemberInput(email="new@umbrella.example"))
    assert refused.value.code == "invite_restricted"
    with pytest.raises(PermissionDenied):  # provisioning with an invitation is inviting too
        members.provision(ctx, admin, labs.id, MemberInput(email="new@umbrella.example"), invite=True)
    members.provision(ctx, admin, labs.id, MemberInput(email="quiet@umbrella.example"), invite=False)
    organization_roles.grant(ctx, operator, org.id, "system_admin", email="admin@umbrella.example")
    invitations.invite(ctx, admin, labs.id, MemberInput(email="new@umbrella.example"))


def test_the_rest_api_doors(ctx: Context, operator: Actor, enterprise: tuple[Any, Any, Any], org: Any) -> None:
    umbrella, labs, _ = enterprise
    alice = person(ctx, operator, labs, "alice@umbrella.example", role="admin")
    owner = client(ctx, api_token(ctx, umbrella.id, role="owner"))
    made = owner.post(f"/api/v1/organizations/{umbrella.id}/administrators", json={"email": "alice@umbrella.example"})
    assert made.status_code == 201 and made.json()["role"] == "system_admin", made.text
    last = owner.delete(f"/api/v1/organizations/{umbrella.id}/administrators/{alice.id}")
    assert last.status_code == 409 and last.json()["error"]["code"] == "last_system_admin"
    session, _ = sessions.sign_in(ctx, "alice@umbrella.example", PASSWORD)
    as_alice = client(ctx, session)
    assert as_alice.get(f"/api/v1/organizations/{org.id}/security").status_code == 404  # another organization
    changed = as_alice.patch(
        f"/api/v1/organizations/{umbrella.id}/security",
        json={"allowed_email_domains": ["umbrella.example"], "who_may_invite": "workspace_admins"},
    )
    assert changed.status_code == 200 and changed.json()["allowed_email_domains"] == ["umbrella.example"]
    outside = owner.post(f"/api/v1/workspaces/{labs.id}/invitations", json={"email": "eve@evil.example"})
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "domain_not_allowed"
    admin_token = client(ctx, api_token(ctx, umbrella.id, role="admin"))
    assert admin_token.patch(f"/api/v1/organizations/{umbrella.id}/security", json={}).status_code == 403
    licences.set_seats(ctx, operator, umbrella.id, seats=2, enforced=True)
    report = owner.get(f"/api/v1/organizations/{umbrella.id}/licences").json()
    assert (report["used"], report["reserved"], report["free"]) == (1, 0, 1)
    assert sorted(w["name"] for w in report["workspaces"]) == ["HQ", "Labs"]  # same instant: any order
    assert owner.post(f"/api/v1/workspaces/{labs.id}/invitations", json={"email": "b@umbrella.example"}).is_success
    full = owner.post(f"/api/v1/workspaces/{labs.id}/invitations", json={"email": "c@umbrella.example"})
    assert full.status_code == 409 and full.json()["error"]["code"] == "no_seats"
    assert "2 seats, 1 in use and 1 reserved" in full.json()["error"]["message"]
    off = owner.patch(f"/api/v1/organizations/{umbrella.id}/licences", json={"reserve_seats_for_invitations": False})
    assert off.json()["reserved"] == 0 and off.json()["free"] == 1
    viewer = owner.patch(
        f"/api/v1/organizations/{umbrella.id}/members/{members.list_members(ctx, operator, labs.id)[0].id}/licence",
        json={"licence": "viewer"},
    )
    assert viewer.status_code == 200 and viewer.json()["licence"] == "viewer"
    gated = client(ctx, api_token(ctx, org.id, role="owner")).patch(
        f"/api/v1/organizations/{org.id}/security", json={"who_may_invite": "system_admins"}
    )
    assert gated.status_code == 403 and gated.json()["error"]["code"] == "enterprise_plan_required"
