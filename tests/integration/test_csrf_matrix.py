"""Every page form refuses a forged post, on both databases. The routes are read from the app, so a
page route added later is covered without being listed here: each POST (PUT, PATCH, DELETE) page
route is sent a post without a token, with a wrong token, with bearer headers (which asgi-csrf
alone lets through), and from another site with a valid token; all are refused with a page in the
person's language and nothing changes. The REST API never takes the page's session cookie."""

from __future__ import annotations

import re
from typing import Any

import pytest
from support.api import client
from support.outbox import token_for
from support.pages import csrf, page_form_routes

from admit.admin import invitations, jobs, members, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "quarry-meadow-lantern-41"
# What a forged post sends, so that a handler reached by mistake would act on it.
FIELDS = {
    "identifier": "olga@example.com",
    "password": PASSWORD,
    "current_password": PASSWORD,
    "new_password": "another-orchard-pebble-92",
    "email": "mallory@example.com",
    "step": "confirm",
    "agree": "yes",
    "version": "1",
    "position": "1",
    "invite": "now",
    "back": "/",
}
# Each way of forging: extra headers, which cookies go along, and which token is in the form.
FORGERIES: dict[str, dict[str, Any]] = {
    "no token": {"cookies": "all", "token": None},
    "a wrong token": {"cookies": "all", "token": "forged"},
    "a bearer header, a valid token and no token cookie": {
        "cookies": "no token cookie",
        "token": "valid",
        "headers": {"authorization": "Bearer x"},
    },
    "a bearer header with the session cookie and no token": {
        "cookies": "all",
        "token": None,
        "headers": {"authorization": "Bearer x"},
    },
    "a bearer header and no cookie at all": {
        "cookies": "none",
        "token": None,
        "headers": {"authorization": "Bearer adm_api_x"},
    },
    "another site's Origin": {"cookies": "all", "token": "valid", "headers": {"origin": "https://evil.example"}},
    "the null Origin": {"cookies": "all", "token": "valid", "headers": {"origin": "null"}},
    "the null Origin from the same site": {
        "cookies": "all",
        "token": "valid",
        "headers": {"origin": "null", "sec-fetch-site": "same-site"},
    },
    "a look-alike Origin": {"cookies": "all", "token": "valid", "headers": {"origin": "http://127.0.0.1:8000.evil"}},
    "Sec-Fetch-Site cross-site": {"cookies": "all", "token": "valid", "headers": {"sec-fetch-site": "cross-site"}},
    "another site's Origin and a matching Host": {
        "cookies": "all",
        "token": "valid",
        "headers": {"origin": "https://evil.example", "host": "evil.example"},
    },
}


class Scene:
    """A browser signed in as a workspace owner, holding an invitation to a second workspace;
    ids to fill route paths with; and what must stay as it is."""

    def __init__(self, ctx: Context, operator: Actor, workspace: Any, org: Any) -> None:
        self.ctx, self.operator = ctx, operator
        owner = MemberInput(email="olga@example.com", first_name="Olga", role="owner")
        invitations.invite(ctx, operator, workspace.id, owner)
        claims.accept_with_token(ctx, token_for(ctx, "olga@example.com"), password=PASSWORD)
        self.second = tenancy.create_workspace(ctx, operator, org.id, "Second")
        invitation = invitations.invite(ctx, operator, self.second.id, MemberInput(email="olga@example.com"))[0]
        created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email="ann@example.com"), invite=True)
        self.ann, self.invitation = str(created.id), str(invitation.id)
        self.browser = client(ctx)
        form = self.browser.get("/sign-in").text
        signed = self.browser.post(
            "/sign-in",
            data={"identifier": "olga@example.com", "password": PASSWORD, "csrftoken": csrf(form)},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        self.browser.get(f"/i/{token_for(ctx, 'olga@example.com')}")  # the newest: to the second workspace
        self.token = csrf(self.browser.get("/welcome").text)
        self.cookies = {cookie.name: cookie.value for cookie in self.browser.cookies.jar}
        assert {"admit_session", "admit_invitation", "csrftoken"} <= set(self.cookies)
        self.workspace = workspace
        self.ids = {"workspace_id": workspace.id, "member_id": self.ann, "invitation_id": self.invitation}
        self.before = self.facts()

    def path(self, template: str) -> str:
        return re.sub(r"{(\w+)(:\w+)?}", lambda m: self.ids.get(m.group(1), "accept"), template)

    def cookie_header(self, which: str) -> str:
        kept = {
            "all": self.cookies,
            "no token cookie": {k: v for k, v in self.cookies.items() if k != "csrftoken"},
            "none": {},
        }[which]
        return "; ".join(f"{name}={value}" for name, value in kept.items())

    def facts(self) -> dict[str, Any]:
        ctx, operator = self.ctx, self.operator
        return {
            "invitation": invitations.get(ctx, operator, self.invitation).state,
            "ann": members.get(ctx, operator, self.ann).status,
            "second's members": len(members.list_members(ctx, operator, self.second.id)),
            "jobs": len(jobs.list_jobs(ctx, operator, self.workspace.id)),
        }


@pytest.fixture
def scene(ctx: Context, operator: Actor, workspace: Any, org: Any) -> Scene:
    return Scene(ctx, operator, workspace, org)


def test_every_page_form_refuses_every_forgery_and_changes_nothing(scene: Scene) -> None:
    app = scene.browser.fastapi_app  # type: ignore[attr-defined]
    routes = list(page_form_routes(app))
    assert {
        ("POST", "/sign-in"),
        ("POST", "/welcome/accept"),
        ("POST", "/admin/{workspace_id}/import"),
        ("POST", "/terms/{workspace_id}/{version}/download"),  # a download that is recorded is a form too
    } <= set(routes)
    attacker = client(scene.ctx)  # sends only the cookies each forgery names
    let_through = []
    for method, template in routes:
        for forgery, how in FORGERIES.items():
            fields = dict(FIELDS)
            if how["token"] is not None:
                fields["csrftoken"] = scene.token if how["token"] == "valid" else how["token"]
            headers = {"cookie": scene.cookie_header(how["cookies"]), **how.get("headers", {})}
            response = attacker.request(
                method, scene.path(template), data=fields, headers=headers, follow_redirects=False
            )
            refused = (
                response.status_code == 403
                and response.headers["content-type"].startswith("text/html")
                and "admit_session" not in response.headers.get("set-cookie", "")
                and "This form could not be accepted" in response.text
            )
            if not refused:
                let_through.append(f"{method} {template} with {forgery}: {response.status_code}")
    assert let_through == []
    assert scene.facts() == scene.before


def test_every_page_form_refuses_a_repeated_field_before_its_handler_runs(scene: Scene) -> None:
    attacker = client(scene.ctx)
    headers = {"cookie": scene.cookie_header("all"), "content-type": "application/x-www-form-urlencoded"}
    for method, template in page_form_routes(scene.browser.fastapi_app):  # type: ignore[attr-defined]
        body = f"csrftoken={scene.token}&identifier=mallory%40example.com&identifier=olga%40example.com"
        body += f"&password={PASSWORD}&step=confirm&agree=yes&version=1&invite=now"
        response = attacker.request(method, scene.path(template), content=body, headers=headers)
        where = f"{method} {template}"
        assert response.status_code == 400, where
        assert "The field “identifier” was sent more than once" in response.text, where
        assert "admit_session" not in response.headers.get("set-cookie", ""), where
    assert scene.facts() == scene.before


@pytest.mark.parametrize(
    "sent",
    [
        {},  # no Origin at all (not every client sends one)
        {"origin": "{base}", "sec-fetch-site": "same-origin", "host": "elsewhere.example"},
        {"origin": "{base}/", "sec-fetch-site": "same-site"},
        # What Chromium sends from our pages: their no-referrer policy turns the Origin into null.
        {"origin": "null", "sec-fetch-site": "same-origin"},
    ],
)
def test_a_same_origin_form_with_its_token_still_signs_in(
    ctx: Context, operator: Actor, workspace: Any, sent: dict[str, str]
) -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)
    browser = client(ctx)
    base_url = browser.fastapi_app.state.settings.base_url  # type: ignore[attr-defined]
    form = browser.get("/sign-in").text
    done = browser.post(
        "/sign-in",
        data={"identifier": "ann@example.com", "password": PASSWORD, "csrftoken": csrf(form)},
        headers={name: value.format(base=base_url) for name, value in sent.items()},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "admit_session=adm_ses_" in done.headers["set-cookie"]


@pytest.mark.parametrize(
    ("language", "title", "again"),
    [
        ("de-CH,de;q=0.9,en;q=0.5", "Dieses Formular konnte nicht angenommen werden", "Formular erneut öffnen"),
        ("fr-FR,fr;q=0.9", "Ce formulaire n’a pas pu être accepté", "Ouvrir à nouveau le formulaire"),
        ("en-GB", "This form could not be accepted", "Open the form again"),
    ],
)
def test_the_refusal_is_a_page_in_the_browsers_language_leading_back_to_the_form(
    ctx: Context, language: str, title: str, again: str
) -> None:
    browser = client(ctx)
    browser.get("/sign-in")
    refused = browser.post("/welcome/accept", data={"csrftoken": "forged"}, headers={"accept-language": language})
    assert refused.status_code == 403 and refused.headers["content-type"] == "text/html; charset=utf-8"
    assert title in refused.text and again in refused.text
    assert 'href="/welcome"' in refused.text and 'href="/sign-in"' in refused.text and 'href="/"' in refused.text
    assert "default-src 'none'" in refused.headers["content-security-policy"]
    assert refused.headers["cache-control"] == "no-store" and refused.headers["referrer-policy"] == "no-referrer"


def test_the_refusal_leads_back_to_the_nearest_page_with_the_form(ctx: Context, workspace: Any) -> None:
    browser = client(ctx)
    browser.get("/sign-in")
    for posted, page in (
        ("/sign-in", "/sign-in"),
        (f"/terms/{workspace.id}/accept", f"/terms/{workspace.id}"),
        (f"/terms/{workspace.id}/1/download", f"/terms/{workspace.id}"),
        (f"/admin/{workspace.id}/people/x/suspend", f"/admin/{workspace.id}/people/x"),  # the person's page
        ("/sso/start", "/"),
        ("//evil.example/x", "/"),
    ):
        refused = browser.post(posted, data={"csrftoken": "forged"})
        assert refused.status_code == 403, posted
        assert re.search(r'<a class="button" href="([^"]*)"', refused.text).group(1) == page, posted  # type: ignore[union-attr]


def test_an_api_call_is_never_authenticated_by_the_page_session_cookie(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)
    browser = client(ctx)
    form = browser.get("/sign-in").text
    browser.post("/sign-in", data={"identifier": "ann@example.com", "password": PASSWORD, "csrftoken": csrf(form)})
    session = browser.cookies["admit_session"]
    for method, path in (("GET", "/api/v1/me/invitations"), ("DELETE", "/api/v1/sessions/current")):
        refused = browser.request(method, path)  # the browser's cookies, no bearer token
        assert refused.status_code == 401, path
        assert refused.json()["error"]["code"] == "invalid_credentials"
    mine = client(ctx).get("/api/v1/me/invitations", headers={"authorization": f"Bearer {session}"})
    assert mine.status_code == 200  # the same session, sent as the API expects it
