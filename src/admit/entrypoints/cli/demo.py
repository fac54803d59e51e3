"""``admit demo``: a demo organization, workspace and owner, made through the real use cases."""

from __future__ import annotations

from pathlib import Path

import typer

from admit.adapters.persistence import migrate
from admit.admin import members, tenancy
from admit.admin.profiles import MemberInput
from admit.admin.tenancy import WorkspaceSettings
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, settings
from admit.flows.settings import password_change
from admit.flows.signin import sessions
from admit.oidc_provider import clients
from admit.oidc_provider.clients import ClientInput
from admit.shared.context import Actor, ActorKind

ORG = "Demo Organization"
EMAIL = "owner@demo.example"
INVITEE = "sam@demo.example"  # invited by the owner, not joined yet
PASSWORD = "lantern-orchard-velvet-42"
EXAMPLE_APP = "Example Shop"
EXAMPLE_URL = "http://127.0.0.1:8001"  # examples/shop_app.py


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


@friendly
def demo(
    example_app: Path = typer.Option(
        None,
        help="Register examples/shop_app.py (on 127.0.0.1:8001) as the demo's app, point the workspace's "
        "app URL at its login and write its client id and secret to this file (as environment variables).",
    ),
) -> None:
    """Migrate, then seed a demo organization, workspace and owner (idempotent) and print how to
    sign in. Dev mode only."""
    if not settings().dev_mode:
        console.print("The demo is for dev mode only (ADMIT_DEV_MODE=true).")
        raise typer.Exit(2)
    migrate.upgrade(settings().database_url)
    ctx = context()
    org = next((o for o in tenancy.list_organizations(ctx, OPERATOR) if o.name == ORG), None)
    if org is None:
        org = tenancy.create_organization(ctx, OPERATOR, ORG, plan="enterprise", seats=50)
        workspace = tenancy.create_workspace(
            ctx,
            OPERATOR,
            org.id,
            "Demo Workspace",
            WorkspaceSettings(
                departments=["Operations", "Sales"], job_profiles=["Engineer", "Manager"], sms_enabled=True
            ),
        )
        # The owner is active at once (no invitation in the mailbox to someone who has joined):
        # an initial password, replaced by the demo's at once, as the person would at first sign-in.
        initial = f"{ctx.random.token(18)}-Aa9"
        owner = members.provision_active(
            ctx,
            OPERATOR,
            workspace.id,
            MemberInput(email=EMAIL, first_name="Dana", last_name="Demo", role="owner"),
            initial,
        )
        assert owner.account_id is not None
        password_change.change_password(ctx, owner.account_id, initial, PASSWORD)
        # The mailbox's first message: the owner's invitation to someone who has not joined yet.
        members.provision(
            ctx,
            Actor(ActorKind.ACCOUNT, id=owner.account_id),
            workspace.id,
            MemberInput(email=INVITEE, first_name="Sam", last_name="Sample"),
            invite=True,
        )
    workspace = tenancy.list_workspaces(ctx, OPERATOR, org.id)[0]
    if example_app is not None:
        _register_example_app(org.id, workspace.id, example_app)
    token, _ = sessions.create_api_token(ctx, OPERATOR, name="demo", role="admin", organization_id=org.id)
    base = settings().base_url
    console.print(
        f"""[bold]Demo ready[/bold]
  organization  {org.id}  ({ORG})
  workspace     {workspace.id}  (Demo Workspace)
  owner         {EMAIL} / password {PASSWORD}
  API token     {token}  (admin; a new one on each run)

Sign in (browser):     {base}/sign-in  as {EMAIL} / {PASSWORD}
Administration:        {base}/admin/{workspace.id}/people  (the console: people, invitations, settings, …)
Sign in (API):         curl -s -X POST {base}/api/v1/sessions -H 'content-type: application/json' \\
                         -d '{{"identifier": "{EMAIL}", "password": "{PASSWORD}"}}'
Invite someone:        curl -s -X POST {base}/api/v1/workspaces/{workspace.id}/invitations \\
                         -H 'authorization: Bearer {token}' -H 'content-type: application/json' \\
                         -d '{{"email": "someone@demo.example"}}'
Read the messages:     {base}/dev/mailbox  (the newest: {INVITEE}'s invitation)
API reference:         {base}/api/v1/docs"""
    )


def _register_example_app(organization_id: str, workspace_id: str, env_file: Path) -> None:
    """The example app, registered anew (its secret is shown only when it is created) with its
    login URL, where "Let's go" sends people so that the app starts the code flow."""
    ctx = context()
    for app in clients.list_clients(ctx, OPERATOR, organization_id):
        if app["name"] == EXAMPLE_APP:
            clients.remove(ctx, OPERATOR, organization_id, app["client_id"])
    given = ClientInput(
        name=EXAMPLE_APP,
        redirect_uris=[f"{EXAMPLE_URL}/callback"],
        workspace_ids=[workspace_id],
        initiate_login_uri=f"{EXAMPLE_URL}/login",
        post_logout_redirect_uris=[f"{EXAMPLE_URL}/"],
        backchannel_logout_uri=f"{EXAMPLE_URL}/backchannel-logout",
    )
    app, secret = clients.create(ctx, OPERATOR, organization_id, given)
    tenancy.update_workspace(ctx, OPERATOR, workspace_id, {"app_url": f"{EXAMPLE_URL}/"})
    env_file.write_text(
        f"ADMIT_ISSUER={settings().base_url}\nEXAMPLE_URL={EXAMPLE_URL}\n"
        f"EXAMPLE_CLIENT_ID={app['client_id']}\nEXAMPLE_CLIENT_SECRET={secret}\n"
    )
    env_file.chmod(0o600)
    console.print(f"Example app: {EXAMPLE_URL}  (registered as {app['client_id']}; signs in through Admit)")
