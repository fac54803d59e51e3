"""An organization's groups: named sets of its members (from any of its workspaces), made in the
console, through the REST API, by SCIM or from a single sign-on ``groups`` claim (``source``).
A group may grant a role in one workspace: its members there hold the higher of their own role
and the granted one (see ``Members.for_account``), at once and everywhere (console, API, ID token).

Who may: ``MANAGE_PEOPLE`` in the workspace the actor acts from (an API token's role; an account
acting from a console workspace, or through the API from any workspace of the organization where
it manages people). A group that grants a role (or is to) may only be made, changed, filled or
deleted by someone holding that role or a higher one in that workspace; no group grants ``owner``.
Members of another organization are not found. Every change is audited and moves the group's
``updated_at`` (SCIM's ETag)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from admit.admin.member_view import MemberView, member_view
from admit.domain.errors import AlreadyExists, NotFound, PermissionDenied, ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import plausible_id
from admit.domain.ports import UnitOfWork
from admit.domain.records import Member, Record
from admit.domain.roles import Permission, Role, ensure_can_grant, require
from admit.shared.access import role_in, workspace_for
from admit.shared.context import SYSTEM, Actor, ActorKind, Context, record

SOURCES = ("console", "api", "scim", "sso")
GRANTABLE = ("guest", "member", "admin")
MAX_MEMBERS_PER_CALL = 10_000
NAME_LIMIT = 256
EXTERNAL_ID_LIMIT = 255
ID_LIMIT = 32
PAGE_LIMIT = 500
LOGGED_IDS = 100  # member ids an audit event names (and how many there were)


@dataclass(frozen=True)
class GroupView:
    id: str
    organization_id: str
    display_name: str
    external_id: str | None
    source: str
    workspace_id: str | None
    role: str | None
    created_at: datetime
    updated_at: datetime
    member_count: int | None = None


@dataclass(frozen=True)
class GroupPage:
    items: list[GroupView]
    next_cursor: str | None


@dataclass(frozen=True)
class GroupWithMembers:
    group: GroupView
    members: list[MemberView]
    next_cursor: str | None


@dataclass(frozen=True)
class MembershipChange:
    group: GroupView
    added: int = 0
    removed: int = 0
    member_count: int = 0
    unchanged: list[str] = field(default_factory=list)


def view(row: Record, member_count: int | None = None) -> GroupView:
    return GroupView(
        id=row.id,
        organization_id=row.organization_id,
        display_name=row.display_name,
        external_id=row.external_id,
        source=row.source,
        workspace_id=row.workspace_id,
        role=row.role,
        created_at=row.created_at,
        updated_at=row.updated_at,
        member_count=member_count,
    )


# Validation


def name_key(name: str) -> str:
    """The casefolded name that is unique in an organization (``Sales`` and ``SALES`` clash)."""
    return unicodedata.normalize("NFKC", name).casefold()


def _text(value: Any, limit: int, what: str, where: str, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(f"give the group a {what}", field=where)
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"the {what} must be text", field=where)
    text = str(value).strip()
    if len(text) > limit:
        raise ValidationFailed(f"the {what} is at most {limit} characters", field=where)
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in text):
        raise ValidationFailed(f"the {what} cannot contain control characters", field=where)
    return text


def clean_name(value: Any) -> str:
    name = _text(value, NAME_LIMIT, "name", "name", required=True)
    assert name is not None
    return name


def clean_external_id(value: Any) -> str | None:
    return _text(value, EXTERNAL_ID_LIMIT, "external ID", "external_id", required=False)


def clean_member_ids(value: Any) -> list[str]:
    """The ids given, each once, in the order given (at most 10,000)."""
    if not isinstance(value, list | tuple):
        raise ValidationFailed("give the members as a list of member ids", field="member_ids")
    if len(value) > MAX_MEMBERS_PER_CALL:
        raise ValidationFailed(f"at most {MAX_MEMBERS_PER_CALL} members at a time", field="member_ids")
    if any(not isinstance(item, str) or not item or len(item) > ID_LIMIT for item in value):
        raise ValidationFailed("a member id is text of 1 to 32 characters", field="member_ids")
    return list(dict.fromkeys(value))


def _grant(workspace_id: Any, role: Any) -> tuple[str | None, str | None]:
    """The (workspace, role) a group grants; no role: no grant."""
    if role is None or role == "":
        return None, None
    if not isinstance(role, str) or role not in (*GRANTABLE, "owner"):
        raise ValidationFailed("the role a group grants is guest, member or admin", field="role")
    if role == Role.OWNER:
        raise PermissionDenied("a group cannot grant the owner role", field="role")
    if not isinstance(workspace_id, str) or not workspace_id or len(workspace_id) > ID_LIMIT:
        raise ValidationFailed("choose the workspace the role is granted in", field="workspace_id")
    return workspace_id, role


# Who may


def _authority(uow: UnitOfWork, actor: Actor, organization_id: str, acting_from: str | None) -> None:
    """``MANAGE_PEOPLE`` where the actor acts from; another organization is not found."""
    if actor.kind in (ActorKind.OPERATOR, ActorKind.SYSTEM):
        if uow.organizations.get(organization_id) is None:
            raise NotFound("organization not found")
        return
    if actor.kind in (ActorKind.API_TOKEN, ActorKind.SCIM):
        if actor.organization_id != organization_id:
            raise NotFound("organization not found")
        assert actor.role is not None
        require(actor.role, Permission.MANAGE_PEOPLE)
        return
    if actor.kind is not ActorKind.ACCOUNT or actor.id is None:
        raise NotFound("organization not found")
    if uow.org_controls.role_of(organization_id, actor.id) is not None:  # system or group administrator
        return
    if acting_from is not None:
        workspace, role = workspace_for(uow, actor, acting_from)
        if workspace.organization_id != organization_id:
            raise NotFound("organization not found")
        require(role, Permission.MANAGE_PEOPLE)
        return
    mine = uow.members.workspaces_of(actor.id, organization_id)
    if not mine:
        raise NotFound("organization not found")
    if not any(Role(row.role).allows(Permission.MANAGE_PEOPLE) for row in mine):
        require(Role(mine[0].role), Permission.MANAGE_PEOPLE)


def _refuse_workspace_alone(uow: UnitOfWork, organization_id: str, workspace_id: Any) -> None:
    """A request naming a workspace without the role granted in it: the workspace would be dropped
    unsaid, so it is refused (404 when the organization has no such workspace, as everywhere)."""
    known = isinstance(workspace_id, str) and len(workspace_id) <= ID_LIMIT
    if not known or uow.workspaces.get(organization_id, workspace_id) is None:
        raise NotFound("workspace not found", field="workspace_id")
    raise ValidationFailed("a workspace is set only with the role the group grants in it", field="workspace_id")


def _may_grant(uow: UnitOfWork, actor: Actor, organization_id: str, workspace_id: str | None, role: str | None) -> None:
    """Nobody grants a role above their own in that workspace."""
    if role is None or workspace_id is None:
        return
    workspace = uow.workspaces.get(organization_id, workspace_id)
    if workspace is None:
        raise NotFound("workspace not found", field="workspace_id")
    if actor.kind is ActorKind.SCIM:  # a SCIM token's ceiling is its actor's role (admit.admin.scim_groups)
        if actor.workspace_id is not None and actor.workspace_id != workspace_id:
            raise PermissionDenied("this SCIM token cannot change a group that grants a role in another workspace")
        assert actor.role is not None
        ensure_can_grant(actor.role, Role(role))
        return
    try:
        mine = role_in(uow, actor, workspace)
    except NotFound:
        raise NotFound("workspace not found", field="workspace_id") from None
    ensure_can_grant(mine, Role(role))


def _group(uow: UnitOfWork, organization_id: str, group_id: str, *, lock: bool = False) -> Record:
    row = uow.groups.get(organization_id, group_id, lock=lock) if len(group_id) <= ID_LIMIT else None
    if row is None:
        raise NotFound("group not found")
    return row


def _checked_group(
    uow: UnitOfWork, actor: Actor, organization_id: str, group_id: str, acting_from: str | None, *, lock: bool = False
) -> Record:
    _authority(uow, actor, organization_id, acting_from)
    row = _group(uow, organization_id, group_id, lock=lock)
    _may_grant(uow, actor, organization_id, row.workspace_id, row.role)
    return row


def _ensure_name_free(uow: UnitOfWork, organization_id: str, key: str, group_id: str | None = None) -> None:
    for row in uow.groups.by_name_keys(organization_id, [key]):
        if row.id != group_id:
            raise AlreadyExists("the organization has a group of this name", field="name", code="group_exists")


def _record(uow: UnitOfWork, actor: Actor, event: EventType, row: Record, now: datetime, **data: Any) -> None:
    record(uow, actor, event, "group", row.id, now, organization_id=row.organization_id, name=row.display_name, **data)


def _ids_logged(ids: Sequence[str]) -> dict[str, Any]:
    return {"count": len(ids), "member_ids": list(ids[:LOGGED_IDS])}


# Use cases


def create(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    name: Any,
    *,
    external_id: Any = None,
    workspace_id: Any = None,
    role: Any = None,
    source: str = "console",
    acting_from: str | None = None,
) -> GroupView:
    display_name, external = clean_name(name), clean_external_id(external_id)
    workspace, granted = _grant(workspace_id, role)
    if source not in SOURCES:
        raise ValidationFailed("unknown group source", field="source")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        _authority(uow, actor, organization_id, acting_from)
        if workspace_id not in (None, "") and granted is None:
            _refuse_workspace_alone(uow, organization_id, workspace_id)
        if workspace is not None and uow.workspaces.get(organization_id, workspace) is None:
            raise NotFound("workspace not found", field="workspace_id")
        _may_grant(uow, actor, organization_id, workspace, granted)
        key = name_key(display_name)
        _ensure_name_free(uow, organization_id, key)
        values = {
            "organization_id": organization_id,
            "display_name": display_name,
            "name_key": key,
            "external_id": external,
            "source": source,
            "workspace_id": workspace,
            "role": granted,
            "created_at": now,
            "updated_at": now,
        }
        group_id = uow.groups.add(**values)
        row = uow.groups.get(organization_id, group_id)
        assert row is not None
        _record(uow, actor, EventType.GROUP_CREATED, row, now, source=source, workspace_id=workspace, role=granted)
        uow.commit()
    return view(row, 0)


def update(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    group_id: str,
    changes: dict[str, Any],
    *,
    acting_from: str | None = None,
) -> GroupView:
    """Change the name, the external ID or the role grant (``workspace_id`` and ``role``
    together; ``role`` None removes the grant). Only the keys given change."""
    unknown = set(changes) - {"name", "external_id", "workspace_id", "role"}
    if unknown:
        raise ValidationFailed(f"a group has no field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _checked_group(uow, actor, organization_id, group_id, acting_from, lock=True)
        values: dict[str, Any] = {}
        if "name" in changes:
            display_name = clean_name(changes["name"])
            if display_name != row.display_name:
                key = name_key(display_name)
                _ensure_name_free(uow, organization_id, key, row.id)
                values.update(display_name=display_name, name_key=key)
        if "external_id" in changes:
            external = clean_external_id(changes["external_id"])
            if external != row.external_id:
                values["external_id"] = external
        if "role" in changes or "workspace_id" in changes:
            workspace, granted = _grant(changes.get("workspace_id", row.workspace_id), changes.get("role", row.role))
            if changes.get("workspace_id") not in (None, "") and granted is None:
                _refuse_workspace_alone(uow, organization_id, changes["workspace_id"])
            if workspace is not None and uow.workspaces.get(organization_id, workspace) is None:
                raise NotFound("workspace not found", field="workspace_id")
            _may_grant(uow, actor, organization_id, workspace, granted)
            if (workspace, granted) != (row.workspace_id, row.role):
                values.update(workspace_id=workspace, role=granted)
        if values:
            uow.groups.update(organization_id, row.id, **values, updated_at=now)
            data = {
                ("new_name" if key == "display_name" else key): value
                for key, value in values.items()
                if key != "name_key"
            }
            _record(uow, actor, EventType.GROUP_UPDATED, row, now, **data)
        fresh = uow.groups.get(organization_id, row.id)
        assert fresh is not None
        size = uow.groups.size(organization_id, row.id)
        uow.commit()
    return view(fresh, size)


def rename(ctx: Context, actor: Actor, organization_id: str, group_id: str, name: Any, **kw: Any) -> GroupView:
    return update(ctx, actor, organization_id, group_id, {"name": name}, **kw)


def set_external_id(
    ctx: Context, actor: Actor, organization_id: str, group_id: str, external_id: Any, **kw: Any
) -> GroupView:
    return update(ctx, actor, organization_id, group_id, {"external_id": external_id}, **kw)


def delete(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    group_id: str,
    *,
    acting_from: str | None = None,
    within_workspace: str | None = None,
) -> None:
    """Delete the group (its members stay members). ``within_workspace``: the caller reaches only
    that workspace's members (a SCIM token limited to it), so a group holding members of other
    workspaces is not its to delete."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _checked_group(uow, actor, organization_id, group_id, acting_from, lock=True)
        if within_workspace is not None and uow.groups.members_outside(organization_id, row.id, within_workspace):
            raise PermissionDenied(
                "the group has members in other workspaces than this token's: only a token of the "
                "whole organization (or an administrator) can delete it"
            )
        size = uow.groups.size(organization_id, row.id)
        uow.groups.remove(organization_id, row.id)
        _record(uow, actor, EventType.GROUP_DELETED, row, now, member_count=size)
        uow.commit()


def _known_members(uow: UnitOfWork, organization_id: str, ids: list[str]) -> None:
    found = uow.groups.live_members(organization_id, ids)
    if len(found) != len(ids):
        missing = next(member_id for member_id in ids if member_id not in found)
        raise NotFound(f"member {missing} not found", field="member_ids")


def add_members(
    ctx: Context, actor: Actor, organization_id: str, group_id: str, member_ids: Any, *, acting_from: str | None = None
) -> MembershipChange:
    """Put these members (of the organization) into the group; those in it already stay."""
    ids = clean_member_ids(member_ids)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _checked_group(uow, actor, organization_id, group_id, acting_from, lock=True)
        _known_members(uow, organization_id, ids)
        present = uow.groups.member_ids_in(row.id, ids)
        new = [member_id for member_id in ids if member_id not in present]
        if new:
            uow.groups.add_members(organization_id, row.id, new, now)
            uow.groups.touch(organization_id, [row.id], now)
            _record(uow, actor, EventType.GROUP_MEMBERS_ADDED, row, now, **_ids_logged(new))
        size = uow.groups.size(organization_id, row.id)
        fresh = uow.groups.get(organization_id, row.id)
        assert fresh is not None
        uow.commit()
    return MembershipChange(view(fresh, size), added=len(new), member_count=size, unchanged=sorted(present))


def remove_members(
    ctx: Context, actor: Actor, organization_id: str, group_id: str, member_ids: Any, *, acting_from: str | None = None
) -> MembershipChange:
    """Take these members out of the group (ids not in it are ignored)."""
    ids = clean_member_ids(member_ids)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _checked_group(uow, actor, organization_id, group_id, acting_from, lock=True)
        inside = uow.groups.member_ids_in(row.id, ids)
        present = [member_id for member_id in ids if member_id in inside]
        if present:
            uow.groups.remove_members(organization_id, row.id, present)
            uow.groups.touch(organization_id, [row.id], now)
            _record(uow, actor, EventType.GROUP_MEMBERS_REMOVED, row, now, **_ids_logged(present))
        size = uow.groups.size(organization_id, row.id)
        fresh = uow.groups.get(organization_id, row.id)
        assert fresh is not None
        uow.commit()
    return MembershipChange(view(fresh, size), removed=len(present), member_count=size)


def replace_members(
    ctx: Context, actor: Actor, organization_id: str, group_id: str, member_ids: Any, *, acting_from: str | None = None
) -> MembershipChange:
    """Make the group's members exactly these."""
    ids = clean_member_ids(member_ids)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _checked_group(uow, actor, organization_id, group_id, acting_from, lock=True)
        _known_members(uow, organization_id, ids)
        current = uow.groups.all_member_ids(row.id)
        wanted = set(ids)
        new = [member_id for member_id in ids if member_id not in current]
        gone = sorted(current - wanted)
        if gone:
            uow.groups.remove_members(organization_id, row.id, gone)
            _record(uow, actor, EventType.GROUP_MEMBERS_REMOVED, row, now, **_ids_logged(gone))
        if new:
            uow.groups.add_members(organization_id, row.id, new, now)
            _record(uow, actor, EventType.GROUP_MEMBERS_ADDED, row, now, **_ids_logged(new))
        if new or gone:
            uow.groups.touch(organization_id, [row.id], now)
        fresh = uow.groups.get(organization_id, row.id)
        assert fresh is not None
        uow.commit()
    return MembershipChange(view(fresh, len(ids)), added=len(new), removed=len(gone), member_count=len(ids))


def change(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    group_id: str,
    *,
    changes: dict[str, Any] | None = None,
    add: Any = (),
    remove: Any = (),
    within_workspace: str | None = None,
    precondition: Callable[[GroupView], None] | None = None,
    skip_unknown: bool = False,
) -> MembershipChange:
    """In one transaction: ``update``'s ``changes`` (name, external ID), then take ``remove`` out
    and put ``add`` in (SCIM's PATCH and PUT are atomic). ``within_workspace``: the members added
    must be of that workspace (a SCIM token limited to it). ``precondition`` sees the locked group
    first (SCIM's If-Match). ``skip_unknown``: ids in ``add`` that are not members in reach are
    left out instead of refused (SCIM)."""
    unknown = set(changes or {}) - {"name", "external_id"}
    if unknown:
        raise ValidationFailed(f"a group has no field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    adding, removing = clean_member_ids(list(add)), clean_member_ids(list(remove))
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        row = _checked_group(uow, actor, organization_id, group_id, None, lock=True)
        if precondition is not None:
            precondition(view(row))
        values: dict[str, Any] = {}
        if changes and "name" in changes:
            display_name = clean_name(changes["name"])
            if display_name != row.display_name:
                key = name_key(display_name)
                _ensure_name_free(uow, organization_id, key, row.id)
                values.update(display_name=display_name, name_key=key)
        if changes and "external_id" in changes:
            external = clean_external_id(changes["external_id"])
            if external != row.external_id:
                values["external_id"] = external
        found = uow.groups.scim_in_scope(organization_id, within_workspace, adding, row.id) if adding else {}
        if skip_unknown:
            adding = [member_id for member_id in adding if member_id in found]
        elif len(found) != len(adding):
            missing = next(member_id for member_id in adding if member_id not in found)
            raise NotFound(f"member {missing} not found", field="member_ids")
        inside = {member_id for member_id, present in found.items() if present}
        if removing:
            inside |= uow.groups.member_ids_in(row.id, removing)
        gone = [member_id for member_id in removing if member_id in inside]
        new = [member_id for member_id in adding if member_id not in inside or member_id in gone]
        if values:
            uow.groups.update(organization_id, row.id, **values, updated_at=now)
            data = {("new_name" if k == "display_name" else k): v for k, v in values.items() if k != "name_key"}
            _record(uow, actor, EventType.GROUP_UPDATED, row, now, **data)
        if gone:
            uow.groups.remove_members(organization_id, row.id, gone)
            _record(uow, actor, EventType.GROUP_MEMBERS_REMOVED, row, now, **_ids_logged(gone))
        if new:
            uow.groups.add_members(organization_id, row.id, new, now)
            _record(uow, actor, EventType.GROUP_MEMBERS_ADDED, row, now, **_ids_logged(new))
        if (gone or new) and not values:
            uow.groups.touch(organization_id, [row.id], now)
        size = uow.groups.size(organization_id, row.id)
        fresh = uow.groups.get(organization_id, row.id)
        assert fresh is not None
        uow.commit()
    return MembershipChange(view(fresh, size), added=len(new), removed=len(gone), member_count=size)


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PAGE_LIMIT:
        raise ValidationFailed(f"the page size is 1 to {PAGE_LIMIT}", field="limit")
    return limit


def _query_text(value: str | None, field: str) -> str | None:
    """A search prefix or a page cursor as typed into a URL: refused clearly when no name could
    hold it (a control character, more than a name's length), never passed to the database."""
    if value is None:
        return None
    if len(value) > 256 or any(ch < " " for ch in value):
        raise ValidationFailed(f"the {field} is not a group name (control characters or too long)", field=field)
    return value


def list_groups(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    *,
    prefix: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    acting_from: str | None = None,
) -> GroupPage:
    """A page of the organization's groups by name, with member counts; ``prefix``: names
    starting so (case-insensitively)."""
    limit = _limit(limit)
    prefix, cursor = _query_text(prefix, "prefix"), _query_text(cursor, "cursor")
    key = name_key(prefix.strip()) if prefix and prefix.strip() else None
    with ctx.uow() as uow:
        _authority(uow, actor, organization_id, acting_from)
        rows = uow.groups.page(organization_id, prefix=key, after=cursor or None, limit=limit)
    items = [view(row, int(row.size)) for row in rows]
    return GroupPage(items, rows[-1].name_key if len(rows) == limit else None)


def get(
    ctx: Context,
    actor: Actor,
    organization_id: str,
    group_id: str,
    *,
    cursor: str | None = None,
    limit: int = 50,
    acting_from: str | None = None,
) -> GroupWithMembers:
    """The group with a page of its members (by member id; follow ``next_cursor``)."""
    limit = _limit(limit)
    if cursor and not plausible_id(cursor):
        raise ValidationFailed("the cursor is not valid: pass the next_cursor a page gave", field="cursor")
    with ctx.uow() as uow:
        _authority(uow, actor, organization_id, acting_from)
        row = _group(uow, organization_id, group_id)
        size = uow.groups.size(organization_id, row.id)
        rows = uow.groups.members(organization_id, row.id, after=cursor or None, limit=limit)
    people = [member_view(Member(**member._mapping)) for member in rows]
    return GroupWithMembers(view(row, size), people, people[-1].id if len(people) == limit else None)


def groups_of_member(ctx: Context, actor: Actor, member_id: str) -> list[GroupView]:
    """The groups a member is in (for their page), for whoever manages people in their workspace."""
    scope = actor.organization_id if actor.kind is ActorKind.API_TOKEN else None
    with ctx.uow() as uow:
        member = uow.members.get(scope, member_id) if len(member_id) <= ID_LIMIT else None
        if member is None:
            raise NotFound("member not found")
        workspace_for(uow, actor, member.workspace_id, Permission.MANAGE_PEOPLE)
        rows = uow.groups.of_member(member.organization_id, member.id)
    return [view(row) for row in rows]


# Single sign-on


def sync_sso_groups(
    uow: UnitOfWork, organization_id: str, member_id: str, names: Iterable[str], now: datetime, actor: Actor = SYSTEM
) -> None:
    """Inside a sign-in's transaction: the organization's ``sso`` groups named by the provider's
    claim exist (made if new), and the member is in exactly those of its ``sso`` groups. Groups of
    other sources are never touched (a claim naming one leaves it alone)."""
    wanted: dict[str, str] = {}
    for raw in names:
        try:
            name = clean_name(raw)
        except ValidationFailed:
            continue  # a provider's unusable name is skipped
        wanted.setdefault(name_key(name), name)
    existing = {row.name_key: row for row in uow.groups.by_name_keys(organization_id, list(wanted))}
    for key, name in wanted.items():
        if key not in existing:
            group_id = uow.groups.add(
                organization_id=organization_id,
                display_name=name,
                name_key=key,
                source="sso",
                created_at=now,
                updated_at=now,
            )
            row = uow.groups.get(organization_id, group_id)
            assert row is not None
            existing[key] = row
            _record(uow, actor, EventType.GROUP_CREATED, row, now, source="sso")
    target = {row.id: row for key, row in existing.items() if row.source == "sso"}
    current = {row.id: row for row in uow.groups.sso_groups_of(organization_id, member_id)}
    joining = [group_id for group_id in target if group_id not in current]
    leaving = [group_id for group_id in current if group_id not in target]
    uow.groups.join(organization_id, member_id, joining, now)
    uow.groups.leave(organization_id, member_id, leaving)
    uow.groups.touch(organization_id, [*joining, *leaving], now)
    for group_id in joining:
        _record(uow, actor, EventType.GROUP_MEMBERS_ADDED, target[group_id], now, **_ids_logged([member_id]))
    for group_id in leaving:
        _record(uow, actor, EventType.GROUP_MEMBERS_REMOVED, current[group_id], now, **_ids_logged([member_id]))
