"""An app sends a person to Admit to sign in, in a real browser: the sign-in form's submission ends
on the app's origin (its redirect URI), which the page's content security policy must allow."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import Page, expect
from support.browser import screenshot
from support.outbox import token_for
from support.processes import product_app, server

from admit.admin import invitations, tenancy
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.oidc_provider import clients
from admit.oidc_provider.clients import ClientInput
from admit.shared.context import Actor, Context

PASSWORD = "copper-willow-harbour-83"
VERIFIER = "a-pkce-verifier-that-is-long-enough-for-the-rfc-7636-minimum-43"


def test_signing_in_for_an_app_lands_in_the_app_with_a_code(page: Page, ctx: Context, database_url: str) -> None:
    operator = Actor.operator("test")
    with server(database_url) as base, product_app("Product app") as app:
        local = dataclasses.replace(ctx, base_url=base, dev_mode=True)  # a loopback redirect URI
        org = tenancy.create_organization(local, operator, "Acme", plan="business", seats=5)
        ws = tenancy.create_workspace(local, operator, org.id, "Acme Main")
        invitations.invite(local, operator, ws.id, MemberInput(email="ada@acme.example", first_name="Ada"))
        claims.accept_with_token(local, token_for(local, "ada@acme.example"), password=PASSWORD)
        callback = f"{app}/callback"
        created, _ = clients.create(local, operator, org.id, ClientInput(name="Product", redirect_uris=[callback]))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": created["client_id"],
            "redirect_uri": callback,
            "scope": "openid email",
            "state": "s-123",
            "nonce": "n-456",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        page.goto(f"{base}/oauth2/authorize?{urlencode(query)}")
        expect(page).to_have_url(f"{base}/sign-in?" + page.url.split("?", 1)[1])
        page.get_by_label("Email, username or phone").fill("ada@acme.example")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        screenshot(page, "oidc-sign-in")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading")).to_have_text("Product app")  # on the app's origin
        landed = urlsplit(page.url)
        assert f"{landed.scheme}://{landed.netloc}{landed.path}" == callback
        answer = parse_qs(landed.query)
        assert answer["state"] == ["s-123"] and answer["code"][0] and answer["iss"] == [base]
