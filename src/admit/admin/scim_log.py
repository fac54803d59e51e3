"""The log of what each SCIM token did: one row per authenticated ``/scim/v2`` request (method,
path, status, the resource it touched, what changed), kept for ``KEEP`` days.

What changed is stored as attribute names and safe values only: an attribute that names a secret
(a password, a token, a credential) keeps its name with its value hidden, strings that look like
Admit's own secrets are hidden, long strings are cut and deep or huge structures trimmed. The
log is read by whoever may see the token (:func:`admit.admin.scim_tokens.token_of`), within its
organization; that of a token for every workspace only by an organization-level actor (its
requests reach every workspace).

Rows are written in batches (:func:`keep`, :func:`flush`): a request's row waits in the process's
memory, with the rows of the requests after it, and is written with them in one transaction when
``BATCH_SIZE`` rows wait, when the first has waited ``BATCH_WAIT_SECONDS`` (the web door's timer),
when the app shuts down, or before this process reads the log (:func:`recent`). One commit per
request cost a SCIM lookup a third of its CPU. A process killed with ``SIGKILL`` loses the rows
still waiting (a quarter of a second of requests at most)."""

from __future__ import annotations

import logging
import threading
import weakref
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from admit.admin import scim_tokens
from admit.domain.errors import Conflict, PermissionDenied, ValidationFailed
from admit.scim.auth import ScimCaller
from admit.shared.context import Actor, Context

KEEP = timedelta(days=30)
HIDDEN = "(hidden)"
SECRET_WORDS = ("password", "secret", "token", "credential", "apikey", "api_key", "privatekey", "private_key")
MAX_TEXT = 200
MAX_ITEMS = 50
MAX_DEPTH = 8  # a PATCH operation's value with a list of emails is 7 deep
MAX_PATH = 500
PAGE = 50
BATCH_SIZE = 64  # rows written in one transaction at most
BATCH_WAIT_SECONDS = 0.25  # the longest a row waits in memory while the process serves
MAX_WAITING = 16 * BATCH_SIZE  # rows kept while the database refuses them (then the oldest go)

_log = logging.getLogger(__name__)


_SECRET_PARTS = tuple(dict.fromkeys(word.replace("_", "") for word in SECRET_WORDS))


@lru_cache(maxsize=2048)  # a provider sends the same few attribute names on every request
def secret_name(name: str) -> bool:
    """Whether an attribute (``password``, ``urn:…:User:password``, ``x.clientSecret``) names a secret."""
    last = name.rsplit(":", 1)[-1].rsplit(".", 1)[-1].lower().replace("-", "").replace("_", "")
    return any(part in last for part in _SECRET_PARTS)


def safe_change(value: Any, depth: int = 0) -> Any:
    """``value`` with secrets hidden and its size bounded (see the module's docstring)."""
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        hide = isinstance(value.get("path"), str) and secret_name(value["path"])  # a PATCH operation
        safe: dict[str, Any] = {}
        for key, item in list(value.items())[:MAX_ITEMS]:
            name = str(key)[:MAX_TEXT]
            if secret_name(name) or (hide and name == "value"):
                safe[name] = HIDDEN
            else:
                safe[name] = safe_change(item, depth + 1)
        return safe
    if isinstance(value, list | tuple):
        return [safe_change(item, depth + 1) for item in value[:MAX_ITEMS]]
    if isinstance(value, str):
        if value.startswith("adm_") or "\x00" in value:
            return HIDDEN
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:MAX_TEXT]


def entry(
    ctx: Context,
    caller: ScimCaller,
    method: str,
    path: str,
    status: int,
    resource_id: str | None = None,
    change: Any = None,
) -> dict[str, Any]:
    """The log's row for one request of ``caller``, made once (its write, :func:`write`, in a
    transaction of its own so that a refused request is logged too, may be tried again when
    SQLite is busy)."""
    return {
        "organization_id": caller.organization_id,
        "token_id": caller.token_id,
        "method": method.upper()[:8],
        "path": path.replace("\x00", "")[:MAX_PATH],
        "status": int(status),
        "resource_id": resource_id[:64].replace("\x00", "") if resource_id else None,
        "change": None if change is None else safe_change(change),
        "created_at": ctx.clock.now(),
    }


def write(ctx: Context, values: dict[str, Any]) -> None:
    """Store a row made by :func:`entry` at once (not batched)."""
    write_many(ctx, [values])


class _Waiting:
    """The rows of one database (one context) waiting to be written."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[dict[str, Any]] = []


_WAITING: weakref.WeakKeyDictionary[Context, _Waiting] = weakref.WeakKeyDictionary()
_WAITING_LOCK = threading.Lock()


def keep(ctx: Context, row: dict[str, Any]) -> int:
    """Keep a row made by :func:`entry` to be written with others; how many rows wait now. The
    caller writes them (:func:`flush`) at ``BATCH_SIZE``, and ``BATCH_WAIT_SECONDS`` after the
    first."""
    waiting = _WAITING.get(ctx)
    if waiting is None:
        with _WAITING_LOCK:
            waiting = _WAITING.setdefault(ctx, _Waiting())
    with waiting.lock:
        waiting.rows.append(row)
        return len(waiting.rows)


def waiting(ctx: Context) -> int:
    """How many rows wait to be written."""
    held = _WAITING.get(ctx)
    return 0 if held is None else len(held.rows)


def flush(ctx: Context) -> int:
    """Write every waiting row in one transaction; how many were written. If the database
    refuses, the rows wait again (past ``MAX_WAITING`` the oldest are dropped, and logged) and
    the error is raised: the caller may try again (SQLite's writer busy) or give up."""
    held = _WAITING.get(ctx)
    if held is None:
        return 0
    with held.lock:
        rows, held.rows = held.rows, []
    if not rows:
        return 0
    try:
        write_many(ctx, rows)
    except Conflict:  # a row whose token or organization is gone: the others are kept
        return _one_by_one(ctx, rows)
    except BaseException:
        with held.lock:
            held.rows[:0] = rows
            excess = len(held.rows) - MAX_WAITING
            if excess > 0:
                del held.rows[:excess]
                _log.error("%d rows of the SCIM request log dropped: the database refused them", excess)
        raise
    return len(rows)


def write_many(ctx: Context, rows: list[dict[str, Any]]) -> None:
    """Store rows made by :func:`entry`, in one transaction."""
    with ctx.uow(write=True) as uow:
        uow.scim_requests.add_many(rows)
        uow.commit()


def cursor(row: dict[str, Any]) -> str:
    """Where the page after ``row`` starts (for :func:`recent`'s ``before``)."""
    return f"{row['created_at'].isoformat()}|{row['id']}"


def _position(before: str | None) -> tuple[datetime, str] | None:
    if not before:
        return None
    at, _, row_id = before.partition("|")
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise ValidationFailed("not a position in the log", field="before") from None
    if when.tzinfo is None or not row_id or len(row_id) > 32 or "\x00" in row_id:
        raise ValidationFailed("not a position in the log", field="before")
    return when, row_id


def _one_by_one(ctx: Context, rows: list[dict[str, Any]]) -> int:
    """Each row in a transaction of its own, dropping (and logging) those the database refuses
    for what they refer to; how many were written."""
    written = 0
    for row in rows:
        try:
            write_many(ctx, [row])
            written += 1
        except Conflict:
            _log.warning("a SCIM request log row was dropped: its token or organization is gone")
    return written


def recent(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    token_id: str,
    *,
    workspace_id: str | None = None,
    before: str | None = None,
    limit: int = PAGE,
) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
    """The token, its requests (newest first, ``limit`` of them, older than ``before``) and the
    cursor of the next page (None on the last)."""
    position = _position(before)
    limit = max(1, min(limit, 200))
    flush(ctx)  # this process's waiting rows first: what it served is in the log it shows
    with ctx.uow() as uow:
        token = scim_tokens.token_of(uow, actor, organization_id, token_id, workspace_id)
        if token.workspace_id is None and not scim_tokens.organization_level(actor):
            raise PermissionDenied("the log of a token for every workspace is the organization's to read")
        rows = uow.scim_requests.list(organization_id, token.id, before=position, limit=limit + 1)
    items = [dict(row._mapping) for row in rows[:limit]]
    following = cursor(items[-1]) if len(rows) > limit else None
    return scim_tokens.view(token), items, following


def prune(ctx: Context) -> int:
    """Delete log rows older than ``KEEP``; how many went (the periodic sweep calls this)."""
    with ctx.uow(write=True) as uow:
        removed = uow.scim_requests.remove_older_than(ctx.clock.now() - KEEP)
        uow.commit()
    return removed
