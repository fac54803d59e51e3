"""The claims an app gets for a person in a workspace, on both databases: the role and what it
allows, the department and job profile as groups, nothing for an inactive member, and nothing of
the workspace without the ``workspace`` scope."""

from __future__ import annotations

from typing import Any

from support.outbox import token_for

from admit.admin import invitations, members, tenancy
from admit.admin.profiles import MemberInput
from admit.admin.tenancy import WorkspaceSettings
from admit.flows.invitation import claims
from admit.oidc_provider.claims import person_claims
from admit.shared.context import Actor, Context

PASSWORD = "copper-willow-harbour-83"


def _joined(ctx: Context, workspace_id: str, **person: Any) -> tuple[str, str]:
    """(account id, member id) of a person who accepted an invitation."""
    invitations.invite(ctx, Actor.operator(), workspace_id, MemberInput(**person))
    claims.accept_with_token(ctx, token_for(ctx, person["email"]), password=PASSWORD)
    with ctx.uow() as uow:
        workspace = uow.workspaces.get(None, workspace_id)
        assert workspace is not None
        member = uow.members.find_live(workspace.organization_id, workspace_id, email=person["email"])
    assert member is not None and member.account_id is not None
    return member.account_id, member.id


def test_workspace_claims_carry_the_role_its_permissions_and_the_groups(ctx: Context, org: Any) -> None:
    settings = WorkspaceSettings(departments=["Sales"], job_profiles=["Engineer"])
    ws = tenancy.create_workspace(ctx, Actor.operator(), org.id, "Acme Sales", settings)
    account_id, member_id = _joined(
        ctx, ws.id, email="ada@acme.example", role="admin", department="Sales", job_profile="Engineer"
    )
    with ctx.uow() as uow:
        found = person_claims(uow, account_id, ws.id, org.id, ["openid", "email", "workspace"])
        bare = person_claims(uow, account_id, ws.id, org.id, ["openid"])
    assert found is not None and bare == {"sub": account_id}
    assert (found["workspace_id"], found["org_name"], found["role"]) == (ws.id, "Acme", "admin")
    assert found["permissions"] == ["invite", "manage_people", "manage_settings", "view_audit", "view_directory"]
    assert found["groups"] == ["department:Sales", "job_profile:Engineer"]
    members.suspend(ctx, Actor.operator(), member_id)
    with ctx.uow() as uow:
        assert person_claims(uow, account_id, ws.id, org.id, ["openid", "workspace"]) is None


def test_a_guest_without_a_department_has_few_permissions_and_no_groups(ctx: Context, workspace: Any) -> None:
    account_id, _ = _joined(ctx, workspace.id, email="gus@acme.example", role="guest")
    with ctx.uow() as uow:
        found = person_claims(uow, account_id, workspace.id, workspace.organization_id, ["openid", "workspace"])
    assert found is not None
    assert found["role"] == "guest" and found["permissions"] == []
    assert "groups" not in found or found["groups"] == []
