"""Driving Admit's pages over HTTP (a TestClient is the browser): the CSRF token of a form, and
signing in through the sign-in page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from support.api import client

CSRF_FIELD = re.compile(r'name="csrftoken" value="([^"]+)"')
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
NOT_PAGES = (
    "/api/",
    "/healthz",
    "/dev/",
    "/oauth2/token",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/oauth2/userinfo",
    "/scim/v2/",
)
# Apps post here from their own origin; it only redirects to the GET that asks (its form is a page form).
NOT_PAGE_FORMS = {("POST", "/oauth2/logout")}


def csrf(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    match = CSRF_FIELD.search(html)
    assert match, html
    return match.group(1)


def sign_in(browser: TestClient, identifier: str, password: str, next_path: str = "/") -> Any:
    """Sign in through the sign-in page (the answer is not followed)."""
    form = browser.get(f"/sign-in?next={quote(next_path)}").text
    return browser.post(
        "/sign-in",
        data={"identifier": identifier, "password": password, "next": next_path, "csrftoken": csrf(form)},
        follow_redirects=False,
    )


def browser_signed_in(ctx: Any, identifier: str, password: str) -> TestClient:
    """A new browser (test client) signed in through the sign-in page."""
    browser = client(ctx)
    done = sign_in(browser, identifier, password)
    assert done.status_code == 303, done.text
    return browser


def page_form_routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path template) of every page route that takes a form."""
    for route in iter_route_contexts(app.routes):  # included routers flattened, with their prefixes
        path = route.path or ""
        if path and not path.startswith(NOT_PAGES):
            for method in sorted((route.methods or set()) & UNSAFE):
                if (method, path) not in NOT_PAGE_FORMS:
                    yield method, path
