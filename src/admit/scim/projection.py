"""The ``attributes`` and ``excludedAttributes`` parameters (RFC 7644 §3.4.2.5, §3.9).

Public API:

* ``project(resource, resource_type, attributes=None, excluded=None) -> dict``: the resource's SCIM JSON
  as returned. ``attributes`` / ``excluded`` are the raw comma-separated parameters (or lists of paths):
  case-insensitive, optionally URN-qualified (a schema's URN alone names all its attributes), with
  sub-attributes (``name.givenName``, ``emails.value``). ``id`` and ``schemas`` (and any ``returned: always``
  attribute) are always returned; ``returned: never`` never; ``returned: request`` only when listed in
  ``attributes``; ``returned: default`` (``meta`` among them) is dropped when ``attributes`` is given and
  does not list it. Unknown names are ignored (RFC 7644 says nothing else); more than ``MAX_NAMES`` names or
  an over-long parameter is ``invalidValue``.
* ``parse_names(value) -> list[str]``: the names of one parameter, split and trimmed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from admit.scim.errors import INVALID_VALUE, ScimError
from admit.scim.schemas import ALWAYS, COMPLEX, NEVER, REQUEST, Attribute, ResourceType, Schema, resolve

MAX_NAMES = 100
MAX_PARAMETER = 4096


def parse_names(value: str | Sequence[str] | None) -> list[str]:
    """The names of an ``attributes``/``excludedAttributes`` parameter (a comma-separated string or a list)."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else [p for v in value for p in str(v).split(",")]
    if sum(len(p) for p in parts) > MAX_PARAMETER:
        raise ScimError(400, INVALID_VALUE, f"the attribute list is longer than {MAX_PARAMETER} characters")
    names = [p.strip() for p in parts if p.strip()]
    if len(names) > MAX_NAMES:
        raise ScimError(400, INVALID_VALUE, f"at most {MAX_NAMES} attribute names")
    return names


@dataclass
class _Selection:
    whole_schemas: set[str] = field(default_factory=set)  # lower-case URNs
    whole: set[tuple[str, str]] = field(default_factory=set)  # (schema, attribute), lower case
    subs: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def add(self, resource_type: ResourceType, name: str) -> None:
        schema = resource_type.schema_by_urn(name)
        if schema is not None:
            self.whole_schemas.add(schema.id.lower())
            return
        resolved = resolve(resource_type, name)
        if resolved is None:
            return
        key = (resolved.schema.id.lower(), resolved.attribute.name.lower())
        if resolved.sub_attribute is None:
            self.whole.add(key)
        else:
            self.subs.setdefault(key, set()).add(resolved.sub_attribute.name.lower())

    def listed(self, schema: Schema, attribute: Attribute) -> bool | set[str]:
        """True (all of it), a set of sub-attributes, or False."""
        key = (schema.id.lower(), attribute.name.lower())
        if schema.id.lower() in self.whole_schemas or key in self.whole:
            return True
        return self.subs.get(key, False)


def _selection(resource_type: ResourceType, value: str | Sequence[str] | None) -> _Selection | None:
    names = parse_names(value)
    if not names:
        return None
    selection = _Selection()
    for name in names:
        selection.add(resource_type, name)
    return selection


def project(
    resource: Mapping[str, Any],
    resource_type: ResourceType,
    attributes: str | Sequence[str] | None = None,
    excluded: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """The resource as returned with these parameters (the input is not modified)."""
    wanted = _selection(resource_type, attributes)
    unwanted = _selection(resource_type, excluded)
    result: dict[str, Any] = {}
    for key, value in resource.items():
        lowered = key.lower()
        if lowered in ("schemas", "id"):
            result[key] = value
            continue
        extension = resource_type.schema_by_urn(key)
        if extension is not None and resource_type.is_extension(extension):
            if isinstance(value, Mapping):
                inner = {
                    k: v
                    for k, v in (
                        (k, _attribute(resource_type, extension, k, v, wanted, unwanted)) for k, v in value.items()
                    )
                    if v is not _DROP
                }
                if inner:
                    result[key] = inner
            continue
        projected = _attribute(resource_type, resource_type.schema, key, value, wanted, unwanted)
        if projected is not _DROP:
            result[key] = projected
    return result


_DROP: Any = object()


def _attribute(
    resource_type: ResourceType,
    schema: Schema,
    name: str,
    value: Any,
    wanted: _Selection | None,
    unwanted: _Selection | None,
) -> Any:
    if wanted is None and unwanted is None:  # no parameters: what the schema says, looked up once
        rule = _plain_rule(resource_type, schema, name)
        if rule is _KEEP or rule is _DROP:
            return value if rule is _KEEP else _DROP
        return _subs(rule, value, drop=set())
    found = resource_type.attribute(name, schema.id)
    if found is None:  # not in the schema: returned like a default attribute
        return value if wanted is None else _DROP
    schema, attribute = found
    if attribute.returned == NEVER:
        return _DROP
    if attribute.returned == ALWAYS:
        return _without_never(attribute, value)
    if wanted is not None:
        listed = wanted.listed(schema, attribute)
        if listed is False:
            return _DROP
        if listed is True:
            return _without_never(attribute, value)
        return _subs(attribute, value, keep=listed)
    if attribute.returned == REQUEST:
        return _DROP
    if unwanted is not None:
        listed = unwanted.listed(schema, attribute)
        if listed is True:
            return _DROP
        if listed is not False:
            return _subs(attribute, value, drop=listed)
    return _without_never(attribute, value)


_KEEP: Any = object()


def _plain_rule(resource_type: ResourceType, schema: Schema, name: str) -> Any:
    """What a request without ``attributes`` and ``excludedAttributes`` does with ``name``:
    return it (``_KEEP``), drop it (``_DROP``: ``returned`` never or request), or return it
    without its ``returned: never`` sub-attributes (the attribute)."""
    rules = resource_type.plain_rules  # _KEEP, _DROP or an Attribute, per (schema, name)
    key = (schema.id, name)
    rule = rules.get(key)
    if rule is None:
        found = resource_type.attribute(name, schema.id)
        if found is None:
            rule = _KEEP
        elif found[1].returned in (NEVER, REQUEST):
            rule = _DROP
        else:
            attribute = found[1]
            complex_never = attribute.type == COMPLEX and any(s.returned == NEVER for s in attribute.sub_attributes)
            rule = attribute if complex_never else _KEEP
        if len(rules) >= 4096:  # names come from stored attributes: bounded, but not by us
            rules.clear()
        rules[key] = rule
    return rule


def _without_never(attribute: Attribute, value: Any) -> Any:
    if attribute.type != COMPLEX or not any(s.returned == NEVER for s in attribute.sub_attributes):
        return value
    return _subs(attribute, value, drop=set())


def _subs(attribute: Attribute, value: Any, *, keep: set[str] | None = None, drop: set[str] | None = None) -> Any:
    def one(item: Any) -> Any:
        if not isinstance(item, Mapping):
            return item
        kept: dict[str, Any] = {}
        for key, sub_value in item.items():
            sub = attribute.sub(key)
            lowered = key.lower()
            if sub is not None and sub.returned == NEVER:
                continue
            always = sub is not None and sub.returned == ALWAYS
            if keep is not None and lowered not in keep and not always:
                continue
            if drop is not None and lowered in drop and not always:
                continue
            kept[key] = sub_value
        return kept

    if isinstance(value, list):
        items = [one(item) for item in value]
        items = [item for item in items if item != {}]
        return items if items else _DROP
    projected = one(value)
    return projected if projected != {} else _DROP
