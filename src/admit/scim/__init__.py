"""SCIM 2.0 (RFC 7643 and 7644) for identity providers: the protocol's pure parts (schemas,
filters, PATCH, attribute projection, pagination, errors, ETags) and the bearer tokens that
authenticate an identity provider at ``/scim/v2``."""

from __future__ import annotations

import copy
from typing import Any


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists and scalars), as ``copy.deepcopy`` makes it but
    several times quicker (no memo); anything else is deep-copied the usual way."""
    kind = value.__class__
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)
