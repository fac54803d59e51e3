"""A property of organization merges (issue 17), on both databases: over random pairs of
organizations (people with roles, licence types and states, organization roles, groups with
colliding names, seats enforced or not, reservation on or off, any plan), after an accepted
invitation the member count, the seats used and the groups add up and no role was raised; a
refused one changed nothing."""

from __future__ import annotations

from itertools import count
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support.org_worlds import PersonSpec, build, signed_in, snapshot

from admit.admin import licences
from admit.admin import organization_invitations as oi
from admit.domain import merge
from admit.shared.context import Actor, Context

SERIAL = count()

PEOPLE = st.lists(
    st.tuples(
        st.sampled_from(["member", "admin", "owner", "guest"]),
        st.sampled_from(["licensed", "viewer"]),
        st.sampled_from(["active", "active", "suspended", "invited"]),
        st.sampled_from([None, None, "group_admin", "system_admin"]),
    ),
    max_size=4,
)
GROUPS = st.lists(
    st.sampled_from(["Sales", "sales", "Ops", "Field", "SALES (Other)"]), max_size=3, unique_by=str.casefold
)


def _people(prefix: str, rows: list[tuple[str, str, str, str | None]]) -> list[PersonSpec]:
    return [
        PersonSpec(f"p{i}@{prefix}.example", role, licence, status, org_role if status == "active" else None)
        for i, (role, licence, status, org_role) in enumerate(rows)
    ]


def _seats(ctx: Context, operator: Actor, organization_id: str) -> int:
    report = licences.report(ctx, operator, organization_id)
    return report.used + report.reserved


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    inviting_people=PEOPLE,
    inviting_groups=GROUPS,
    seats=st.integers(0, 8),
    enforced=st.booleans(),
    reserve=st.booleans(),
    plan=st.sampled_from(["free", "pro", "business", "business", "business", "enterprise"]),
    acquired_people=PEOPLE,
    acquired_groups=GROUPS,
    invitee_admin=st.sampled_from([True, True, True, False]),
)
def test_an_accepted_merge_adds_up_and_raises_no_role_and_a_refused_one_changes_nothing(
    ctx: Context,
    operator: Actor,
    inviting_people: list[Any],
    inviting_groups: list[str],
    seats: int,
    enforced: bool,
    reserve: bool,
    plan: str,
    acquired_people: list[Any],
    acquired_groups: list[str],
    invitee_admin: bool,
) -> None:
    n = next(SERIAL)
    boss = PersonSpec(f"boss@in{n}.example", role="owner", org_role="system_admin")
    inviting = build(
        ctx, operator, f"In{n}", seats=seats + 1, enforced=enforced, reserve=reserve,
        people=[boss, *_people(f"in{n}", inviting_people)], groups={g: [] for g in inviting_groups},
    )  # fmt: skip
    invitee = PersonSpec(f"me@out{n}.example", role="owner", org_role="system_admin" if invitee_admin else None)
    others = _people(f"out{n}", acquired_people)
    acquired = build(
        ctx, operator, "Other", plan=plan, people=[invitee, *others],
        groups={g: [invitee.email] for g in acquired_groups},
    )  # fmt: skip
    _, token = oi.invite(ctx, inviting.actor(boss.email), inviting.org.id, invitee.email)
    me = acquired.accounts[invitee.email]
    _, planned = oi.plan_for_account(ctx, me, token=token)
    event(f"{planned.kind} {'accepted' if planned.allowed else planned.refusal}")
    ids = (inviting.org.id, acquired.org.id)
    before = snapshot(ctx, *ids)
    seats_before = _seats(ctx, operator, inviting.org.id)
    roles_before = {(o, a): r for o, a, r in before["admins"]}
    try:
        oi.accept(ctx, signed_in(ctx, me), token=token)
    except oi.MergeRefused:
        assert not planned.allowed
        assert snapshot(ctx, *ids) == before
        return
    assert planned.allowed
    after = snapshot(ctx, *ids)
    in_before = [m for m in before["members"] if m[1] == inviting.org.id]
    in_after = [m for m in after["members"] if m[1] == inviting.org.id]
    moved = [m for m in before["members"] if m[1] == acquired.org.id] if planned.acquired_id else []
    joined = 1 if planned.kind == merge.FREE_USER else 0
    assert len(in_after) == len(in_before) + len(moved) + joined
    assert _seats(ctx, operator, inviting.org.id) == seats_before + planned.licences_needed
    if enforced:
        assert _seats(ctx, operator, inviting.org.id) <= seats + 1 or seats_before > seats + 1
    groups_after = [g for g in after["groups"] if g[1] == inviting.org.id]
    expected_groups = len(inviting_groups) + (len(acquired_groups) if planned.acquired_id else 0)
    assert len(groups_after) == expected_groups
    assert len({merge.name_key(name) for _, _, name in groups_after}) == expected_groups
    # No member row's role or licence type changed; a joining free user is a plain member.
    old = {m[0]: m[4:] for m in before["members"]}
    for member in after["members"]:
        assert old.get(member[0], ("member", member[5])) == member[4:]
    # No organization role was raised: the inviting side's are as before, plus kept group administrators.
    for organization_id, account_id, role in after["admins"]:
        assert organization_id == inviting.org.id or not planned.acquired_id
        held = roles_before.get((organization_id, account_id))
        kept = roles_before.get((acquired.org.id, account_id)) == "group_admin" and planned.acquired_id is not None
        assert role == held or (held is None and kept and role == "group_admin")
