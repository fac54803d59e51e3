"""Every page form takes hostile values without a server error, on both databases. The routes are
read from the app (a new form is covered without being listed); each gets, with a valid CSRF token
from a signed-in workspace owner, every field it may read as empty, oversized, full of markup and
control characters, a NUL, or right-to-left marks. A page answers 2xx, 3xx or 4xx — never 5xx —
and shows no value unescaped."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from starlette.datastructures import ImmutableMultiDict
from support.api import client
from support.factories import invite
from support.outbox import token_for
from support.pages import csrf, page_form_routes, sign_in

from admit.admin import members
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "meadow-lantern-quarry-73"
# Every field name a page form reads (a handler reads only its own; the rest are ignored).
FIELDS = (
    "identifier",
    "password",
    "current_password",
    "new_password",
    "email",
    "username",
    "phone",
    "first_name",
    "last_name",
    "external_id",
    "department",
    "job_profile",
    "role",
    "language",
    "message",
    "code",
    "step",
    "agree",
    "version",
    "invite",
    "dry_run",
    "back",
    "next",
    "break_glass",
    "provider",
    "token",
    "choice",
    "name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "initiate_login_uri",
    "backchannel_logout_uri",
    "client_type",
    "refresh_tokens",
    "scope_profile",
    "app_url",
    "invitation_lifetime_days",
    "sms_daily_cap",
    "departments",
    "jit_domains",
    "default_department",
    "default_language",
    "password_policy",
    "issuer",
    "client_secret",
    "client_id",
    "scopes",
    "claim_groups",
)
SHAPES = {
    "empty": "",
    "oversized": "x" * 100_000,
    "markup": '<script>alert(1)</script>"><img src=x onerror=alert(1)>{{7*7}}',
    "control characters": "a\r\nb\tc\x0b\x1b[31m",
    "a NUL": "before\x00after",
    "right-to-left marks": "\u202eabc\u202c\u200f",
    "a path": "//evil.example/../../etc/passwd",
}


@pytest.fixture
def owner(ctx: Context, operator: Actor, workspace: Any) -> tuple[Any, dict[str, str]]:
    invite(ctx, operator, workspace, "olga@example.com", first_name="Olga", last_name="Berg", role="owner")
    claims.accept_with_token(ctx, token_for(ctx, "olga@example.com"), password=PASSWORD)
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email="ann@example.com"), invite=True)
    browser = client(ctx)
    assert sign_in(browser, "olga@example.com", PASSWORD).status_code == 303
    browser.get(f"/i/{token_for(ctx, 'ann@example.com')}")  # an invitation in this browser's flow
    ids = {"workspace_id": workspace.id, "member_id": str(created.id), "job_id": "0" * 32, "kind": "csv"}
    return browser, ids


# Values that pass each field's own checks, so that one hostile field at a time reaches as deep as it can.
VALID = {
    "identifier": "nobody@example.com",  # not the owner: wrong passwords must not lock her out
    "password": "orchard-violet-compass-58",
    "current_password": PASSWORD,
    "new_password": "granite-puffin-harbor-36",
    "email": "new.person@example.com",
    "username": "new.person",
    "phone": "+4930901820",
    "first_name": "Nina",
    "last_name": "Berg",
    "external_id": "E-17",
    "role": "member",
    "language": "de",
    "message": "Welcome",
    "code": "123456",
    "step": "preview",
    "invite": "later",
    "back": "/",
    "next": "/",
    "name": "Shop",
    "redirect_uris": "https://shop.example/cb",
    "client_type": "confidential",
    "app_url": "https://app.example/",
    "invitation_lifetime_days": "7",
    "sms_daily_cap": "50",
    "departments": "Kitchen",
    "default_language": "en",
    "password_policy": "length",
    "login_password": "yes",
}


def _csrf_token(browser: Any, known: str | None) -> str:
    """The token a form on a page would carry: read from the sign-in page the first time, and
    again only when the browser's ``csrftoken`` cookie no longer holds it (the app never rotates
    it today; this keeps every POST valid if it ever does)."""
    if known is not None and browser.cookies.get("csrftoken") == known:
        return known
    return csrf(browser.get("/sign-in").text)


def _post_all(browser: Any, ids: dict[str, str], fields: dict[str, str]) -> list[str]:
    failures = []
    token = None
    for method, template in page_form_routes(browser.fastapi_app):
        path = re.sub(r"{(\w+)(:\w+)?}", lambda m: ids.get(m.group(1), "x"), template)
        token = _csrf_token(browser, token)
        response = browser.request(method, path, data={"csrftoken": token, **fields}, follow_redirects=False)
        if response.status_code >= 500:
            failures.append(f"{method} {template}: {response.status_code}")
        elif "<script>alert(1)" in response.text or "onerror=alert(1)>" in response.text:
            failures.append(f"{method} {template}: markup shown unescaped")
    return failures


@pytest.mark.parametrize("shape", SHAPES)
def test_every_page_form_answers_hostile_values_in_every_field_without_a_server_error(
    owner: tuple[Any, dict[str, str]], shape: str
) -> None:
    browser, ids = owner
    assert _post_all(browser, ids, dict.fromkeys(FIELDS, SHAPES[shape])) == []


class _ReadFields:
    """Records the form (and query) keys a request's handler reads, by watching Starlette's
    multi-dicts; ``everything`` when it iterates over them (then every field counts as read)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.keys: set[str] = set()
        self.everything = False
        cls = ImmutableMultiDict
        for name in ("get", "getlist", "__getitem__", "__contains__"):
            monkeypatch.setattr(cls, name, self._keyed(getattr(cls, name)))
        for name in ("keys", "values", "items", "multi_items", "__iter__", "__len__"):
            monkeypatch.setattr(cls, name, self._whole(getattr(cls, name)))

    def _keyed(self, method: Any) -> Any:
        def watched(this: Any, key: Any, *args: Any, **kwargs: Any) -> Any:
            self.keys.add(str(key))
            return method(this, key, *args, **kwargs)

        return watched

    def _whole(self, method: Any) -> Any:
        def watched(this: Any, *args: Any, **kwargs: Any) -> Any:
            self.everything = True
            return method(this, *args, **kwargs)

        return watched

    def during(self, declared: set[str], call: Any, *args: Any, **kwargs: Any) -> set[str]:
        """The fields read while ``call`` runs. FastAPI goes over the whole form to fill a
        handler's ``Form(...)`` parameters: then those (``declared``) are what it reads; a
        handler without any that goes over the form reads every field."""
        self.keys, self.everything = set(), False
        call(*args, **kwargs)
        if self.everything:
            self.keys |= declared or set(FIELDS)
        return self.keys & set(FIELDS)


def _declared(app: Any) -> dict[tuple[str, str], set[str]]:
    """Each page route's ``Form(...)`` parameter names, by (method, path template)."""
    found: dict[tuple[str, str], set[str]] = {}
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context.original_route, "dependant", None)
        names = {field.alias for field in dependant.body_params} if dependant is not None else set()
        for method in context.methods or ():
            found[(method, context.path)] = names
    return found


SIGN_OUTS = ("/sign-out", "/switch-account", "/oauth2/logout/confirm")


def _still_signed_in(browser: Any) -> None:
    """Sign the owner in again when a form signed them out (sign-out, switch account): the
    console's forms must be reached as the owner, not refused at the door."""
    if "admit_session" in browser.cookies:
        return
    for password in (PASSWORD, VALID["new_password"]):  # the change-password form may have run
        if sign_in(browser, "olga@example.com", password).status_code == 303:
            return
    raise AssertionError("the owner could not sign in again")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite stores a NUL; PostgreSQL cannot
def test_a_nul_in_one_field_among_valid_ones_never_breaks_a_page(
    owner: tuple[Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL cannot store a NUL: one among valid values must be refused before it gets there.
    Each route first gets the valid values while the fields its handler reads are recorded; then
    a NUL goes into each of those fields in turn, the others valid. (A field the handler never
    reads with valid values cannot change what it does, so it is not sent a NUL.)"""
    browser, ids = owner
    watch, forms = _ReadFields(monkeypatch), _declared(browser.fastapi_app)
    failures, reached, sent = [], 0, 0
    token = None
    routes = sorted(page_form_routes(browser.fastapi_app), key=lambda route: route[1] in SIGN_OUTS)
    for method, template in routes:  # the forms that end the session last
        path = re.sub(r"{(\w+)(:\w+)?}", lambda m: ids.get(m.group(1), "x"), template)
        if template not in SIGN_OUTS:
            _still_signed_in(browser)
        token = _csrf_token(browser, token)
        valid = {"csrftoken": token, **VALID}
        declared = forms.get((method, template), set())
        read = watch.during(declared, browser.request, method, path, data=valid, follow_redirects=False)
        reached += bool(read)
        for name in sorted(read):
            token = _csrf_token(browser, token)
            data = {"csrftoken": token, **VALID, name: SHAPES["a NUL"]}
            response = browser.request(method, path, data=data, follow_redirects=False)
            sent += 1
            if response.status_code >= 500:
                failures.append(f"{name}: {method} {template}: {response.status_code}")
    assert failures == []
    print(f"{reached} handlers read their form; {sent} posts with a NUL")  # noqa: T201
    assert reached > 50  # most handlers read their form (a signed-out owner would be stopped first)
