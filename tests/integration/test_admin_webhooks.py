"""Webhooks in the workspace admin console, on both databases: adding an endpoint (the error next
to the field with what was typed kept, the secret shown once), the list, a test event, a new
secret, disabling, the delivery log and "Send again"; an organization-wide endpoint listed
read-only; a member without manage settings refused."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from support.pages import csrf
from test_admin_apps import account, browser_of

from admit.admin import webhooks
from admit.shared.context import Actor, Context


def test_an_admin_adds_an_endpoint_sees_the_secret_once_and_operates_it(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    account(ctx, operator, workspace, "olga@example.com", role="admin")
    browser = browser_of(ctx, "olga@example.com")
    settings = browser.get(f"/admin/{workspace.id}/settings").text
    assert f'href="/admin/{workspace.id}/webhooks"' in settings
    listed = browser.get(f"/admin/{workspace.id}/webhooks")
    assert listed.status_code == 200 and "No webhooks yet." in listed.text
    token = csrf(listed.text)
    bad = browser.post(
        f"/admin/{workspace.id}/webhooks/new",
        data={"url": "https://10.0.0.1/<b>x</b>", "type_member.suspended": "yes", "csrftoken": token},
    )
    assert bad.status_code == 422 and 'aria-describedby="url-error"' in bad.text
    assert 'value="https://10.0.0.1/&lt;b&gt;x&lt;/b&gt;"' in bad.text and "<b>x" not in bad.text
    assert 'name="type_member.suspended" value="yes" checked' in bad.text
    assert webhooks.list_endpoints(ctx, operator, org.id) == []
    done = browser.post(
        f"/admin/{workspace.id}/webhooks/new",
        data={"url": "https://hooks.acme.example.test/in", "type_member.suspended": "yes", "csrftoken": token},
    )
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    secret = re.search(r'id="webhook-secret">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    assert secret.startswith("whsec_") and "it will not be shown again" in done.text
    [hook] = webhooks.list_endpoints(ctx, operator, org.id)
    assert hook["workspace_id"] == workspace.id and hook["event_types"] == ["member.suspended"]
    listed = browser.get(f"/admin/{workspace.id}/webhooks").text
    assert "https://hooks.acme.example.test/in" in listed and secret not in listed
    sent = browser.post(
        f"/admin/{workspace.id}/webhooks/{hook['id']}/test", data={"csrftoken": token}, follow_redirects=False
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=test")
    log = browser.get(f"/admin/{workspace.id}/webhooks/{hook['id']}").text
    assert "webhook.test" in log and "queued" in log
    message_id = re.search(r'data-message="(\d+)"', log).group(1)  # type: ignore[union-attr]
    again = browser.post(
        f"/admin/{workspace.id}/webhooks/{hook['id']}/messages/{message_id}/replay", data={"csrftoken": token},
        follow_redirects=False,
    )  # fmt: skip
    assert again.status_code == 303
    rotated = browser.post(f"/admin/{workspace.id}/webhooks/{hook['id']}/rotate", data={"csrftoken": token})
    new = re.search(r'id="webhook-secret">([^<]+)<', rotated.text).group(1)  # type: ignore[union-attr]
    assert new != secret and "two signatures" in rotated.text
    browser.post(f"/admin/{workspace.id}/webhooks/{hook['id']}/disable", data={"csrftoken": token})
    assert webhooks.get(ctx, operator, org.id, hook["id"])["enabled"] is False
    assert browser.get(f"/admin/{workspace.id}/webhooks/{'0' * 32}").status_code == 404


def test_an_organization_wide_endpoint_is_read_only_and_a_member_is_refused(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    everywhere, _ = webhooks.create(
        dataclasses.replace(ctx, dev_mode=False), operator, org.id, url="https://hooks.org.example.test/in"
    )
    account(ctx, operator, workspace, "olga@example.com", role="owner")
    browser = browser_of(ctx, "olga@example.com")
    listed = browser.get(f"/admin/{workspace.id}/webhooks").text
    assert "https://hooks.org.example.test/in" in listed and "Managed by the organization" in listed
    token = csrf(listed)
    refused = browser.post(f"/admin/{workspace.id}/webhooks/{everywhere['id']}/disable", data={"csrftoken": token})
    assert refused.status_code == 403
    assert webhooks.get(ctx, operator, org.id, everywhere["id"])["enabled"] is True
    account(ctx, operator, workspace, "mia@example.com", role="member")
    member = browser_of(ctx, "mia@example.com")
    assert member.get(f"/admin/{workspace.id}/webhooks").status_code in (403, 404)
