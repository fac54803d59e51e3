"""Organization invitations and merges through the REST API, on both databases: a system
administrator's token invites and reads the plan; the invitee's session lists, reads the plan,
declines or accepts (a stale session must sign in again); refusals are JSON with their codes."""

from __future__ import annotations

from support.api import api_token, client
from support.org_worlds import PersonSpec, build

from admit.shared.context import Actor, Context

PASSWORD = "x" * 20  # support.org_worlds' accounts


def _session(ctx: Context, email: str) -> str:
    response = client(ctx).post("/api/v1/sessions", json={"identifier": email, "password": PASSWORD})
    assert response.status_code in (200, 201), response.text
    return str(response.json()["token"])


def test_the_rest_doors_invite_plan_and_accept_a_paid_users_account(
    ctx: Context, operator: Actor, clock: object
) -> None:
    acme = build(ctx, operator, "Acme", seats=5, enforced=True)
    paid = build(ctx, operator, "Pat", plan="pro", people=[PersonSpec("pat@pro.example", org_role="system_admin")])
    admin = client(ctx, api_token(ctx, acme.org.id, role="owner"))
    base = f"/api/v1/organizations/{acme.org.id}/invitations"
    low = client(ctx, api_token(ctx, acme.org.id, role="admin")).post(base, json={"email": "pat@pro.example"})
    assert low.status_code == 403
    bad = admin.post(base, json={"email": "not an address"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "email"
    made = admin.post(base, json={"email": "pat@pro.example", "language": "fr"})
    assert made.status_code == 201, made.text
    invitation = made.json()
    assert (invitation["state"], invitation["language"], invitation["enterprise"]) == ("pending", "fr", False)
    assert [i["id"] for i in admin.get(base).json()] == [invitation["id"]]
    plan = admin.get(f"{base}/{invitation['id']}/merge-plan").json()
    assert (plan["kind"], plan["allowed"], plan["acquired_id"], plan["licences_needed"]) == (
        "paid_user", True, paid.org.id, 1,
    )  # fmt: skip
    other = build(ctx, operator, "Other")
    foreign = client(ctx, api_token(ctx, other.org.id, role="owner"))
    assert foreign.get(f"{base}/{invitation['id']}/merge-plan").status_code == 404
    me = client(ctx, _session(ctx, "pat@pro.example"))
    mine = me.get("/api/v1/me/organization-invitations").json()
    assert [i["organization_name"] for i in mine] == ["Acme"]
    assert me.get(f"/api/v1/me/organization-invitations/{invitation['id']}/merge-plan").json()["kind"] == "paid_user"
    clock.advance(minutes=6)  # type: ignore[attr-defined]
    stale = me.post(f"/api/v1/me/organization-invitations/{invitation['id']}/accept")
    assert stale.status_code == 403 and stale.json()["error"]["code"] == "reauthenticate"
    fresh = client(ctx, _session(ctx, "pat@pro.example"))
    accepted = fresh.post(f"/api/v1/me/organization-invitations/{invitation['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["invitation"]["acquired_organization_id"] == paid.org.id
    assert admin.get(f"{base}/{invitation['id']}").json()["state"] == "accepted"
    again = fresh.post(f"/api/v1/me/organization-invitations/{invitation['id']}/decline")
    assert again.status_code == 410 and again.json()["error"]["code"] == "link_gone", again.text


def test_declining_through_the_api_and_an_enterprise_refusal_is_a_409(ctx: Context, operator: Actor) -> None:
    acme = build(ctx, operator, "Acme")
    build(ctx, operator, "Umb", plan="enterprise", people=[PersonSpec("eve@umb.example", org_role="system_admin")])
    build(ctx, operator, "Free", plan="free", people=[PersonSpec("fay@free.example")])
    admin = client(ctx, api_token(ctx, acme.org.id, role="owner"))
    base = f"/api/v1/organizations/{acme.org.id}/invitations"
    eve = admin.post(base, json={"email": "eve@umb.example"}).json()
    assert eve["enterprise"] is True
    refused = client(ctx, _session(ctx, "eve@umb.example")).post(
        f"/api/v1/me/organization-invitations/{eve['id']}/accept"
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "enterprise"
    assert "enterprise" in admin.get(f"{base}/{eve['id']}").json()["refusal"]
    fay = admin.post(base, json={"email": "fay@free.example"}).json()
    declined = client(ctx, _session(ctx, "fay@free.example")).post(
        f"/api/v1/me/organization-invitations/{fay['id']}/decline"
    )
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
