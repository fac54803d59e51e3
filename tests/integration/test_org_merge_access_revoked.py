"""What an acquired organization loses on a merge (issue 17), on both databases: its API and SCIM
tokens worked before and get 401 after, its webhook endpoints are disabled, its apps' refresh and
access tokens are revoked, each audited; the merge plan lists them first as "will be revoked"; a
refused merge revokes nothing; the inviting organization's own access is untouched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select
from support.api import api_token, client
from support.org_worlds import PersonSpec, build, events, signed_in
from support.pages import browser_signed_in

from admit.adapters.persistence import tables as t
from admit.admin import organization_invitations as oi
from admit.admin import scim_tokens, webhooks
from admit.oidc_provider import clients as oidc_clients
from admit.oidc_provider.clients import ClientInput
from admit.shared.context import Actor, Context


def _refresh_token(ctx: Context, organization_id: str, client_id: str, account_id: str) -> str:
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        conn = uow.conn  # type: ignore[attr-defined]
        token_id = "rt" + client_id[:20]
        conn.execute(
            insert(t.oidc_refresh_tokens).values(
                id=token_id, digest="d" * 40 + client_id[:24], family_id="f" + client_id[:20],
                organization_id=organization_id, client_id=client_id, account_id=account_id, scope="openid",
                auth_time=now, created_at=now, expires_at=now + timedelta(days=30),
            )
        )  # fmt: skip
        uow.commit()
    return token_id


def _revoked_at(ctx: Context, token_id: str) -> object:
    with ctx.uow() as uow:
        conn = uow.conn  # type: ignore[attr-defined]
        r = t.oidc_refresh_tokens.c
        return conn.execute(select(r.revoked_at).where(r.id == token_id)).scalar_one()


def _world(ctx: Context, operator: Actor, seats: int = 10) -> tuple[object, object, dict[str, object]]:
    acme = build(ctx, operator, "Acme", seats=seats, enforced=True)
    paid = build(
        ctx, operator, "Pat's", plan="business", people=[PersonSpec("pat@pro.example", org_role="system_admin")]
    )
    org_id, workspace_id = paid.org.id, paid.workspaces[0].id
    scim, scim_secret = scim_tokens.create(ctx, operator, org_id, name="Entra <ID>", workspace_id=workspace_id)
    hook, _ = webhooks.create(ctx, operator, org_id, url="https://hooks.pat.example.test/in")
    app, _ = oidc_clients.create(ctx, operator, org_id, ClientInput("Pat's app", ["https://app.pat.example/cb"]))
    refresh = _refresh_token(ctx, org_id, app["client_id"], paid.accounts["pat@pro.example"])
    found = {
        "api": api_token(ctx, org_id, role="owner"),
        "acme_api": api_token(ctx, acme.org.id, role="owner"),
        "scim": scim_secret, "scim_id": scim["id"], "hook": hook["id"], "app": app["client_id"], "refresh": refresh,
    }  # fmt: skip
    return acme, paid, found


def test_an_acquired_organizations_tokens_webhooks_and_app_tokens_stop_working(ctx: Context, operator: Actor) -> None:
    acme, paid, access = _world(ctx, operator)
    org_id = paid.org.id  # type: ignore[attr-defined]
    api = client(ctx, str(access["api"]))
    scim = client(ctx, str(access["scim"]))
    assert api.get(f"/api/v1/organizations/{org_id}/groups").status_code == 200
    assert scim.get("/scim/v2/Users").status_code == 200
    invitation, _ = oi.invite(ctx, operator, acme.org.id, "pat@pro.example")  # type: ignore[attr-defined]
    plan = oi.merge_plan(ctx, operator, acme.org.id, invitation.id)  # type: ignore[attr-defined]
    assert plan.allowed and {(a.kind, a.id) for a in plan.revoked} >= {
        ("scim_token", access["scim_id"]), ("webhook", access["hook"]), ("app", access["app"]),
    }  # fmt: skip
    assert sum(a.kind == "api_token" for a in plan.revoked) == 1
    shown = client(ctx, api_token(ctx, acme.org.id, role="owner")).get(  # type: ignore[attr-defined]
        f"/api/v1/organizations/{acme.org.id}/invitations/{invitation.id}/merge-plan"  # type: ignore[attr-defined]
    )
    assert any(a["kind"] == "scim_token" and a["name"] == "Entra <ID>" for a in shown.json()["revoked"])
    page = browser_signed_in(ctx, "pat@pro.example", "x" * 20).get(f"/home/org-invitations/{invitation.id}").text  # type: ignore[attr-defined]
    assert "SCIM token Entra &lt;ID&gt; will be revoked" in page and "<ID>" not in page
    assert "Webhook endpoint https://hooks.pat.example.test/in will be disabled" in page
    assert "The sign-ins of app Pat&#39;s app will be revoked" in page
    oi.accept(ctx, signed_in(ctx, paid.accounts["pat@pro.example"]), invitation_id=invitation.id)  # type: ignore[attr-defined]
    assert api.get(f"/api/v1/organizations/{org_id}/groups").status_code == 401
    assert scim.get("/scim/v2/Users").status_code == 401
    assert webhooks.get(ctx, operator, org_id, str(access["hook"]))["enabled"] is False
    assert _revoked_at(ctx, str(access["refresh"])) is not None
    lost = [e for e in events(ctx, org_id) if e == "organization.access_revoked"]
    assert len(lost) == len(plan.revoked) == 4
    acme_api = client(ctx, str(access["acme_api"]))  # the inviting organization's own access is untouched
    assert acme_api.get(f"/api/v1/organizations/{acme.org.id}/groups").status_code == 200  # type: ignore[attr-defined]


def test_a_refused_merge_revokes_nothing(ctx: Context, operator: Actor) -> None:
    acme, paid, access = _world(ctx, operator, seats=0)
    invitation, _ = oi.invite(ctx, operator, acme.org.id, "pat@pro.example")  # type: ignore[attr-defined]
    with pytest.raises(oi.MergeRefused):
        oi.accept(ctx, signed_in(ctx, paid.accounts["pat@pro.example"]), invitation_id=invitation.id)  # type: ignore[attr-defined]
    org_id = paid.org.id  # type: ignore[attr-defined]
    assert client(ctx, str(access["api"])).get(f"/api/v1/organizations/{org_id}/groups").status_code == 200
    assert client(ctx, str(access["scim"])).get("/scim/v2/Users").status_code == 200
    assert webhooks.get(ctx, operator, org_id, str(access["hook"]))["enabled"] is True
    assert _revoked_at(ctx, str(access["refresh"])) is None


def test_the_acquired_sso_provider_is_kept_but_leaves_the_moved_workspaces(ctx: Context, operator: Actor) -> None:
    """An account once on the enterprise plan kept its provider; the merge keeps the row (with the
    closed account) and takes its method off the moved workspace, which stops requiring SSO."""
    acme = build(ctx, operator, "Acme")
    paid = build(
        ctx, operator, "Pat's", plan="business", people=[PersonSpec("pat@pro.example", org_role="system_admin")]
    )
    now = ctx.clock.now()
    workspace_id = paid.workspaces[0].id
    with ctx.uow(write=True) as uow:
        provider_id = uow.identity_providers.add(
            organization_id=paid.org.id, kind="sso", name="Pat <IdP>", issuer="https://idp.pat.example",
            client_id="admit", client_secret="sealed", scopes=["openid"], claims={}, created_at=now,
        )  # fmt: skip
        uow.workspaces.update(paid.org.id, workspace_id, login_methods=[f"sso:{provider_id}"], sso_required=True)
        uow.commit()
    invitation, _ = oi.invite(ctx, operator, acme.org.id, "pat@pro.example")
    plan = oi.merge_plan(ctx, operator, acme.org.id, invitation.id)
    assert ("sso_provider", provider_id, "Pat <IdP>") in [(a.kind, a.id, a.name) for a in plan.revoked]
    oi.accept(ctx, signed_in(ctx, paid.accounts["pat@pro.example"]), invitation_id=invitation.id)
    with ctx.uow() as uow:
        moved = uow.workspaces.get(acme.org.id, workspace_id)
        kept = uow.identity_providers.get(paid.org.id, provider_id)
    assert moved is not None and (list(moved.login_methods), moved.sso_required) == (["password"], False)
    assert kept is not None  # kept with the closed account, unused
    assert "workspace.updated" in events(ctx, acme.org.id)
