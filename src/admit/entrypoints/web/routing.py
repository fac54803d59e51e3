"""The router every part of the web app uses: FastAPI's, with one question asked first.

FastAPI matches a request against the app's routes one by one, and an included router is no
exception: a request for ``/oauth2/token`` was tried against each of the REST API's, the pages'
and the console's five hundred routes before its own, some 3 ms of CPU a request (a third of a
whole code flow's). :class:`Router` first asks one regular expression, all its routes' patterns
joined, whether the path could be one of its routes at all; when it could not, the router is
passed over at once. When it could, FastAPI matches as before, so which route answers (and a 405
for a known path with another method) is unchanged.

A page whose handler reads nothing but the request (``async def welcome(request) -> Response``)
is registered with :meth:`Router.page`: a plain Starlette route. FastAPI's handler would solve its
dependencies, parse its query string and serialise its answer, a quarter of a light page's CPU
(``bench/pages.py``), for nothing such a page uses. Its context is ``deps.context_of(request)``.

A router must therefore be included with no ``prefix``: it carries its own (``Router(prefix=…)``),
so its routes' patterns are the paths requests arrive at. :func:`include` checks that.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
PageHandler = Callable[[Request], Awaitable[Response]]


class Router(APIRouter):
    """An APIRouter that declines, with one regular expression, a path none of its routes has."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._index: tuple[int, re.Pattern[str] | None] | None = None

    def _could_match(self, path: str) -> bool:
        index = self._index
        if index is None or index[0] != len(self.routes):  # built on first use, again if routes were added
            index = self._index = (len(self.routes), _joined(self.routes))
        return index[1] is None or index[1].match(path) is not None

    def page(self, path: str, *, methods: Sequence[str] = ("GET",)) -> Callable[[PageHandler], PageHandler]:
        """Register ``handler(request)`` for ``path`` as a plain Starlette route (see above); a
        GET route answers HEAD too. Not in the OpenAPI document, as no page is."""

        def register(handler: PageHandler) -> PageHandler:
            self.routes.append(Route(self.prefix + path, handler, methods=list(methods), include_in_schema=False))
            return handler

        return register

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket") and not self._could_match(_route_path(scope)):
            return Match.NONE, {}
        return super().matches(scope)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _joined(routes: list[BaseRoute]) -> re.Pattern[str] | None:
    """One pattern matching every path one of ``routes`` matches, or None when a route has no
    pattern of its own (a nested router): then nothing is declined."""
    patterns = []
    for route in routes:
        regex = getattr(route, "path_regex", None)
        if not isinstance(regex, re.Pattern):
            return None
        patterns.append(f"(?:{_NAMED_GROUP.sub('(?:', regex.pattern)})")
    return re.compile("|".join(patterns)) if patterns else re.compile(r"(?!)")


def include(app: FastAPI, router: Router) -> None:
    """``app.include_router(router)``; a router with a prefix carries it itself (see above)."""
    if not isinstance(router, Router):
        raise TypeError(f"{router!r} is not an admit Router: its routes would be matched one by one")
    app.include_router(router)
