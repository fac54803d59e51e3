"""SCIM provisioning in the workspace admin console, on both databases: reached from Settings,
creating a token (errors next to the field with what was typed kept, the secret shown once),
revoking one after a confirmation page (and it stops at once), each token's request log a page at
a time, everything escaped; and who may: administrators of this workspace, tokens for every
workspace read-only, another workspace's or organization's token not found."""

from __future__ import annotations

import re
from typing import Any

from support.clock import FixedClock
from support.pages import csrf
from test_admin_apps import account, browser_of

from admit.admin import scim_log, scim_tokens, tenancy
from admit.scim import auth
from admit.shared.context import Actor, Context

MARKUP = "<img src=x onerror=alert(1)>"


def test_an_administrator_creates_a_token_sees_it_once_and_revokes_it(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com")
    browser = browser_of(ctx, "olga@example.com")
    settings = browser.get(f"/admin/{workspace.id}/settings").text
    assert f'href="/admin/{workspace.id}/scim"' in settings
    page = browser.get(f"/admin/{workspace.id}/scim")
    assert page.status_code == 200 and "No SCIM tokens yet." in page.text
    assert "https://admit.example.test/scim/v2" in page.text and 'aria-current="page">Settings<' in page.text
    token = csrf(page.text)
    empty = browser.post(f"/admin/{workspace.id}/scim", data={"name": " ", "role": "admin", "csrftoken": token})
    assert (
        empty.status_code == 422 and 'id="name-error"' in empty.text and 'aria-describedby="name-error"' in empty.text
    )
    assert '<option value="admin" selected>' in empty.text
    owner = browser.post(f"/admin/{workspace.id}/scim", data={"name": MARKUP, "role": "owner", "csrftoken": token})
    assert owner.status_code == 422 and 'id="role-error"' in owner.text
    assert 'value="&lt;img src=x onerror=alert(1)&gt;"' in owner.text and MARKUP not in owner.text
    assert scim_tokens.list_tokens(ctx, operator, org.id) == []
    done = browser.post(f"/admin/{workspace.id}/scim", data={"name": MARKUP, "role": "member", "csrftoken": token})
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    assert "it will not be shown again" in done.text and MARKUP not in done.text and "&lt;img" in done.text
    secret = re.search(r'id="scim-token">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    assert secret.startswith("adm_scm_")
    [made] = scim_tokens.list_tokens(ctx, operator, org.id)
    assert made["workspace_id"] == workspace.id and made["role"] == "member"
    assert made["created_by_name"] == "olga@example.com"
    listed = browser.get(f"/admin/{workspace.id}/scim").text
    assert secret not in listed and MARKUP not in listed and "olga@example.com" in listed
    assert auth.authenticate(ctx, f"Bearer {secret}").token_id == made["id"]

    question = browser.get(f"/admin/{workspace.id}/scim/{made['id']}/revoke")
    assert question.status_code == 200 and "cannot be undone" in question.text
    assert scim_tokens.get(ctx, operator, org.id, made["id"])["revoked_at"] is None  # the GET changed nothing
    forged = browser.post(f"/admin/{workspace.id}/scim/{made['id']}/revoke", data={})
    assert forged.status_code == 403
    revoked = browser.post(
        f"/admin/{workspace.id}/scim/{made['id']}/revoke",
        data={"csrftoken": csrf(question.text)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303 and revoked.headers["location"].endswith("/scim?done=revoked")
    assert "The token was revoked" in browser.get(revoked.headers["location"]).text
    assert (
        browser.get("/scim/v2/ServiceProviderConfig", headers={"authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_the_request_log_pages_and_escapes_what_it_shows(
    ctx: Context, clock: FixedClock, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com")
    browser = browser_of(ctx, "olga@example.com")
    made, secret = scim_tokens.create(ctx, operator, org.id, name="Okta", workspace_id=workspace.id)
    caller = auth.authenticate(ctx, f"Bearer {secret}")
    scim_log.write(
        ctx,
        scim_log.entry(
            ctx, caller, "PATCH", "/scim/v2/Users/u1", 200, "u1", {"displayName": MARKUP, "password": "pw-x1"}
        ),
    )
    for n in range(scim_log.PAGE + 5):
        clock.advance(seconds=1)
        scim_log.write(ctx, scim_log.entry(ctx, caller, "GET", f"/scim/v2/Users/n{n}", 404))
    first = browser.get(f"/admin/{workspace.id}/scim/{made['id']}")
    assert first.status_code == 200 and "/scim/v2/Users/n54" in first.text and "/scim/v2/Users/u1" not in first.text
    older = re.search(r'href="([^"]+)" rel="next"', first.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    second = browser.get(older)
    assert second.status_code == 200 and "/scim/v2/Users/u1" in second.text and "/scim/v2/Users/n5<" not in second.text
    assert 'rel="next"' not in second.text and "Newest" in second.text
    assert MARKUP not in second.text and "&lt;img src=x" in second.text and "pw-x1" not in second.text
    mangled = browser.get(
        f"/admin/{workspace.id}/scim/{made['id']}", params={"before": "x<b>\x00"}, follow_redirects=False
    )
    assert mangled.status_code == 303


def test_who_may_use_the_page(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    account(ctx, operator, workspace, "mia@example.com", role="member")
    assert browser_of(ctx, "mia@example.com").get(f"/admin/{workspace.id}/scim").status_code == 403
    account(ctx, operator, workspace, "olga@example.com")
    browser = browser_of(ctx, "olga@example.com")
    everywhere, _ = scim_tokens.create(ctx, operator, org.id, name="Entra")
    listed = browser.get(f"/admin/{workspace.id}/scim").text
    assert "Every workspace" in listed and "Managed by the organization" in listed
    assert f"/scim/{everywhere['id']}/revoke" not in listed
    question = browser.get(f"/admin/{workspace.id}/scim/{everywhere['id']}/revoke")
    assert (
        question.status_code == 200
        and "revoked by the organization" in question.text
        and "<form" not in question.text.split("<main", 1)[-1]
    )
    token = csrf(listed)
    refused = browser.post(f"/admin/{workspace.id}/scim/{everywhere['id']}/revoke", data={"csrftoken": token})
    assert refused.status_code == 403 and scim_tokens.get(ctx, operator, org.id, everywhere["id"])["revoked_at"] is None
    assert browser.get(f"/admin/{workspace.id}/scim/{everywhere['id']}").status_code == 403
    sibling = tenancy.create_workspace(ctx, operator, org.id, "Acme Sibling")
    theirs, _ = scim_tokens.create(ctx, operator, org.id, name="Sibling IdP", workspace_id=sibling.id)
    other_org = tenancy.create_organization(ctx, operator, "Globex")
    foreign, _ = scim_tokens.create(ctx, operator, other_org.id, name="Globex IdP")
    for token_id in (theirs["id"], foreign["id"], "no-such-id"):
        assert browser.get(f"/admin/{workspace.id}/scim/{token_id}").status_code == 404
        assert browser.get(f"/admin/{workspace.id}/scim/{token_id}/revoke").status_code == 404
        assert (
            browser.post(f"/admin/{workspace.id}/scim/{token_id}/revoke", data={"csrftoken": token}).status_code == 404
        )
    assert scim_tokens.get(ctx, operator, org.id, theirs["id"])["revoked_at"] is None
    assert browser.get(f"/admin/{sibling.id}/scim").status_code in (403, 404)
