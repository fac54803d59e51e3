"""Weak ETags and the If-Match / If-None-Match preconditions of SCIM (RFC 7644 §3.14, RFC 9110 §13).

Public API:

* ``make_etag(*parts) -> str``: a weak ETag ``W/"..."`` from what identifies a resource's state (its
  version counter, or its last-modified time and id): the same parts give the same tag.
* ``evaluate(current, if_match=None, if_none_match=None, *, safe) -> Outcome``: whether a request proceeds.
  ``current`` is the resource's ETag (None when it does not exist); ``safe`` is True for GET/HEAD.
  Raises ``ScimError(412)`` when If-Match fails, or when If-None-Match matches on an unsafe method; returns
  ``Outcome.NOT_MODIFIED`` when If-None-Match matches on GET/HEAD (answer 304), else ``Outcome.PROCEED``.
  Comparison is weak (``W/"1"`` matches ``"1"``), as SCIM's tags are weak; ``*`` matches any existing resource.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import Enum

from admit.scim.errors import ScimError

MAX_HEADER = 4096


class Outcome(Enum):
    PROCEED = "proceed"
    NOT_MODIFIED = "not modified"


def make_etag(*parts: str | int | datetime | None) -> str:
    """A weak ETag from the parts of a resource's state."""
    text = "\x1f".join("" if p is None else p.isoformat() if isinstance(p, datetime) else str(p) for p in parts)
    return f'W/"{hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]}"'


def _opaque(tag: str) -> str | None:
    """The quoted part of an entity tag, or None when it is malformed."""
    tag = tag.strip()
    if tag[:2] in ("W/", "w/"):
        tag = tag[2:]
    if len(tag) < 2 or tag[0] != '"' or tag[-1] != '"' or '"' in tag[1:-1]:
        return None
    return tag[1:-1]


def parse_tags(header: str) -> list[str] | None:
    """The opaque tags of an If-Match/If-None-Match header, or None for ``*``; 400 when malformed."""
    if len(header) > MAX_HEADER:
        raise ScimError(400, None, "the precondition header is too long")
    if header.strip() == "*":
        return None
    tags: list[str] = []
    for part in _split(header):
        opaque = _opaque(part)
        if opaque is None:
            raise ScimError(400, None, f"malformed entity tag {part.strip()[:40]!r}")
        tags.append(opaque)
    if not tags:
        raise ScimError(400, None, "empty precondition header")
    return tags


def _split(header: str) -> list[str]:
    # commas may appear inside quotes: split only outside them
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _matches(current: str | None, header: str) -> bool:
    tags = parse_tags(header)
    if current is None:
        return False
    if tags is None:
        return True
    return _opaque(current) in tags


def evaluate(
    current: str | None, if_match: str | None = None, if_none_match: str | None = None, *, safe: bool
) -> Outcome:
    """Whether the request proceeds given the resource's current ETag (see the module's docstring)."""
    if if_match is not None and not _matches(current, if_match):
        raise ScimError(412, None, "the resource has changed: its version does not match If-Match")
    if if_none_match is not None and _matches(current, if_none_match):
        if safe:
            return Outcome.NOT_MODIFIED
        raise ScimError(412, None, "the resource matches If-None-Match")
    return Outcome.PROCEED
