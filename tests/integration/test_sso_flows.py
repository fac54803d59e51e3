"""Single sign-on over HTTP against real providers on loopback, on both databases: the mismatch
journeys, just-in-time members, and every check that must refuse (state, nonce, PKCE verifier,
issuer, audience, expiry, alg none, unverified email, another workspace's provider, provider
down)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import OctKey
from support.api import client
from support.clock import FixedClock
from support.oidc_providers import (
    forged_provider,
    mock_authorize,
    mock_provider,
    npm_authorize,
    npm_provider,
    redirect_target,
    set_user,
)
from support.outbox import code_for, token_for

from admit.admin import identity_providers, invitations, members, tenancy
from admit.admin.identity_providers import ProviderInput
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "lantern-quarry-meadow-58"
CALLBACK = "https://admit.example.test/sso/callback"


def csrf(html: str) -> str:
    match = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def enterprise(ctx: Context, operator: Actor, name: str = "Contoso") -> Any:
    return tenancy.create_organization(ctx, operator, name, plan="enterprise")


def provider(ctx: Context, operator: Actor, org_id: str | None, issuer: str, name: str = "Contoso ID") -> str:
    given = ProviderInput(name=name, issuer=issuer, client_id="admit", client_secret="npm-secret")
    return str(identity_providers.create(ctx, operator, org_id, given).id)


def workspace(ctx: Context, operator: Actor, org_id: str, name: str, **policy: Any) -> Any:
    ws = tenancy.create_workspace(ctx, operator, org_id, name)
    return tenancy.update_workspace(ctx, operator, ws.id, policy) if policy else ws


def open_invitation(ctx: Context, operator: Actor, ws: Any, email: str) -> tuple[TestClient, str]:
    invitations.invite(ctx, operator, ws.id, MemberInput(email=email))
    browser = client(ctx)
    browser.get(f"/i/{token_for(ctx, email)}")
    return browser, browser.get("/welcome").text


def start(browser: TestClient, page_html: str, provider_id: str, **extra: str) -> str:
    data = {"provider": provider_id, "csrftoken": csrf(page_html), **extra}
    return redirect_target(browser.post("/sso/start", data=data, follow_redirects=False))


def callback(browser: TestClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return browser.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def password_account(ctx: Context, operator: Actor, org_id: str, email: str) -> str:
    home = workspace(ctx, operator, org_id, f"Home of {email}")
    invitations.invite(ctx, operator, home.id, MemberInput(email=email))
    return str(claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)["account_id"])


def test_journey_1_password_account_signs_up_through_the_sso_only_workspace_provider(
    ctx: Context, operator: Actor
) -> None:
    org = enterprise(ctx, operator)
    with mock_provider() as issuer:
        pid = provider(ctx, operator, org.id, issuer)
        ws = workspace(ctx, operator, org.id, "Contoso Projects", login_methods=[f"sso:{pid}"], sso_required=True)
        existing = password_account(ctx, operator, org.id, "ada@contoso.example")
        browser, welcome = open_invitation(ctx, operator, ws, "ada@contoso.example")
        assert "signs in with a password" in welcome and "requires single sign-on" in welcome
        assert 'name="password"' not in welcome and "Sign up with Contoso ID" in welcome
        refused = browser.post("/welcome/claim", data={"password": PASSWORD, "csrftoken": csrf(welcome)})
        assert refused.url.path == "/welcome"  # no password path into this workspace
        set_user(
            issuer,
            "ada-sub",
            email="ada@contoso.example",
            email_verified=True,
            given_name="Ada",
            family_name="Lovelace",
        )
        auth = start(browser, welcome, pid)
        assert "code_challenge_method=S256" in auth and "nonce=" in auth and "state=adm_sso_" in auth
        landed = callback(browser, mock_authorize(auth, "ada-sub"))
        assert redirect_target(landed) == "/welcome/sso"
        confirm = browser.get("/welcome/sso").text
        assert 'value="Ada"' in confirm and 'value="Lovelace"' in confirm
        done = browser.post(
            "/welcome/sso",
            data={"first_name": "Ada", "last_name": "King", "csrftoken": csrf(confirm)},
            follow_redirects=False,
        )
        assert redirect_target(done) == f"/joined/{ws.id}"
    [member] = members.list_members(ctx, operator, ws.id)
    assert member.status == "active" and member.account_id != existing
    assert (member.first_name, member.last_name) == ("Ada", "King")  # the confirmed names, in the directory
    with ctx.uow() as uow:
        account = uow.accounts.get(member.account_id)
        assert uow.accounts.identifiers(member.account_id) == []  # keyed by (issuer, subject) only
    assert account is not None and (account.external_issuer, account.external_subject) == (issuer, "ada-sub")
    assert (account.first_name, account.last_name, account.external_email) == ("Ada", "King", "ada@contoso.example")


def test_journey_2_sso_account_chooses_email_and_password_or_a_personal_provider(ctx: Context, operator: Actor) -> None:
    org = enterprise(ctx, operator)
    with mock_provider() as corp, mock_provider() as personal:
        corp_id = provider(ctx, operator, org.id, corp)
        personal_id = provider(ctx, operator, None, personal, name="Microsoft (personal)")
        sso_ws = workspace(
            ctx,
            operator,
            org.id,
            "Corp",
            login_methods=[f"sso:{corp_id}"],
            sso_required=True,
            jit_enabled=True,
            jit_domains=["corp.example"],
        )
        open_ws = workspace(ctx, operator, org.id, "Partners", login_methods=["password", f"personal:{personal_id}"])
        for email in ("bo@corp.example", "cy@corp.example"):
            set_user(corp, email, email=email, email_verified=True, given_name="B", family_name="C")
            browser = client(ctx)
            page = browser.get(f"/sso/w/{sso_ws.id}").text
            landed = callback(browser, mock_authorize(start(browser, page, corp_id, workspace=sso_ws.id), email))
            assert redirect_target(landed) == f"/joined/{sso_ws.id}"  # just-in-time member
        # Bo creates an email + password account (code first, then password and names).
        browser, welcome = open_invitation(ctx, operator, open_ws, "bo@corp.example")
        assert "does not offer" in welcome and "Continue with email address and password" in welcome
        assert "Continue with Microsoft (personal)" in welcome
        browser.post("/welcome/sign-up", data={"csrftoken": csrf(welcome)})
        verify = browser.get("/welcome").text
        browser.post("/welcome/verify", data={"code": code_for(ctx, "bo@corp.example"), "csrftoken": csrf(verify)})
        profile = browser.get("/welcome").text
        done = browser.post(
            "/welcome/claim",
            follow_redirects=False,
            data={"password": PASSWORD, "first_name": "Bo", "last_name": "Berg", "csrftoken": csrf(profile)},
        )
        assert redirect_target(done) == f"/joined/{open_ws.id}"
        # Cy uses a personal provider instead.
        set_user(
            personal, "cy-live", email="cy@outlook.example", email_verified=True, given_name="Cy", family_name="Twombly"
        )
        browser, welcome = open_invitation(ctx, operator, open_ws, "cy@corp.example")
        corp_refused = browser.post("/sso/start", data={"provider": corp_id, "csrftoken": csrf(welcome)})
        assert corp_refused.status_code == 403  # the workspace does not offer the corporate provider
        landed = callback(browser, mock_authorize(start(browser, welcome, personal_id), "cy-live"))
        confirm = browser.get(redirect_target(landed)).text
        assert 'value="Cy"' in confirm
        done = browser.post(
            "/welcome/sso",
            data={"first_name": "Cy", "last_name": "Twombly", "csrftoken": csrf(confirm)},
            follow_redirects=False,
        )
        assert redirect_target(done) == f"/joined/{open_ws.id}"
    joined = {m.email: m for m in members.list_members(ctx, operator, open_ws.id)}
    assert {m.status for m in joined.values()} == {"active"}
    with ctx.uow() as uow:
        bo = uow.accounts.get(joined["bo@corp.example"].account_id)
        cy = uow.accounts.get(joined["cy@corp.example"].account_id)
    assert bo is not None and bo.credential_kind == "password"
    assert cy is not None and (cy.external_issuer, cy.external_subject) == (personal, "cy-live")


def test_just_in_time_member_gets_the_defaults_once_and_only_with_a_verified_allowed_address(
    ctx: Context, operator: Actor
) -> None:
    org = enterprise(ctx, operator)
    with mock_provider() as issuer:
        pid = provider(ctx, operator, org.id, issuer)
        ws = workspace(
            ctx,
            operator,
            org.id,
            "Floor",
            login_methods=[f"sso:{pid}"],
            jit_enabled=True,
            jit_domains=["floor.example"],
            departments=["Kitchen"],
            job_profiles=["Cook"],
            default_department="Kitchen",
            default_job_profile="Cook",
            default_role="guest",
        )
        cases = {
            "dee": ({"email": "dee@floor.example", "email_verified": True}, 303),
            "eve": ({"email": "eve@floor.example", "email_verified": False}, 403),
            "fay": ({"email": "fay@elsewhere.example", "email_verified": True}, 403),
        }
        pages = {}
        for sub, (claims_, status) in [*cases.items(), ("dee", cases["dee"])]:
            set_user(issuer, sub, given_name=sub.title(), family_name="Doe", **claims_)
            browser = client(ctx)
            page = browser.get(f"/sso/w/{ws.id}").text
            response = callback(browser, mock_authorize(start(browser, page, pid, workspace=ws.id), sub))
            assert response.status_code == status, (sub, response.text)
            pages[sub] = response.text
    assert "has not verified your email address" in pages["eve"]
    assert "domain cannot join" in pages["fay"]
    [member] = members.list_members(ctx, operator, ws.id)  # dee, once, though she signed in twice
    assert (member.email, member.role, member.department, member.job_profile, member.status) == (
        "dee@floor.example",
        "guest",
        "Kitchen",
        "Cook",
        "active",
    )
    with ctx.uow() as uow:
        actions = [e.action for e in uow.events.list(org.id, subject_id=member.id)]
    assert "member.created_just_in_time" in actions


def _forged_setup(ctx: Context, operator: Actor, issuer: str) -> tuple[TestClient, str, str, Any]:
    org = enterprise(ctx, operator)
    pid = provider(ctx, operator, org.id, issuer, name="Forge")
    ws = workspace(
        ctx, operator, org.id, "Forge", login_methods=[f"sso:{pid}"], jit_enabled=True, jit_domains=["example.com"]
    )
    browser = client(ctx)
    return browser, browser.get(f"/sso/w/{ws.id}").text, pid, ws


@pytest.mark.parametrize(
    ("tamper", "alg"),
    [
        ({}, "RS256"),  # the control: the forged provider's honest token gets in
        ({"iss": "https://evil.example"}, "RS256"),
        ({"aud": "someone-else"}, "RS256"),
        ({"aud": ["admit", "someone-else"]}, "RS256"),  # several audiences without azp
        ({"nonce": "a-nonce-from-another-sign-in"}, "RS256"),
        ({"exp": "expired"}, "RS256"),
        ({}, "none"),
        ({}, "HS256"),
    ],
    ids=["honest", "wrong-issuer", "wrong-audience", "no-azp", "wrong-nonce", "expired", "alg-none", "alg-hs256"],
)
def test_id_tokens_failing_a_check_are_refused(
    ctx: Context, operator: Actor, clock: FixedClock, tamper: dict[str, Any], alg: str
) -> None:
    with forged_provider() as forged:
        browser, page, pid, ws = _forged_setup(ctx, operator, forged.issuer)
        auth = start(browser, page, pid, workspace=ws.id)
        forged.claims = {**tamper, "exp": int(clock.now().timestamp()) - 120} if "exp" in tamper else tamper
        forged.alg = alg
        if alg == "HS256":
            forged.key = OctKey.import_key(b"npm-secret" * 4)  # keyed with the client secret
        landed = callback(browser, httpx.get(auth, follow_redirects=False).headers["location"])
    honest = not tamper and alg == "RS256"
    assert landed.status_code == (303 if honest else 400), landed.text
    assert len(members.list_members(ctx, operator, ws.id)) == (1 if honest else 0)
    if not honest:
        assert "did not pass our security checks" in landed.text and "admit_session=" not in landed.headers.get(
            "set-cookie", ""
        )


def test_wrong_or_replayed_state_is_refused(ctx: Context, operator: Actor) -> None:
    with forged_provider() as forged:
        browser, page, pid, ws = _forged_setup(ctx, operator, forged.issuer)
        auth = start(browser, page, pid, workspace=ws.id)
        back = httpx.get(auth, follow_redirects=False).headers["location"]
        wrong = back.replace("state=adm_sso_", "state=adm_sso_x")
        assert callback(browser, wrong).status_code == 400
        other = client(ctx)  # the right callback in a browser that did not start the flow
        assert callback(other, back).status_code == 400
        auth = start(browser, browser.get(f"/sso/w/{ws.id}").text, pid, workspace=ws.id)
        back = httpx.get(auth, follow_redirects=False).headers["location"]
        first = callback(browser, back)
        assert first.status_code == 303
        replay = client(ctx)
        replay.cookies = browser.cookies  # even with the flow cookie copied, a state works once
        assert callback(replay, back).status_code == 400


def test_wrong_pkce_verifier_is_refused_by_the_npm_provider(ctx: Context, operator: Actor) -> None:
    org = enterprise(ctx, operator)
    with npm_provider([CALLBACK]) as issuer:
        pid = provider(ctx, operator, org.id, issuer)
        ws = workspace(
            ctx, operator, org.id, "Pkce", login_methods=[f"sso:{pid}"], jit_enabled=True, jit_domains=["pkce.example"]
        )
        victim = client(ctx)
        auth = start(victim, victim.get(f"/sso/w/{ws.id}").text, pid, workspace=ws.id)
        code_url = npm_authorize(auth, "vic@pkce.example", CALLBACK)
        attacker = client(ctx)  # injects the victim's code and state into a flow with its own verifier
        cookies = attacker.fastapi_app.state.cookies  # type: ignore[attr-defined]
        flow = cookies.serializer.loads(victim.cookies["admit_sso"])[1]["flow"]
        forged_flow = {**flow, "verifier": "an-attacker-verifier-" + "x" * 30}
        attacker.cookies.set("admit_sso", cookies.serializer.dumps(["sso", {"flow": forged_flow}]))
        refused = callback(attacker, code_url)
        assert refused.status_code == 400 and "security checks" in refused.text
        assert members.list_members(ctx, operator, ws.id) == []
        honest = client(ctx)
        auth = start(honest, honest.get(f"/sso/w/{ws.id}").text, pid, workspace=ws.id)
        assert redirect_target(callback(honest, npm_authorize(auth, "vic@pkce.example", CALLBACK))) == (
            f"/joined/{ws.id}"
        )


def test_an_identity_of_workspace_a_provider_cannot_enter_workspace_b(ctx: Context, operator: Actor) -> None:
    org_a, org_b = enterprise(ctx, operator, "Alpha"), enterprise(ctx, operator, "Bravo")
    with mock_provider() as issuer_a, mock_provider() as issuer_b:
        pa = provider(ctx, operator, org_a.id, issuer_a, name="Alpha ID")
        pb = provider(ctx, operator, org_b.id, issuer_b, name="Bravo ID")
        ws_a = workspace(
            ctx, operator, org_a.id, "A", login_methods=[f"sso:{pa}"], jit_enabled=True, jit_domains=["shared.example"]
        )
        ws_b = workspace(
            ctx, operator, org_b.id, "B", login_methods=[f"sso:{pb}"], jit_enabled=True, jit_domains=["shared.example"]
        )
        set_user(issuer_a, "gil", email="gil@shared.example", email_verified=True)
        browser = client(ctx)
        landed = callback(
            browser, mock_authorize(start(browser, browser.get(f"/sso/w/{ws_a.id}").text, pa, workspace=ws_a.id), "gil")
        )
        assert redirect_target(landed) == f"/joined/{ws_a.id}"
        page_b = browser.get(f"/sso/w/{ws_b.id}").text
        assert "Bravo ID" in page_b and "Alpha ID" not in page_b  # only B's own provider is offered
        refused = browser.post("/sso/start", data={"provider": pa, "workspace": ws_b.id, "csrftoken": csrf(page_b)})
        assert refused.status_code == 403 and "does not allow signing in with this identity provider" in refused.text
        invitations.invite(ctx, operator, ws_b.id, MemberInput(email="gil@shared.example"))
        browser.get(f"/i/{token_for(ctx, 'gil@shared.example')}")
        accept = browser.post("/welcome/accept", data={"csrftoken": csrf(browser.get("/welcome").text)})
        assert accept.status_code == 403  # signed in with A's identity: B refuses it
    assert members.list_members(ctx, operator, ws_b.id, status="active") == []


def test_provider_down_fails_closed_with_a_clear_page(ctx: Context, operator: Actor) -> None:
    org = enterprise(ctx, operator)
    with mock_provider() as issuer:  # up when it is added (its discovery is read), then down
        pid = provider(ctx, operator, org.id, issuer)
    ws = workspace(ctx, operator, org.id, "Down", login_methods=[f"sso:{pid}"], sso_required=True)
    browser, welcome = open_invitation(ctx, operator, ws, "hal@down.example")
    down = browser.post("/sso/start", data={"provider": pid, "csrftoken": csrf(welcome)}, follow_redirects=False)
    assert down.status_code == 503 and "not available" in down.text and 'name="password"' not in down.text
    german = client(ctx)
    german.headers["accept-language"] = "de"
    german.get(f"/i/{token_for(ctx, 'hal@down.example')}")
    page = german.post("/sso/start", data={"provider": pid, "csrftoken": csrf(german.get("/welcome").text)})
    assert page.status_code == 503 and "Der Anmeldedienst ist nicht erreichbar" in page.text


def test_joining_through_a_provider_leads_straight_into_the_app(ctx: Context, operator: Actor) -> None:
    """No "Let's go" page when the workspace's app address is known: the confirmed join answers
    with /go (then the app); the welcome and confirmation pages let their forms end on the
    provider's and the app's origins."""
    org = enterprise(ctx, operator)
    with mock_provider() as issuer:
        pid = provider(ctx, operator, org.id, issuer)
        ws = workspace(
            ctx,
            operator,
            org.id,
            "Contoso Shop",
            login_methods=[f"sso:{pid}"],
            sso_required=True,
            app_url="https://shop.contoso.example/",
        )
        browser, welcome = open_invitation(ctx, operator, ws, "eve@contoso.example")
        policy = browser.get("/welcome").headers["content-security-policy"]
        assert "https://shop.contoso.example" in policy and issuer.split("/")[2] in policy
        set_user(
            issuer, "eve-sub", email="eve@contoso.example", email_verified=True, given_name="Eve", family_name="Ng"
        )
        landed = callback(browser, mock_authorize(start(browser, welcome, pid), "eve-sub"))
        assert redirect_target(landed) == "/welcome/sso"
        shown = browser.get("/welcome/sso")
        assert "https://shop.contoso.example" in shown.headers["content-security-policy"]
        done = browser.post(
            "/welcome/sso",
            data={"first_name": "Eve", "last_name": "Ng", "csrftoken": csrf(shown.text)},
            follow_redirects=False,
        )
        assert redirect_target(done) == f"/go/{ws.id}"
        assert redirect_target(browser.get(f"/go/{ws.id}", follow_redirects=False)) == "https://shop.contoso.example/"


def test_the_groups_claim_keeps_the_member_in_exactly_its_single_sign_on_groups(ctx: Context, operator: Actor) -> None:
    from admit.admin import groups

    org = enterprise(ctx, operator)
    with mock_provider() as issuer:
        pid = provider(ctx, operator, org.id, issuer)
        ws = workspace(
            ctx,
            operator,
            org.id,
            "Floor",
            login_methods=[f"sso:{pid}"],
            jit_enabled=True,
            jit_domains=["floor.example"],
        )
        console_group = groups.create(ctx, operator, org.id, "Kitchen")  # made in the console: never touched

        def sign_in_with(names: list[str]) -> None:
            set_user(issuer, "dee", email="dee@floor.example", email_verified=True, groups=names)
            browser = client(ctx)
            page = browser.get(f"/sso/w/{ws.id}").text
            response = callback(browser, mock_authorize(start(browser, page, pid, workspace=ws.id), "dee"))
            assert response.status_code == 303, response.text

        sign_in_with(["Night Shift", "Kitchen", "night shift", "bad\x00name"])
        [dee] = members.list_members(ctx, operator, ws.id)
        listed = {g.display_name: g for g in groups.list_groups(ctx, operator, org.id).items}
        assert set(listed) == {"Night Shift", "Kitchen"} and listed["Night Shift"].source == "sso"
        assert [g.display_name for g in groups.groups_of_member(ctx, operator, dee.id)] == ["Night Shift"]
        groups.add_members(ctx, operator, org.id, console_group.id, [dee.id])
        sign_in_with(["Bakers"])
        mine = [g.display_name for g in groups.groups_of_member(ctx, operator, dee.id)]
        assert mine == ["Bakers", "Kitchen"]  # out of Night Shift; the console's Kitchen stays
        sign_in_with([])
        assert [g.display_name for g in groups.groups_of_member(ctx, operator, dee.id)] == ["Kitchen"]
