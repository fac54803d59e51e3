"""Request dependencies: the services' context and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from admit.domain.errors import InvalidCredentials, SecretRejected
from admit.services import sessions
from admit.services.context import Actor, ActorKind, Context


def context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


Ctx = Annotated[Context, Depends(context)]
Bearer = Annotated[str | None, Depends(bearer)]


def caller(ctx: Ctx, token: Bearer) -> Actor:
    """An API token, or a signed-in account acting with its role in each workspace."""
    if token is None:
        raise InvalidCredentials("send an API token or a session token as 'Authorization: Bearer …'")
    if token.startswith("adm_ses_"):
        return Actor(ActorKind.ACCOUNT, id=signed_in_account(ctx, token))
    return sessions.authenticate_api_token(ctx, token)


def signed_in_account(ctx: Context, token: str) -> str:
    try:
        return sessions.authenticate_session(ctx, token)
    except SecretRejected:
        raise InvalidCredentials("the session is not valid; sign in again") from None


def account(ctx: Ctx, token: Bearer) -> str:
    if token is None or not token.startswith("adm_ses_"):
        raise InvalidCredentials("sign in first: send a session token as 'Authorization: Bearer …'")
    return signed_in_account(ctx, token)


def optional_account(ctx: Ctx, token: Bearer) -> str | None:
    return None if token is None else account(ctx, token)


Caller = Annotated[Actor, Depends(caller)]
Account = Annotated[str, Depends(account)]
OptionalAccount = Annotated[str | None, Depends(optional_account)]
