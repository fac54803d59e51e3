"""The API's documentation renders in a browser that cannot reach the internet, and an unknown
address is a page, not JSON."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect
from support.browser import screenshot
from support.processes import server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_api_docs_render_offline_and_unknown_pages_are_pages(page: Page, database_url: str) -> None:
    with server(database_url) as base:
        local = urlsplit(base).netloc
        outside: list[str] = []

        def offline(route: Route) -> None:
            if urlsplit(route.request.url).netloc == local:
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", offline)
        page.goto(f"{base}/api/v1/docs")
        expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
        assert page.locator(".opblock").count() > 20
        assert outside == []
        screenshot(page, "api-docs")
        page.goto(f"{base}/no/such/page")
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        screenshot(page, "page-not-found")
