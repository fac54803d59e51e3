"""Issue 17's licences (seats): reservation on and off, what takes, keeps and frees a seat, the
refusal's counts, and 20 parallel accepts with one seat left (both databases)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from support.api import client
from support.outbox import token_for

from admit.admin import invitations, licences, members, scim_tokens, tenancy
from admit.admin.licences import NoSeatsLeft
from admit.admin.profiles import MemberInput
from admit.domain.errors import DomainError, PermissionDenied, ValidationFailed
from admit.domain.roles import Role
from admit.flows.invitation import claims
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "marigold-canyon-drum-73"


def _org(ctx: Context, operator: Actor, seats: int, *, reserve: bool = True) -> tuple[Any, Any]:
    org = tenancy.create_organization(ctx, operator, "Seats", plan="business", seats=seats)
    licences.set_seats(ctx, operator, org.id, enforced=True)
    if not reserve:
        licences.set_reservation(ctx, operator, org.id, False)
    return org, tenancy.create_workspace(ctx, operator, org.id, "Main")


def _accept(ctx: Context, email: str) -> dict[str, Any]:
    return claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)


def _totals(ctx: Context, operator: Actor, org: Any) -> tuple[int, int, int]:
    r = licences.report(ctx, operator, org.id)
    return r.used, r.reserved, r.free


def test_an_invitation_reserves_a_seat_and_accepting_turns_it_into_a_used_one(ctx: Context, operator: Actor) -> None:
    org, ws = _org(ctx, operator, 2)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="a@example.com"))
    assert _totals(ctx, operator, org) == (0, 1, 1)
    _accept(ctx, "a@example.com")
    assert _totals(ctx, operator, org) == (1, 0, 1)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="b@example.com"))
    with pytest.raises(NoSeatsLeft) as refused:
        invitations.invite(ctx, operator, ws.id, MemberInput(email="c@example.com"))
    assert refused.value.code == "no_seats"
    assert "2 seats, 1 in use and 1 reserved" in refused.value.message
    assert members.list_members(ctx, operator, ws.id, search="c@example.com") == []  # nothing was written


def test_without_reservation_invitations_are_free_and_the_accept_takes_the_seat(ctx: Context, operator: Actor) -> None:
    org, ws = _org(ctx, operator, 1, reserve=False)
    for email in ("a@example.com", "b@example.com"):
        invitations.invite(ctx, operator, ws.id, MemberInput(email=email))
    assert _totals(ctx, operator, org) == (0, 0, 1)
    _accept(ctx, "a@example.com")
    with pytest.raises(NoSeatsLeft, match="1 seats, 1 in use and 0 reserved"):
        _accept(ctx, "b@example.com")
    assert [m.email for m in members.list_members(ctx, operator, ws.id, status="invited")] == ["b@example.com"]


def test_suspending_keeps_the_seat_removing_frees_it(ctx: Context, operator: Actor) -> None:
    org, ws = _org(ctx, operator, 1)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="a@example.com"))
    member_id = _accept(ctx, "a@example.com")["member_id"]
    members.suspend(ctx, operator, member_id)
    assert _totals(ctx, operator, org) == (1, 0, 0)
    with pytest.raises(NoSeatsLeft):
        members.provision(ctx, operator, ws.id, MemberInput(email="b@example.com"), invite=False)
    members.reactivate(ctx, operator, member_id)  # keeps the seat it had: no check, no refusal
    members.remove(ctx, operator, member_id)
    assert _totals(ctx, operator, org) == (0, 0, 1)
    members.provision(ctx, operator, ws.id, MemberInput(email="b@example.com"), invite=False)
    assert _totals(ctx, operator, org) == (0, 1, 0)


def test_a_resource_viewer_is_free_and_becoming_licensed_again_needs_a_seat(ctx: Context, operator: Actor) -> None:
    org, ws = _org(ctx, operator, 1)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="a@example.com"))
    member_id = _accept(ctx, "a@example.com")["member_id"]
    assert licences.set_licence(ctx, operator, member_id, "viewer").licence == "viewer"
    assert _totals(ctx, operator, org) == (0, 0, 1)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="b@example.com"))
    with pytest.raises(NoSeatsLeft) as refused:
        licences.set_licence(ctx, operator, member_id, "licensed")
    assert refused.value.field == "licence"
    with pytest.raises(ValidationFailed):
        licences.set_licence(ctx, operator, member_id, "<b>gold</b>")


def test_scim_creates_and_initial_password_activations_take_seats(ctx: Context, operator: Actor) -> None:
    org, ws = _org(ctx, operator, 2)
    members.provision_active(ctx, operator, ws.id, MemberInput(email="a@example.com"), "Pale-Harbor-Lantern-91")
    _, secret = scim_tokens.create(ctx, operator, org.id, name="Entra ID", role="admin", workspace_id=ws.id)
    idp = client(ctx, secret)
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "active": True}
    made = idp.post(
        "/scim/v2/Users", json={**user, "userName": "b@example.com", "emails": [{"value": "b@example.com"}]}
    )
    assert made.status_code == 201, made.text
    assert _totals(ctx, operator, org) == (1, 1, 0)
    full = idp.post(
        "/scim/v2/Users", json={**user, "userName": "c@example.com", "emails": [{"value": "c@example.com"}]}
    )
    assert full.status_code == 409 and "2 seats, 1 in use and 1 reserved" in full.json()["detail"], full.text


def test_an_unenforced_organization_counts_but_never_refuses(ctx: Context, operator: Actor) -> None:
    org = tenancy.create_organization(ctx, operator, "Old", plan="business", seats=1)
    ws = tenancy.create_workspace(ctx, operator, org.id, "Main")
    for n in range(3):
        invitations.invite(ctx, operator, ws.id, MemberInput(email=f"p{n}@example.com"))
    report = licences.report(ctx, operator, org.id)
    assert (report.enforced, report.reserved, report.free) == (False, 3, 0)
    assert [(w.name, w.reserved) for w in report.workspaces] == [("Main", 3)]


def test_only_the_operator_sets_seats(ctx: Context, operator: Actor) -> None:
    org, _ = _org(ctx, operator, 1)
    token_actor = Actor(ActorKind.API_TOKEN, organization_id=org.id, role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        licences.set_seats(ctx, token_actor, org.id, seats=100)
    with pytest.raises(ValidationFailed):
        licences.set_seats(ctx, operator, org.id, seats=-1)
    with pytest.raises(ValidationFailed):
        licences.set_seats(ctx, operator, org.id, seats=True)


RACERS = 20


def test_twenty_parallel_accepts_with_one_seat_left_give_exactly_one_licensed_member(
    ctx: Context, operator: Actor
) -> None:
    org, ws = _org(ctx, operator, 2, reserve=False)
    invitations.invite(ctx, operator, ws.id, MemberInput(email="first@example.com"))
    _accept(ctx, "first@example.com")
    emails = [f"racer{n}@example.com" for n in range(RACERS)]
    for email in emails:
        invitations.invite(ctx, operator, ws.id, MemberInput(email=email))
    tokens = [token_for(ctx, email) for email in emails]
    barrier = threading.Barrier(RACERS)

    def run(n: int) -> dict[str, Any] | DomainError:
        barrier.wait()
        try:
            return claims.accept_with_token(ctx, tokens[n], password=PASSWORD)
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(run, range(RACERS)))
    wins = [o for o in outcomes if isinstance(o, dict)]
    losses = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(wins) == 1, [getattr(o, "code", o) for o in outcomes]
    assert all(isinstance(e, NoSeatsLeft) for e in losses), {e.code for e in losses}
    assert len(members.list_members(ctx, operator, ws.id, status="active")) == 2
    assert _totals(ctx, operator, org) == (2, 0, 0)
