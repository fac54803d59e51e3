"""A browser never sees raw JSON: unknown addresses, wrong methods and failures are pages in the
person's language; the API keeps its JSON envelope. Every GET page answers HEAD, and the site has
a favicon."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from support.api import client
from support.pages import csrf

from admit.entrypoints.web.security import FLOW_COOKIES
from admit.shared.context import Context

# Addresses machines call and that answer JSON by design: the API, the health check, the dev mailbox's
# own pages aside, and the OpenID provider's documents and endpoints for apps.
MACHINES = (
    "/api/",
    "/healthz",
    "/readyz",  # the readiness probe (JSON for load balancers)
    "/metrics",  # Prometheus text, for scrapers
    "/dev/",
    "/.well-known/",
    "/oauth2/jwks",
    "/oauth2/token",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/oauth2/userinfo",
    "/scim/v2/",  # identity providers (SCIM): scim+json, never pages
)
HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Page not found"), ("de", "Seite nicht gefunden"), ("fr", "Page introuvable")]
)
def test_an_unknown_address_is_a_page_in_the_browsers_language(ctx: Context, language: str, title: str) -> None:
    answer = client(ctx).get("/no/such/page", headers={**HTML, "accept-language": language})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert title in answer.text and 'href="/sign-in"' in answer.text


def test_a_trailing_slash_is_never_a_redirect_built_from_the_host_header(ctx: Context) -> None:
    """Starlette would answer "/sign-in/" with a redirect to the Host header's site."""
    browser = client(ctx)
    for path in ("/sign-in/", "/api/v1/workspaces/", "/welcome/"):
        answer = browser.get(path, headers={**HTML, "host": "evil.example"}, follow_redirects=False)
        assert answer.status_code == 404, (path, answer.status_code, answer.headers.get("location"))
        assert "evil.example" not in answer.headers.get("location", "") and "evil.example" not in answer.text


def test_hostile_flow_and_csrf_cookies_are_ignored_never_a_failure(ctx: Context) -> None:
    """Every flow cookie and the CSRF cookie forged, non-ASCII, repeated or absurd: the pages that
    read them answer as for a browser without them (a 4xx page or the form), never a 5xx."""
    browser = client(ctx)
    values = [b"YQ.1.\xe9", b"\xe9.1.x", b"..", b"", b"x" * 4000, b"WyJ4Il0.99999999999999999999.abc", b'"a;b"']
    for value in values:
        jar = b"; ".join(name.encode() + b"=" + value for name in [*FLOW_COOKIES.values(), "csrftoken"])
        for path in ("/welcome", "/reset", "/sign-up", "/welcome/sso", "/settings/email", "/sign-in"):
            answer = browser.get(path, headers={**HTML, "cookie": jar + b"; " + jar}, follow_redirects=False)
            assert answer.status_code < 500, (path, value[:20], answer.status_code)
            shown = (path, value[:20], answer.status_code, answer.headers.get("location"))
            assert answer.is_redirect or answer.headers["content-type"].startswith("text/html"), shown


def test_the_api_keeps_its_json_envelope_for_unknown_addresses_and_methods(ctx: Context) -> None:
    api = client(ctx)
    missing = api.get("/api/v1/no-such-thing", headers=HTML)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = api.put("/api/v1/sessions", json={})
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["allow"]


def test_a_wrong_method_on_a_page_is_a_page_that_says_so(ctx: Context) -> None:
    browser = client(ctx)
    token = csrf(browser.get("/sign-in").text)
    answer = browser.post("/joined/no-such-id", data={"csrftoken": token}, headers=HTML)
    assert answer.status_code == 405 and answer.headers["content-type"].startswith("text/html")
    assert "This page cannot do that" in answer.text and "GET" in answer.headers["allow"]


def test_head_answers_like_get_on_pages(ctx: Context) -> None:
    browser = client(ctx)
    for path in ("/", "/sign-in", "/forgot-password"):
        assert browser.head(path).status_code == 200, path


def test_the_site_has_a_favicon(ctx: Context) -> None:
    browser = client(ctx)
    icon = browser.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert 'rel="icon"' in browser.get("/sign-in").text


def _page_paths(app: Any) -> list[str]:
    paths = []
    for route in iter_route_contexts(app.routes):  # included routers flattened, with their prefixes
        page = route.path and not route.path.startswith(MACHINES)
        if page and route.methods and "GET" in route.methods:
            paths.append(re.sub(r"\{[^}]+\}", "no-such-id", route.path))
    return paths


def test_no_page_answers_json_to_a_browser_navigation(ctx: Context) -> None:
    """Every GET page route, read from the app, opened by a browser that is not signed in and with
    made-up ids: whatever the answer (a page, a redirect, a 404), it is never JSON."""
    browser = client(ctx)
    paths = _page_paths(browser.fastapi_app)  # type: ignore[attr-defined]
    assert len(paths) > 20
    for path in [*paths, "/no-such-page", "/admin/no-such-id/no-such-area"]:
        answer = browser.get(path, headers=HTML, follow_redirects=False)
        kind = answer.headers.get("content-type", "")
        assert "json" not in kind, f"{path} answered {answer.status_code} {kind}"
        assert answer.status_code < 500, path


def test_the_api_docs_work_without_internet(ctx: Context) -> None:
    browser = client(ctx)
    docs = browser.get("/api/v1/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(url.startswith("/") for url in assets), assets  # nothing from a CDN
    for url in assets:
        assert browser.get(url).status_code == 200, url


def _page_routes(app: Any) -> list[Any]:
    return [
        route
        for route in iter_route_contexts(app.routes)
        if route.path and not route.path.startswith(MACHINES) and route.methods and "GET" in route.methods
    ]


def test_no_page_answers_json_to_a_signed_in_administrator_with_bad_ids_or_query_values(
    ctx: Context, operator: Any, workspace: Any
) -> None:
    """The same routes for a signed-in owner, with the real workspace and made-up other ids, and
    every query parameter a route reads given a value of the wrong kind (text for a number, markup,
    a NUL): pages or redirects, never JSON, never a failure; HEAD answers on each too."""
    from test_admin_pages import signed_in

    owner = signed_in(ctx, operator, workspace, "olga@example.com")
    routes = _page_routes(owner.fastapi_app)  # type: ignore[attr-defined]
    assert len(routes) > 20
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "no-such-id", route.path.replace("{workspace_id}", workspace.id))
        dependant = getattr(route, "dependant", None)  # none on a page that reads only the request
        names = [param.alias for param in dependant.query_params] if dependant else []
        for query in ({}, dict.fromkeys(names, "x<b>\x00"), dict.fromkeys(names, "-1"), dict.fromkeys(names, "9" * 40)):
            for method in ("GET", "HEAD"):
                answer = owner.request(method, path, params=query, headers=HTML, follow_redirects=False)
                kind = answer.headers.get("content-type", "")
                shown = f"{method} {path} {query} answered {answer.status_code} {kind}"
                assert "json" not in kind and answer.status_code < 500 and answer.status_code != 405, shown
