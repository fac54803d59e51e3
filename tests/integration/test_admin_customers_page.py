"""The seller's customers page of the console's organization area (issue 17), on both databases:
linked from the organization area of a seller only; the search box filters the list and the
invitation form's organizations; creating a customer and inviting into one (errors next to the
field, what was typed kept, markup escaped); a customer's administrator, and a seller member who
is not its system administrator, are refused or find nothing."""

from __future__ import annotations

from typing import Any

import pytest
from support.outbox import messages, token_for
from support.pages import browser_signed_in, csrf

from admit.admin import members, organization_roles, sellers, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "marble-thistle-canyon-81"


def join(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "member") -> None:
    members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)


@pytest.fixture
def seller(ctx: Context, operator: Actor) -> dict[str, Any]:
    org = tenancy.create_organization(ctx, operator, "Northwind Cloud", plan="enterprise", seats=50)
    hq = tenancy.create_workspace(ctx, operator, org.id, "Seller HQ")
    join(ctx, operator, hq, "sam@northwind.example")
    organization_roles.grant(ctx, operator, org.id, "system_admin", email="sam@northwind.example")
    acme = sellers.create_customer(ctx, operator, org.id, "Acme Foods")
    bolt = sellers.create_customer(ctx, operator, org.id, "Bolt Motors")
    return {
        "org": org,
        "hq": hq,
        "acme": acme,
        "acme_ws": tenancy.create_workspace(ctx, operator, acme.id, "Acme Kitchen"),
        "bolt_ws": tenancy.create_workspace(ctx, operator, bolt.id, "Bolt Garage"),
    }


def test_a_seller_administrator_searches_creates_and_invites_into_a_customer(
    ctx: Context, operator: Actor, seller: dict[str, Any]
) -> None:
    org, acme_ws = seller["org"], seller["acme_ws"]
    browser = browser_signed_in(ctx, "sam@northwind.example", PASSWORD)
    area = browser.get(f"/admin/org/{org.id}").text
    assert f'href="/admin/org/{org.id}/customers"' in area
    page = browser.get(f"/admin/org/{org.id}/customers")
    assert page.status_code == 200
    assert "Acme Foods" in page.text and "Bolt Motors" in page.text and "Northwind Cloud" in page.text
    searched = browser.get(f"/admin/org/{org.id}/customers?q=acme").text
    assert "Acme Kitchen" in searched and "Bolt" not in searched
    too_long = browser.get(f"/admin/org/{org.id}/customers?q=" + "x" * 150)
    assert too_long.status_code == 422 and 'id="q-error"' in too_long.text
    # create a customer: a duplicate name is refused next to the field, what was typed kept
    twin = browser.post(f"/admin/org/{org.id}/customers", data={"name": "acme foods", "csrftoken": csrf(page.text)})
    assert twin.status_code == 409 and 'id="name-error"' in twin.text and 'value="acme foods"' in twin.text
    made = browser.post(
        f"/admin/org/{org.id}/customers",
        data={"name": "<b>Cargo</b> Ltd", "csrftoken": csrf(page.text)},
        follow_redirects=False,
    )
    assert made.status_code == 303
    listed = browser.get(made.headers["location"]).text
    assert "&lt;b&gt;Cargo&lt;/b&gt; Ltd" in listed and "<b>Cargo</b>" not in listed
    # invite into a customer: the role ceiling is said next to the role, the typed address kept
    target = f"{seller['acme'].id}/{acme_ws.id}"
    over = browser.post(
        f"/admin/org/{org.id}/customers/invite",
        data={"target": target, "email": "olga@acme.example", "role": "owner", "identity_provider": "password",
              "csrftoken": csrf(listed)},
    )  # fmt: skip
    assert over.status_code == 403 and 'id="role-error"' in over.text and 'value="olga@acme.example"' in over.text
    bad_provider = browser.post(
        f"/admin/org/{org.id}/customers/invite",
        data={"target": target, "email": "olga@acme.example", "role": "member", "identity_provider": "nope",
              "csrftoken": csrf(listed)},
    )  # fmt: skip
    assert bad_provider.status_code == 422 and 'id="identity_provider-error"' in bad_provider.text
    sent = browser.post(
        f"/admin/org/{org.id}/customers/invite",
        data={"target": target, "email": "ada@acme.example", "role": "admin", "identity_provider": "password",
              "csrftoken": csrf(listed)},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303 and "done=invited" in sent.headers["location"]
    assert messages(ctx, recipient="ada@acme.example")
    # the delegated administrator now finds the customer's people in the console
    people = browser.get(f"/admin/{acme_ws.id}/people")
    assert people.status_code == 200 and "ada@acme.example" in people.text


def test_customers_and_other_seller_members_are_refused(ctx: Context, operator: Actor, seller: dict[str, Any]) -> None:
    org = seller["org"]
    join(ctx, operator, seller["acme_ws"], "boss@acme.example", role="owner")
    organization_roles.grant(ctx, operator, seller["acme"].id, "system_admin", email="boss@acme.example")
    boss = browser_signed_in(ctx, "boss@acme.example", PASSWORD)
    assert boss.get(f"/admin/org/{org.id}/customers").status_code == 404
    assert boss.get(f"/admin/{seller['hq'].id}/people").status_code == 404
    assert boss.get(f"/admin/{seller['bolt_ws'].id}/people").status_code == 404
    own = boss.get(f"/admin/org/{seller['acme'].id}").text
    assert "/customers" not in own  # a customer's area has no customers link
    assert boss.get(f"/admin/org/{seller['acme'].id}/customers").status_code == 409  # not a seller
    join(ctx, operator, seller["hq"], "max@northwind.example", role="admin")
    max_browser = browser_signed_in(ctx, "max@northwind.example", PASSWORD)
    assert max_browser.get(f"/admin/org/{org.id}/customers").status_code == 403
    assert max_browser.get(f"/admin/{seller['acme_ws'].id}/people").status_code == 404
