"""The REST API names what became of an invitation link, as the pages do: each dead link gets its
own code and 410 Gone; an unknown token stays a plain 400 ``invalid_token`` (no oracle)."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import client
from support.clock import FixedClock
from support.outbox import token_for

from admit.admin import invitations
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "orchard-quartz-meadow-71"


def _invite(ctx: Context, operator: Actor, workspace: Any, email: str = "gone@example.com") -> tuple[str, str]:
    invitation = invitations.invite(
        ctx, operator, workspace.id, MemberInput(email=email, first_name="G", last_name="O")
    )
    return invitation[0].id, token_for(ctx, email)


def _answer(ctx: Context, token: str, action: str = "accept") -> Any:
    body = {"token": token, "password": PASSWORD} if action == "accept" else {"token": token}
    return client(ctx).post(f"/api/v1/invitations/{action}", json=body)


def _code(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_expired_link_is_gone_before_the_sweep_marks_it(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock, action: str
) -> None:
    _, token = _invite(ctx, operator, workspace)
    clock.advance(days=8)
    assert _code(_answer(ctx, token, action)) == (410, "invitation_expired")


def test_revoked_link_is_gone(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitation_id, token = _invite(ctx, operator, workspace)
    invitations.revoke(ctx, operator, invitation_id)
    assert _code(_answer(ctx, token)) == (410, "invitation_revoked")


def test_declined_link_is_gone(ctx: Context, operator: Actor, workspace: Any) -> None:
    _, token = _invite(ctx, operator, workspace)
    assert _answer(ctx, token, "decline").status_code == 200
    assert _code(_answer(ctx, token)) == (410, "invitation_declined")
    assert _code(_answer(ctx, token, "decline")) == (410, "invitation_declined")


def test_link_replaced_by_a_resend_is_gone_and_the_new_one_works(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitation_id, old = _invite(ctx, operator, workspace)
    invitations.resend(ctx, operator, invitation_id)
    new = token_for(ctx, "gone@example.com")
    assert new != old
    assert _code(_answer(ctx, old)) == (410, "invitation_replaced")
    assert _answer(ctx, new).status_code == 200


def test_used_link_is_gone(ctx: Context, operator: Actor, workspace: Any) -> None:
    _, token = _invite(ctx, operator, workspace)
    assert _answer(ctx, token).status_code == 200
    assert _code(_answer(ctx, token)) == (410, "token_already_used")


def test_unknown_or_forged_token_is_only_invalid(ctx: Context, operator: Actor, workspace: Any) -> None:
    _, token = _invite(ctx, operator, workspace)
    assert _code(_answer(ctx, token[:-4] + "AAAA")) == (400, "invalid_token")
    assert _code(_answer(ctx, "adm_pwr_" + token[8:])) == (400, "invalid_token")


def test_pages_and_api_agree_on_each_dead_link(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitation_id, token = _invite(ctx, operator, workspace)
    invitations.revoke(ctx, operator, invitation_id)
    state, _ = claims.link_state(ctx, token)
    assert state == "revoked" and _answer(ctx, token).json()["error"]["code"] == f"invitation_{state}"
