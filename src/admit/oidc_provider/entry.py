"""Where a person enters a workspace's app (OpenID Connect Core 1.0 §4, third-party initiated
login): "Let's go" and ``/go/{workspace}`` send people to the login URL of the app that signs
them into this workspace, with ``iss`` (this provider), ``target_link_uri`` (the workspace's
app URL, where the app lands them afterwards) and ``workspace`` (which workspace to ask for);
the app then starts the code flow, and Admit issues the code.

The app is the workspace's own (bound to it) before one that serves every workspace of the
organization, the oldest first. Without an app that has a login URL, people go to the
workspace's app URL as it is (or to Admit's home)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from admit.domain.ports import UnitOfWork
from admit.domain.records import Workspace


def destination(uow: UnitOfWork, workspace: Workspace, issuer: str) -> str | None:
    """Where "Let's go" leads for this workspace (None: nowhere set)."""
    app = _login_app(uow, workspace)
    if app is None:
        return workspace.app_url
    params = {"iss": issuer, "target_link_uri": workspace.app_url, "workspace": workspace.id}
    return _with_query(app.initiate_login_uri, {k: v for k, v in params.items() if v})


def _login_app(uow: UnitOfWork, workspace: Workspace) -> Any:
    candidates = [
        app
        for app in uow.oidc_clients.list(workspace.organization_id)
        if app.initiate_login_uri and (not app.workspace_ids or workspace.id in app.workspace_ids)
    ]
    candidates.sort(key=lambda app: (not app.workspace_ids, app.created_at, app.id))
    return candidates[0] if candidates else None


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
