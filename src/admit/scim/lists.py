"""Paging SCIM lists: ``startIndex``/``count`` (RFC 7644 §3.4.2.4), cursors (RFC 9865), and the ListResponse.

Public API:

* ``parse_page(start_index, count, cursor=None, *, key, scope="") -> Page``: the raw query parameters
  (strings or None) as a ``Page``. ``startIndex`` below 1 counts as 1, ``count`` below 0 as 0 and above
  ``max_count`` (``MAX_COUNT``, advertised as ``filter.maxResults``) as ``max_count``; non-integers are
  ``invalidValue``. A ``cursor`` parameter (empty for the first page) asks for cursor paging instead:
  ``Page.after`` is then the sort key the next rows come after (``None`` on the first page).
* ``encode_cursor(position, *, key, scope="")`` / ``decode_cursor(text, *, key, scope="")``: an opaque
  cursor for a ``CursorKey(created_at, id)`` (the last row's sort key), signed with HMAC-SHA-256 under
  ``key`` (the instance secret) and ``scope`` (e.g. the endpoint and filter, so a cursor is not replayed
  against another query); a tampered or foreign cursor is ``ScimError(400, invalidCursor)``.
* ``list_response(resources, total_results, page, next_cursor=None) -> dict``: the ListResponse body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from admit.scim.errors import INVALID_CURSOR, INVALID_VALUE, ScimError
from admit.scim.schemas import LIST_RESPONSE_SCHEMA

DEFAULT_COUNT = 100
MAX_COUNT = 1000
MAX_CURSOR = 512
_INTEGER = re.compile(r"^[+-]?[0-9]{1,64}$")
_LIMIT = 2**62  # a larger startIndex or count means "past the end" or "all", and fits the databases' integers
_CURSOR_LABEL = b"admit scim cursor v1\x00"


@dataclass(frozen=True)
class CursorKey:
    """The sort key of the last row of a page: lists are ordered by (created_at, id)."""

    created_at: datetime
    id: str


@dataclass(frozen=True)
class Page:
    """Which rows a list request asks for."""

    count: int
    start_index: int = 1
    cursor: bool = False
    after: CursorKey | None = None

    @property
    def offset(self) -> int:
        """Rows to skip in index paging (0-based)."""
        return self.start_index - 1


def _integer(name: str, value: str | int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ScimError(400, INVALID_VALUE, f"{name} must be an integer")
    if isinstance(value, int):
        return max(min(value, _LIMIT), -_LIMIT)
    if not isinstance(value, str):  # a .search body's 1.5, [1], {}
        raise ScimError(400, INVALID_VALUE, f"{name} must be an integer")
    text = value.strip()
    if not _INTEGER.match(text):
        shown = text if len(text) <= 24 else f"{text[:20]}…"
        raise ScimError(400, INVALID_VALUE, f"{name} must be a whole number of at most 64 digits, not {shown!r}")
    return max(min(int(text), _LIMIT), -_LIMIT)


def parse_page(
    start_index: str | int | None,
    count: str | int | None,
    cursor: str | None = None,
    *,
    key: bytes,
    scope: str = "",
    max_count: int = MAX_COUNT,
    default_count: int = DEFAULT_COUNT,
) -> Page:
    """The page a list request asks for (see the module's docstring)."""
    index = _integer("startIndex", start_index)
    size = _integer("count", count)
    size = default_count if size is None else size
    size = min(max(size, 0), max_count)
    if cursor is not None:
        if index is not None:
            raise ScimError(400, INVALID_VALUE, "use either startIndex or cursor, not both")
        after = decode_cursor(cursor, key=key, scope=scope) if cursor.strip() else None
        return Page(count=size, cursor=True, after=after)
    return Page(count=size, start_index=max(index or 1, 1))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, scope: str, payload: str) -> bytes:
    if not key:
        raise ValueError("a cursor needs a signing key")
    message = _CURSOR_LABEL + scope.encode("utf-8") + b"\x00" + payload.encode("ascii")
    return hmac.new(key, message, hashlib.sha256).digest()[:16]


def encode_cursor(position: CursorKey, *, key: bytes, scope: str = "") -> str:
    """An opaque, signed cursor for the rows after ``position``."""
    if position.created_at.tzinfo is None:
        raise ValueError("a cursor's created_at must be aware")
    payload = _b64(json.dumps([position.created_at.isoformat(), position.id], separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(key, scope, payload))}"


def decode_cursor(text: str, *, key: bytes, scope: str = "") -> CursorKey:
    """The position a cursor encodes; ``ScimError(400, invalidCursor)`` when it is not one this server signed."""
    invalid = ScimError(400, INVALID_CURSOR, "the cursor is invalid")
    if len(text) > MAX_CURSOR or text.count(".") != 1:
        raise invalid
    payload, signature = text.split(".")
    try:
        if not payload.isascii() or not hmac.compare_digest(_unb64(signature), _mac(key, scope, payload)):
            raise invalid
        created_at, row_id = json.loads(_unb64(payload))
        position = CursorKey(datetime.fromisoformat(created_at), row_id)
    except (ValueError, TypeError, binascii.Error):
        raise invalid from None
    if not isinstance(position.id, str) or position.created_at.tzinfo is None:
        raise invalid
    return position


def list_response(
    resources: Sequence[dict[str, Any]], total_results: int, page: Page, next_cursor: str | None = None
) -> dict[str, Any]:
    """The ListResponse body: ``startIndex`` in index paging, ``nextCursor`` in cursor paging when more follow."""
    body: dict[str, Any] = {"schemas": [LIST_RESPONSE_SCHEMA], "totalResults": total_results}
    body["itemsPerPage"] = len(resources)
    if not page.cursor:
        body["startIndex"] = page.start_index
    elif next_cursor is not None:
        body["nextCursor"] = next_cursor
    body["Resources"] = list(resources)
    return body
