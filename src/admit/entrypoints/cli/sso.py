"""Commands for single sign-on: identity providers and a workspace's login policy."""

from __future__ import annotations

import typer

from admit.admin import identity_providers, tenancy
from admit.admin.identity_providers import DEFAULT_SCOPES, ProviderInput
from admit.domain.errors import ValidationFailed
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record, show_table

sso = typer.Typer(help="Single sign-on: OpenID Connect identity providers.", no_args_is_help=True)
PROVIDER_FIELDS = ("id", "kind", "organization_id", "name", "issuer", "client_id", "scopes")
SECRET_HELP = "Client secret (prompted for, or ADMIT_SSO_CLIENT_SECRET); stored encrypted, never shown."


def register(app: typer.Typer, workspace: typer.Typer) -> None:
    app.add_typer(sso, name="sso")
    workspace.command("login")(workspace_login)


def _claims(pairs: list[str] | None) -> dict[str, str]:
    mapping = {}
    for pair in pairs or []:
        name, sep, claim = pair.partition("=")
        if not sep or not claim:
            raise ValidationFailed(f"use FIELD=CLAIM, e.g. first_name=given_name (got {pair!r})", field="claim")
        mapping[name.strip()] = claim.strip()
    return mapping


def _add(
    organization_id: str | None,
    name: str,
    issuer: str,
    client_id: str,
    secret: str,
    scopes: list[str] | None,
    claims: list[str] | None,
) -> None:
    given = ProviderInput(
        name=name,
        issuer=issuer,
        client_id=client_id,
        client_secret=secret,
        scopes=list(scopes or DEFAULT_SCOPES),
        claims=_claims(claims),
    )
    provider = identity_providers.create(context(), OPERATOR, organization_id, given)
    show_record("Identity provider created", provider, PROVIDER_FIELDS)
    console.print(f"Redirect URI to register at the provider: {context().link('/sso/callback')}")
    console.print(f"Allow it in a workspace: admit workspace login WORKSPACE_ID --method {provider.kind}:{provider.id}")


@sso.command("add")
@friendly
def sso_add(
    organization_id: str,
    name: str,
    issuer: str = typer.Option(..., help="Issuer URL (discovery at <issuer>/.well-known/openid-configuration)."),
    client_id: str = typer.Option(..., help="Client id registered at the provider."),
    client_secret: str = typer.Option(
        ..., prompt=True, hide_input=True, envvar="ADMIT_SSO_CLIENT_SECRET", help=SECRET_HELP
    ),
    scope: list[str] = typer.Option(None, help="Scopes (repeat); default openid email profile."),
    claim: list[str] = typer.Option(None, help="Claim mapping FIELD=CLAIM for first_name, last_name, email, groups."),
) -> None:
    """Add an organization's OpenID Connect provider (enterprise plan)."""
    _add(organization_id, name, issuer, client_id, client_secret, scope, claim)


@sso.command("add-personal")
@friendly
def sso_add_personal(
    name: str,
    issuer: str = typer.Option(..., help="Issuer URL."),
    client_id: str = typer.Option(..., help="Client id registered at the provider."),
    client_secret: str = typer.Option(
        ..., prompt=True, hide_input=True, envvar="ADMIT_SSO_CLIENT_SECRET", help=SECRET_HELP
    ),
    scope: list[str] = typer.Option(None, help="Scopes (repeat); default openid email profile."),
    claim: list[str] = typer.Option(None, help="Claim mapping FIELD=CLAIM."),
) -> None:
    """Add an instance-wide personal provider (such as personal Microsoft accounts)."""
    _add(None, name, issuer, client_id, client_secret, scope, claim)


@sso.command("list")
@friendly
def sso_list(
    organization_id: str = typer.Argument(None, help="Organization; omitted: the personal providers."),
) -> None:
    """List an organization's providers, or the instance's personal ones."""
    rows = identity_providers.list_providers(context(), OPERATOR, organization_id)
    show_table(PROVIDER_FIELDS, rows, empty="No identity providers.")


@sso.command("remove")
@friendly
def sso_remove(provider_id: str) -> None:
    """Remove a provider that no workspace allows any more."""
    identity_providers.remove(context(), OPERATOR, provider_id)
    console.print("Identity provider removed.")


@friendly
def workspace_login(
    workspace_id: str,
    method: list[str] = typer.Option(None, help="Allowed login method (repeat): password, sso:ID, personal:ID."),
    sso_required: bool = typer.Option(None, "--sso-required/--no-sso-required", help="Refuse password paths."),
    jit: bool = typer.Option(None, "--jit/--no-jit", help="Create members at their first SSO sign-in."),
    jit_domain: list[str] = typer.Option(None, help="Email domain just-in-time members may have (repeat)."),
    default_role: str = typer.Option(None, help="Role of just-in-time members."),
    default_department: str = typer.Option(None, help="Department of just-in-time members."),
    default_job_profile: str = typer.Option(None, help="Job profile of just-in-time members."),
) -> None:
    """Set a workspace's login policy (only the options given)."""
    given = {
        "login_methods": method or None,
        "sso_required": sso_required,
        "jit_enabled": jit,
        "jit_domains": jit_domain or None,
        "default_role": default_role,
        "default_department": default_department,
        "default_job_profile": default_job_profile,
    }
    row = tenancy.update_workspace(context(), OPERATOR, workspace_id, {k: v for k, v in given.items() if v is not None})
    show_record(
        "Login policy updated",
        dict(row._mapping),
        ("id", "name", "login_methods", "sso_required", "jit_enabled", "jit_domains", "default_role"),
    )
