"""The root search of SCIM (``POST /scim/v2/.search``, RFC 7644 §3.4.3): Users, then Groups, in one
list paged by ``startIndex``; the rules of each type are :mod:`admit.admin.scim_users`'s and
:mod:`admit.admin.scim_groups`'s. A filter naming an attribute one type does not have matches none
of that type (``invalidFilter`` only when it fits neither). Sorting is not supported, and cursors
page the typed searches (``/Users/.search``, ``/Groups/.search``), not this one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from admit.admin import scim_groups, scim_users
from admit.scim.auth import ScimCaller
from admit.scim.errors import INVALID_FILTER, INVALID_VALUE, ScimError
from admit.scim.lists import Page, list_response, parse_page
from admit.shared.context import Context


def search(ctx: Context, caller: ScimCaller, given: Mapping[str, Any], *, max_count: int) -> dict[str, Any]:
    """A ListResponse of the Users and Groups in the token's reach matching ``given`` (a
    SearchRequest's ``filter``, ``startIndex``, ``count``, ``attributes``, ``excludedAttributes``;
    ``sortBy`` and ``cursor`` are refused), at most ``max_count`` resources a page."""
    if given.get("sortBy") is not None:
        raise ScimError(400, INVALID_VALUE, "sorting is not supported (ServiceProviderConfig: sort false)")
    if given.get("cursor") is not None:
        raise ScimError(400, INVALID_VALUE, "the root search pages by startIndex; cursors page /Users and /Groups")
    filter_text = given.get("filter")
    if filter_text is not None and not isinstance(filter_text, str):
        raise ScimError(400, INVALID_VALUE, "filter must be a string")
    page = parse_page(given.get("startIndex"), given.get("count"), None, key=b"", max_count=max_count)
    return _everything(ctx, caller, page, filter_text or None, given)


def _everything(
    ctx: Context, caller: ScimCaller, page: Page, filter_text: str | None, given: Mapping[str, Any]
) -> dict[str, Any]:
    refused: list[ScimError] = []
    attributes, excluded = given.get("attributes"), given.get("excludedAttributes")

    def tolerant(search: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return search()
        except ScimError as exc:
            if exc.scim_type != INVALID_FILTER:
                raise
            refused.append(exc)
            return {"totalResults": 0, "Resources": []}

    found_users = tolerant(
        lambda: scim_users.search(ctx, caller, page, filter_text=filter_text, attributes=attributes, excluded=excluded)
    )
    users_total = int(found_users["totalResults"])
    taken = list(found_users.get("Resources", []))
    start = max(1, page.start_index - users_total)
    wanted = max(0, page.count - len(taken))
    found_groups = tolerant(
        lambda: scim_groups.search(
            ctx,
            caller,
            filter=filter_text,
            start_index=str(start),
            count=str(wanted),
            attributes=attributes,
            excluded=excluded,
        )
    )
    if len(refused) == 2:  # the filter fits neither type
        raise refused[0]
    taken += list(found_groups.get("Resources", []))[: max(0, page.count - len(taken))]
    return list_response(taken, users_total + int(found_groups["totalResults"]), page)
