"""The console's organization area (issue 17), on both databases: a system administrator reads
the licence report by workspace, grants and revokes administrators, sets the security controls
(errors next to the field, what was typed kept), and the invite page then refuses an address
outside the allowed domains; a workspace owner who is not a system administrator is refused,
another organization is not found, and only system administrators see the Settings link."""

from __future__ import annotations

from typing import Any

import pytest
from support.outbox import token_for
from support.pages import browser_signed_in, csrf

from admit.admin import licences, members, organization_roles, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "copper-lagoon-violet-64"


def join(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "member") -> str:
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    return str(members.get(ctx, operator, created.id).account_id)


@pytest.fixture
def umbrella(ctx: Context, operator: Actor) -> tuple[Any, Any, Any]:
    org = tenancy.create_organization(ctx, operator, "Umbrella", plan="enterprise", seats=5)
    labs = tenancy.create_workspace(ctx, operator, org.id, "Labs")
    hq = tenancy.create_workspace(ctx, operator, org.id, "HQ")
    join(ctx, operator, labs, "sam@umbrella.example", role="admin")
    organization_roles.grant(ctx, operator, org.id, "system_admin", email="sam@umbrella.example")
    licences.set_seats(ctx, operator, org.id, enforced=True)
    return org, labs, hq


def test_a_system_administrator_uses_the_organization_area(
    ctx: Context, operator: Actor, umbrella: tuple[Any, Any, Any]
) -> None:
    org, labs, hq = umbrella
    join(ctx, operator, hq, "olga@umbrella.example", role="owner")
    browser = browser_signed_in(ctx, "sam@umbrella.example", PASSWORD)
    settings = browser.get(f"/admin/{labs.id}/settings").text
    assert f'href="/admin/org/{org.id}"' in settings
    page = browser.get(f"/admin/org/{org.id}")
    assert page.status_code == 200
    assert 'data-licences="2/0/3"' in page.text and f'href="/admin/{hq.id}/people"' in page.text
    added = browser.post(
        f"/admin/org/{org.id}/administrators",
        data={"email": "olga@umbrella.example", "role": "group_admin", "csrftoken": csrf(page.text)},
        follow_redirects=False,
    )
    assert added.status_code == 303
    page = browser.get(added.headers["location"]).text
    assert "Group administrator" in page and "olga@umbrella.example" in page
    unknown = browser.post(
        f"/admin/org/{org.id}/administrators",
        data={"email": "<b>nobody</b>@umbrella.example", "role": "system_admin", "csrftoken": csrf(page)},
    )
    assert unknown.status_code == 404 and 'id="email-error"' in unknown.text
    assert "&lt;b&gt;nobody&lt;/b&gt;@umbrella.example" in unknown.text and "<b>nobody" not in unknown.text
    sam = organization_roles.list_admins(ctx, operator, org.id)[0]
    last = browser.post(f"/admin/org/{org.id}/administrators/{sam.account_id}/remove", data={"csrftoken": csrf(page)})
    assert last.status_code == 409 and 'id="admins-error"' in last.text
    bad = browser.post(
        f"/admin/org/{org.id}/security",
        data={"allowed_domains": "umbrella.example, not a domain", "who_may_invite": "workspace_admins",
              "csrftoken": csrf(page)},
    )  # fmt: skip
    assert bad.status_code == 422 and 'id="allowed_domains-error"' in bad.text
    assert 'value="umbrella.example, not a domain"' in bad.text
    saved = browser.post(
        f"/admin/org/{org.id}/security",
        data={"allowed_domains": "umbrella.example", "who_may_invite": "workspace_admins", "csrftoken": csrf(page)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    invite_form = browser.get(f"/admin/{labs.id}/people/new").text
    refused = browser.post(
        f"/admin/{labs.id}/people/new",
        data={"email": "eve@evil.example", "role": "member", "csrftoken": csrf(invite_form)},
    )
    assert refused.status_code == 422 and 'id="email-error"' in refused.text
    assert "evil.example is not allowed" in refused.text
    assert 'value="eve@evil.example"' in refused.text


def test_who_is_refused_the_organization_area(
    ctx: Context, operator: Actor, umbrella: tuple[Any, Any, Any], org: Any, workspace: Any
) -> None:
    umbrella_org, labs, _ = umbrella
    join(ctx, operator, labs, "owen@umbrella.example", role="owner")
    owner = browser_signed_in(ctx, "owen@umbrella.example", PASSWORD)
    assert owner.get(f"/admin/org/{umbrella_org.id}").status_code == 403
    assert "/admin/org/" not in owner.get(f"/admin/{labs.id}/settings").text
    sam = browser_signed_in(ctx, "sam@umbrella.example", PASSWORD)
    assert sam.get(f"/admin/org/{org.id}").status_code == 404  # another organization
    assert sam.get(f"/admin/org/{'x' * 500}").status_code == 404
    assert sam.get(f"/admin/{workspace.id}/people").status_code == 404
    page = sam.get(f"/admin/org/{umbrella_org.id}").text
    no_token = sam.post(f"/admin/org/{umbrella_org.id}/security", data={"allowed_domains": "a.com"})
    assert no_token.status_code == 403  # the form guard: no CSRF token
    assert security_untouched(ctx, operator, umbrella_org.id)
    gated = tenancy.create_organization(ctx, operator, "Small", plan="pro")
    small = tenancy.create_workspace(ctx, operator, gated.id, "Small")
    sam_id = organization_roles.list_admins(ctx, operator, umbrella_org.id)[0].account_id
    members.provision(ctx, operator, small.id, MemberInput(email="sam@umbrella.example"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "sam@umbrella.example"), account_id=sam_id)
    organization_roles.grant(ctx, operator, gated.id, "system_admin", email="sam@umbrella.example")
    refused = sam.post(
        f"/admin/org/{gated.id}/security",
        data={"allowed_domains": "a.com", "who_may_invite": "system_admins", "csrftoken": csrf(page)},
    )
    assert (
        refused.status_code == 403
        and "enterprise plan" in refused.text
        and 'id="allowed_domains-error"' in refused.text
    )


def security_untouched(ctx: Context, operator: Actor, organization_id: str) -> bool:
    from admit.admin import security_controls

    return security_controls.get(ctx, operator, organization_id).allowed_email_domains == []
