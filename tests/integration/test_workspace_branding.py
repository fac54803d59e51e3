"""Workspace branding on both databases: the accent colour and the logo through every door (the
REST API, the console's settings page, the service), refusals for members and other tenants,
the served files' headers, the branded invitee pages and the invitation email."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import api_token, client
from support.images import png, svg
from support.outbox import messages, token_for
from support.pages import browser_signed_in, csrf

from admit.adapters.delivery.render import render
from admit.admin import audit, branding, invitations, members, tenancy
from admit.admin import terms as admin_terms
from admit.admin.profiles import MemberInput
from admit.domain.errors import NotFound, PermissionDenied, ValidationFailed
from admit.flows.invitation import claims
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "harbour-quill-meadow-64"
DARK_RED = "#7a1f00"


def logo_url(body: dict[str, Any]) -> str:
    return str(body["url"])


def put_logo(api: TestClient, workspace: Any, data: bytes, content_type: str) -> Any:
    return api.put(f"/api/v1/workspaces/{workspace.id}/logo", content=data, headers={"content-type": content_type})


def joined(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "admin") -> TestClient:
    members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    return browser_signed_in(ctx, email, PASSWORD)


# The REST API ------------------------------------------------------------------------------------
def test_the_accent_colour_is_a_workspace_setting(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    changed = api.patch(f"/api/v1/workspaces/{workspace.id}", json={"accent_color": "#7A1F00"})
    assert changed.status_code == 200 and changed.json()["accent_color"] == DARK_RED
    for bad, wording in (("#ffff00", "4.5:1"), ("red", "six hexadecimal digits"), ("#12345", "six hexadecimal")):
        refused = api.patch(f"/api/v1/workspaces/{workspace.id}", json={"accent_color": bad})
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["field"] == "accent_color" and wording in refused.json()["error"]["message"]
    assert api.get(f"/api/v1/workspaces/{workspace.id}").json()["accent_color"] == DARK_RED
    reset = api.patch(f"/api/v1/workspaces/{workspace.id}", json={"accent_color": None})
    assert reset.status_code == 200 and reset.json()["accent_color"] is None
    created = api.post(f"/api/v1/organizations/{org.id}/workspaces", json={"name": "Two", "accent_color": "#FFFFFF"})
    assert created.status_code == 422 and created.json()["error"]["field"] == "accent_color"


def test_a_png_logo_is_stored_and_served_with_strict_headers(
    ctx: Context, org: Any, workspace: Any, operator: Actor
) -> None:
    api = client(ctx, api_token(ctx, org.id))
    stored = put_logo(api, workspace, png(32, 16, text=b"author"), "image/png")
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert body["content_type"] == "image/png" and re.fullmatch(r"[0-9a-f]{64}", body["digest"])
    assert logo_url(body) == f"/brand/{workspace.id}/logo-{body['digest']}.png"
    served = client(ctx).get(logo_url(body))  # no sign-in: invitee pages are seen before it
    assert served.status_code == 200 and served.content == png(32, 16)  # its text chunk dropped
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers.get_list("x-content-type-options") == ["nosniff"]
    assert served.headers["content-security-policy"].startswith("default-src 'none'")
    events = audit.events(ctx, operator, workspace.id, action="workspace.logo_changed")
    assert len(events) == 1 and events[0]["data"]["content_type"] == "image/png"


def test_an_svg_logo_is_served_sanitised_in_a_sandbox(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    hostile = svg(
        '<script>alert(1)</script><image href="https://evil.example/x.png"/><rect width="4"/>', 'onload="x()"'
    )
    stored = put_logo(api, workspace, hostile, "image/svg+xml")
    assert stored.status_code == 200 and logo_url(stored.json()).endswith(".svg")
    served = client(ctx).get(logo_url(stored.json()))
    assert served.status_code == 200 and served.headers["content-type"] == "image/svg+xml"
    assert b"script" not in served.content and b"evil" not in served.content and b"onload" not in served.content
    assert b'<rect width="4" />' in served.content
    assert served.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert served.headers.get_list("x-content-type-options") == ["nosniff"]


def test_unknown_logos_and_themes_are_the_not_found_page(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    body = put_logo(api, workspace, png(), "image/png").json()
    browser = client(ctx)
    for path in (
        logo_url(body).replace(".png", ".svg"),  # the wrong kind
        f"/brand/{workspace.id}/logo-{'0' * 64}.png",  # an old or made-up digest
        f"/brand/nope/logo-{body['digest']}.png",
        f"/brand/{workspace.id}/theme-7a1f00.css",  # the workspace has no such colour
        f"/brand/{workspace.id}/theme-<script>.css",
        f"/brand/{workspace.id}/passwords.txt",
    ):
        missing = browser.get(path)
        assert missing.status_code == 404, path
        assert missing.headers["content-type"].startswith("text/html") and "Page not found" in missing.text
    assert api.delete(f"/api/v1/workspaces/{workspace.id}/logo").status_code == 204
    assert browser.get(logo_url(body)).status_code == 404  # removed: no longer served
    assert api.delete(f"/api/v1/workspaces/{workspace.id}/logo").status_code == 204  # nothing left: still fine


def test_the_api_refuses_what_is_not_a_logo(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    for data, content_type, code in (
        (b"GIF89a....", "image/gif", "unsupported_logo"),
        (svg(), "image/png", "not_an_image"),
        (png(2000, 10), "image/png", "too_large"),
        (b"x" * (100 * 1024 + 1), "image/svg+xml", "too_large"),
        (b'<!DOCTYPE svg [<!ENTITY a "a">]><svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml", "svg_doctype"),
        (b"", "image/png", "empty_logo"),
    ):
        refused = put_logo(api, workspace, data, content_type)
        assert refused.status_code == 422, code
        assert refused.json()["error"] | {"message": ""} == {"code": code, "field": "logo", "message": ""}


def test_members_and_other_tenants_may_not_change_the_branding(
    ctx: Context, org: Any, workspace: Any, operator: Actor
) -> None:
    member = client(ctx, api_token(ctx, org.id, role="member"))
    assert put_logo(member, workspace, png(), "image/png").status_code == 403
    assert member.delete(f"/api/v1/workspaces/{workspace.id}/logo").status_code == 403
    assert member.patch(f"/api/v1/workspaces/{workspace.id}", json={"accent_color": DARK_RED}).status_code == 403
    other = tenancy.create_organization(ctx, operator, "Other")
    stranger = client(ctx, api_token(ctx, other.id))
    assert put_logo(stranger, workspace, png(), "image/png").status_code == 404
    assert stranger.delete(f"/api/v1/workspaces/{workspace.id}/logo").status_code == 404
    assert client(ctx).put(f"/api/v1/workspaces/{workspace.id}/logo", content=png()).status_code == 401
    guest = Actor(ActorKind.API_TOKEN, id="t", organization_id=org.id, role=None)
    with pytest.raises((PermissionDenied, NotFound, AssertionError)):
        branding.set_logo(ctx, guest, workspace.id, "a.png", "image/png", png())
    assert branding.logo(ctx, workspace.id) is None


# The console's settings page ---------------------------------------------------------------------
def upload(
    browser: TestClient, workspace: Any, name: str, data: bytes, content_type: str = "image/png", page: str = ""
) -> Any:
    token = csrf(browser.get(page or f"/admin/{workspace.id}/settings").text)
    return browser.post(
        f"/admin/{workspace.id}/settings/logo",
        data={"csrftoken": token},
        files={"logo": (name, data, content_type)},
        follow_redirects=False,
    )


def test_an_admin_uploads_previews_and_removes_the_logo(ctx: Context, operator: Actor, workspace: Any) -> None:
    admin = joined(ctx, operator, workspace, "olga@example.com")
    page = admin.get(f"/admin/{workspace.id}/settings")
    assert "Branding" in page.text and "No logo yet" in page.text
    saved = upload(admin, workspace, "logo.png", png(40, 20))
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=logo#branding-title")
    shown = admin.get(f"/admin/{workspace.id}/settings?done=logo").text
    view = branding.current_logo(ctx, operator, workspace.id)
    assert view is not None and f'class="logo-preview" src="{view.url}"' in shown and "The logo was saved." in shown
    token = csrf(shown)
    removed = admin.post(
        f"/admin/{workspace.id}/settings/logo/remove", data={"csrftoken": token}, follow_redirects=False
    )
    assert removed.status_code == 303 and branding.current_logo(ctx, operator, workspace.id) is None


def test_a_refused_upload_is_shown_next_to_the_file_field(ctx: Context, operator: Actor, workspace: Any) -> None:
    admin = joined(ctx, operator, workspace, "olga@example.com")
    refused = upload(admin, workspace, "huge.png", png(1500, 1500))
    assert refused.status_code == 422
    assert 'id="logo-error"' in refused.text and "1500×1500 pixels" in refused.text
    assert 'aria-invalid="true"' in refused.text and "Traceback" not in refused.text
    markup = upload(admin, workspace, "<b>x</b>.svg", b"<html><script>alert(1)</script></html>", "image/svg+xml")
    assert markup.status_code == 422 and "<script>alert" not in markup.text
    assert branding.current_logo(ctx, operator, workspace.id) is None


def test_the_logo_form_needs_its_csrf_token_and_the_permission(ctx: Context, operator: Actor, workspace: Any) -> None:
    admin = joined(ctx, operator, workspace, "olga@example.com")
    forged = admin.post(
        f"/admin/{workspace.id}/settings/logo", files={"logo": ("a.png", png(), "image/png")}, follow_redirects=False
    )
    assert forged.status_code == 403 and branding.current_logo(ctx, operator, workspace.id) is None
    member = joined(ctx, operator, workspace, "mia@example.com", role="member")
    denied = upload(member, workspace, "a.png", png(), page="/")  # the settings page refuses them
    assert denied.status_code in (403, 404) and branding.current_logo(ctx, operator, workspace.id) is None


def test_the_accent_colour_is_saved_with_the_settings(ctx: Context, operator: Actor, workspace: Any) -> None:
    admin = joined(ctx, operator, workspace, "olga@example.com")
    page = admin.get(f"/admin/{workspace.id}/settings").text
    form = {
        "csrftoken": csrf(page),
        "name": "Acme Main",
        "default_language": "en",
        "invitation_lifetime_days": "7",
        "access_code_lifetime_days": "30",
        "email_enabled": "yes",
        "sms_daily_cap": "500",
        "password_policy": "length",
        "login_password": "yes",
    }
    too_light = admin.post(f"/admin/{workspace.id}/settings", data={**form, "accent_color": "#FFEE00"})
    assert too_light.status_code == 422 and 'id="accent_color-error"' in too_light.text
    assert 'value="#FFEE00"' in too_light.text and "4.5:1" in too_light.text
    saved = admin.post(
        f"/admin/{workspace.id}/settings", data={**form, "accent_color": " #7A1F00 "}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert tenancy.get_workspace(ctx, operator, workspace.id).accent_color == DARK_RED
    assert f'value="{DARK_RED}"' in admin.get(f"/admin/{workspace.id}/settings").text
    cleared = admin.post(f"/admin/{workspace.id}/settings", data={**form, "accent_color": ""}, follow_redirects=False)
    assert cleared.status_code == 303 and tenancy.get_workspace(ctx, operator, workspace.id).accent_color is None


# What invited people see -------------------------------------------------------------------------
def test_the_welcome_page_shows_the_logo_and_links_the_theme(ctx: Context, operator: Actor, workspace: Any) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"accent_color": DARK_RED})
    view = branding.set_logo(ctx, operator, workspace.id, "logo.png", "image/png", png())
    members.provision(ctx, operator, workspace.id, MemberInput(email="ina@example.com"), invite=True)
    browser = client(ctx)
    welcome = browser.get(f"/i/{token_for(ctx, 'ina@example.com')}")
    assert welcome.status_code == 200
    assert f'<img class="brand-logo" src="{view.url}" alt="Acme Main">' in welcome.text
    theme = f"/brand/{workspace.id}/theme-7a1f00.css"
    assert f'<link rel="stylesheet" href="{theme}">' in welcome.text
    css = browser.get(theme)
    assert css.status_code == 200 and css.text == ":root{--accent:#7a1f00}\n"
    assert css.headers["content-type"].startswith("text/css") and "immutable" in css.headers["cache-control"]
    assert "style=" not in welcome.text  # the page's policy allows no inline styles


def test_an_unbranded_welcome_page_is_unchanged(ctx: Context, operator: Actor, workspace: Any) -> None:
    members.provision(ctx, operator, workspace.id, MemberInput(email="ina@example.com"), invite=True)
    welcome = client(ctx).get(f"/i/{token_for(ctx, 'ina@example.com')}")
    assert "<header><strong>Admit</strong></header>" in welcome.text and "/brand/" not in welcome.text


def test_the_joined_page_is_branded_too(ctx: Context, operator: Actor, workspace: Any) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"accent_color": DARK_RED})
    browser = joined(ctx, operator, workspace, "ina@example.com", role="member")
    page = browser.get(f"/joined/{workspace.id}")
    assert page.status_code == 200 and f"/brand/{workspace.id}/theme-7a1f00.css" in page.text


def test_the_terms_page_is_branded_too(ctx: Context, operator: Actor, workspace: Any) -> None:
    browser = joined(ctx, operator, workspace, "ina@example.com", role="member")
    tenancy.update_workspace(ctx, operator, workspace.id, {"accent_color": DARK_RED})
    view = branding.set_logo(ctx, operator, workspace.id, "logo.svg", "image/svg+xml", svg())
    admin_terms.publish(ctx, operator, workspace.id, filename="terms.txt", document=b"Be kind.")
    page = browser.get(f"/terms/{workspace.id}")
    assert page.status_code == 200 and "terms of service" in page.text
    assert f'src="{view.url}" alt="Acme Main"' in page.text and "theme-7a1f00.css" in page.text


# The invitation email ----------------------------------------------------------------------------
def rendered(ctx: Context, recipient: str, kind: str = "invitation") -> Any:
    message = messages(ctx, recipient=recipient, kind=kind)[-1]
    return render(kind, message["language"], message["payload"]), message["payload"]


def test_the_invitation_email_uses_the_colour_and_the_png_logo(ctx: Context, operator: Actor, workspace: Any) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"accent_color": DARK_RED})
    view = branding.set_logo(ctx, operator, workspace.id, "logo.png", "image/png", png())
    _, invitation = members.provision(ctx, operator, workspace.id, MemberInput(email="ina@example.com"), invite=True)
    email, payload = rendered(ctx, "ina@example.com")
    assert "background:#7a1f00" in email.html and "#1f6feb" not in email.html
    assert f'<img src="https://admit.example.test{view.url}" alt="Acme Main"' in email.html  # the configured base URL
    assert payload["logo_url"].startswith("https://admit.example.test/brand/")
    plain = render("invitation", "en", {**payload, "accent_color": None, "logo_url": None})
    assert email.text == plain.text and "#7a1f00" not in email.text  # the plain-text part is unchanged
    assert "<img" not in plain.html and "background:#1f6feb" in plain.html
    assert invitation is not None
    invitations.resend(ctx, operator, invitation.id)
    resent, _ = rendered(ctx, "ina@example.com", "invitation_resent")
    assert "background:#7a1f00" in resent.html and f"https://admit.example.test{view.url}" in resent.html


def test_an_svg_logo_is_left_out_of_emails(ctx: Context, operator: Actor, workspace: Any) -> None:
    branding.set_logo(ctx, operator, workspace.id, "logo.svg", "image/svg+xml", svg())
    members.provision(ctx, operator, workspace.id, MemberInput(email="ina@example.com"), invite=True)
    email, payload = rendered(ctx, "ina@example.com")
    assert payload["logo_url"] is None and "<img" not in email.html and "background:#1f6feb" in email.html


def test_a_tampered_payload_cannot_inject_into_the_email() -> None:
    email = render(
        "invitation",
        "en",
        {
            "link": "https://admit.example.test/i/x",
            "workspace_name": "Acme",
            "expires_at": "2026-12-01T00:00:00+00:00",
            "accent_color": "red;background:url(https://evil.example)",
            "logo_url": "javascript:alert(1)",
        },
    )
    assert "evil" not in email.html and "javascript" not in email.html and "background:#1f6feb" in email.html


def test_the_service_checks_the_colour_for_every_door(ctx: Context, operator: Actor, workspace: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        tenancy.update_workspace(ctx, operator, workspace.id, {"accent_color": "#eeeeee"})
    assert caught.value.field == "accent_color" and "contrast" in caught.value.message
