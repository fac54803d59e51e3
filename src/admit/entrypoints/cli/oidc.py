"""Commands for Admit as an OpenID provider: the organizations' apps (clients) and the signing keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from admit.domain.errors import ValidationFailed
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record, show_table
from admit.oidc_provider import clients, discovery, keys
from admit.oidc_provider.clients import GRANT_TYPES, SCOPES, ClientInput

apps = typer.Typer(help="Apps that sign people in through Admit (OpenID clients).", no_args_is_help=True)
signing = typer.Typer(help="The OpenID provider's signing keys.", no_args_is_help=True)
CLIENT_FIELDS = (
    "client_id",
    "name",
    "client_type",
    "token_endpoint_auth_method",
    "grant_types",
    "redirect_uris",
    "workspace_ids",
)


def register(app: typer.Typer) -> None:
    app.add_typer(apps, name="clients")
    app.add_typer(signing, name="keys")


@apps.command("create")
@friendly
def clients_create(
    organization_id: str,
    name: str,
    redirect_uri: list[str] = typer.Option(..., help="Exact redirect URI (repeat for several)."),
    public: bool = typer.Option(False, help="A public app (single-page or native): no secret, PKCE required."),
    auth_method: str = typer.Option(
        None,
        help="client_secret_basic (default), client_secret_post or private_key_jwt (with --jwks or --jwks-uri); "
        "none for a public app.",
    ),
    grant_type: list[str] = typer.Option(
        None, help=f"Grant types (repeat): {', '.join(GRANT_TYPES)}; default authorization_code only."
    ),
    jwks: str = typer.Option(
        None, help='For private_key_jwt: the public keys, {"keys": [...]}, as JSON or @file.json.'
    ),
    jwks_uri: str = typer.Option(
        None, help="For private_key_jwt, instead of --jwks: where the app publishes its keys."
    ),
    workspace: list[str] = typer.Option(None, help="Limit the app to these workspaces (repeat); default all."),
    post_logout_redirect_uri: list[str] = typer.Option(None, help="Where logout may send people back (exact)."),
    backchannel_logout_uri: str = typer.Option(None, help="Where Admit POSTs logout tokens (back-channel logout)."),
    login_uri: str = typer.Option(
        None, help="The app's login URL: \"Let's go\" sends people there (with iss and target_link_uri)."
    ),
    scope: list[str] = typer.Option(None, help=f"Allowed scopes (repeat); default {' '.join(SCOPES)}."),
) -> None:
    """Register an app; a confidential app's secret is printed this once."""
    given = ClientInput(
        name=name,
        redirect_uris=list(redirect_uri),
        client_type="public" if public else "confidential",
        token_endpoint_auth_method=auth_method,
        workspace_ids=list(workspace or []),
        post_logout_redirect_uris=list(post_logout_redirect_uri or []),
        backchannel_logout_uri=backchannel_logout_uri,
        initiate_login_uri=login_uri,
        allowed_scopes=list(scope or SCOPES),
        grant_types=list(grant_type or ["authorization_code"]),
        jwks=_json_keys(jwks),
        jwks_uri=jwks_uri,
    )
    client, secret = clients.create(context(), OPERATOR, organization_id, given)
    show_record("App registered", client, CLIENT_FIELDS)
    if secret:
        console.print(f"client_secret: {secret}  (shown once: store it in the app now)")
    console.print(f"Discovery: {context().link(discovery.DISCOVERY_PATH)}")


def _json_keys(given: str | None) -> Any:
    """The ``--jwks`` value: inline JSON, or ``@path`` to a JSON file."""
    if given is None:
        return None
    try:
        text = Path(given[1:]).read_text(encoding="utf-8") if given.startswith("@") else given
        return json.loads(text)
    except (OSError, ValueError) as exc:
        raise ValidationFailed(f"cannot read the keys: {exc}", field="jwks") from None


@apps.command("list")
@friendly
def clients_list(organization_id: str) -> None:
    """The organization's apps."""
    rows = clients.list_clients(context(), OPERATOR, organization_id)
    show_table(CLIENT_FIELDS, rows, empty="No apps registered.")


@apps.command("update")
@friendly
def clients_update(
    organization_id: str,
    client_id: str,
    name: str = typer.Option(None, help="A new name."),
    redirect_uri: list[str] = typer.Option(None, help="The redirect URIs (repeat; replaces them all)."),
    auth_method: str = typer.Option(None, help="client_secret_basic or client_secret_post (a secret stays a secret)."),
    grant_type: list[str] = typer.Option(None, help=f"Grant types (repeat; replaces them): {', '.join(GRANT_TYPES)}."),
    jwks: str = typer.Option(None, help='A private_key_jwt app\'s new public keys, {"keys": [...]}, JSON or @file.'),
    jwks_uri: str = typer.Option(None, help="Where a private_key_jwt app now publishes its keys (replaces --jwks)."),
    workspace: list[str] = typer.Option(None, help="Limit the app to these workspaces (repeat; replaces them)."),
    all_workspaces: bool = typer.Option(False, "--all-workspaces", help="Serve every workspace."),
    post_logout_redirect_uri: list[str] = typer.Option(None, help="Where logout may send people back (repeat)."),
    backchannel_logout_uri: str = typer.Option(None, help='Where logout tokens go ("" for nowhere).'),
    login_uri: str = typer.Option(None, help='The app\'s login URL ("" for none).'),
    scope: list[str] = typer.Option(None, help=f"Allowed scopes (repeat; replaces them): {' '.join(SCOPES)}."),
) -> None:
    """Change an app's registration; what is not given stays. Narrowing its scopes, grants,
    workspaces or keys revokes its refresh tokens."""
    changes: dict[str, Any] = {}
    lists = {
        "redirect_uris": redirect_uri,
        "grant_types": grant_type,
        "workspace_ids": workspace,
        "post_logout_redirect_uris": post_logout_redirect_uri,
        "allowed_scopes": scope,
    }
    changes.update({field: list(values) for field, values in lists.items() if values})
    if all_workspaces:
        if workspace:
            raise ValidationFailed("give --workspace or --all-workspaces, not both", field="workspace_ids")
        changes["workspace_ids"] = []
    for field, value in (("name", name), ("token_endpoint_auth_method", auth_method)):
        if value is not None:
            changes[field] = value
    for field, value in (("backchannel_logout_uri", backchannel_logout_uri), ("initiate_login_uri", login_uri)):
        if value is not None:
            changes[field] = value or None
    if jwks is not None:
        changes["jwks"] = _json_keys(jwks)
    if jwks_uri is not None:
        changes["jwks_uri"] = jwks_uri
    if not changes:
        raise ValidationFailed("nothing to change: give at least one option (see --help)", field="name")
    client = clients.update(context(), OPERATOR, organization_id, client_id, changes)
    show_record("App updated", client, CLIENT_FIELDS)


@apps.command("rotate-secret")
@friendly
def clients_rotate_secret(organization_id: str, client_id: str) -> None:
    """A new secret for the app, printed this once; the old one stops working at once."""
    secret = clients.rotate_secret(context(), OPERATOR, organization_id, client_id)
    console.print(f"client_secret: {secret}  (shown once: store it in the app now; the old one no longer works)")


@apps.command("delete")
@friendly
def clients_delete(organization_id: str, client_id: str) -> None:
    """Remove an app: its codes and access tokens stop working."""
    clients.remove(context(), OPERATOR, organization_id, client_id)
    console.print(f"App {client_id} removed.")


@signing.command("rotate")
@friendly
def keys_rotate() -> None:
    """Sign with the key published since the last rotation, retire the current one (published
    until its tokens expire) and publish a new next key."""
    done = keys.rotate(context(), OPERATOR)
    console.print(f"Signing with {done['current']}; next key {done['next']} published.")
    if done["retired"]:
        console.print(f"Retired: {', '.join(done['retired'])} (published until its tokens expire).")


@signing.command("list")
@friendly
def keys_list() -> None:
    """The stored keys and their states (never the private keys)."""
    show_table(
        ("id", "state", "created_at", "activated_at", "published_until"),
        keys.keys_overview(context()),
        empty="No keys yet.",
    )
