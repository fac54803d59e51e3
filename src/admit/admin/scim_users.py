"""SCIM Users (RFC 7643 §4.1) as Admit's members: the only place the rules of ``/scim/v2/Users`` live.

Every live (not removed) member in a SCIM token's reach is a User: the token's workspace, or every
workspace of its organization. Changes go through the member service (:mod:`admit.admin.members`:
provision, update, suspend, reactivate, remove), so every member rule applies; the actor is the token
(:meth:`ScimCaller.actor`, ``ActorKind.SCIM``, permission role admin, named "SCIM: <token name>" in the audit
log). The token's role is a ceiling: a ``permissionType`` above it, or any change to an owner, is 403.

Mapping (README "SCIM"): ``name.givenName``/``familyName`` → first/last name; ``emails`` (primary, else
``work``, else the first) → email; ``phoneNumbers`` (primary, else ``mobile``, else the first) → phone;
enterprise ``employeeNumber`` → external ID, ``department`` → department; ``title`` → job profile; the
Admit extension's ``permissionType`` → role, ``language`` → language; ``externalId`` → the scim_users
row; ``active`` → suspended or not. Every other attribute the User schema advertises is kept as given
in ``scim_users.attributes`` and returned as it was sent. ``userName`` is the scim_users row's if there
is one, else the member's email, username or external ID; it is unique in the organization
(case-insensitively) and may not be another live member's email or username in the workspace.

A member the contact rule would refuse (no email, no username + phone) gets an external ID: the
employeeNumber, else the SCIM externalId, else the userName; and, when the provider sent no name, the
userName as last name (not returned as ``name``): such a member is a "member without email" who can
get an access code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from admit.admin import members
from admit.admin.profiles import MemberInput
from admit.domain.errors import AlreadyExists, DomainError, NotFound, ValidationFailed
from admit.domain.identifiers import normalise_phone
from admit.domain.members import MemberStatus
from admit.domain.ports import UnitOfWork
from admit.domain.records import Member
from admit.domain.roles import Role
from admit.scim import etags, json_copy
from admit.scim.auth import ScimCaller
from admit.scim.errors import INVALID_VALUE, UNIQUENESS, ScimError
from admit.scim.filter import get_ci, parse
from admit.scim.lists import CursorKey, Page, encode_cursor, list_response
from admit.scim.patch import apply_patch, coerce_resource
from admit.scim.projection import project
from admit.scim.schemas import ADMIT_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, USER_SCHEMA, USER_TYPE
from admit.shared.context import Context

ENTERPRISE = ENTERPRISE_USER_SCHEMA
ADMIT = ADMIT_USER_SCHEMA
FILLED = "urn:admit:internal"  # what Admit filled in itself (kept in attributes, never returned)
MAX_USER_NAME = 255
# The member columns SCIM maps (the rest of a resource is kept in scim_users.attributes).
MAPPED_CORE = ("id", "externalId", "meta", "userName", "active", "groups", "schemas")
MAPPED_ENTERPRISE = ("employeeNumber", "department")
MAPPED_ADMIT = ("permissionType", "language", "workspaceId")


@dataclass(frozen=True)
class ScimUser:
    """A User as returned: its id, SCIM JSON and ETag."""

    id: str
    resource: dict[str, Any]
    etag: str


# --- reading --------------------------------------------------------------------------------------------


def _first(items: Any, preferred_type: str) -> dict[str, Any] | None:
    """The entry of a multi-valued attribute Admit keeps: the primary, else of ``preferred_type``, else the first."""
    if not isinstance(items, list):
        return None
    entries: list[dict[str, Any]] = [i for i in items if isinstance(i, dict)]
    primary = [i for i in entries if i.get("primary") is True]
    typed = [i for i in entries if str(i.get("type", "")).lower() == preferred_type]
    for found in (primary, typed, entries):
        if found:
            return found[0]
    return None


def _same(kind: str, given: Any, value: str, region: str | None) -> bool:
    """Whether a value as the provider sent it is the member's (normalised) value."""
    if not isinstance(given, str):
        return False
    if given == value or given.casefold() == value.casefold():
        return True
    if kind == "phoneNumbers":
        try:
            return normalise_phone(given, region=region) == value
        except ValidationFailed:
            return False
    return False


def _overlay(
    items: Any, value: str | None, kind: str, preferred_type: str, region: str | None, unusable: bool
) -> list[dict[str, Any]] | None:
    """The stored multi-valued attribute with the member's current value in the chosen entry (kept as
    sent when it is the same value; all kept as sent when Admit could not use the chosen value)."""
    stored = json_copy(items) if isinstance(items, list) else []
    if unusable and value is None:
        return stored or None
    chosen = _first(stored, preferred_type)
    if chosen is not None:
        if value is None:
            stored.remove(chosen)
        elif not _same(kind, chosen.get("value"), value, region):
            chosen["value"] = value
    elif value is not None:
        stored = [{"value": value, "type": preferred_type, "primary": True}]
    return stored or None


Groups = Sequence[tuple[str, str]]  # a member's groups: (id, display name), by name


def etag_of(row: Any, groups: Groups = ()) -> str:
    """The User's version: from what it holds (the clock alone could give two states one time),
    its groups included (read-only, but part of the resource)."""
    state = {name: getattr(row, name) for name in row._fields if name not in ("created_at", "updated_at")}
    state["groups"] = [list(group) for group in groups]
    return etags.make_etag(json.dumps(state, sort_keys=True, default=str))


def groups_of(ctx: Context, caller: ScimCaller, member_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """The groups of a page of Users, in one query."""
    with ctx.uow() as uow:
        return uow.groups.of_members(caller.organization_id, member_ids)


def render(ctx: Context, row: Any, groups: Groups = ()) -> ScimUser:
    """The member (a row of ``uow.scim_users.get``/``search``) as a SCIM User; ``groups`` its
    groups, returned as the read-only ``groups`` attribute (RFC 7643 §4.1.2: direct membership)."""
    stored: dict[str, Any] = json_copy(row.scim_attributes) if isinstance(row.scim_attributes, dict) else {}
    filled = stored.pop(FILLED, {})
    resource: dict[str, Any] = {"schemas": [USER_SCHEMA], "id": row.id}
    if row.scim_external_id is not None:
        resource["externalId"] = row.scim_external_id
    resource["userName"] = row.user_name
    for key, value in stored.items():
        if key not in (ENTERPRISE, ADMIT) and key not in MAPPED_CORE:
            resource[key] = value
    name = dict(stored.get("name") or {})
    name.pop("givenName", None)
    name.pop("familyName", None)
    if row.first_name is not None:
        name["givenName"] = row.first_name
    if row.last_name is not None and not filled.get("last_name"):
        name["familyName"] = row.last_name
    resource.pop("name", None)
    if name:
        resource["name"] = name
    resource.pop("title", None)
    if row.job_profile is not None:
        resource["title"] = row.job_profile
    for key, value, kind in (("emails", row.email, "work"), ("phoneNumbers", row.phone, "mobile")):
        resource.pop(key, None)
        merged = _overlay(stored.get(key), value, key, kind, ctx.phone_region, bool(filled.get(f"{key}_kept")))
        if merged:
            resource[key] = merged
    managed = row.scim_updated_at is not None  # created or changed through SCIM: attributes as the provider set them
    if not managed or filled.get("active_given") or row.status == MemberStatus.SUSPENDED:
        resource["active"] = row.status != MemberStatus.SUSPENDED
    if groups:
        resource["groups"] = [
            {"value": gid, "$ref": ctx.link(f"/scim/v2/Groups/{gid}"), "display": name, "type": "direct"}
            for gid, name in groups
        ]
    enterprise = dict(stored.get(ENTERPRISE) or {})
    for key in MAPPED_ENTERPRISE:
        enterprise.pop(key, None)
    if row.external_id is not None and not filled.get("external_id"):
        enterprise["employeeNumber"] = row.external_id
    if row.department is not None:
        enterprise["department"] = row.department
    admit: dict[str, Any] = {}
    if not managed or filled.get("role_given") or row.role != Role.MEMBER:
        admit["permissionType"] = row.role
    if row.language is not None and (not managed or filled.get("language_given")):
        admit["language"] = row.language
    admit["workspaceId"] = row.workspace_id  # returned on request only (schemas: returned "request")
    if enterprise:
        resource[ENTERPRISE] = enterprise
        resource["schemas"].append(ENTERPRISE)
    resource[ADMIT] = admit
    resource["schemas"].append(ADMIT)
    etag = etag_of(row, groups)
    modified = max(row.updated_at, row.scim_updated_at) if row.scim_updated_at is not None else row.updated_at
    resource["meta"] = {
        "resourceType": "User",
        "created": _stamp(row.created_at),
        "lastModified": _stamp(modified),
        "location": ctx.link(f"/scim/v2/Users/{row.id}"),
        "version": etag,
    }
    return ScimUser(row.id, resource, etag)


def _stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _load(ctx: Context, caller: ScimCaller, user_id: str) -> Any:
    with ctx.uow() as uow:
        row = uow.scim_users.get(caller.organization_id, caller.workspace_id, user_id)
    if row is None:
        raise NotFound("user not found")
    return row


def get(ctx: Context, caller: ScimCaller, user_id: str) -> ScimUser:
    """A User in the token's reach; ``NotFound`` otherwise (another tenant's included)."""
    return _current(ctx, caller, _load(ctx, caller, user_id))


def _current(ctx: Context, caller: ScimCaller, row: Any) -> ScimUser:
    return render(ctx, row, groups_of(ctx, caller, [row.id]).get(row.id, ()))


def search(
    ctx: Context,
    caller: ScimCaller,
    page: Page,
    *,
    filter_text: str | None = None,
    attributes: Any = None,
    excluded: Any = None,
    cursor_key: bytes = b"",
    cursor_scope: str = "",
) -> dict[str, Any]:
    """A ListResponse of the Users in reach matching ``filter_text``, paged in creation order."""
    where = parse(filter_text) if filter_text else None
    after = (page.after.created_at, page.after.id) if page.after is not None else None
    with ctx.uow() as uow:
        rows, total = uow.scim_users.search(
            caller.organization_id, caller.workspace_id, where, offset=page.offset if not page.cursor else 0,
            after=after, limit=page.count,
        )  # fmt: skip
        groups = uow.groups.of_members(caller.organization_id, [row.id for row in rows]) if rows else {}
    resources = [
        project(render(ctx, row, groups.get(row.id, ())).resource, USER_TYPE, attributes, excluded) for row in rows
    ]
    next_cursor = None
    if page.cursor and rows and len(rows) == page.count:
        last = rows[-1]
        next_cursor = encode_cursor(CursorKey(last.created_at, last.id), key=cursor_key, scope=cursor_scope)
    return list_response(resources, total, page, next_cursor)


# --- writing --------------------------------------------------------------------------------------------


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScimError(400, INVALID_VALUE, f"{name} must be a string")
    return value.strip() or None


@dataclass
class _Wanted:
    """What a coerced resource asks of the member and of its scim_users row."""

    user_name: str
    external_id: str | None
    fields: dict[str, Any]
    active: bool
    attributes: dict[str, Any]


def _wanted(
    ctx: Context, resource: Mapping[str, Any], caller: ScimCaller, *, current_role: str | None = None
) -> _Wanted:
    user_name = _text(resource.get("userName"), "userName")
    if not user_name:
        raise ScimError(400, INVALID_VALUE, "userName is required")
    if len(user_name) > MAX_USER_NAME or "\x00" in user_name:
        raise ScimError(400, INVALID_VALUE, f"userName is at most {MAX_USER_NAME} characters, without NUL")
    name = resource.get("name") or {}
    enterprise = resource.get(ENTERPRISE) or {}
    admit = resource.get(ADMIT) or {}
    email = _first(resource.get("emails"), "work")
    phone = _first(resource.get("phoneNumbers"), "mobile")
    role = _text(admit.get("permissionType"), "permissionType") or current_role or Role.MEMBER.value
    try:
        wanted_role = Role(role.lower())
    except ValueError:
        raise ScimError(400, INVALID_VALUE, "permissionType is guest, member or admin") from None
    if wanted_role.rank > caller.role.rank or wanted_role is Role.OWNER:
        raise ScimError(403, None, f"this SCIM token may grant at most the role {caller.role.value}")
    fields: dict[str, Any] = {
        "first_name": _text(name.get("givenName"), "name.givenName"),
        "last_name": _text(name.get("familyName"), "name.familyName"),
        "email": _text(email.get("value"), "emails.value") if email else None,
        "phone": _text(phone.get("value"), "phoneNumbers.value") if phone else None,
        "external_id": _text(enterprise.get("employeeNumber"), "employeeNumber"),
        "department": _text(enterprise.get("department"), "department"),
        "job_profile": _text(resource.get("title"), "title"),
        "language": _text(admit.get("language"), "language"),
        "role": wanted_role.value,
    }
    external_id = _text(resource.get("externalId"), "externalId")
    attributes = {k: json_copy(v) for k, v in resource.items() if k not in MAPPED_CORE and k not in (ENTERPRISE, ADMIT)}
    rest = {k: v for k, v in enterprise.items() if k not in MAPPED_ENTERPRISE}
    if "employeeNumber" in enterprise:
        rest["employeeNumber"] = enterprise["employeeNumber"]  # marks that the external ID is an employee number
    if rest:
        attributes[ENTERPRISE] = rest
    filled: dict[str, bool] = {}
    if fields["phone"] is not None:
        try:
            normalise_phone(fields["phone"], region=ctx.phone_region)
        except ValidationFailed:  # not a number Admit can text: kept as sent, not the member's phone
            fields["phone"] = None
            filled["phoneNumbers_kept"] = True
    reachable = fields["email"] or (fields.get("username") and fields["phone"])
    if not reachable and not fields["external_id"]:
        fields["external_id"] = external_id or user_name
        filled["external_id"] = True
    if not reachable and not (fields["first_name"] or fields["last_name"]):
        fields["last_name"] = user_name[:100]
        filled["last_name"] = True
    for key, given in (("active_given", "active" in resource), ("role_given", "permissionType" in admit)):
        if given:
            filled[key] = True
    if "language" in admit:
        filled["language_given"] = True
    if filled:
        attributes[FILLED] = filled
    active = resource.get("active")
    return _Wanted(user_name, external_id, fields, active is not False, attributes)


def _coerced(body: Any, current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A POST or PUT body as a User; a userName that is not a string is refused, not converted."""
    if isinstance(body, Mapping) and not isinstance(get_ci(body, "userName"), str | None):
        raise ScimError(400, INVALID_VALUE, "userName must be a string")
    return coerce_resource(body, USER_TYPE, current=current)


def _asked_workspace(body: Any) -> str | None:
    """The Admit extension's workspaceId in a POST body (read-only otherwise: the server's to set)."""
    admit = get_ci(body, ADMIT) if isinstance(body, Mapping) else None
    asked = get_ci(admit, "workspaceId") if isinstance(admit, Mapping) else None
    return _text(asked, "workspaceId")


def _target_workspace(ctx: Context, caller: ScimCaller, asked: str | None) -> str:
    """The token's workspace; for an organization-wide token the one asked for, else the oldest."""
    if caller.workspace_id is not None:
        if asked is not None and asked != caller.workspace_id:
            raise ScimError(400, INVALID_VALUE, "workspaceId must be this token's workspace")
        return caller.workspace_id
    with ctx.uow() as uow:
        workspaces = uow.workspaces.list(caller.organization_id)
    if asked is not None:
        if not any(w.id == asked for w in workspaces):
            raise ScimError(400, INVALID_VALUE, "workspaceId is not a workspace of this organization")
        return asked
    if not workspaces:
        raise ScimError(400, INVALID_VALUE, "the organization has no workspace")
    return min(workspaces, key=lambda w: (w.created_at, w.id)).id


def _check_user_name(ctx: Context, caller: ScimCaller, workspace_id: str, user_name: str, exclude: str | None) -> None:
    with ctx.uow() as uow:
        taken = uow.scim_users.user_name_taken(caller.organization_id, workspace_id, user_name.casefold(), exclude)
    if taken:
        raise ScimError(409, UNIQUENESS, "a user with this userName already exists")


def _save_row(ctx: Context, caller: ScimCaller, member_id: str, workspace_id: str, wanted: _Wanted) -> None:
    now = ctx.clock.now()
    try:
        with ctx.uow(write=True) as uow:
            uow.scim_users.save(
                member_id,
                organization_id=caller.organization_id,
                workspace_id=workspace_id,
                user_name=wanted.user_name,
                user_name_key=wanted.user_name.casefold(),
                external_id=wanted.external_id,
                attributes=wanted.attributes,
                token_id=caller.token_id,
                updated_at=now,
            )
            uow.commit()
    except AlreadyExists:
        raise ScimError(409, UNIQUENESS, "a user with this userName already exists") from None


def _domain(exc: DomainError) -> ScimError:
    """A member rule's refusal in SCIM's words (uniqueness clashes are 409 uniqueness)."""
    if isinstance(exc, AlreadyExists) or getattr(exc, "code", "") in ("member_exists", "account_exists"):
        return ScimError(409, UNIQUENESS, exc.message)
    if isinstance(exc, ValidationFailed):
        return ScimError(400, INVALID_VALUE, f"{exc.field}: {exc.message}" if exc.field else exc.message)
    raise exc


def create(ctx: Context, caller: ScimCaller, body: Any) -> ScimUser:
    """POST /Users: a new member (silent unless the workspace invites automatically), 409 uniqueness
    when the userName is taken. The member and its scim_users row are written in one transaction
    (the member service's ``then``): of parallel creates of one userName the unique index lets
    exactly one commit, and the others leave nothing behind."""
    resource = _coerced(body)
    wanted = _wanted(ctx, resource, caller)
    workspace_id = _target_workspace(ctx, caller, _asked_workspace(body))
    actor = caller.actor()
    created: list[Any] = []

    def with_scim_row(uow: UnitOfWork, member: Member) -> None:
        key = wanted.user_name.casefold()
        if uow.scim_users.user_name_taken(caller.organization_id, workspace_id, key, member.id):
            raise ScimError(409, UNIQUENESS, "a user with this userName already exists")
        uow.scim_users.add(
            member.id,
            organization_id=caller.organization_id,
            workspace_id=workspace_id,
            user_name=wanted.user_name,
            user_name_key=key,
            external_id=wanted.external_id,
            attributes=wanted.attributes,
            token_id=caller.token_id,
            updated_at=ctx.clock.now(),
        )
        created.append(uow.scim_users.get(caller.organization_id, caller.workspace_id, member.id))

    try:
        member, _ = members.provision(
            ctx, actor, workspace_id, MemberInput(**wanted.fields), invite=None, then=with_scim_row
        )
    except DomainError as exc:  # a clash at the commit too (AlreadyExists, 409 uniqueness)
        raise _domain(exc) from None
    if not wanted.active:
        members.suspend(ctx, actor, member.id, workspace_id=workspace_id)
        return get(ctx, caller, member.id)
    return render(ctx, created[0], ())  # a new member is in no group yet


def _protect_owner(row: Any) -> None:
    if row.role == Role.OWNER:
        raise ScimError(403, None, "SCIM cannot modify an owner")


def _write(ctx: Context, caller: ScimCaller, row: Any, resource: dict[str, Any]) -> ScimUser:
    """Make the member what ``resource`` (a full, coerced User) says."""
    _protect_owner(row)
    stored = row.scim_attributes if isinstance(row.scim_attributes, dict) else {}
    role_given = bool(stored.get(FILLED, {}).get("role_given"))
    # A role the provider never set is the administrators' (an Okta PUT without the extension keeps it);
    # one it set and now leaves out (a PUT or a PATCH remove) returns to member.
    wanted = _wanted(ctx, resource, caller, current_role=None if role_given else row.role)
    if wanted.user_name.casefold() != str(row.user_name).casefold():
        _check_user_name(ctx, caller, row.workspace_id, wanted.user_name, row.id)
    actor = caller.actor()
    current = {name: getattr(row, name) for name in wanted.fields}
    changes = {k: v for k, v in wanted.fields.items() if current.get(k) != v}
    if "language" in changes and changes["language"] is None:
        del changes["language"]  # the workspace's default language stays
    try:
        if changes:
            members.update(ctx, actor, row.id, changes, workspace_id=row.workspace_id)
    except DomainError as exc:
        raise _domain(exc) from None
    _save_row(ctx, caller, row.id, row.workspace_id, wanted)
    suspended = row.status == MemberStatus.SUSPENDED
    if suspended and wanted.active:
        members.reactivate(ctx, actor, row.id, workspace_id=row.workspace_id)
    elif not suspended and not wanted.active:  # the member service may hold it (admin.scim_brake)
        members.suspend(ctx, actor, row.id, workspace_id=row.workspace_id)
    return get(ctx, caller, row.id)


def _precondition(user: ScimUser, if_match: str | None) -> None:
    etags.evaluate(user.etag, if_match, None, safe=False)


def replace(ctx: Context, caller: ScimCaller, user_id: str, body: Any, if_match: str | None = None) -> ScimUser:
    """PUT /Users/{id}: a full replace (attributes not given are cleared; immutable ones must not change)."""
    row = _load(ctx, caller, user_id)
    user = _current(ctx, caller, row)
    _precondition(user, if_match)
    resource = _coerced(body, user.resource)
    return _write(ctx, caller, row, resource)


def patch(ctx: Context, caller: ScimCaller, user_id: str, body: Any, if_match: str | None = None) -> ScimUser:
    """PATCH /Users/{id}: the operations applied to the current User, then saved as a replace."""
    row = _load(ctx, caller, user_id)
    current = _current(ctx, caller, row)
    _precondition(current, if_match)
    result = apply_patch(current.resource, body, USER_TYPE)
    if not result.changed:
        return current
    return _write(ctx, caller, row, result.resource)


def delete(ctx: Context, caller: ScimCaller, user_id: str, if_match: str | None = None) -> ScimUser | None:
    """DELETE /Users/{id}: the member is removed (None), or the brake holds it (the unchanged User)."""
    row = _load(ctx, caller, user_id)
    current = _current(ctx, caller, row)
    _precondition(current, if_match)
    _protect_owner(row)
    actor = caller.actor()
    if members.remove(ctx, actor, row.id, workspace_id=row.workspace_id).status != "removed":
        return current  # held by the deprovisioning brake (admin.scim_brake)
    return None  # the userName is free again (members.remove forgets its scim_users row)


def not_modified(user: ScimUser, if_none_match: str | None) -> bool:
    """Whether a GET with ``If-None-Match`` is answered 304."""
    return etags.evaluate(user.etag, None, if_none_match, safe=True) is etags.Outcome.NOT_MODIFIED


__all__ = ["ScimUser", "create", "delete", "get", "patch", "replace", "search"]
