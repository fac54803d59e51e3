"""A member accepts the newest terms of service of a workspace before entering it, and each
acceptance is kept with its version and time. A member accepts only a version they downloaded:
each download (a POST: reading changes nothing) is recorded in a terms flow on the server, bound
to the account and to the browser or API client holding the flow's handle."""

from __future__ import annotations

from typing import Any

from admit.domain.branding import page_brand
from admit.domain.errors import AlreadyExists, Conflict, NotFound
from admit.domain.events import EventType
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.secrets import FlowKind
from admit.oidc_provider import entry
from admit.shared import flow_state
from admit.shared.context import Actor, ActorKind, Context, record

REMEMBERED_DOWNLOADS = 5  # downloads a terms flow remembers (a browser may visit a few workspaces)


def view(row: Any) -> dict[str, Any]:
    return {
        key: row[key]
        for key in ("workspace_id", "version", "filename", "content_type", "sha256", "published_by", "published_at")
    }


def to_accept(ctx: Context, account_id: str, workspace_id: str) -> dict[str, Any] | None:
    """The newest terms of a workspace the account is active in and has not accepted yet (None:
    nothing to accept). ``NotFound`` when the account is not an active member."""
    with ctx.uow() as uow:
        workspace, _ = _membership(uow, account_id, workspace_id)
        current = uow.terms.current(workspace.organization_id, workspace.id)
        if current is None or uow.terms.accepted(workspace.organization_id, workspace.id, account_id, current.version):
            return None
        app_url = entry.destination(uow, workspace, ctx.base_url)  # where accepting leads
        brand = page_brand(uow, workspace)
    return {**view(current._mapping), "workspace_name": workspace.name, "app_url": app_url, "brand": brand}


def record_download(ctx: Context, account_id: str, workspace_id: str, version: int, flow: str | None) -> dict[str, Any]:
    """Hand a version of the terms to a member of the workspace and record the download in the
    caller's terms flow (``flow``, if it is a live one of this account; else a new one). Returns
    the document and ``flow``, the handle the caller keeps for ``accept``. Only for a request
    that may change state (a POST), never for a GET."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, _ = _membership(uow, account_id, workspace_id)
        row = uow.terms.document(workspace.organization_id, workspace.id, version)
        if row is None:
            raise NotFound("these terms do not exist")
        entry = [workspace.id, version]
        found = flow_state.find(uow, flow, FlowKind.TERMS, now, lock=True)
        if found is not None and found.account_id == account_id:
            seen = [d for d in found.data.get("downloads", []) if d != entry]
            flow_state.update(uow, found, {"downloads": [*seen[-(REMEMBERED_DOWNLOADS - 1) :], entry]})
            handle = str(flow)
        else:
            handle, _ = flow_state.start(
                uow, ctx.random, now, FlowKind.TERMS, {"downloads": [entry]}, account_id=account_id
            )
        uow.commit()
    return {"filename": row.filename, "content_type": row.content_type, "document": bytes(row.document), "flow": handle}


def downloaded(ctx: Context, account_id: str, workspace_id: str, version: int, flow: str | None) -> bool:
    """Whether this version was downloaded with the terms flow ``flow`` by this account."""
    with ctx.uow() as uow:
        return _download_in(uow, flow, account_id, workspace_id, version, ctx.clock.now()) is not None


def _download_in(
    uow: UnitOfWork, flow: str | None, account_id: str, workspace_id: str, version: int, now: Any, *, lock: bool = False
) -> flow_state.Flow | None:
    found = flow_state.find(uow, flow, FlowKind.TERMS, now, lock=lock)
    if found is None or found.account_id != account_id:
        return None
    return found if [workspace_id, version] in found.data.get("downloads", []) else None


def accept(ctx: Context, account_id: str, workspace_id: str, version: int, flow: str | None) -> dict[str, Any]:
    """Record that the account accepted ``version``, which must still be the newest and must have
    been downloaded with the terms flow ``flow`` (``Conflict``: ``terms_changed``,
    ``terms_not_downloaded``). The download is then forgotten; the flow ends with its last one."""
    now = ctx.clock.now()
    try:
        with ctx.uow(write=True) as uow:
            workspace, member = _membership(uow, account_id, workspace_id)
            current = uow.terms.current(workspace.organization_id, workspace.id)
            if current is None or current.version != version:
                raise Conflict("a newer version of the terms was published; please read it", code="terms_changed")
            if uow.terms.accepted(workspace.organization_id, workspace.id, account_id, version) is None:
                _use_download(uow, flow, account_id, workspace.id, version, now)
                uow.terms.accept(
                    organization_id=workspace.organization_id,
                    workspace_id=workspace.id,
                    account_id=account_id,
                    version=version,
                    accepted_at=now,
                )
                actor = Actor(ActorKind.ACCOUNT, id=account_id)
                scope = {"organization_id": workspace.organization_id, "workspace_id": workspace.id}
                facts = {"version": version, "sha256": current.sha256}
                record(uow, actor, EventType.TERMS_ACCEPTED, "member", member.id, now, **scope, **facts)
            uow.commit()
    except AlreadyExists:
        pass  # accepted at the same moment in another tab: recorded once
    return {"workspace_id": workspace_id, "version": version, "accepted_at": now}


def _use_download(
    uow: UnitOfWork, flow: str | None, account_id: str, workspace_id: str, version: int, now: Any
) -> None:
    """The download this acceptance relies on, forgotten once used (the flow ends with its last)."""
    found = _download_in(uow, flow, account_id, workspace_id, version, now, lock=True)
    if found is None:
        raise Conflict("download the terms before you accept them", code="terms_not_downloaded")
    left = [d for d in found.data["downloads"] if d != [workspace_id, version]]
    if left:
        flow_state.update(uow, found, {"downloads": left})
    else:
        flow_state.end(uow, found, now)


def _membership(uow: UnitOfWork, account_id: str, workspace_id: str) -> tuple[Any, Any]:
    workspace = uow.workspaces.get(None, workspace_id)
    member = uow.members.for_account(workspace.organization_id, workspace.id, account_id) if workspace else None
    if workspace is None or member is None or member.status != MemberStatus.ACTIVE:
        raise NotFound("workspace not found")
    return workspace, member
