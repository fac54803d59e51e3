"""SCIM PATCH (RFC 7644 §3.5.2): apply a PatchOp request body to a resource's SCIM JSON.

Public API:

* ``apply_patch(resource, body, resource_type) -> PatchResult``: the new resource (the input is not
  modified), the attributes that changed, and for groups the member ids added and removed (computed with
  sets, so a 10,000-member PATCH stays linear): the caller applies only those membership rows. ``meta``
  (lastModified, version) is the caller's to update.
* ``coerce_resource(body, resource_type, current=None) -> dict``: a POST/PUT body checked and coerced the
  same way (read-only and unknown attributes ignored, required ones checked, immutable ones kept on PUT).

Quirks of the identity providers that this accepts on purpose (each has a test on the exact request body):
op names in any case; ``"True"``/``"False"`` strings for booleans; Entra's remove of members by a
``value`` list; ``members[value eq "id"]`` paths; requests without a path whose value has dotted keys
(``name.givenName``), URN-qualified keys, or a schema URN as a key with an object value; a path that is
an extension's URN (its attributes added or replaced from an object value, or all removed); ``add`` with a
filter path that matches nothing (Entra adds a phone or email that way) creates the value; removing
members that are not there does nothing; a string for a complex attribute with a ``value`` sub-attribute
(Entra's ``manager``) means ``{"value": ...}``.

Errors: ``invalidSyntax`` for a malformed body, ``invalidPath`` for unknown attributes, ``mutability`` for
read-only or immutable attributes and for removing a required one, ``noTarget`` for a filter matching
nothing (except removals from ``members``), ``invalidValue`` for values of the wrong type, 413 for more
than ``MAX_OPERATIONS`` operations or ``MAX_VALUES`` values in one operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from admit.scim import json_copy
from admit.scim.errors import INVALID_PATH, INVALID_SYNTAX, INVALID_VALUE, MUTABILITY, NO_TARGET, ScimError
from admit.scim.filter import (
    And,
    Compare,
    Filter,
    PatchPath,
    get_ci,
    matches_value,
    parse_datetime,
    parse_path,
)
from admit.scim.schemas import (
    BOOLEAN,
    COMPLEX,
    DATETIME,
    DECIMAL,
    IMMUTABLE,
    INTEGER,
    PATCH_OP_SCHEMA,
    READ_ONLY,
    STRING,
    Attribute,
    ResourceType,
    Schema,
    resolve,
)

MAX_OPERATIONS = 1000
MAX_VALUES = 10_000
MAX_STRING = 4096
OPS = ("add", "remove", "replace")


@dataclass(frozen=True)
class PatchResult:
    """The patched resource and a summary of the change."""

    resource: dict[str, Any]
    changed: tuple[str, ...]
    """Attributes whose value changed, sorted, in the schema's spelling without URN (``active``,
    ``name.givenName``, ``emails``, ``department``, ``members``)."""
    members_added: frozenset[str] = frozenset()
    members_removed: frozenset[str] = frozenset()


def apply_patch(
    resource: Mapping[str, Any],
    body: Any,
    resource_type: ResourceType,
    *,
    max_operations: int = MAX_OPERATIONS,
    max_values: int = MAX_VALUES,
) -> PatchResult:
    """Apply a PatchOp body to ``resource`` (its SCIM JSON, as the server would return it)."""
    operations = _operations(body, max_operations)
    patched: dict[str, Any] = json_copy(dict(resource))
    applier = _Applier(patched, resource_type, max_values)
    for number, operation in enumerate(operations, start=1):
        try:
            applier.operation(operation)
        except ScimError as error:
            raise ScimError(error.status, error.scim_type, f"operation {number}: {error.detail}") from None
    applier.flush()
    changed = _changed(resource, patched, resource_type)
    if resource_type.attribute("members") is None:
        return PatchResult(patched, changed)
    before, after = _member_ids(resource), _member_ids(patched)
    return PatchResult(patched, changed, frozenset(after - before), frozenset(before - after))


def _operations(body: Any, max_operations: int) -> list[Mapping[str, Any]]:
    if not isinstance(body, Mapping):
        raise ScimError(400, INVALID_SYNTAX, "the body is not a JSON object")
    schemas = get_ci(body, "schemas")
    if not isinstance(schemas, list) or PATCH_OP_SCHEMA.lower() not in {str(s).lower() for s in schemas}:
        raise ScimError(400, INVALID_SYNTAX, f"schemas must list {PATCH_OP_SCHEMA}")
    operations = get_ci(body, "Operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, INVALID_SYNTAX, "Operations must be a non-empty list")
    if len(operations) > max_operations:
        raise ScimError(413, None, f"at most {max_operations} operations in one request, not {len(operations)}")
    for number, operation in enumerate(operations, start=1):
        if not isinstance(operation, Mapping):
            raise ScimError(400, INVALID_SYNTAX, f"operation {number} is not an object")
    return operations


def _member_ids(resource: Mapping[str, Any]) -> set[str]:
    members = get_ci(resource, "members")
    if not isinstance(members, list):
        return set()
    return {
        m["value"]
        for m in members
        if (m.__class__ is dict or isinstance(m, Mapping)) and isinstance(m.get("value"), str)
    }


def _changed(before: Mapping[str, Any], after: Mapping[str, Any], resource_type: ResourceType) -> tuple[str, ...]:
    names: set[str] = set()
    for schema in resource_type.schemas():
        extension = resource_type.is_extension(schema)
        old_container = get_ci(before, schema.id) if extension else before
        new_container = get_ci(after, schema.id) if extension else after
        old_container = old_container if isinstance(old_container, Mapping) else {}
        new_container = new_container if isinstance(new_container, Mapping) else {}
        attributes = schema.attributes if extension else (*resource_type_common(resource_type), *schema.attributes)
        for attribute in attributes:
            old, new = get_ci(old_container, attribute.name), get_ci(new_container, attribute.name)
            if old == new:
                continue
            if attribute.type == COMPLEX and not attribute.multi_valued:
                old_map = old if isinstance(old, Mapping) else {}
                new_map = new if isinstance(new, Mapping) else {}
                subs = [s.name for s in attribute.sub_attributes if get_ci(old_map, s.name) != get_ci(new_map, s.name)]
                names.update(f"{attribute.name}.{s}" for s in subs)
            else:
                names.add(attribute.name)
    return tuple(sorted(names))


def resource_type_common(resource_type: ResourceType) -> tuple[Attribute, ...]:
    """The common attributes a PATCH may change (``externalId``; ``id`` and ``meta`` are read-only)."""
    found = resource_type.attribute("externalId")
    return (found[1],) if found else ()


class _Applier:
    def __init__(self, resource: dict[str, Any], resource_type: ResourceType, max_values: int) -> None:
        self.resource = resource
        self.resource_type = resource_type
        self.max_values = max_values
        self.removed_members: set[str] = set()

    # --- dispatch ---

    def operation(self, operation: Mapping[str, Any]) -> None:
        op = get_ci(operation, "op")
        if not isinstance(op, str) or op.lower() not in OPS:
            raise ScimError(400, INVALID_SYNTAX, f"op must be add, remove or replace, not {str(op)[:40]!r}")
        op = op.lower()
        path = get_ci(operation, "path")
        value = get_ci(operation, "value")
        if path is not None and not isinstance(path, str):
            raise ScimError(400, INVALID_PATH, "path must be a string")
        if path is None or not path.strip():
            if op == "remove":
                raise ScimError(400, NO_TARGET, "remove needs a path")
            if not isinstance(value, Mapping):
                raise ScimError(400, INVALID_VALUE, f"{op} without a path needs an object value")
            self.without_path(op, value)
            return
        if op != "remove" and "value" not in {k.lower() for k in operation}:
            raise ScimError(400, INVALID_VALUE, f"{op} needs a value")
        extension = self.resource_type.schema_by_urn(path.strip())
        if extension is not None and self.resource_type.is_extension(extension):
            self.whole_extension(op, extension, value)
            return
        self.at_path(op, parse_path(path), value, has_value="value" in {k.lower() for k in operation})

    def without_path(self, op: str, value: Mapping[str, Any]) -> None:
        for key, item in value.items():
            if not isinstance(key, str) or key.lower() == "schemas":
                continue
            extension = self.resource_type.schema_by_urn(key)
            if extension is not None:
                if not isinstance(item, Mapping):
                    raise ScimError(400, INVALID_VALUE, f"{key} needs an object value")
                for sub_key, sub_value in item.items():
                    if str(sub_key).lower() == "schemas":  # scim2-tester sends an extension object with its own
                        continue
                    self.at_path(op, _key_path(f"{extension.id}:{sub_key}"), sub_value, has_value=True)
            else:
                self.at_path(op, _key_path(key), item, has_value=True)

    def whole_extension(self, op: str, extension: Schema, value: Any) -> None:
        """A path that is an extension's URN: add or replace its attributes given in ``value`` (an object),
        or remove all of its writable attributes."""
        if op != "remove":
            if not isinstance(value, Mapping):
                raise ScimError(400, INVALID_VALUE, f"{extension.id} needs an object value")
            self.without_path(op, {extension.id: value})
            return
        container = self.container(extension, create=False) or {}
        for key in list(container):
            found = self.resource_type.attribute(str(key), extension.id)
            if found is not None and found[1].mutability not in (READ_ONLY, IMMUTABLE):
                self.at_path(op, _key_path(f"{extension.id}:{key}"), None, has_value=False)

    def at_path(self, op: str, path: PatchPath, value: Any, *, has_value: bool) -> None:
        resolved = resolve(self.resource_type, str(path.attr))
        if resolved is None:
            raise ScimError(400, INVALID_PATH, f"no attribute {path.attr}")
        attribute = resolved.attribute
        sub = resolved.sub_attribute
        if path.sub is not None:
            sub = attribute.sub(path.sub)
            if sub is None:
                raise ScimError(400, INVALID_PATH, f"no sub-attribute {path.sub} of {attribute.name}")
        if path.filter is not None and not attribute.multi_valued:
            raise ScimError(400, INVALID_PATH, f"{attribute.name} is single-valued: it takes no filter")
        if attribute.mutability == READ_ONLY or (sub is not None and sub.mutability == READ_ONLY):
            if op != "remove" and path.filter is None and self.current(resolved.schema, attribute, sub) == value:
                return  # Okta repeats the group's id in a rename: the same value is no change
            raise ScimError(400, MUTABILITY, f"{resolved.display} is read-only")
        member_id = _member_filter(path) if attribute.name == "members" and op == "remove" else None
        if member_id is not None:
            # members[value eq "id"], one operation per member in Okta's requests: removed together at the end
            self.removed_members.add(member_id)
            return
        self.flush()
        container = self.container(resolved.schema, create=op != "remove")
        if container is None:
            if path.filter is not None and attribute.name != "members":
                raise ScimError(400, NO_TARGET, f"no value of {attribute.name} matches the filter")
            return
        name = attribute.name
        if name not in container:  # the stored key in another spelling: use the schema's
            found = _pop_ci(container, name)
            if found is not None:
                container[name] = found
        current = container.get(name)
        if attribute.mutability == IMMUTABLE and current is not None and op != "add":
            raise ScimError(400, MUTABILITY, f"{name} is immutable")
        if path.filter is not None:
            self.filtered(op, container, attribute, path.filter, sub, value)
        elif attribute.multi_valued:
            self.multi(op, container, attribute, sub, value, has_value=has_value)
        elif sub is not None:
            self.sub_of_single(op, container, attribute, sub, value)
        else:
            self.single(op, container, attribute, value)
        if attribute.mutability == IMMUTABLE and current is not None and container.get(name) != current:
            raise ScimError(400, MUTABILITY, f"{name} is immutable")
        self.tidy(resolved.schema)

    def flush(self) -> None:
        """Apply the member removals collected from ``members[value eq "id"]`` operations, in one pass."""
        if not self.removed_members:
            return
        members = get_ci(self.resource, "members")
        if isinstance(members, list):
            gone = self.removed_members
            kept = [m for m in members if not (isinstance(m, Mapping) and m.get("value") in gone)]
            _pop_ci(self.resource, "members")
            if kept:
                self.resource["members"] = kept
        self.removed_members = set()

    # --- containers ---

    def current(self, schema: Schema, attribute: Attribute, sub: Attribute | None) -> Any:
        container = self.container(schema, create=False)
        value = get_ci(container, attribute.name) if container is not None else None
        if sub is None:
            return value
        return get_ci(value, sub.name) if isinstance(value, Mapping) else None

    def container(self, schema: Schema, *, create: bool) -> dict[str, Any] | None:
        if not self.resource_type.is_extension(schema):
            return self.resource
        for key in list(self.resource):
            if key.lower() == schema.id.lower():
                existing = self.resource[key]
                if isinstance(existing, dict):
                    return existing
                del self.resource[key]
        if not create:
            return None
        self.resource[schema.id] = {}
        return self.resource[schema.id]  # type: ignore[no-any-return]

    def tidy(self, schema: Schema) -> None:
        """An extension's URN is in ``schemas`` exactly when the resource has some of its attributes."""
        if not self.resource_type.is_extension(schema):
            return
        container = get_ci(self.resource, schema.id)
        schemas = self.resource.setdefault("schemas", [self.resource_type.schema.id])
        listed = [s for s in schemas if isinstance(s, str) and s.lower() == schema.id.lower()]
        if isinstance(container, dict) and container:
            if not listed:
                schemas.append(schema.id)
        else:
            _pop_ci(self.resource, schema.id)
            for entry in listed:
                schemas.remove(entry)

    # --- single-valued ---

    def single(self, op: str, container: dict[str, Any], attribute: Attribute, value: Any) -> None:
        if op == "remove" or value is None:
            if op == "add" and value is None:
                raise ScimError(400, INVALID_VALUE, f"add needs a value for {attribute.name}")
            if attribute.required:
                raise ScimError(400, MUTABILITY, f"{attribute.name} is required: it cannot be removed")
            container.pop(attribute.name, None)
            return
        coerced = self.coerce(attribute, value)
        if attribute.type == COMPLEX:
            # replace and add of a complex attribute set the given sub-attributes and keep the others
            merged = dict(container.get(attribute.name) or {})
            for key, sub_value in coerced.items():
                if sub_value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = sub_value
            if merged:
                container[attribute.name] = merged
            else:
                container.pop(attribute.name, None)
        else:
            container[attribute.name] = coerced

    def sub_of_single(
        self, op: str, container: dict[str, Any], attribute: Attribute, sub: Attribute, value: Any
    ) -> None:
        current = dict(container.get(attribute.name) or {})
        if op == "remove" or value is None:
            if op == "add" and value is None:
                raise ScimError(400, INVALID_VALUE, f"add needs a value for {attribute.name}.{sub.name}")
            current.pop(sub.name, None)
        else:
            current[sub.name] = self.coerce_one(sub, value, f"{attribute.name}.{sub.name}")
        if current:
            container[attribute.name] = current
        else:
            container.pop(attribute.name, None)

    # --- multi-valued ---

    def multi(
        self,
        op: str,
        container: dict[str, Any],
        attribute: Attribute,
        sub: Attribute | None,
        value: Any,
        *,
        has_value: bool,
    ) -> None:
        name = attribute.name
        items: list[Any] = list(container.get(name) or [])
        if sub is not None:  # emails.value without a filter: every value
            if op == "remove":
                for item in items:
                    item.pop(sub.name, None)
            else:
                coerced = self.coerce_one(sub, value, f"{name}.{sub.name}")
                if not items:
                    items = [{}]
                for item in items:
                    item[sub.name] = coerced
            self.store(container, attribute, items)
            return
        if op == "remove":
            if has_value and value is not None:  # Entra: remove these values (members by value)
                self.remove_values(container, attribute, items, self.coerce(attribute, value))
                return
            if attribute.required:
                raise ScimError(400, MUTABILITY, f"{name} is required: it cannot be removed")
            container.pop(name, None)
            return
        if value is None:
            if op == "add":
                raise ScimError(400, INVALID_VALUE, f"add needs a value for {name}")
            container.pop(name, None)
            return
        new_items = self.coerce(attribute, value)
        if op == "replace":
            items = []
        self.store(container, attribute, _merge(attribute, items, new_items))
        if attribute.sub("primary") is not None:  # emails, phoneNumbers…; never a group's members
            _one_primary(container.get(name) or [], new_items)

    def remove_values(
        self, container: dict[str, Any], attribute: Attribute, items: list[Any], remove: list[Any]
    ) -> None:
        if attribute.type != COMPLEX:
            gone = set(map(_scalar_key, remove))
            self.store(container, attribute, [i for i in items if _scalar_key(i) not in gone])
            return
        keys = {_identity(attribute, r) for r in remove}
        partial = [r for r in remove if "type" not in r]  # by value alone, whatever the type
        values = {_identity(attribute, {"value": r.get("value")})[0] for r in partial}
        kept = [
            item
            for item in items
            if _identity(attribute, item) not in keys and _identity(attribute, item)[0] not in values
        ]
        self.store(container, attribute, kept)

    def filtered(
        self, op: str, container: dict[str, Any], attribute: Attribute, where: Filter, sub: Attribute | None, value: Any
    ) -> None:
        name = attribute.name
        items: list[Any] = list(container.get(name) or [])
        hits = [
            i for i, item in enumerate(items) if isinstance(item, Mapping) and matches_value(where, item, attribute)
        ]
        if not hits:
            if op == "remove" and name == "members":
                return  # Entra removes members that are already gone
            template = _equalities(where) if op == "add" else None
            if template is None:
                raise ScimError(400, NO_TARGET, f"no value of {name} matches the filter")
            created = dict(self.coerce_one(attribute, template, name))
            if sub is not None:
                created[sub.name] = self.coerce_one(sub, value, f"{name}.{sub.name}")
            else:
                created.update(self.coerce_one(attribute, value, name))
            items.append(created)
            self.store(container, attribute, items)
            _one_primary(items, [created])
            return
        touched: list[dict[str, Any]] = []
        if op == "remove":
            if sub is None:
                drop = set(hits)
                items = [item for i, item in enumerate(items) if i not in drop]
            else:
                for i in hits:
                    items[i].pop(sub.name, None)
            self.store(container, attribute, items)
            return
        for i in hits:
            if sub is not None:
                if value is None:
                    items[i].pop(sub.name, None)
                else:
                    items[i][sub.name] = self.coerce_one(sub, value, f"{name}.{sub.name}")
            else:
                replacement = self.coerce_one(attribute, value, name)
                items[i] = {**items[i], **replacement} if op == "add" else dict(replacement)
            touched.append(items[i])
        self.store(container, attribute, items)
        _one_primary(items, touched)

    def store(self, container: dict[str, Any], attribute: Attribute, items: list[Any]) -> None:
        items = [i for i in items if i not in ({}, None)]
        if items:
            container[attribute.name] = items
        else:
            if attribute.required:
                raise ScimError(400, MUTABILITY, f"{attribute.name} is required: it cannot be emptied")
            container.pop(attribute.name, None)

    # --- values ---

    def coerce(self, attribute: Attribute, value: Any) -> Any:
        """A value for the whole attribute: a list for multi-valued attributes."""
        if not attribute.multi_valued:
            return self.coerce_one(attribute, value, attribute.name)
        values = value if isinstance(value, list) else [value]
        if len(values) > self.max_values:
            raise ScimError(413, None, f"at most {self.max_values} values of {attribute.name} in one operation")
        plain = _plain_value(attribute)
        if plain is None:
            return [self.coerce_one(attribute, v, attribute.name) for v in values]
        return [  # a group's PATCH of 10,000 members: each {"value": "<id>"} without the general walk
            {"value": _text(v["value"], plain)}
            if v.__class__ is dict and len(v) == 1 and v.get("value").__class__ is str
            else self.coerce_one(attribute, v, attribute.name)
            for v in values
        ]

    def coerce_one(self, attribute: Attribute, value: Any, name: str) -> Any:
        """One value of ``attribute`` in its type; Entra's "True"/"False" strings become booleans."""
        kind = attribute.type
        if kind == STRING and value.__class__ is str:  # most values (each member of a group's PATCH): first
            return _text(value, name)
        if kind == COMPLEX:
            members = attribute.name == "members"
            if isinstance(value, str | int) and not isinstance(value, bool) and attribute.sub("value") and not members:
                value = {"value": value}  # Entra's manager: "id"
            if value.__class__ is not dict and not isinstance(value, Mapping):
                raise ScimError(400, INVALID_VALUE, f"{name} needs an object")
            result: dict[str, Any] = {}
            for key, sub_value in value.items():
                sub = attribute.sub(str(key))
                if sub is None:
                    raise ScimError(400, INVALID_VALUE, f"{name} has no sub-attribute {str(key)[:40]!r}")
                if sub.mutability == READ_ONLY or sub_value is None:
                    continue  # computed by the server (members' display) or unset
                if members and sub.name == "value" and not isinstance(sub_value, str):
                    raise ScimError(400, INVALID_VALUE, f"{name}.value is the member's id: a string")
                result[sub.name] = self.coerce_one(sub, sub_value, f"{name}.{sub.name}")
            if members and not isinstance(result.get("value"), str):
                raise ScimError(400, INVALID_VALUE, "each member needs a value (the member's id)")
            return result
        if kind == BOOLEAN:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
            raise ScimError(400, INVALID_VALUE, f"{name} is true or false")
        if kind in (INTEGER, DECIMAL):
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            raise ScimError(400, INVALID_VALUE, f"{name} is a number")
        if isinstance(value, int | float) and not isinstance(value, bool) and attribute.name != "userName":
            value = str(value)  # employeeNumber: 42 (never a userName: the identifier is sent as text)
        if not isinstance(value, str):
            raise ScimError(400, INVALID_VALUE, f"{name} is a string")
        _text(value, name)
        if kind == DATETIME:
            try:
                parse_datetime(value)
            except ValueError:
                raise ScimError(400, INVALID_VALUE, f"{name} is an ISO 8601 date-time") from None
        return value


def _plain_value(attribute: Attribute) -> str | None:
    """For a complex attribute whose ``value`` sub-attribute is a writable string: the name its
    errors use (``members.value``), as :meth:`coerce_one` names it; else None."""
    if attribute.type != COMPLEX:
        return None
    sub = attribute.sub("value")
    if sub is None or sub.type != STRING or sub.mutability == READ_ONLY or sub.name != "value":
        return None
    return f"{attribute.name}.value"


def _text(value: str, name: str) -> str:
    if len(value) > MAX_STRING or "\x00" in value:
        raise ScimError(400, INVALID_VALUE, f"{name} is longer than {MAX_STRING} characters or has a NUL")
    return value


def coerce_resource(
    body: Any,
    resource_type: ResourceType,
    *,
    current: Mapping[str, Any] | None = None,
    max_values: int = MAX_VALUES,
) -> dict[str, Any]:
    """A POST or PUT body as a resource's SCIM JSON, in the schema's spelling and types.

    Read-only attributes (``id``, ``meta``, ``groups``) and attributes no schema defines (Okta's ``password``,
    Entra's empty ``roles``) are ignored, as RFC 7643 §7 asks; values are coerced as in PATCH (``"True"``);
    a multi-valued attribute loses duplicates and keeps one ``primary``. ``invalidSyntax`` when ``schemas``
    lacks the resource type's schema, ``invalidValue`` when a required attribute is missing or a value has
    the wrong type, ``mutability`` when a PUT (``current`` given) changes an immutable attribute."""
    if not isinstance(body, Mapping):
        raise ScimError(400, INVALID_SYNTAX, "the body is not a JSON object")
    schemas = get_ci(body, "schemas")
    if not isinstance(schemas, list) or resource_type.schema.id.lower() not in {str(x).lower() for x in schemas}:
        raise ScimError(400, INVALID_SYNTAX, f"schemas must list {resource_type.schema.id}")
    applier = _Applier({}, resource_type, max_values)
    result: dict[str, Any] = {"schemas": [resource_type.schema.id]}

    def put(schema: Schema, attribute: Attribute, value: Any) -> None:
        if attribute.mutability == READ_ONLY or value is None:
            return
        coerced = applier.coerce(attribute, value)
        if attribute.multi_valued:
            coerced = _merge(attribute, [], coerced)
            _one_primary(coerced, coerced)
            if not coerced:
                return
        elif attribute.type == COMPLEX and not coerced:
            return
        container = result
        if resource_type.is_extension(schema):
            container = result.setdefault(schema.id, {})
        container[attribute.name] = coerced

    for key, value in body.items():
        if not isinstance(key, str) or key.lower() == "schemas":
            continue
        extension = resource_type.schema_by_urn(key)
        if extension is not None and resource_type.is_extension(extension):
            if not isinstance(value, Mapping):
                raise ScimError(400, INVALID_VALUE, f"{key} needs an object value")
            for inner_key, inner_value in value.items():
                found = resource_type.attribute(str(inner_key), extension.id)
                if found is not None:
                    put(found[0], found[1], inner_value)
            continue
        resolved = resolve(resource_type, key)
        if resolved is not None and resolved.sub_attribute is None:
            put(resolved.schema, resolved.attribute, value)
    for schema in resource_type.schemas():
        is_extension = resource_type.is_extension(schema)
        container = result.get(schema.id, {}) if is_extension else result
        for attribute in schema.attributes:
            if attribute.required and container.get(attribute.name) in (None, "", []):
                raise ScimError(400, INVALID_VALUE, f"{attribute.name} is required")
        if is_extension and container:
            result["schemas"].append(schema.id)
    if current is not None:
        _check_immutable(result, current, resource_type)
    return result


def _check_immutable(new: Mapping[str, Any], current: Mapping[str, Any], resource_type: ResourceType) -> None:
    for schema in resource_type.schemas():
        extension = resource_type.is_extension(schema)
        new_container = get_ci(new, schema.id) if extension else new
        old_container = get_ci(current, schema.id) if extension else current
        for attribute in schema.attributes:
            if attribute.mutability != IMMUTABLE:
                continue
            old = get_ci(old_container, attribute.name) if isinstance(old_container, Mapping) else None
            value = get_ci(new_container, attribute.name) if isinstance(new_container, Mapping) else None
            if old is not None and value is not None and old != value:
                raise ScimError(400, MUTABILITY, f"{attribute.name} is immutable")


def _member_filter(path: PatchPath) -> str | None:
    """The id of ``members[value eq "id"]`` (no sub-attribute), else None."""
    where = path.filter
    if path.sub is not None or path.attr.sub is not None or not isinstance(where, Compare):
        return None
    if where.op != "eq" or where.path.attr.lower() != "value" or where.path.sub is not None:
        return None
    return where.value if isinstance(where.value, str) else None


def _key_path(key: str) -> PatchPath:
    path = parse_path(key)
    if path.filter is not None:
        raise ScimError(400, INVALID_PATH, f"a key of the value is no path with a filter: {key[:80]!r}")
    return path


def _pop_ci(container: dict[str, Any], name: str) -> Any:
    """Remove and return ``container``'s value for ``name`` under any spelling of the key."""
    found: Any = None
    for key in [k for k in container if k.lower() == name.lower()]:
        found = container.pop(key)
    return found


def _scalar_key(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _identity(attribute: Attribute, item: Any) -> tuple[Any, Any]:
    """What makes two values of a multi-valued complex attribute the same: the value (and its type)."""
    return _identity_of(attribute)(item)


def _identity_of(attribute: Attribute) -> Callable[[Any], tuple[Any, Any]]:
    """:func:`_identity` for ``attribute``, its sub-attribute looked up once (a merge of 10,000 members)."""
    sub = attribute.sub("value")
    fold = not (sub is not None and sub.case_exact)
    members = attribute.name == "members"

    def identity(item: Any) -> tuple[Any, Any]:
        if not isinstance(item, Mapping):
            return (item, None)
        value = item.get("value")
        if fold and isinstance(value, str):
            value = value.lower()
        if members:
            return (value, None)
        kind = item.get("type")
        return (value, kind.lower() if isinstance(kind, str) else kind)

    return identity


def _merge(attribute: Attribute, items: list[Any], new_items: list[Any]) -> list[Any]:
    """``items`` plus ``new_items``, without duplicates: a duplicate updates the value it repeats. Linear."""
    if attribute.type != COMPLEX:
        seen = {_scalar_key(i) for i in items}
        result = list(items)
        for item in new_items:
            if _scalar_key(item) not in seen:
                seen.add(_scalar_key(item))
                result.append(item)
        return result
    result = list(items)
    identity = _identity_of(attribute)
    index = {identity(item): position for position, item in enumerate(result)}
    for item in new_items:
        key = identity(item)
        if key[0] is None:
            result.append(item)
        elif key in index:
            result[index[key]] = {**result[index[key]], **item}
        else:
            index[key] = len(result)
            result.append(item)
    return result


def _one_primary(items: list[Any], touched: list[Any]) -> None:
    """When a value set ``primary: true``, every other value's primary becomes false (RFC 7643 §2.4)."""
    primaries = [t for t in touched if isinstance(t, Mapping) and t.get("primary") is True]
    if not primaries:
        return
    keep = primaries[-1]
    for item in items:
        if isinstance(item, dict) and item is not keep and item.get("primary") is True:
            item["primary"] = False
    for item in items:  # the merged copy of `keep` may be another object with the same content
        if isinstance(item, dict) and item == keep:
            item["primary"] = True
            break


def _equalities(where: Filter) -> dict[str, Any] | None:
    """``{"type": "work"}`` for ``type eq "work"`` (and conjunctions of eq): the value ``add`` creates."""
    if isinstance(where, And):
        left, right = _equalities(where.left), _equalities(where.right)
        return None if left is None or right is None else {**left, **right}
    if isinstance(where, Compare) and where.op == "eq" and where.value is not None:
        return {where.path.attr: where.value}
    return None
