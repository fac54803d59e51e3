"""``admit demo``: a demo organization, workspace and owner, made through the real use cases."""

from __future__ import annotations

import typer

from admit.adapters.persistence import migrate
from admit.admin import members, tenancy
from admit.admin.profiles import MemberInput
from admit.admin.tenancy import WorkspaceSettings
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, settings
from admit.flows.invitation import claims
from admit.flows.signin import sessions

ORG = "Demo Organization"
EMAIL = "owner@demo.example"
PASSWORD = "lantern-orchard-velvet-42"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


@friendly
def demo() -> None:
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
        _, invitation = members.provision(
            ctx,
            OPERATOR,
            workspace.id,
            MemberInput(email=EMAIL, first_name="Dana", last_name="Demo", role="owner"),
            invite=True,
        )
        assert invitation is not None
        with ctx.uow() as uow:
            link = next(m.payload["link"] for m in uow.outbox.list(org.id) if m.subject_id == invitation.id)
        claims.accept_with_token(ctx, link.rsplit("/", 1)[1], password=PASSWORD)
    workspace = tenancy.list_workspaces(ctx, OPERATOR, org.id)[0]
    token, _ = sessions.create_api_token(ctx, OPERATOR, name="demo", role="admin", organization_id=org.id)
    base = settings().base_url
    console.print(
        f"""[bold]Demo ready[/bold]
  organization  {org.id}  ({ORG})
  workspace     {workspace.id}  (Demo Workspace)
  owner         {EMAIL} / password {PASSWORD}
  API token     {token}  (admin; a new one on each run)

Sign in (browser):     {base}/sign-in  as {EMAIL} / {PASSWORD}
Sign in (API):         curl -s -X POST {base}/api/v1/sessions -H 'content-type: application/json' \\
                         -d '{{"identifier": "{EMAIL}", "password": "{PASSWORD}"}}'
Invite someone:        curl -s -X POST {base}/api/v1/workspaces/{workspace.id}/invitations \\
                         -H 'authorization: Bearer {token}' -H 'content-type: application/json' \\
                         -d '{{"email": "someone@demo.example"}}'
Read the messages:     {base}/dev/mailbox
API reference:         {base}/api/v1/docs"""
    )
