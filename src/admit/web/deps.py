"""Request dependencies and the one hop to a worker thread.

Dependencies here are ``async`` and do no I/O, so FastAPI runs them on the event loop. Everything
that touches the database (authenticating the bearer token, then the use case) runs together in a
single worker thread through :func:`as_caller`, :func:`as_account` or :func:`blocking`: one thread
switch per request instead of one per dependency.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from admit.domain.errors import InvalidCredentials, SecretRejected
from admit.services import sessions
from admit.services.context import Actor, ActorKind, Context

T = TypeVar("T")
SESSION_PREFIX = "adm_ses_"


async def context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


async def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


Ctx = Annotated[Context, Depends(context)]
Bearer = Annotated[str | None, Depends(bearer)]


def authenticate(ctx: Context, token: str | None) -> Actor:
    """An API token, or a signed-in account acting with its role in each workspace."""
    if token is None:
        raise InvalidCredentials("send an API token or a session token as 'Authorization: Bearer …'")
    if token.startswith(SESSION_PREFIX):
        return Actor(ActorKind.ACCOUNT, id=signed_in_account(ctx, token))
    return sessions.authenticate_api_token(ctx, token)


def signed_in_account(ctx: Context, token: str) -> str:
    try:
        return sessions.authenticate_session(ctx, token)
    except SecretRejected:
        raise InvalidCredentials("the session is not valid; sign in again") from None


def require_account(ctx: Context, token: str | None) -> str:
    if token is None or not token.startswith(SESSION_PREFIX):
        raise InvalidCredentials("sign in first: send a session token as 'Authorization: Bearer …'")
    return signed_in_account(ctx, token)


async def blocking(work: Callable[[], T]) -> T:
    """Run database work off the event loop."""
    return await run_in_threadpool(work)


async def as_caller(ctx: Context, token: str | None, work: Callable[[Actor], T]) -> T:
    """Authenticate the bearer (API token or session) and run ``work`` with the caller, in one hop."""
    return await run_in_threadpool(lambda: work(authenticate(ctx, token)))


async def as_account(ctx: Context, token: str | None, work: Callable[[str], T]) -> T:
    """Require a signed-in person and run ``work`` with their account id, in one hop."""
    return await run_in_threadpool(lambda: work(require_account(ctx, token)))


async def as_optional_account(ctx: Context, token: str | None, work: Callable[[str | None], T]) -> T:
    return await run_in_threadpool(lambda: work(None if token is None else require_account(ctx, token)))
