"""Rules that once lived only in the pages, driven through the REST API (and the CLI where it has
the command): each fails if the service stops enforcing it."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import client
from support.outbox import token_for

from admit.domain.errors import ValidationFailed
from admit.domain.members import person_names
from admit.services import claims, invitations, members
from admit.services.context import Actor, Context
from admit.services.profiles import MemberInput

PASSWORD = "juniper-atlas-harbor-52"


def _invite(ctx: Context, operator: Actor, workspace: Any, email: str, **names: str) -> str:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email=email, **names))
    return token_for(ctx, email)


def _accept(ctx: Context, token: str, **body: Any) -> Any:
    return client(ctx).post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD, **body})


@pytest.mark.parametrize("first", ["", "A" * 101])
def test_a_sign_up_needs_both_names_of_at_most_100_characters(
    ctx: Context, operator: Actor, workspace: Any, first: str
) -> None:
    token = _invite(ctx, operator, workspace, "uma@example.com")
    with pytest.raises(ValidationFailed) as refused:
        claims.accept_with_token(ctx, token, password=PASSWORD, first_name=first, last_name="Ray", names_required=True)
    assert refused.value.code == ("name_too_long" if first else "name_required")
    [member] = members.list_members(ctx, operator, workspace.id)
    assert member["status"] == "invited" and member["account_id"] is None  # nothing was written


def test_a_claim_through_the_api_caps_names_and_keeps_the_administrators(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    token = _invite(ctx, operator, workspace, "ola@example.com", first_name="Ola", last_name="Berg")
    assert _accept(ctx, token).status_code == 200
    claimed = _invite(ctx, operator, workspace, "eve@example.com")
    too_long = _accept(ctx, claimed, first_name="E" * 101, last_name="Stone")
    assert too_long.status_code == 422 and too_long.json()["error"]["field"] == "first_name"
    assert _accept(ctx, claimed, first_name=" Eve ", last_name="Stone").status_code == 200
    names = {m["email"]: (m["first_name"], m["last_name"]) for m in members.list_members(ctx, operator, workspace.id)}
    assert names == {"ola@example.com": ("Ola", "Berg"), "eve@example.com": ("Eve", "Stone")}


@pytest.mark.parametrize(
    ("first", "last", "code"), [("", "King", "name_required"), ("A" * 101, "King", "name_too_long")]
)
def test_joining_through_sso_needs_names_in_the_service(first: str, last: str, code: str) -> None:
    """sso.join_invitation (the only door an SSO sign-up has) names the account with these."""
    with pytest.raises(ValidationFailed) as refused:
        person_names(first, last)
    assert refused.value.code == code
    assert person_names(" Ada ", "King") == ("Ada", "King")
