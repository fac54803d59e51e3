"""Chromium's own form posts against the form guard: the sign-in form opened on the base URL
reaches its handler (our no-referrer pages make Chromium send ``Origin: null`` with
``Sec-Fetch-Site: same-origin``), while a form on another site posting there, even with the
right token, is refused with the refusal page, in German for a German browser, leading back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect
from support.processes import admit, server

# A console or site-wide check, not a journey: its rules are tested over HTTP on both databases.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_form_posts_from_the_base_url_and_is_refused_from_another_site(page: Page, database_url: str) -> None:
    admit(database_url, "org", "create", "Guarded")
    with server(database_url) as base:
        page.set_extra_http_headers({"accept-language": "de-DE,de;q=0.9"})
        page.goto(f"{base}/sign-in")
        page.get_by_label("E-Mail").first.fill("nobody@guarded.example")
        page.get_by_label("Passwort", exact=True).fill("not-the-password-at-all")
        page.get_by_role("button", name="Anmelden").click()
        expect(page.get_by_role("alert")).to_be_visible()  # the handler answered: wrong credentials
        match = re.search(r'name="csrftoken" value="([^"]+)"', page.content())
        assert match
        forged = (
            f'<form method="post" action="{base}/sign-in"><input name="csrftoken" value="{match.group(1)}">'
            '<input name="identifier" value="nobody@guarded.example"><button>Go</button></form>'
        )

        def evil(route: Route) -> None:
            route.fulfill(status=200, content_type="text/html", body=forged)

        page.route("http://evil.example/**", evil)
        page.goto("http://evil.example/")
        with page.expect_response(f"{base}/sign-in") as answer:
            page.get_by_role("button", name="Go").click()
        assert answer.value.status == 403
        expect(page.get_by_role("heading")).to_have_text("Dieses Formular konnte nicht angenommen werden")
        page.get_by_role("link", name="Formular erneut öffnen").click()
        expect(page).to_have_url(f"{base}/sign-in")
