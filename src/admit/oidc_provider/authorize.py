"""Who may be handed a code, for which workspace: the rules of the authorization endpoint that
are Admit's own (Authlib checks the protocol). The app may name a workspace (the ``workspace``
parameter); the person must be an active member of it, and it must be one of the app's. Without
it, a person with one such membership gets it and a person with several picks one. The gates
every way into a workspace passes (an initial password replaced, the newest terms accepted) come
before any code."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from admit.domain.errors import PermissionDenied, SecretRejected
from admit.domain.members import MemberStatus
from admit.flows.signin import sessions
from admit.flows.terms import acceptance
from admit.oidc_provider.discovery import AUTHORIZE_PATH
from admit.shared.context import Context


class Gate(StrEnum):
    PASSWORD = "password"  # an initial password to replace first
    TERMS = "terms"  # the workspace's newest terms to accept first


def browser_session(ctx: Context, session_token: str) -> sessions.LiveSession | None:
    """The browser's Admit session, if live (also one whose account must still replace an
    initial password: :func:`gate` sends the person to do that). Its id is remembered by the
    codes issued in it (for logout); when it began is the ID token's ``auth_time``."""
    try:
        return sessions.live_session(ctx, session_token)
    except SecretRejected:
        return None


def workspace_for(ctx: Context, client: Any, account_id: str, requested: str | None) -> str | list[dict[str, Any]]:
    """The workspace the code is for, or (several possible, none requested) the choices.
    ``PermissionDenied`` when the person is not an active member of a workspace of the app (an
    app bound to no workspace is the app of every workspace of its organization)."""
    bound = set(client.workspace_ids)
    with ctx.uow() as uow:
        if requested is not None:
            member = uow.members.for_account(client.organization_id, requested, account_id)
            if (bound and requested not in bound) or member is None or member.status != MemberStatus.ACTIVE:
                raise PermissionDenied("not an active member of this workspace")
            return requested
        mine = [
            row
            for row in uow.members.workspaces_of(account_id, client.organization_id)
            if not bound or row.workspace_id in bound
        ]
    if not mine:
        raise PermissionDenied("not an active member of any workspace of this app")
    if len(mine) == 1:
        return str(mine[0].workspace_id)
    return [{"id": row.workspace_id, "name": row.name, "role": row.role} for row in mine]


def gate(ctx: Context, browser: sessions.LiveSession, workspace_id: str | None) -> Gate | None:
    """What the person must do in Admit before the app gets a code, if anything (the terms: once
    the workspace is known)."""
    if browser.must_change_password:
        return Gate.PASSWORD
    if workspace_id is not None and acceptance.to_accept(ctx, browser.account_id, workspace_id) is not None:
        return Gate.TERMS
    return None


def redirect_origin(ctx: Context, target: str) -> str | None:
    """The origin an authorization request (a local ``/oauth2/authorize?...`` path, such as a sign-in
    page's ``next``) ends on: its redirect URI's, when the client registered that URI exactly."""
    parts = urlsplit(target)
    if parts.path != AUTHORIZE_PATH or parts.scheme or parts.netloc:
        return None
    params = dict(parse_qsl(parts.query))
    client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri")
    if not client_id or not redirect_uri:
        return None
    with ctx.uow() as uow:
        client = uow.oidc_clients.by_client_id(client_id)
    if client is None or redirect_uri not in client.redirect_uris:
        return None
    redirect = urlsplit(redirect_uri)
    return f"{redirect.scheme}://{redirect.netloc}"
