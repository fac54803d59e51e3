"""The SCIM deprovisioning brake, at the service, on both databases: past 20 % of a workspace within
an hour an identity provider's deactivations and removals are held; the administrators are told
once; a release applies the held changes, a dismissal keeps the people as they are; a small
workspace is never braked; two requests at once cannot both slip past the threshold."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from support.clock import FixedClock
from support.outbox import messages
from test_admin_apps import account
from test_scim_lifecycle import scim_actor

from admit.admin import members, scim_brake, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import NotFound, PermissionDenied, ValidationFailed
from admit.shared.context import Actor, Context


def people(ctx: Context, operator: Actor, workspace: Any, count: int) -> list[str]:
    """``count`` members awaiting invitation (SCIM's usual first state)."""
    return [
        str(members.provision(ctx, operator, workspace.id, MemberInput(email=f"p{i}@example.com"), invite=False)[0].id)
        for i in range(count)
    ]


def statuses(ctx: Context, operator: Actor, ids: list[str]) -> list[str]:
    return [members.get(ctx, operator, member_id).status for member_id in ids]


@pytest.fixture
def thirty(ctx: Context, operator: Actor, workspace: Any) -> tuple[Actor, list[str]]:
    """A workspace of 30: its administrator Olga and 29 provisioned people."""
    admin = account(ctx, operator, workspace, "olga@example.com", role="admin")
    return admin, people(ctx, operator, workspace, 29)


def test_the_seventh_deactivation_of_thirty_within_an_hour_is_held_and_the_admins_told_once(
    ctx: Context, operator: Actor, org: Any, workspace: Any, thirty: tuple[Actor, list[str]]
) -> None:
    admin, ids = thirty
    scim = scim_actor(ctx, operator, org, workspace)
    answers = [members.suspend(ctx, scim, member_id).status for member_id in ids[:9]]
    assert answers == ["suspended"] * 6 + ["provisioned"] * 3  # held: answered unchanged
    assert statuses(ctx, operator, ids[:9]) == ["suspended"] * 6 + ["provisioned"] * 3
    told = messages(ctx, kind="scim_brake")
    assert [m["recipient"] for m in told] == ["olga@example.com"]  # one message, not one per hold
    held = scim_brake.list_holds(ctx, admin, workspace.id)
    assert [h.member_id for h in held] == ids[6:9] and {h.action for h in held} == {"deactivate"}
    assert held[0].address == "p6@example.com" and held[0].token_name == "Entra ID"
    # asked again (an identity provider retries): still held, no second hold, no second email
    assert members.suspend(ctx, scim, ids[6]).status == "provisioned"
    assert len(scim_brake.list_holds(ctx, admin, workspace.id)) == 3
    assert len(messages(ctx, kind="scim_brake")) == 1
    with ctx.uow() as uow:
        events = [e for e in uow.events.list(org.id) if e.action == "member.change_held"]
    assert len(events) == 3 and all(e.actor_type == "scim" for e in events)
    assert events[0].data["held_action"] == "deactivate"


def test_a_release_applies_the_held_changes_and_a_dismissal_keeps_the_people(
    ctx: Context, operator: Actor, org: Any, workspace: Any, thirty: tuple[Actor, list[str]]
) -> None:
    admin, ids = thirty
    scim = scim_actor(ctx, operator, org, workspace)
    for member_id in ids[:6]:
        members.suspend(ctx, scim, member_id)
    members.suspend(ctx, scim, ids[6])
    members.remove(ctx, scim, ids[7])
    members.suspend(ctx, scim, ids[8])
    held = {h.member_id: h.id for h in scim_brake.list_holds(ctx, admin, workspace.id)}
    assert set(held) == set(ids[6:9])
    released = scim_brake.release(ctx, admin, workspace.id, [held[ids[6]], held[ids[7]]])
    assert sorted(released.done) == sorted([held[ids[6]], held[ids[7]]]) and not released.refused
    assert statuses(ctx, operator, ids[6:9]) == ["suspended", "removed", "provisioned"]
    dismissed = scim_brake.dismiss(ctx, admin, workspace.id, None)
    assert dismissed.done == [held[ids[8]]]
    assert statuses(ctx, operator, [ids[8]]) == ["provisioned"]
    assert scim_brake.list_holds(ctx, admin, workspace.id) == []
    with pytest.raises(NotFound):
        scim_brake.release(ctx, admin, workspace.id, [held[ids[8]]])  # decided already
    with ctx.uow() as uow:
        trail = [(e.action, e.actor_type) for e in uow.events.list(org.id) if e.subject_id in ids[6:9]]
    assert ("member.hold_released", "account") in trail and ("member.hold_dismissed", "account") in trail
    assert ("member.suspended", "account") in trail and ("member.removed", "account") in trail


def test_the_brake_counts_only_the_last_hour(
    ctx: Context, operator: Actor, org: Any, workspace: Any, thirty: tuple[Actor, list[str]]
) -> None:
    _, ids = thirty
    scim = scim_actor(ctx, operator, org, workspace)
    for member_id in ids[:6]:
        members.suspend(ctx, scim, member_id)
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.advance(minutes=61)
    assert [members.suspend(ctx, scim, m).status for m in ids[6:13]] == ["suspended"] * 6 + ["provisioned"]


def test_a_workspace_at_or_below_the_minimum_is_never_braked(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com", role="admin")
    ids = people(ctx, operator, workspace, 9)  # ten members in all
    scim = scim_actor(ctx, operator, org, workspace)
    assert [members.remove(ctx, scim, m).status for m in ids] == ["removed"] * 9
    assert messages(ctx, kind="scim_brake") == []


def test_an_administrator_acting_and_a_removal_of_the_suspended_are_not_braked(
    ctx: Context, operator: Actor, org: Any, workspace: Any, thirty: tuple[Actor, list[str]]
) -> None:
    admin, ids = thirty
    assert [members.suspend(ctx, admin, m).status for m in ids[:10]] == ["suspended"] * 10
    scim = scim_actor(ctx, operator, org, workspace)
    assert [members.remove(ctx, scim, m).status for m in ids[:10]] == ["removed"] * 10  # already suspended
    # twenty left (the removed ones no longer count): the fifth deactivation is past 20 %
    assert [members.suspend(ctx, scim, m).status for m in ids[10:16]] == ["suspended"] * 4 + ["provisioned"] * 2


def test_the_limits_are_settings(
    ctx: Context, operator: Actor, org: Any, workspace: Any, thirty: tuple[Actor, list[str]]
) -> None:
    _, ids = thirty
    scim = scim_actor(ctx, operator, org, workspace)
    scim_brake.configure(50, 10)
    try:
        assert [members.suspend(ctx, scim, m).status for m in ids[:16]] == ["suspended"] * 15 + ["provisioned"]
    finally:
        scim_brake.configure(scim_brake.DEFAULT_PERCENT, scim_brake.DEFAULT_MINIMUM)


def test_a_hundred_percent_turns_the_brake_off(
    ctx: Context, operator: Actor, org: Any, workspace: Any, thirty: tuple[Actor, list[str]]
) -> None:
    _, ids = thirty
    scim = scim_actor(ctx, operator, org, workspace)
    scim_brake.configure(100, 10)
    try:
        for member_id in ids[:20]:  # suspended, reactivated and suspended again, then removed
            members.suspend(ctx, scim, member_id)
            members.reactivate(ctx, scim, member_id)
            members.suspend(ctx, scim, member_id)
        assert [members.remove(ctx, scim, m).status for m in ids] == ["removed"] * 29
    finally:
        scim_brake.configure(scim_brake.DEFAULT_PERCENT, scim_brake.DEFAULT_MINIMUM)
    assert messages(ctx, kind="scim_brake") == []


def test_a_member_suspended_twice_within_the_hour_counts_once(
    ctx: Context, operator: Actor, org: Any, workspace: Any, thirty: tuple[Actor, list[str]]
) -> None:
    _, ids = thirty
    scim = scim_actor(ctx, operator, org, workspace)
    for _ in range(3):  # an identity provider flapping one person: one person of thirty
        members.suspend(ctx, scim, ids[0])
        members.reactivate(ctx, scim, ids[0])
    assert [members.suspend(ctx, scim, m).status for m in ids[:7]] == ["suspended"] * 6 + ["provisioned"]


def test_two_deactivations_at_once_cannot_both_pass_the_threshold(
    ctx: Context, operator: Actor, org: Any, workspace: Any, thirty: tuple[Actor, list[str]]
) -> None:
    _, ids = thirty
    scim = scim_actor(ctx, operator, org, workspace)
    for member_id in ids[:5]:
        members.suspend(ctx, scim, member_id)
    answers: list[str] = []
    start = threading.Barrier(2)

    def deactivate(member_id: str) -> None:
        start.wait()
        answers.append(members.suspend(ctx, scim, member_id).status)

    threads = [threading.Thread(target=deactivate, args=(m,)) for m in ids[5:7]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == ["provisioned", "suspended"]
    assert sorted(statuses(ctx, operator, ids[5:7])) == ["provisioned", "suspended"]


def test_only_people_managers_of_the_workspace_see_and_decide_holds(
    ctx: Context, operator: Actor, org: Any, workspace: Any, thirty: tuple[Actor, list[str]]
) -> None:
    _, ids = thirty
    scim = scim_actor(ctx, operator, org, workspace)
    for member_id in ids[:7]:
        members.suspend(ctx, scim, member_id)
    member = account(ctx, operator, workspace, "mo@example.com", role="member")
    with pytest.raises(PermissionDenied):
        scim_brake.list_holds(ctx, member, workspace.id)
    with pytest.raises(PermissionDenied):
        scim_brake.release(ctx, member, workspace.id, None)
    other_org = tenancy.create_organization(ctx, operator, "Globex")
    other_workspace = tenancy.create_workspace(ctx, operator, other_org.id, "Globex HQ")
    elsewhere = account(ctx, operator, other_workspace, "eve@example.com", role="admin")
    with pytest.raises(NotFound):
        scim_brake.dismiss(ctx, elsewhere, workspace.id, None)
    assert statuses(ctx, operator, [ids[6]]) == ["provisioned"]
    for wrong in ("all", [1, 2], [], ["x" * 33], ["a\x00"], ["id"] * 1001):
        with pytest.raises(ValidationFailed):
            scim_brake.hold_ids(wrong)
