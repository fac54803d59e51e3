"""The console's Sign-in page, on both databases: the organization's identity providers with the
redirect URI to register, adding one (its discovery document read live: a bad issuer stays in the
form with its error; an address on this machine refused outside dev mode), removing one after a
confirmation page (refused while a workspace allows it), who may use the page, and "Test
connection": a real sign-in at oidc-provider-mock whose callback shows the claims and creates
nothing (no account, member or session) for the administrator and browser session that started
it only."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from support.api import client
from support.oidc_providers import forged_provider, mock_authorize, mock_provider, set_user
from support.outbox import token_for
from support.pages import csrf

from admit.admin import identity_providers, members, tenancy
from admit.admin.identity_providers import ProviderInput
from admit.admin.profiles import MemberInput
from admit.domain.errors import ValidationFailed
from admit.flows.invitation import claims
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "lantern-orchard-pebble-58"
CALLBACK = "https://admit.example.test/sso/callback"


@pytest.fixture
def dev(ctx: Context) -> Context:
    """Dev mode: administrators may name a provider on loopback (the test providers)."""
    return dataclasses.replace(ctx, dev_mode=True)


@pytest.fixture
def corp(ctx: Context, operator: Actor) -> Any:
    return tenancy.create_organization(ctx, operator, "Contoso", plan="enterprise")


@pytest.fixture
def home(ctx: Context, operator: Actor, corp: Any) -> Any:
    return tenancy.create_workspace(ctx, operator, corp.id, "Contoso Home")


def account(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "admin") -> Actor:
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    account_id = members.get(ctx, operator, str(created.id)).account_id
    assert account_id is not None
    return Actor(ActorKind.ACCOUNT, id=account_id, name=email)


def browser_of(ctx: Context, email: str) -> TestClient:
    browser = client(ctx)
    form = browser.get("/sign-in").text
    done = browser.post(
        "/sign-in", data={"identifier": email, "password": PASSWORD, "csrftoken": csrf(form)}, follow_redirects=False
    )
    assert done.status_code == 303
    return browser


def form(issuer: str, **extra: str) -> dict[str, str]:
    return {
        "name": "Contoso ID",
        "issuer": issuer,
        "client_id": "admit",
        "client_secret": "npm-secret",
        "scopes": "openid email profile",
        "claim_first_name": "",
        "claim_last_name": "",
        "claim_email": "",
        "claim_groups": "",
        **extra,
    }


def counts(ctx: Context) -> tuple[int, ...]:
    """Accounts, members and sessions (live ones, consumed or not) in the database."""
    queries = (
        "SELECT count(*) FROM accounts",
        "SELECT count(*) FROM members",
        "SELECT count(*) FROM secrets WHERE purpose = 'ses' AND revoked_at IS NULL",
        "SELECT count(*) FROM events WHERE action NOT LIKE 'identity_provider%'",
    )
    with ctx.uow() as uow:
        return tuple(uow.conn.execute(text(query)).scalar_one() for query in queries)  # type: ignore[attr-defined]


def test_an_admin_adds_a_provider_whose_discovery_is_read_live(
    dev: Context, operator: Actor, corp: Any, home: Any
) -> None:
    account(dev, operator, home, "olga@contoso.example", role="owner")
    browser = browser_of(dev, "olga@contoso.example")
    page = browser.get(f"/admin/{home.id}/sign-in")
    assert page.status_code == 200 and 'aria-current="page">Sign-in<' in page.text
    assert f'value="{CALLBACK}" readonly' in page.text and "no identity providers yet" in page.text
    assert f"/admin/{home.id}/settings#sign-in-title" in page.text
    token = csrf(page.text)
    with mock_provider() as issuer:
        for bad, said in (
            (f"{issuer}/nowhere", "cannot be used"),  # 404
            ("https://<b>x</b>", "https://"),
        ):
            refused = browser.post(
                f"/admin/{home.id}/sign-in/providers", data={**form(bad, name="<b>Corp</b>"), "csrftoken": token}
            )
            assert refused.status_code == 422 and 'id="issuer-error"' in refused.text, bad
            assert 'aria-describedby="issuer-error"' in refused.text and said in refused.text
            assert 'value="&lt;b&gt;Corp&lt;/b&gt;"' in refused.text and "<b>Corp" not in refused.text
            assert 'value="npm-secret"' not in refused.text  # the secret is not sent back
        nul = browser.post(
            f"/admin/{home.id}/sign-in/providers", data={**form(issuer, client_id="a\x00b"), "csrftoken": token}
        )
        assert nul.status_code == 422 and 'id="client_id-error"' in nul.text
        assert identity_providers.list_providers(dev, operator, corp.id) == []
        done = browser.post(
            f"/admin/{home.id}/sign-in/providers",
            data={**form(issuer, claim_groups="roles"), "csrftoken": token},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == f"/admin/{home.id}/sign-in?done=added"
    [added] = identity_providers.list_providers(dev, operator, corp.id)
    assert (added.name, added.issuer, added.client_id, added.claims["groups"]) == (
        "Contoso ID",
        issuer,
        "admit",
        "roles",
    )
    listed = browser.get(f"/admin/{home.id}/sign-in?done=added").text
    assert "The provider was added." in listed and issuer in listed and "npm-secret" not in listed
    assert f'data-provider="{added.id}"' in listed and "Not allowed here" in listed


@contextlib.contextmanager
def html_site() -> Iterator[str]:
    """A web site on loopback that answers every page with HTML (not a discovery document)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = b"<!doctype html><title>Welcome</title>"
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_discovery_naming_another_issuer_or_not_json_is_refused_by_the_service(
    dev: Context, operator: Actor, corp: Any
) -> None:
    with forged_provider() as forged:
        given = ProviderInput(name="X", issuer=forged.issuer, client_id="admit", client_secret="s")
        forged.issuer = "https://login.elsewhere.example"  # what its discovery document now names
        with pytest.raises(ValidationFailed, match="names another issuer") as raised:
            identity_providers.create(dev, operator, corp.id, given)
        assert raised.value.field == "issuer"
    with html_site() as site:
        given.issuer = site
        with pytest.raises(ValidationFailed, match="not JSON"):
            identity_providers.create(dev, operator, corp.id, given)
    with pytest.raises(ValidationFailed, match="cannot be reached"):  # nobody listens there any more
        identity_providers.create(dev, operator, corp.id, given)
    assert identity_providers.list_providers(dev, operator, corp.id) == []


def test_outside_dev_mode_an_admin_cannot_point_admit_at_this_machine(
    ctx: Context, operator: Actor, corp: Any, home: Any
) -> None:
    admin = account(ctx, operator, home, "olga@contoso.example", role="owner")
    with mock_provider() as issuer:
        given = ProviderInput(name="X", issuer=issuer, client_id="admit", client_secret="s")
        with pytest.raises(ValidationFailed, match="not public") as raised:
            identity_providers.create(ctx, admin, corp.id, given, workspace_id=home.id)
        assert raised.value.field == "issuer"
        assert identity_providers.create(ctx, operator, corp.id, given).issuer == issuer  # the operator may


def test_who_may_use_the_page(dev: Context, operator: Actor, corp: Any, home: Any) -> None:
    account(dev, operator, home, "mia@contoso.example", role="member")
    account(dev, operator, home, "olga@contoso.example", role="owner")
    globex = tenancy.create_organization(dev, operator, "Globex", plan="enterprise")
    theirs = tenancy.create_workspace(dev, operator, globex.id, "Globex Main")
    account(dev, operator, theirs, "gus@globex.example", role="owner")
    with mock_provider() as issuer:
        pid = identity_providers.create(
            dev, operator, corp.id, ProviderInput(name="Contoso ID", issuer=issuer, client_id="a", client_secret="s")
        ).id
    member = browser_of(dev, "mia@contoso.example")
    assert member.get(f"/admin/{home.id}/sign-in").status_code == 403
    page = member.get("/sign-in").text
    started = member.post(f"/admin/{home.id}/sign-in/providers/{pid}/test", data={"csrftoken": csrf(page)})
    assert started.status_code == 403 and "sso" not in started.cookies
    stranger = browser_of(dev, "gus@globex.example")
    assert stranger.get(f"/admin/{home.id}/sign-in").status_code == 404
    own = stranger.get(f"/admin/{theirs.id}/sign-in").text
    assert "Contoso ID" not in own  # another organization's provider is not listed
    assert stranger.get(f"/admin/{theirs.id}/sign-in/providers/{pid}/remove").status_code == 404
    removed = stranger.post(f"/admin/{theirs.id}/sign-in/providers/{pid}/remove", data={"csrftoken": csrf(own)})
    assert removed.status_code == 404
    assert [p.id for p in identity_providers.list_providers(dev, operator, corp.id)] == [pid]
    anonymous = client(dev).get(f"/admin/{home.id}/sign-in", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/sign-in?next=")


def test_adding_needs_the_enterprise_plan(dev: Context, operator: Actor, org: Any, workspace: Any) -> None:
    account(dev, operator, workspace, "olga@example.com", role="owner")
    browser = browser_of(dev, "olga@example.com")
    token = csrf(browser.get(f"/admin/{workspace.id}/sign-in").text)
    refused = browser.post(
        f"/admin/{workspace.id}/sign-in/providers", data={**form("https://idp.example.test"), "csrftoken": token}
    )
    assert refused.status_code == 403 and "enterprise-plan feature" in refused.text
    assert 'value="Contoso ID"' in refused.text


def test_remove_after_confirming_and_refused_while_a_workspace_allows_it(
    dev: Context, operator: Actor, corp: Any, home: Any
) -> None:
    account(dev, operator, home, "olga@contoso.example", role="owner")
    projects = tenancy.create_workspace(dev, operator, corp.id, "Contoso Projects")
    with mock_provider() as issuer:
        given = ProviderInput(name="Contoso ID", issuer=issuer, client_id="a", client_secret="s")
        pid = identity_providers.create(dev, operator, corp.id, given).id
    tenancy.update_workspace(dev, operator, projects.id, {"login_methods": ["password", f"sso:{pid}"]})
    browser = browser_of(dev, "olga@contoso.example")
    confirm = browser.get(f"/admin/{home.id}/sign-in/providers/{pid}/remove")
    assert confirm.status_code == 200 and "Remove Contoso ID?" in confirm.text
    refused = browser.post(f"/admin/{home.id}/sign-in/providers/{pid}/remove", data={"csrftoken": csrf(confirm.text)})
    assert refused.status_code == 409 and "A workspace still allows this provider" in refused.text
    assert [p.id for p in identity_providers.list_providers(dev, operator, corp.id)] == [pid]
    tenancy.update_workspace(dev, operator, projects.id, {"login_methods": ["password"]})
    tenancy.update_workspace(dev, operator, home.id, {"login_methods": ["password", f"sso:{pid}"]})
    listed = browser.get(f"/admin/{home.id}/sign-in").text
    assert f'<code class="id">sso:{pid}</code>' in listed  # this workspace uses it
    tenancy.update_workspace(dev, operator, home.id, {"login_methods": ["password"]})
    done = browser.post(
        f"/admin/{home.id}/sign-in/providers/{pid}/remove",
        data={"csrftoken": csrf(confirm.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/admin/{home.id}/sign-in?done=removed"
    assert identity_providers.list_providers(dev, operator, corp.id) == []


def _start_test(browser: TestClient, workspace_id: str, provider_id: str) -> str:
    page = browser.get(f"/admin/{workspace_id}/sign-in").text
    started = browser.post(
        f"/admin/{workspace_id}/sign-in/providers/{provider_id}/test",
        data={"csrftoken": csrf(page)},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    return str(started.headers["location"])


def _callback(browser: TestClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return browser.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def test_test_connection_shows_the_claims_and_creates_nothing(
    dev: Context, operator: Actor, corp: Any, home: Any
) -> None:
    account(dev, operator, home, "olga@contoso.example", role="owner")
    browser = browser_of(dev, "olga@contoso.example")
    session_before = browser.cookies.get("admit_session") or dict(browser.cookies)
    with mock_provider() as issuer:
        given = ProviderInput(
            name="Contoso ID", issuer=issuer, client_id="admit", client_secret="s", claims={"groups": "roles"}
        )
        pid = identity_providers.create(dev, operator, corp.id, given).id
        set_user(
            issuer,
            "ada-sub",
            email="ada@contoso.example",
            email_verified=True,
            given_name="Ada",
            family_name="<i>Lovelace</i>",
            roles=["engineers", "admins"],
        )
        before = counts(dev)
        auth = _start_test(browser, home.id, pid)
        assert auth.startswith(f"{issuer}/") and "code_challenge_method=S256" in auth and "state=adm_sso_" in auth
        result = _callback(browser, mock_authorize(auth, "ada-sub"))
        assert result.status_code == 200, result.text
        assert "Contoso ID works" in result.text and result.headers["cache-control"] == "no-store"
        mapping = result.text[result.text.index('id="mapping"') : result.text.index('id="claims"')]
        assert "→ Ada" in mapping and "→ &lt;i&gt;Lovelace&lt;/i&gt;" in mapping and "<i>" not in result.text
        assert "→ ada@contoso.example" in mapping and "→ engineers, admins" in mapping and "ada-sub" in mapping
        table = result.text[result.text.index('id="claims"') :]
        assert "<code>email_verified</code>" in table and "[&#34;engineers&#34;, &#34;admins&#34;]" in table
        assert counts(dev) == before  # no account, member or session
        assert "sso" not in {c.name for c in browser.cookies.jar if c.value}  # the flow is over
        assert (browser.cookies.get("admit_session") or dict(browser.cookies)) == session_before
        assert browser.get(f"/admin/{home.id}/sign-in").status_code == 200  # still the same admin
        again = _callback(browser, mock_authorize(_start_test(browser, home.id, pid), "ada-sub"))
        assert again.status_code == 200
        replay = browser.get(
            urlsplit(str(again.request.url)).path + "?" + str(again.request.url.query), follow_redirects=False
        )
        assert replay.status_code == 400  # no flow any more


def test_a_failed_test_explains_and_only_its_session_sees_the_result(
    dev: Context, operator: Actor, corp: Any, home: Any
) -> None:
    account(dev, operator, home, "olga@contoso.example", role="owner")
    browser = browser_of(dev, "olga@contoso.example")
    with mock_provider() as issuer:
        pid = identity_providers.create(
            dev, operator, corp.id, ProviderInput(name="Contoso ID", issuer=issuer, client_id="a", client_secret="s")
        ).id
        set_user(issuer, "ada-sub", email="ada@contoso.example", email_verified=True)
        auth = _start_test(browser, home.id, pid)
        state = re.search(r"state=([^&]+)", auth).group(1)  # type: ignore[union-attr]
        denied = _callback(browser, f"{CALLBACK}?error=access_denied&state={state}")
        assert denied.status_code == 400 and "The test did not work" in denied.text
        assert "access_denied" in denied.text
        # Another session of the same administrator (or anyone else's browser) cannot complete it.
        auth = _start_test(browser, home.id, pid)
        answer = mock_authorize(auth, "ada-sub")
        other = browser_of(dev, "olga@contoso.example")
        other.cookies.set("admit_sso", browser.cookies.get("admit_sso") or "")
        for name, value in browser.cookies.items():
            if "sso" in name:
                other.cookies.set(name, value)
        stolen = _callback(other, answer)
        assert stolen.status_code == 400 and "not started by you in this session" in stolen.text
        # A wrong code: the token exchange fails.
        auth = _start_test(browser, home.id, pid)
        state = re.search(r"state=([^&]+)", auth).group(1)  # type: ignore[union-attr]
        bad_code = _callback(browser, f"{CALLBACK}?code=forged&state={state}")
        assert bad_code.status_code == 400 and "refused the code" in bad_code.text
        before = counts(dev)
    # The provider is down when the test starts.
    page = browser.get(f"/admin/{home.id}/sign-in").text
    down = browser.post(f"/admin/{home.id}/sign-in/providers/{pid}/test", data={"csrftoken": csrf(page)})
    assert down.status_code == 503 and "cannot be reached" in down.text
    assert counts(dev) == before
