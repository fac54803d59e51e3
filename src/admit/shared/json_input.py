"""What a JSON request body may not hold, whatever door it comes through (the REST API, SCIM).

Python's ``json`` accepts three things that are not data Admit can keep: ``NaN`` and ``Infinity``
(not JSON at all, RFC 8259 §6), lone UTF-16 surrogates written as escapes (``"\\ud800"``: valid
JSON syntax, but no UTF-8 text, so a value holding one cannot be stored, logged or sent back), and
nesting deep enough to exhaust the recursion of the code that walks the value afterwards."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64  # objects and arrays inside each other; no SCIM or API body needs more than a handful

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class UnfitJson(ValueError):
    """A body that parses as Python's ``json`` reads it, but holds what Admit refuses."""


def no_constant(name: str) -> Any:
    """``parse_constant`` for ``json``: ``NaN``, ``Infinity`` and ``-Infinity`` are refused."""
    raise UnfitJson(f"{name} is not a JSON value")


def check(raw: bytes, value: Any, *, surrogates: bool = True) -> None:
    """Raise :class:`UnfitJson` when ``value`` (parsed from ``raw``) nests deeper than
    ``MAX_DEPTH`` or (with ``surrogates``) holds a lone surrogate; without, the caller's own
    validation names the field that holds one (the REST API's models). Cheap for ordinary bodies:
    the surrogate check runs only when ``raw`` has such an escape, the depth walk only when it has
    enough brackets."""
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _too_deep(value):
        raise UnfitJson(f"the JSON nests objects and arrays more than {MAX_DEPTH} deep")
    if surrogates and _SURROGATE_ESCAPE.search(raw) is not None and _has_lone_surrogate(value):
        raise UnfitJson("the JSON has an unpaired UTF-16 surrogate (\\ud800-\\udfff), which is no text")


def _too_deep(value: Any) -> bool:
    if value.__class__ is not dict and value.__class__ is not list:
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = item.values() if item.__class__ is dict else item
        for child in children:
            if child.__class__ is dict or child.__class__ is list:
                stack.append((child, depth + 1))
    return False


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
