"""Signing in and API tokens on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from support.api import api_token, client
from support.clock import FixedClock
from support.outbox import messages, token_for

from admit.adapters.identity.hashing import Argon2Hasher
from admit.adapters.persistence import tables as t
from admit.admin import invitations, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import InvalidCredentials, SecretRejected
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.shared.context import Actor, Context

PASSWORD = "orchid-glacier-banjo-61"


def claimed(ctx: Context, operator: Actor, workspace: Any, email: str = "ann@example.com") -> str:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email=email))
    return str(claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)["account_id"])


def test_unknown_identifier_and_wrong_password_get_the_same_answer(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    claimed(ctx, operator, workspace)
    with pytest.raises(InvalidCredentials) as unknown:
        sessions.sign_in(ctx, "nobody@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong:
        sessions.sign_in(ctx, "ann@example.com", PASSWORD + "x")
    assert (unknown.value.code, unknown.value.message) == (wrong.value.code, wrong.value.message)


def test_session_expires_and_can_be_signed_out(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    account_id = claimed(ctx, operator, workspace)
    token, _ = sessions.sign_in(ctx, "ann@example.com", PASSWORD)
    assert sessions.authenticate_session(ctx, token) == account_id
    sessions.sign_out(ctx, token)
    with pytest.raises(SecretRejected):
        sessions.authenticate_session(ctx, token)
    token, _ = sessions.sign_in(ctx, "ann@example.com", PASSWORD)
    clock.advance(days=14)
    with pytest.raises(SecretRejected):
        sessions.authenticate_session(ctx, token)


def test_password_is_rehashed_when_parameters_change(
    ctx: Context, operator: Actor, workspace: Any, engine: Any
) -> None:
    account_id = claimed(ctx, operator, workspace)
    stronger = Argon2Hasher(time_cost=2, memory_cost=2048, parallelism=1)
    upgraded = Context(**{**vars(ctx), "hasher": stronger})
    sessions.sign_in(upgraded, "ann@example.com", PASSWORD)
    with engine.connect() as conn:
        stored = conn.execute(select(t.accounts.c.password_hash).where(t.accounts.c.id == account_id)).scalar_one()
    assert "m=2048,t=2" in stored and not stronger.needs_rehash(stored)
    assert sessions.sign_in(upgraded, "ann@example.com", PASSWORD)[1].id == account_id


def test_api_tokens_are_stored_hashed_and_carry_their_scope(
    ctx: Context, operator: Actor, org: Any, engine: Any
) -> None:
    token, row = sessions.create_api_token(ctx, operator, name="hr sync", role="member", organization_id=org.id)
    actor = sessions.authenticate_api_token(ctx, token)
    assert (actor.organization_id, actor.role, actor.name) == (org.id, "member", "hr sync")
    with engine.connect() as conn:
        digests = conn.execute(select(t.api_tokens.c.digest)).scalars().all()
    assert token not in digests and "digest" not in row
    with pytest.raises(InvalidCredentials):
        sessions.authenticate_api_token(ctx, token[:-1] + ("A" if token[-1] != "A" else "B"))
    with pytest.raises(SecretRejected):
        sessions.authenticate_api_token(ctx, token.replace("adm_api_", "adm_ses_"))


def test_repeated_failures_back_off_for_known_and_unknown_identifiers_alike(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    from admit.domain.throttling import FREE_ATTEMPTS, TooManyAttempts

    claimed(ctx, operator, workspace)
    for identifier in ("ann@example.com", "nobody@example.com"):
        for _ in range(FREE_ATTEMPTS):
            with pytest.raises(InvalidCredentials):
                sessions.sign_in(ctx, identifier, "wrong password guess")
        with pytest.raises(TooManyAttempts) as throttled:
            sessions.sign_in(ctx, identifier, PASSWORD)
        assert throttled.value.retry_after == 2
    clock.advance(seconds=2)
    with pytest.raises(InvalidCredentials):
        sessions.sign_in(ctx, "ann@example.com", "another wrong guess")
    with pytest.raises(TooManyAttempts) as longer:
        sessions.sign_in(ctx, "ann@example.com", PASSWORD)
    assert longer.value.retry_after == 4
    clock.advance(seconds=4)
    assert sessions.sign_in(ctx, "ann@example.com", PASSWORD)[0].startswith("adm_ses_")
    with pytest.raises(InvalidCredentials):  # success starts the count again
        sessions.sign_in(ctx, "ann@example.com", "wrong password guess")


def test_throttled_api_sign_in_answers_429_with_retry_after(ctx: Context, operator: Actor, workspace: Any) -> None:
    from support.api import client

    api = client(ctx)
    for _ in range(5):
        assert api.post("/api/v1/sessions", json={"identifier": "x@example.com", "password": "nope"}).status_code == 401
    throttled = api.post("/api/v1/sessions", json={"identifier": "x@example.com", "password": "nope"})
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "2"
    assert throttled.json()["error"]["code"] == "too_many_attempts"


def test_no_door_receives_the_password_hash(ctx: Context, operator: Actor, workspace: Any) -> None:
    claimed(ctx, operator, workspace)
    _, account = sessions.sign_in(ctx, "ann@example.com", PASSWORD)
    assert not hasattr(account, "password_hash") and account.id
    assert not hasattr(claims.home(ctx, account.id)["account"], "password_hash")


def test_an_email_an_administrator_adds_to_a_username_and_phone_account_signs_in_too(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    """The fourth article: a username + phone person who later gets an email can use both."""
    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True})
    created, _ = members.provision(
        ctx, operator, workspace.id, MemberInput(username="fred", phone="+49 30 901820"), invite=True
    )
    claims.accept_with_token(ctx, token_for(ctx, "+4930901820"), password=PASSWORD)
    admin = client(ctx, api_token(ctx, org.id))
    patched = admin.patch(f"/api/v1/members/{created.id}", json={"email": "Fred@Example.com"})
    assert patched.status_code == 200 and patched.json()["email"] == "fred@example.com"
    for identifier in ("fred@example.com", "fred", "+4930901820"):
        signed_in = client(ctx).post("/api/v1/sessions", json={"identifier": identifier, "password": PASSWORD})
        assert signed_in.status_code == 201, identifier
    [told] = messages(ctx, kind="identifier_added")
    assert told["recipient"] == "fred@example.com" and told["payload"]["address"] == "fred@example.com"
    other = tenancy.create_workspace(ctx, operator, org.id, "Elsewhere")
    claimed(ctx, operator, other, "ann@example.com")
    taken = admin.patch(f"/api/v1/members/{created.id}", json={"email": "ann@example.com"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "account_exists"
    assert admin.get(f"/api/v1/members/{created.id}").json()["email"] == "fred@example.com"  # nothing changed
