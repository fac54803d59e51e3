"""SCIM Group resources (RFC 7643 §4.2) on the organization's groups (:mod:`admit.admin.groups`,
whose rules all apply: every write goes through its functions).

Mapping: ``displayName`` is the group's name (unique in the organization case-insensitively:
409 ``uniqueness``), ``externalId`` its external ID, ``members[].value`` a member id (a SCIM User's
``id``); answers add ``$ref`` and ``type: "User"`` (no ``display``: a provider reads back what it
wrote). Groups made here have source ``scim``. ``meta.version`` is a weak ETag of the group's
``updated_at``, which every change moves.

Which groups a token sees: all of its organization's groups (another organization's are not
found: 404). A token limited to one workspace sees them all too, but only the members of its
workspace are listed, matched by filters, added, removed or replaced; members of the group from
other workspaces are kept as they are, whatever the token sends.

Members: a member id that is not a live member within the token's reach (another organization,
another workspace for a limited token, removed, unknown) is left out when added or set: the
answer, which lists the members, shows it was not added, and the request log keeps what was
sent (scim-sanity's compatibility probe adds a made-up id and expects 200; Entra ID and Okta only
send ids they got from us). Removing a member who is not in the group does nothing, as Entra ID
expects.

Roles: a group made by SCIM grants no role (SCIM's Group has no attribute for it). A group that
grants a role above the token's ceiling (``ScimCaller.role``), or in another workspace than a
limited token's, cannot be changed or deleted through SCIM: 403.

PATCH applies only the difference: when every operation on ``members`` adds members or removes
named ones, the patch is computed on the group without its members but for those named by
removals that are in it (one query), so adding 10,000 members loads none of the group's members;
a ``replace`` of ``members`` or a removal of all of them loads the members in reach. The whole
PATCH (and PUT) is one transaction (:func:`admit.admin.groups.change`): applied entirely or not
at all; members already in the group are skipped there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from admit.admin import groups
from admit.domain.errors import AlreadyExists, NotFound
from admit.domain.roles import Role
from admit.scim import etags, lists
from admit.scim.auth import ScimCaller
from admit.scim.errors import INVALID_VALUE, UNIQUENESS, ScimError
from admit.scim.filter import Compare, Filter, get_ci, parse, parse_path
from admit.scim.patch import apply_patch, coerce_resource
from admit.scim.projection import project
from admit.scim.schemas import GROUP_SCHEMA, GROUP_TYPE
from admit.shared.context import Context

PREFIX = "/scim/v2"
_PROBE = {
    "schemas": [GROUP_SCHEMA],
    "id": "x",
    "members": [{"value": "x", "display": "x", "$ref": "x", "type": "User"}],
}


def wants_members(attributes: str | None = None, excluded: str | None = None) -> bool:
    """Whether an answer with these ``attributes``/``excludedAttributes`` shows ``members`` (when
    it does not, they are not loaded: Entra asks so of big groups)."""
    return "members" in project(_PROBE, GROUP_TYPE, attributes, excluded)


def etag(group: groups.GroupView) -> str:
    return etags.make_etag(group.id, group.updated_at)


def _resource(ctx: Context, group: groups.GroupView, members: list[Any] | None) -> dict[str, Any]:
    resource: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "id": group.id, "displayName": group.display_name}
    if group.external_id is not None:
        resource["externalId"] = group.external_id
    if members:
        resource["members"] = [
            {"value": row.id, "$ref": ctx.link(f"{PREFIX}/Users/{row.id}"), "type": "User"} for row in members
        ]
    resource["meta"] = {
        "resourceType": "Group",
        "created": group.created_at.isoformat(),
        "lastModified": group.updated_at.isoformat(),
        "location": ctx.link(f"{PREFIX}/Groups/{group.id}"),
        "version": etag(group),
    }
    return resource


def _load(ctx: Context, caller: ScimCaller, group_id: str, *, members: bool) -> dict[str, Any]:
    with ctx.uow() as uow:
        row = uow.groups.get(caller.organization_id, group_id) if len(group_id) <= groups.ID_LIMIT else None
        if row is None:
            raise NotFound("group not found")
        rows = list(uow.groups.scim_members(caller.organization_id, row.id, caller.workspace_id)) if members else None
    return _resource(ctx, groups.view(row), rows)


def _ceiling(caller: ScimCaller, group: groups.GroupView) -> None:
    if group.role is not None and Role(group.role).rank > caller.role.rank:
        raise ScimError(403, None, f"this token may not change a group that grants the {group.role} role")


def _precondition(caller: ScimCaller, if_match: str | None) -> Callable[[groups.GroupView], None]:
    def check(group: groups.GroupView) -> None:
        _ceiling(caller, group)
        etags.evaluate(etag(group), if_match, safe=False)

    return check


def _member_ids(resource: Mapping[str, Any]) -> list[str]:
    members = get_ci(resource, "members")
    if not isinstance(members, list):
        return []
    return [
        m["value"]
        for m in members
        if (m.__class__ is dict or isinstance(m, Mapping)) and isinstance(m.get("value"), str)
    ]


def _domain(work: Callable[[], groups.MembershipChange]) -> groups.MembershipChange:
    """SCIM's words for the group service's refusals of members and names."""
    try:
        return work()
    except NotFound as exc:
        if exc.field == "member_ids":
            raise ScimError(400, INVALID_VALUE, f"{exc.message} (give ids of Users this token reaches)") from None
        raise
    except AlreadyExists:
        raise ScimError(409, UNIQUENESS, "the organization has a group with this displayName") from None


# Use cases (the route and /Bulk share them)


def get(ctx: Context, caller: ScimCaller, group_id: str, *, members: bool = True) -> dict[str, Any]:
    """The group's SCIM JSON (``members`` left out when ``members`` is False)."""
    return _load(ctx, caller, group_id, members=members)


def search(
    ctx: Context,
    caller: ScimCaller,
    *,
    filter: str | None = None,
    start_index: str | None = None,
    count: str | None = None,
    cursor: str | None = None,
    attributes: str | None = None,
    excluded: str | None = None,
) -> dict[str, Any]:
    """A ListResponse of the organization's groups (filter, startIndex/count or cursors, projection)."""
    condition: Filter | None = parse(filter) if filter is not None and filter.strip() else None
    key = ctx.secret_key.encode()
    scope = f"Groups\x00{caller.token_id}\x00{filter or ''}"
    page = lists.parse_page(start_index, count, cursor, key=key, scope=scope)
    after = (page.after.created_at, page.after.id) if page.after is not None else None
    with_members = wants_members(attributes, excluded)
    with ctx.uow() as uow:
        rows, total = uow.groups.scim_search(
            caller.organization_id, condition, caller.workspace_id, offset=page.offset, after=after, limit=page.count
        )
        found = [
            (row, list(uow.groups.scim_members(caller.organization_id, row.id, caller.workspace_id)))
            if with_members
            else (row, None)
            for row in rows
        ]
    resources = [
        project(_resource(ctx, groups.view(row), people), GROUP_TYPE, attributes, excluded) for row, people in found
    ]
    next_cursor = None
    if page.cursor and len(rows) == page.count and rows:
        last = rows[-1]
        next_cursor = lists.encode_cursor(lists.CursorKey(last.created_at, last.id), key=key, scope=scope)
    return lists.list_response(resources, total, page, next_cursor)


def create(ctx: Context, caller: ScimCaller, body: Any) -> dict[str, Any]:
    """A new group (source ``scim``) with the members given."""
    given = coerce_resource(body, GROUP_TYPE)
    ids = _member_ids(given)
    actor = caller.actor()
    if ids:
        groups.clean_member_ids(ids)
        with ctx.uow() as uow:
            found = uow.groups.scim_in_scope(caller.organization_id, caller.workspace_id, ids)
        ids = [member_id for member_id in ids if member_id in found]  # out of reach: left out
    try:
        made = groups.create(
            ctx,
            actor,
            caller.organization_id,
            given.get("displayName"),
            external_id=given.get("externalId"),
            source="scim",
        )
    except AlreadyExists:
        raise ScimError(409, UNIQUENESS, "the organization has a group with this displayName") from None
    if ids:
        try:
            _domain(
                lambda: groups.change(
                    ctx,
                    actor,
                    caller.organization_id,
                    made.id,
                    add=ids,
                    within_workspace=caller.workspace_id,
                    skip_unknown=True,
                )
            )
        except BaseException:
            groups.delete(ctx, actor, caller.organization_id, made.id)  # a member left meanwhile: no half-made group
            raise
    return _load(ctx, caller, made.id, members=True)


def replace(
    ctx: Context, caller: ScimCaller, group_id: str, body: Any, if_match: str | None, *, members: bool = True
) -> dict[str, Any]:
    """PUT: the name, external ID and members (in the token's reach) become those given."""
    current = _load(ctx, caller, group_id, members=True)
    given = coerce_resource(body, GROUP_TYPE, current=current)
    wanted = _member_ids(given)
    present = _member_ids(current)
    wanted_set, present_set = set(wanted), set(present)
    changes = {"name": given.get("displayName"), "external_id": given.get("externalId")}
    actor = caller.actor()
    _domain(
        lambda: groups.change(
            ctx,
            actor,
            caller.organization_id,
            group_id,
            changes=changes,
            add=[m for m in wanted if m not in present_set],
            remove=[m for m in present if m not in wanted_set],
            within_workspace=caller.workspace_id,
            skip_unknown=True,
            precondition=_precondition(caller, if_match),
        )
    )
    return _load(ctx, caller, group_id, members=members)


def _named_members(body: Any) -> tuple[set[str], set[str]] | None:
    """The member ids a PatchOp adds and those it removes, when each of its operations on
    ``members`` adds members or removes named ones (so the patch needs to know only whether the
    removed ones are in the group); None otherwise. A malformed body gives None:
    :func:`apply_patch` then says what is wrong."""
    operations = get_ci(body, "Operations") if isinstance(body, Mapping) else None
    if not isinstance(operations, list):
        return None
    adds: set[str] = set()
    removes: set[str] = set()
    for operation in operations:
        if not isinstance(operation, Mapping):
            return None
        op, path, value = get_ci(operation, "op"), get_ci(operation, "path"), get_ci(operation, "value")
        op = op.lower() if isinstance(op, str) else op
        if path is None or (isinstance(path, str) and not path.strip()):
            if isinstance(value, Mapping) and any(str(k).lower() == "members" for k in value):
                if op != "add":
                    return None
                adds.update(_values(get_ci(value, "members")))
            continue
        if not isinstance(path, str):
            return None
        try:
            parsed = parse_path(path)
        except ScimError:
            return None
        if parsed.attr.attr.lower() != "members" or parsed.attr.urn not in (None, GROUP_SCHEMA):
            continue
        if parsed.filter is None and parsed.sub is None and parsed.attr.sub is None:
            if op == "add":
                adds.update(_values(value))
                continue
            if op == "remove" and value is not None:
                removes.update(_values(value))
                continue
            return None  # replace members, or remove them all
        where = parsed.filter
        if op == "remove" and parsed.sub is None and where is not None and _is_value_eq(where):
            removes.add(str(where.value))  # type: ignore[union-attr]
            continue
        return None
    return adds, removes


def _is_value_eq(where: Filter) -> bool:
    return (
        isinstance(where, Compare)
        and where.op == "eq"
        and where.path.attr.lower() == "value"
        and where.path.sub is None
        and isinstance(where.value, str)
    )


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [
        str(i["value"])
        for i in items
        if (i.__class__ is dict or isinstance(i, Mapping)) and isinstance(i.get("value"), str)
    ]


def patch(
    ctx: Context, caller: ScimCaller, group_id: str, body: Any, if_match: str | None, *, members: bool = True
) -> dict[str, Any]:
    """PATCH (RFC 7644 §3.5.2): only the difference is written, in one transaction."""
    named = _named_members(body)
    if named is None:
        current = _load(ctx, caller, group_id, members=True)
    else:
        # Only whether the members named by removals are in the group matters: an added member who
        # is in it already is skipped by groups.change (one query for both, in its transaction).
        current = _load(ctx, caller, group_id, members=False)
        removes = [member_id for member_id in named[1] if len(member_id) <= groups.ID_LIMIT]
        with ctx.uow() as uow:
            found = uow.groups.scim_in_scope(caller.organization_id, caller.workspace_id, removes, group_id)
        inside = sorted(member_id for member_id, present in found.items() if present)
        if inside:
            current["members"] = [{"value": member_id} for member_id in inside]
    result = apply_patch(current, body, GROUP_TYPE)
    changes: dict[str, Any] = {}
    if "displayName" in result.changed:
        changes["name"] = result.resource.get("displayName")
    if "externalId" in result.changed:
        changes["external_id"] = result.resource.get("externalId")
    added = [m for m in _member_ids(result.resource) if m in result.members_added]
    actor = caller.actor()
    _domain(
        lambda: groups.change(
            ctx,
            actor,
            caller.organization_id,
            group_id,
            changes=changes,
            add=added,
            remove=sorted(result.members_removed),
            within_workspace=caller.workspace_id,
            skip_unknown=True,
            precondition=_precondition(caller, if_match),
        )
    )
    return _load(ctx, caller, group_id, members=members)


def delete(ctx: Context, caller: ScimCaller, group_id: str, if_match: str | None) -> None:
    """DELETE: the group goes (its members stay members)."""
    with ctx.uow() as uow:
        row = uow.groups.get(caller.organization_id, group_id) if len(group_id) <= groups.ID_LIMIT else None
    if row is None:
        raise NotFound("group not found")
    group = groups.view(row)
    _ceiling(caller, group)
    etags.evaluate(etag(group), if_match, safe=False)
    groups.delete(ctx, caller.actor(), caller.organization_id, group_id, within_workspace=caller.workspace_id)
