"""Races are settled by the database, not by luck: 50 people pressing "accept" at once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from support.outbox import token_for

from admit.admin import invitations, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import Conflict, DomainError, SecretAlreadyUsed
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "marigold-canyon-drum-73"
ATTEMPTS = 50


def _race(attempt: Callable[[], dict[str, Any]]) -> tuple[list[dict[str, Any]], list[DomainError]]:
    barrier = threading.Barrier(ATTEMPTS)

    def run(_: int) -> dict[str, Any] | DomainError:
        barrier.wait()
        try:
            return attempt()
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        outcomes = list(pool.map(run, range(ATTEMPTS)))
    wins = [o for o in outcomes if isinstance(o, dict)]
    losses = [o for o in outcomes if isinstance(o, DomainError)]
    return wins, losses


def test_fifty_parallel_claims_of_one_invitation_make_exactly_one_member_and_one_account(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    invitation, member = invitations.invite(ctx, operator, workspace.id, MemberInput(email="race@example.com"))
    token = token_for(ctx, "race@example.com")
    wins, losses = _race(lambda: claims.accept_with_token(ctx, token, password=PASSWORD))
    assert len(wins) == 1 and len(losses) == ATTEMPTS - 1
    assert all(isinstance(e, SecretAlreadyUsed | Conflict) for e in losses), Counter(e.code for e in losses)
    active = members.list_members(ctx, operator, workspace.id, status="active")
    assert [m.id for m in active] == [member.id]
    assert active[0].account_id == wins[0]["account_id"]
    with ctx.uow() as uow:
        assert uow.accounts.by_identifiers([("email", "race@example.com")]).id == wins[0]["account_id"]
    assert invitations.get(ctx, operator, invitation.id).state == "accepted"


def test_fifty_parallel_accepts_by_a_signed_in_account_activate_one_membership(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="race@example.com"))
    account_id = claims.accept_with_token(ctx, token_for(ctx, "race@example.com"), password=PASSWORD)["account_id"]
    second = tenancy.create_workspace(ctx, operator, org.id, "Second")
    invitation, member = invitations.invite(ctx, operator, second.id, MemberInput(email="race@example.com"))
    wins, losses = _race(lambda: claims.accept_for_account(ctx, account_id, invitation.id))
    assert len(wins) == 1 and len(losses) == ATTEMPTS - 1
    assert all(isinstance(e, Conflict) for e in losses), Counter(e.code for e in losses)
    active = members.list_members(ctx, operator, second.id, status="active")
    assert [(m.id, m.account_id) for m in active] == [(member.id, account_id)]
