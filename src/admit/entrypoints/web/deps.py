"""Request dependencies, and where database work runs.

Dependencies here are ``async`` and do no I/O, so FastAPI runs them on the event loop. Everything
that touches the database (authenticating the bearer token, then the use case) runs together
through :func:`as_caller`, :func:`as_account` or :func:`blocking`, on one pooled connection: in one
worker thread (one thread switch per request instead of one per dependency), or on the loop.

Work marked ``quick`` (statements only: no password hashing, no network, no large files) runs on
the event loop itself when the database is embedded SQLite. SQLite answers in microseconds from
this process, and handing the work to a thread cost more than the work: every SQLite call releases
and retakes the GIL, which the loop then contends for (``bench/api.py``: 2.0 → 1.3 ms of CPU per
invitation). The loop never blocks on a lock, though: such work gives up at once if another
connection holds SQLite's write lock (:func:`admit.adapters.persistence.database.without_waiting`), before
writing anything, and is tried again after an ``asyncio`` sleep, or at last in a thread where it
waits its turn. On PostgreSQL every call goes to a thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from admit.adapters.persistence.database import WriterBusy, without_waiting
from admit.adapters.persistence.unit_of_work import SharedConnections, one_connection
from admit.domain.errors import InvalidCredentials, SecretRejected
from admit.flows.signin import sessions
from admit.shared.context import Actor, ActorKind, Context

T = TypeVar("T")
SESSION_PREFIX = "adm_ses_"


def context_of(request: Request) -> Context:
    """The app's context (for handlers that take the request alone: ``Router.page``)."""
    ctx: Context = request.app.state.context
    return ctx


async def context(request: Request) -> Context:
    return context_of(request)


def bearer_of(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def bearer(request: Request) -> str | None:
    return bearer_of(request)


Ctx = Annotated[Context, Depends(context)]
Bearer = Annotated[str | None, Depends(bearer)]


def authenticate(ctx: Context, token: str | None) -> Actor:
    """An API token, or a signed-in account acting with its role in each workspace."""
    if token is None:
        raise InvalidCredentials("send an API token or a session token as 'Authorization: Bearer …'")
    if token.startswith(SESSION_PREFIX):
        return Actor(ActorKind.ACCOUNT, id=signed_in_account(ctx, token))
    return sessions.authenticate_api_token(ctx, token)


def signed_in_account(ctx: Context, token: str, *, initial_password_ok: bool = False) -> str:
    try:
        return sessions.authenticate_session(ctx, token, initial_password_ok=initial_password_ok)
    except SecretRejected:
        raise InvalidCredentials("the session is not valid; sign in again") from None


def require_account(ctx: Context, token: str | None, *, initial_password_ok: bool = False) -> str:
    if token is None or not token.startswith(SESSION_PREFIX):
        raise InvalidCredentials("sign in first: send a session token as 'Authorization: Bearer …'")
    return signed_in_account(ctx, token, initial_password_ok=initial_password_ok)


# As many threads as AnyIO's default pool. A plain executor costs less per call than AnyIO's
# ``to_thread`` (no capacity limiter or cancellation checkpoints around each call).
_THREADS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="admit-db")
INLINE_PATIENCE_SECONDS = 0.5  # how long quick work retries on the loop before queueing in a thread


async def in_thread(work: Callable[[], T]) -> T:
    """``work()`` in a worker thread, with the caller's context variables."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_THREADS, contextvars.copy_context().run, _on_one_connection, work)


def _on_one_connection(work: Callable[[], T]) -> T:
    """A request's units of work (authentication, then the use case) share one pooled connection."""
    with one_connection():
        return work()


# Quick work runs on the loop one piece after another, never overlapping: each loop keeps its
# pooled connection between requests rather than checking one out and back in for each (a tenth of
# a light page's CPU). Nothing is left in a transaction between pieces. A loop's connection is
# given back at the app's shutdown, or when another loop first asks and finds that loop closed (a
# test client's, which runs a loop per request).
_LOOP_CONNECTIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SharedConnections] = weakref.WeakKeyDictionary()
_LOOP_CONNECTIONS_LOCK = threading.Lock()


def _on_loop_connection(loop: asyncio.AbstractEventLoop, work: Callable[[], T]) -> T:
    kept = _LOOP_CONNECTIONS.get(loop)
    if kept is None:
        kept = _keep_for(loop)
    with one_connection(kept):
        return work()


def _keep_for(loop: asyncio.AbstractEventLoop) -> SharedConnections:
    with _LOOP_CONNECTIONS_LOCK:
        for old, held in list(_LOOP_CONNECTIONS.items()):
            if old.is_closed():
                del _LOOP_CONNECTIONS[old]
                held.close()
        kept = _LOOP_CONNECTIONS[loop] = SharedConnections()
        return kept


def close_loop_connections() -> None:
    """Give back the running loop's kept connection (the app's shutdown)."""
    with _LOOP_CONNECTIONS_LOCK:
        kept = _LOOP_CONNECTIONS.pop(asyncio.get_running_loop(), None)
    if kept is not None:
        kept.close()


async def run_work(ctx: Context, work: Callable[[], T], *, quick: bool = False) -> T:
    """Run database work: on the loop if it is ``quick`` and the database embedded, otherwise in a
    worker thread. See the module's docstring.

    If another connection holds SQLite's write lock, quick work gives up before writing anything,
    sleeps without blocking the loop (1 ms, doubling to 16 ms, as SQLite's own busy handler
    would) and tries again; after ``INLINE_PATIENCE_SECONDS`` it waits for the lock in a thread."""
    if quick and ctx.embedded_database:
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + INLINE_PATIENCE_SECONDS
        delay = 0.001
        while True:
            try:
                with without_waiting():
                    return _on_loop_connection(loop, work)
            except WriterBusy:
                if loop.time() + delay > give_up_at:
                    break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.016)
    return await in_thread(work)


async def blocking(work: Callable[[], T]) -> T:
    """Run database work off the event loop (the pages: some hash passwords or read uploads)."""
    return await in_thread(work)


async def as_caller(ctx: Context, token: str | None, work: Callable[[Actor], T], *, quick: bool = False) -> T:
    """Authenticate the bearer (API token or session) and run ``work`` with the caller, together."""
    return await run_work(ctx, lambda: work(authenticate(ctx, token)), quick=quick)


async def as_account(
    ctx: Context,
    token: str | None,
    work: Callable[[str], T],
    *,
    quick: bool = False,
    initial_password_ok: bool = False,
) -> T:
    """Require a signed-in person and run ``work`` with their account id, together
    (``initial_password_ok``: also an account that must still replace its initial password)."""
    return await run_work(
        ctx, lambda: work(require_account(ctx, token, initial_password_ok=initial_password_ok)), quick=quick
    )


async def as_optional_account(ctx: Context, token: str | None, work: Callable[[str | None], T]) -> T:
    return await in_thread(lambda: work(None if token is None else require_account(ctx, token)))
