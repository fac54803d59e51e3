"""The access-code throttles are fair to a busy workspace, on both databases: a whole shift
redeeming at once from one address (300 in a row) all get in and leave nothing counted against
the workspace; only wrong secrets count against it, and its cap stops even a right code until
the next hour (the brute-force bound is in test_access_codes.py)."""

from __future__ import annotations

from typing import Any

import pytest
from support.clock import FixedClock

from admit.admin import access_codes, members
from admit.admin.profiles import MemberInput
from admit.domain import access_codes as codes
from admit.domain.errors import SecretRejected, TooManyAttempts
from admit.flows.invitation import codes as redeeming
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchard-pebble-58"
SHIFT_ADDRESS = "198.51.100.7"  # the whole shift behind one address


def shift(ctx: Context, operator: Actor, workspace: Any, size: int) -> list[access_codes.IssuedCode]:
    ids = []
    for n in range(size):
        given = MemberInput(first_name="Ana", last_name=f"Silva {n}", external_id=f"E-{n:04d}")
        created, _ = members.provision(ctx, operator, workspace.id, given, invite=False)
        ids.append(str(created.id))
    return access_codes.issue_for_selection(ctx, operator, workspace.id, ids)


def wrong(code: str) -> str:
    """The code with its secret part changed: a wrong secret at a live code's lookup key."""
    raw = codes.normalise(code)
    return raw[:4] + ("2" if raw[4] != "2" else "3") + raw[5:]


def workspace_count(ctx: Context, workspace: Any) -> Any:
    with ctx.uow() as uow:
        return uow.throttles.get(redeeming.workspace_key(workspace.id, ctx.clock.now()))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a counting rule; the counters run on both below
def test_three_hundred_redemptions_in_a_row_all_succeed(ctx: Context, operator: Actor, workspace: Any) -> None:
    issued = shift(ctx, operator, workspace, 300)
    for n, item in enumerate(issued):
        done = redeeming.redeem(ctx, item.code, password=PASSWORD, username=f"shift.{n}", client_address=SHIFT_ADDRESS)
        assert done["member_id"] == item.member_id, n
    assert workspace_count(ctx, workspace) is None  # successes never count against the workspace
    assert {m.status for m in members.list_members(ctx, operator, workspace.id, limit=500)} == {"active"}


def test_only_wrong_secrets_count_against_the_workspace(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redeeming, "WORKSPACE_FAILURES", 5)
    issued = shift(ctx, operator, workspace, 20)
    for n, item in enumerate(issued[:10]):  # ten successes first: they count for nothing
        redeeming.redeem(ctx, item.code, password=PASSWORD, username=f"shift.{n}", client_address=SHIFT_ADDRESS)
    for n, item in enumerate(issued[10:14]):  # four wrong secrets, each at another code, from other addresses
        with pytest.raises(SecretRejected):
            redeeming.check(ctx, wrong(item.code), f"203.0.113.{n}")
    assert workspace_count(ctx, workspace).failures == 4
    assert redeeming.check(ctx, issued[10].code, SHIFT_ADDRESS).last_name == "Silva 10"  # still open
    with pytest.raises(SecretRejected):
        redeeming.check(ctx, wrong(issued[15].code), "203.0.113.50")  # the fifth: the workspace waits
    with pytest.raises(TooManyAttempts):
        redeeming.check(ctx, issued[16].code, SHIFT_ADDRESS)
    clock.advance(hours=1)
    assert redeeming.check(ctx, issued[16].code, SHIFT_ADDRESS).last_name == "Silva 16"
    assert access_codes.current(ctx, operator, issued[10].member_id).failures == 1  # type: ignore[union-attr]
