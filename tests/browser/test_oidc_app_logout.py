"""An app logs a person out of Admit, in a real browser on a phone: RP-initiated logout asks
"Sign out of Admit?", the confirmation's form ends on the app's origin (its post-logout URI, with
the app's state; the page's content security policy must allow it), the Admit session is gone,
and ``admit serve``'s outbox worker posts the back-channel logout token to the app."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import Page, expect
from support.browser import screenshot
from support.outbox import token_for
from support.processes import backend, product_app, server
from support.sms_gateway import sms_gateway

from admit.admin import invitations, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.oidc_provider import clients
from admit.oidc_provider.backchannel import EVENT
from admit.oidc_provider.clients import ClientInput
from admit.shared.context import Actor, Context

PASSWORD = "copper-willow-harbour-83"
VERIFIER = "a-pkce-verifier-that-is-long-enough-for-the-rfc-7636-minimum-43"


def test_logging_out_from_an_app_ends_the_admit_session_on_a_phone(page: Page, ctx: Context, database_url: str) -> None:
    operator = Actor.operator("test")
    with server(database_url) as base, product_app("Product app") as app, sms_gateway() as receiver:
        local = dataclasses.replace(ctx, base_url=base, dev_mode=True)  # the app's loopback URIs
        org = tenancy.create_organization(local, operator, "Acme", plan="business", seats=5)
        ws = tenancy.create_workspace(local, operator, org.id, "Acme Main")
        invitations.invite(local, operator, ws.id, MemberInput(email="ada@acme.example", first_name="Ada"))
        claims.accept_with_token(local, token_for(local, "ada@acme.example"), password=PASSWORD)
        given = ClientInput(
            name="Product", redirect_uris=[f"{app}/callback"], post_logout_redirect_uris=[f"{app}/signed-out"],
            backchannel_logout_uri=f"{receiver.url}/backchannel-logout",
        )  # fmt: skip
        created, secret = clients.create(local, operator, org.id, given)
        client_id = created["client_id"]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code", "client_id": client_id, "redirect_uri": f"{app}/callback",
            "scope": "openid email", "state": "s-1", "nonce": "n-1",
            "code_challenge": challenge, "code_challenge_method": "S256",
        }  # fmt: skip
        page.goto(f"{base}/oauth2/authorize?{urlencode(query)}")
        page.get_by_label("Email, username or phone").fill("ada@acme.example")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading")).to_have_text("Product app")
        code = parse_qs(urlsplit(page.url).query)["code"][0]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": f"{app}/callback",
                "code_verifier": VERIFIER}  # fmt: skip
        tokens = httpx.post(f"{base}/oauth2/token", data=form, auth=(client_id, secret or "")).json()

        # The app sends the browser to Admit's end session endpoint.
        bye = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": f"{app}/signed-out", "state": "bye"}
        page.goto(f"{base}/oauth2/logout?{urlencode(bye)}")
        expect(page.get_by_role("heading")).to_have_text("Sign out of Admit?")
        expect(page.get_by_text("Product asks you to sign out of Admit.")).to_be_visible()
        screenshot(page, f"oidc-logout-confirm-{backend(database_url)}")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading")).to_have_text("Product app")  # back on the app's origin
        landed = urlsplit(page.url)
        assert f"{landed.scheme}://{landed.netloc}{landed.path}" == f"{app}/signed-out"
        assert parse_qs(landed.query) == {"state": ["bye"]}

        # Admit's session is over: the app's next sign-in asks for the password again.
        page.goto(f"{base}/oauth2/authorize?{urlencode(query)}")
        expect(page.get_by_label("Password", exact=True)).to_be_visible()
        assert urlsplit(page.url).path == "/sign-in"

        # And the app heard it on its back channel.
        deadline = time.monotonic() + 20
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.requests, "no back-channel logout token arrived"
        published = KeySet.import_key_set(httpx.get(f"{base}/oauth2/jwks").json())
        decoded = jwt.decode(receiver.requests[0]["body"]["logout_token"], published, algorithms=["RS256"])
        id_token = jwt.decode(tokens["id_token"], published, algorithms=["RS256"])
    assert decoded.header["typ"] == "logout+jwt"
    assert decoded.claims["aud"] == client_id and decoded.claims["events"] == {EVENT: {}}
    assert decoded.claims["sid"] == id_token.claims["sid"] and decoded.claims["sub"] == id_token.claims["sub"]
