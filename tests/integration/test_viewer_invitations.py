"""Inviting straight as a resource viewer (issue 17, Smartsheet's licensed user vs viewer), on
both databases: a viewer invitation reserves no seat and accepting it takes none, even when the
seats are enforced and full; a provisioned member invited as a viewer becomes one (and back to
licensed needs a seat); every door carries the licence (service, REST API, console form, import)
and refuses an unknown one next to its field; who may invite a viewer is who may invite."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.outbox import token_for
from support.pages import browser_signed_in, csrf

from admit.admin import imports, invitations, jobs, licences, members, tenancy
from admit.admin.licences import NoSeatsLeft
from admit.admin.profiles import MemberInput
from admit.domain.errors import ValidationFailed
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "marigold-canyon-drum-73"


def _org(ctx: Context, operator: Actor, seats: int, *, reserve: bool = True) -> tuple[Any, Any]:
    org = tenancy.create_organization(ctx, operator, "Seats", plan="business", seats=seats)
    licences.set_seats(ctx, operator, org.id, enforced=True)
    if not reserve:
        licences.set_reservation(ctx, operator, org.id, False)
    return org, tenancy.create_workspace(ctx, operator, org.id, "Main")


def _totals(ctx: Context, operator: Actor, org: Any) -> tuple[int, int, int]:
    r = licences.report(ctx, operator, org.id)
    return r.used, r.reserved, r.free


def _accept(ctx: Context, email: str) -> dict[str, Any]:
    return claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)


def test_a_viewer_invitation_reserves_no_seat_and_accepting_it_takes_none(ctx: Context, operator: Actor) -> None:
    org, ws = _org(ctx, operator, 1)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="lou@example.com"))
    assert _totals(ctx, operator, org) == (0, 1, 0)  # full
    with pytest.raises(NoSeatsLeft):
        invitations.invite(ctx, operator, ws.id, MemberInput(email="lia@example.com", licence="licensed"))
    sent, member = invitations.invite(ctx, operator, ws.id, MemberInput(email="vic@example.com", licence="viewer"))
    assert sent.licence == "viewer" and member.licence == "viewer"
    assert _totals(ctx, operator, org) == (0, 1, 0)
    accepted = _accept(ctx, "vic@example.com")
    assert members.get(ctx, operator, accepted["member_id"]).licence == "viewer"
    _accept(ctx, "lou@example.com")
    assert _totals(ctx, operator, org) == (1, 0, 0)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="val@example.com", licence=" Viewer "))
    assert _totals(ctx, operator, org) == (1, 0, 0)
    with pytest.raises(ValidationFailed) as bad:
        invitations.invite(ctx, operator, ws.id, MemberInput(email="x@example.com", licence="guest"))
    assert bad.value.field == "licence"


def test_without_reservation_a_viewer_still_joins_when_every_seat_is_used(ctx: Context, operator: Actor) -> None:
    org, ws = _org(ctx, operator, 1, reserve=False)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="lou@example.com"))
    invitations.invite(ctx, operator, ws.id, MemberInput(email="lia@example.com"))
    invitations.invite(ctx, operator, ws.id, MemberInput(email="vic@example.com", licence="viewer"))
    _accept(ctx, "lou@example.com")
    with pytest.raises(NoSeatsLeft):
        _accept(ctx, "lia@example.com")
    member_id = _accept(ctx, "vic@example.com")["member_id"]
    assert members.get(ctx, operator, member_id).status == "active"
    assert _totals(ctx, operator, org) == (1, 0, 0)


def test_a_provisioned_member_invited_as_a_viewer_becomes_one_and_back_needs_a_seat(
    ctx: Context, operator: Actor
) -> None:
    org, ws = _org(ctx, operator, 1)
    waiting, _ = members.provision(ctx, operator, ws.id, MemberInput(email="pia@example.com"), invite=False)
    assert waiting.licence == "licensed" and _totals(ctx, operator, org) == (0, 1, 0)
    sent, member = invitations.invite(ctx, operator, ws.id, MemberInput(email="pia@example.com", licence="viewer"))
    assert sent.licence == "viewer" and member.licence == "viewer"
    assert members.get(ctx, operator, waiting.id).licence == "viewer" and _totals(ctx, operator, org) == (0, 0, 1)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="lou@example.com"))  # takes the freed seat
    other, _ = members.provision(
        ctx, operator, ws.id, MemberInput(email="ola@example.com", licence="viewer"), invite=False
    )
    assert other.licence == "viewer"
    with pytest.raises(NoSeatsLeft):
        invitations.invite(ctx, operator, ws.id, MemberInput(email="ola@example.com", licence="licensed"))
    assert members.get(ctx, operator, other.id).licence == "viewer" and members.get(ctx, operator, other.id).status == (
        "provisioned"
    )  # nothing written
    invitations.invite(ctx, operator, ws.id, MemberInput(email="ola@example.com"))  # no licence named: kept
    assert members.get(ctx, operator, other.id).licence == "viewer"


def test_the_api_invites_a_viewer_and_refuses_an_unknown_licence(ctx: Context, operator: Actor) -> None:
    org, ws = _org(ctx, operator, 0)
    admin = client(ctx, api_token(ctx, org.id, role="admin"))
    body = {"email": "vic@example.com", "licence": "viewer"}
    made = admin.post(f"/api/v1/workspaces/{ws.id}/invitations", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["licence"] == "viewer"
    assert admin.get(f"/api/v1/invitations/{made.json()['id']}").json()["licence"] == "viewer"
    full = admin.post(f"/api/v1/workspaces/{ws.id}/invitations", json={"email": "lou@example.com"})
    assert full.status_code == 409 and full.json()["error"]["code"] == "no_seats"  # licensed by default
    bad = admin.post(f"/api/v1/workspaces/{ws.id}/invitations", json={"email": "x@example.com", "licence": "guest"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "licence"
    listed = admin.get(f"/api/v1/workspaces/{ws.id}/invitations").json()["items"]
    assert [(i["email"], i["licence"]) for i in listed] == [("vic@example.com", "viewer")]
    member_token = client(ctx, api_token(ctx, org.id, role="member"))
    refused = member_token.post(f"/api/v1/workspaces/{ws.id}/invitations", json={**body, "email": "m@example.com"})
    assert refused.status_code == 403  # who may invite a viewer: who may invite


def test_the_console_form_adds_a_viewer_and_shows_a_bad_licence_next_to_the_field(
    ctx: Context, operator: Actor
) -> None:
    org, ws = _org(ctx, operator, 1)
    licences.set_seats(ctx, operator, org.id, seats=2)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="olga@example.com", role="owner"))
    _accept(ctx, "olga@example.com")
    invitations.invite(ctx, operator, ws.id, MemberInput(email="lou@example.com"))  # the last seat, reserved
    owner = browser_signed_in(ctx, "olga@example.com", PASSWORD)
    form = owner.get(f"/admin/{ws.id}/people/new").text
    assert '<select id="licence" name="licence"' in form and "Resource viewer (takes no seat)" in form
    fields = {"email": "vic@example.com", "first_name": "Vic", "role": "member", "csrftoken": csrf(form)}
    bad = owner.post(f"/admin/{ws.id}/people/new", data={**fields, "licence": "guest"})
    assert (
        bad.status_code == 422 and 'id="licence-error">' in bad.text and 'aria-describedby="licence-error"' in bad.text
    )
    full = owner.post(f"/admin/{ws.id}/people/new", data={**fields, "licence": "licensed"})
    assert full.status_code == 409 and "no licence is free" in full.text and "Traceback" not in full.text
    done = owner.post(f"/admin/{ws.id}/people/new", data={**fields, "licence": "viewer"}, follow_redirects=False)
    assert done.status_code == 303, done.text
    [vic] = members.list_members(ctx, operator, ws.id, search="vic@")
    assert vic.licence == "viewer" and vic.status == "invited"
    pending = invitations.list_invitations(ctx, operator, ws.id, state="pending")
    assert {(i.email, i.licence) for i in pending} == {("lou@example.com", "licensed"), ("vic@example.com", "viewer")}


def test_an_import_reads_a_licence_column(ctx: Context, operator: Actor) -> None:
    _, ws = _org(ctx, operator, 1)
    text = (
        "Email;First name;Lizenz\n"
        "ana@example.com;Ana;Betrachter\n"
        "ben@example.com;Ben;resource viewer\n"
        "cy@example.com;Cy;\n"
        "dee@example.com;Dee;guest\n"
        "eve@example.com;Eve;licensed\n"
    )
    job = imports.start(ctx, operator, ws.id, text.encode(), "people.csv", invite="now")
    assert jobs.run_next(ctx) == job.id
    done = jobs.get(ctx, operator, job.id)
    assert done.counts.get("created") == 3, done.counts
    reasons = {entry["row"]: (entry["column"], entry["reason"]) for entry in done.report}
    assert reasons[5] == ("Lizenz", "the licence type is licensed or viewer")  # row 5: Dee
    assert "no licence is free" in reasons[6][1]  # Eve: Cy took the only seat
    people = {m.email: m.licence for m in members.list_members(ctx, operator, ws.id)}
    assert people == {"ana@example.com": "viewer", "ben@example.com": "viewer", "cy@example.com": "licensed"}
    assert {i.licence for i in invitations.list_invitations(ctx, operator, ws.id)} == {"viewer", "licensed"}
