"""SCIM resource schemas (RFC 7643): the single source of truth for User, Group and their extensions.

Public API:

* ``Attribute``, ``Schema``, ``ResourceType``: frozen definitions; ``Attribute.to_json()`` and
  ``Schema.to_json(base_url)`` give the RFC 7643 §7 representation.
* ``USER``, ``GROUP``, ``ENTERPRISE_USER``, ``ADMIT_USER``: the schemas; ``USER_TYPE``, ``GROUP_TYPE``:
  the resource types; ``RESOURCE_TYPES`` maps a resource type's name to it.
* ``schemas_json(base_url)`` / ``resource_types_json(base_url)``: the bodies of ``/Schemas`` and
  ``/ResourceTypes`` (as lists; wrap them in a ListResponse).
* ``resolve(resource_type, path)``: an attribute's definition by a case-insensitive path
  (``userName``, ``name.givenName``, ``urn:...:enterprise:2.0:User:manager.value``, ``meta.lastModified``)
  or ``None``; ``ResolvedPath.canonical`` is the lower-case key the SQL mapping of ``filter.to_sql`` uses.

The common attributes ``id``, ``externalId`` and ``meta`` (RFC 7643 §3.1) belong to every resource type
but to no schema, so ``/Schemas`` does not list them; ``resolve`` finds them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ADMIT_USER_SCHEMA = "urn:admit:params:scim:schemas:extension:admit:2.0:User"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SERVICE_PROVIDER_CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"

# Attribute types, mutability, returned and uniqueness values (RFC 7643 §2.2, §7).
STRING, BOOLEAN, DECIMAL, INTEGER, DATETIME, BINARY, REFERENCE, COMPLEX = (
    "string",
    "boolean",
    "decimal",
    "integer",
    "dateTime",
    "binary",
    "reference",
    "complex",
)
READ_ONLY, READ_WRITE, IMMUTABLE, WRITE_ONLY = "readOnly", "readWrite", "immutable", "writeOnly"
ALWAYS, NEVER, DEFAULT, REQUEST = "always", "never", "default", "request"
NONE, SERVER, GLOBAL = "none", "server", "global"

PERMISSION_TYPES = ("guest", "member", "admin")


@dataclass(frozen=True)
class Attribute:
    """One attribute definition (RFC 7643 §7)."""

    name: str
    type: str = STRING
    multi_valued: bool = False
    description: str = ""
    required: bool = False
    case_exact: bool = False
    mutability: str = READ_WRITE
    returned: str = DEFAULT
    uniqueness: str = NONE
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()

    def sub(self, name: str) -> Attribute | None:
        """A sub-attribute by case-insensitive name (looked up twice for each member of a group a
        PATCH names: a table, not a scan)."""
        return self._subs.get(name.lower())

    @cached_property
    def _subs(self) -> dict[str, Attribute]:
        subs: dict[str, Attribute] = {}
        for attribute in self.sub_attributes:
            subs.setdefault(attribute.name.lower(), attribute)
        return subs

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
        }
        if self.type in (STRING, REFERENCE, BINARY):
            body["caseExact"] = self.case_exact
        if self.canonical_values:
            body["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            body["referenceTypes"] = list(self.reference_types)
        body["mutability"] = self.mutability
        body["returned"] = self.returned
        if self.type != COMPLEX:
            body["uniqueness"] = self.uniqueness
        if self.sub_attributes:
            body["subAttributes"] = [a.to_json() for a in self.sub_attributes]
        return body


@dataclass(frozen=True)
class Schema:
    """A schema: its URN, name, description and top-level attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        lowered = name.lower()
        return next((a for a in self.attributes if a.name.lower() == lowered), None)

    def to_json(self, base_url: str) -> dict[str, Any]:
        return {
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.to_json() for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": f"{base_url.rstrip('/')}/Schemas/{self.id}"},
        }


@dataclass(frozen=True)
class ResourceType:
    """A resource type: its core schema and its extensions (each with whether it is required)."""

    name: str
    endpoint: str
    description: str
    schema: Schema
    extensions: tuple[tuple[Schema, bool], ...] = ()
    _index: dict[str, tuple[Schema, Attribute]] = field(default_factory=dict, compare=False, repr=False)
    _urns: dict[str, Schema] = field(default_factory=dict, compare=False, repr=False)  # lower-case URN → schema
    # (schema id, name) → what a read without attributes parameters returns of it (``projection``)
    plain_rules: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for schema in self.schemas():
            self._urns[schema.id.lower()] = schema
            attributes = schema.attributes if schema is not self.schema else (*COMMON_ATTRIBUTES, *schema.attributes)
            for attribute in attributes:
                key = attribute.name.lower()
                if key in self._index:  # canonical paths drop the URN, so names must be unique
                    raise ValueError(f"{self.name}: attribute {attribute.name} defined twice")
                self._index[key] = (schema, attribute)

    def schemas(self) -> Iterator[Schema]:
        yield self.schema
        for extension, _required in self.extensions:
            yield extension

    def schema_by_urn(self, urn: str) -> Schema | None:
        """The core schema or an extension by its URN, case-insensitively (asked of every key of
        every resource read or written: one dictionary lookup)."""
        return self._urns.get(urn.lower())

    def is_extension(self, schema: Schema) -> bool:
        return schema is not self.schema

    def attribute(self, name: str, urn: str | None = None) -> tuple[Schema, Attribute] | None:
        """A top-level attribute by case-insensitive name, optionally within the schema ``urn``."""
        found = self._index.get(name.lower())
        if found is None:
            return None
        elsewhere = urn is not None and found[0].id.lower() != urn.lower()
        if elsewhere and not (found[1] in COMMON_ATTRIBUTES and str(urn).lower() == self.schema.id.lower()):
            return None
        return found

    def to_json(self, base_url: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema.id,
        }
        if self.extensions:
            body["schemaExtensions"] = [{"schema": s.id, "required": r} for s, r in self.extensions]
        body["meta"] = {"resourceType": "ResourceType", "location": f"{base_url.rstrip('/')}/ResourceTypes/{self.name}"}
        return body


def _sub(name: str, type_: str = STRING, **kw: Any) -> Attribute:
    return Attribute(name, type_, **kw)


def _typed_multi(
    name: str, description: str, types: tuple[str, ...], *, value_type: str = STRING, case_exact: bool = False
) -> Attribute:
    """A multi-valued complex attribute of (value, display, type, primary), like emails or phoneNumbers."""
    return Attribute(
        name,
        COMPLEX,
        multi_valued=True,
        description=description,
        sub_attributes=(
            _sub("value", value_type, case_exact=case_exact, description=f"The {name} value."),
            _sub("display", description="A human-readable name, for display only.", mutability=READ_WRITE),
            _sub("type", canonical_values=types, description="A label for the value's function."),
            _sub("primary", BOOLEAN, description="Whether this is the preferred value."),
        ),
    )


COMMON_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "id",
        case_exact=True,
        mutability=READ_ONLY,
        returned=ALWAYS,
        uniqueness=SERVER,
        description="The service provider's unique, stable identifier of the resource.",
    ),
    Attribute("externalId", case_exact=True, description="The identifier the provisioning client assigned."),
    Attribute(
        "meta",
        COMPLEX,
        mutability=READ_ONLY,
        description="Resource metadata.",
        sub_attributes=(
            _sub("resourceType", case_exact=True, mutability=READ_ONLY),
            _sub("created", DATETIME, mutability=READ_ONLY),
            _sub("lastModified", DATETIME, mutability=READ_ONLY),
            _sub("location", REFERENCE, case_exact=True, mutability=READ_ONLY, reference_types=("uri",)),
            _sub("version", case_exact=True, mutability=READ_ONLY),
        ),
    ),
)

USER = Schema(
    USER_SCHEMA,
    "User",
    "User Account",
    (
        Attribute(
            "userName",
            required=True,
            uniqueness=SERVER,
            description="The unique identifier the user signs in with; unique within the organization.",
        ),
        Attribute(
            "name",
            COMPLEX,
            description="The components of the user's name.",
            sub_attributes=(
                _sub("formatted", description="The full name, formatted for display."),
                _sub("familyName", description="The family name."),
                _sub("givenName", description="The given name."),
                _sub("middleName", description="The middle name."),
                _sub("honorificPrefix", description="The honorific prefix."),
                _sub("honorificSuffix", description="The honorific suffix."),
            ),
        ),
        Attribute("displayName", description="The name of the user, suitable for display."),
        Attribute("nickName", description="The casual name of the user."),
        Attribute("title", description="The user's title, such as 'Vice President'."),
        Attribute("userType", description="The relationship between the organization and the user."),
        Attribute("preferredLanguage", description="The user's preferred written or spoken language (RFC 7231)."),
        Attribute("locale", description="The user's default location, for localizing (e.g. 'en-US')."),
        Attribute("timezone", description="The user's time zone (IANA, e.g. 'Europe/Berlin')."),
        Attribute("active", BOOLEAN, description="Whether the user may sign in."),
        _typed_multi("emails", "Email addresses for the user.", ("work", "home", "other")),
        _typed_multi(
            "phoneNumbers", "Phone numbers for the user.", ("work", "home", "mobile", "fax", "pager", "other")
        ),
        Attribute(
            "groups",
            COMPLEX,
            multi_valued=True,
            mutability=READ_ONLY,
            description="The groups the user belongs to; changed through the Group resource.",
            sub_attributes=(
                _sub("value", case_exact=True, mutability=READ_ONLY, description="The group's id."),
                _sub(
                    "$ref",
                    REFERENCE,
                    case_exact=True,
                    mutability=READ_ONLY,
                    reference_types=("Group",),
                    description="The group's URI.",
                ),
                _sub("display", mutability=READ_ONLY, description="The group's display name."),
                _sub("type", mutability=READ_ONLY, canonical_values=("direct", "indirect")),
            ),
        ),
    ),
)

GROUP = Schema(
    GROUP_SCHEMA,
    "Group",
    "Group",
    (
        Attribute("displayName", required=True, uniqueness=SERVER, description="The group's name for display."),
        Attribute(
            "members",
            COMPLEX,
            multi_valued=True,
            description="The group's members.",
            sub_attributes=(
                _sub("value", case_exact=True, mutability=IMMUTABLE, description="The member's id."),
                _sub(
                    "$ref",
                    REFERENCE,
                    case_exact=True,
                    mutability=IMMUTABLE,
                    reference_types=("User", "Group"),
                    description="The member's URI.",
                ),
                _sub("display", mutability=READ_ONLY, description="The member's display name."),
                _sub("type", mutability=IMMUTABLE, canonical_values=("User", "Group"), description="User or Group."),
            ),
        ),
    ),
)

ENTERPRISE_USER = Schema(
    ENTERPRISE_USER_SCHEMA,
    "EnterpriseUser",
    "Enterprise User",
    (
        Attribute("employeeNumber", description="A string identifier assigned by the organization."),
        Attribute("costCenter", description="The cost center."),
        Attribute("organization", description="The organization."),
        Attribute("division", description="The division."),
        Attribute("department", description="The department."),
        Attribute(
            "manager",
            COMPLEX,
            description="The user's manager.",
            sub_attributes=(
                _sub("value", case_exact=True, description="The manager's id."),
                _sub("$ref", REFERENCE, case_exact=True, reference_types=("User",), description="The manager's URI."),
                _sub("displayName", mutability=READ_ONLY, description="The manager's display name."),
            ),
        ),
    ),
)

ADMIT_USER = Schema(
    ADMIT_USER_SCHEMA,
    "AdmitUser",
    "Admit's attributes of a user",
    (
        Attribute(
            "permissionType",
            canonical_values=PERMISSION_TYPES,
            description="The user's role in the workspace: guest, member or admin.",
        ),
        Attribute(
            "language", canonical_values=("en", "de", "fr"), description="The language Admit speaks to the user."
        ),
        Attribute(
            "workspaceId",
            case_exact=True,
            mutability=READ_ONLY,
            returned=REQUEST,
            description="The workspace the user belongs to (returned when asked for). Read-only; an "
            "organization-wide token may name one in a POST (otherwise: the organization's oldest workspace).",
        ),
    ),
)

USER_TYPE = ResourceType("User", "/Users", "User Account", USER, ((ENTERPRISE_USER, False), (ADMIT_USER, False)))
GROUP_TYPE = ResourceType("Group", "/Groups", "Group", GROUP)
RESOURCE_TYPES: dict[str, ResourceType] = {t.name: t for t in (USER_TYPE, GROUP_TYPE)}
ALL_SCHEMAS: tuple[Schema, ...] = (USER, GROUP, ENTERPRISE_USER, ADMIT_USER)


def schemas_json(base_url: str) -> list[dict[str, Any]]:
    """Every schema, as ``/Schemas`` lists them (each with ``meta``)."""
    return [s.to_json(base_url) for s in ALL_SCHEMAS]


def schema_json(urn: str, base_url: str) -> dict[str, Any] | None:
    """One schema by its URN (case-insensitive), as ``/Schemas/{urn}`` returns it, or None."""
    lowered = urn.lower()
    return next((s.to_json(base_url) for s in ALL_SCHEMAS if s.id.lower() == lowered), None)


def resource_types_json(base_url: str) -> list[dict[str, Any]]:
    """Every resource type, as ``/ResourceTypes`` lists them."""
    return [t.to_json(base_url) for t in RESOURCE_TYPES.values()]


@dataclass(frozen=True)
class ResolvedPath:
    """An attribute path resolved against a resource type."""

    schema: Schema
    attribute: Attribute
    sub_attribute: Attribute | None

    @property
    def target(self) -> Attribute:
        """The attribute the path ends at (the sub-attribute if there is one)."""
        return self.sub_attribute or self.attribute

    @property
    def canonical(self) -> str:
        """Lower-case ``attr`` or ``attr.sub``, without the URN: ``name.givenname``, ``department``."""
        name = self.attribute.name.lower()
        return f"{name}.{self.sub_attribute.name.lower()}" if self.sub_attribute else name

    @property
    def display(self) -> str:
        """``attr`` or ``attr.sub`` in the schema's spelling: ``name.givenName``."""
        return f"{self.attribute.name}.{self.sub_attribute.name}" if self.sub_attribute else self.attribute.name


def split_urn(path: str, resource_type: ResourceType) -> tuple[str | None, str]:
    """Split a known schema URN prefix off ``path``: ``("urn:...:User", "manager.value")`` or ``(None, path)``."""
    lowered = path.lower()
    for schema in resource_type.schemas():
        prefix = schema.id.lower() + ":"
        if lowered.startswith(prefix):
            return schema.id, path[len(prefix) :]
    return None, path


def resolve(resource_type: ResourceType, path: str) -> ResolvedPath | None:
    """An attribute's definition by a case-insensitive path, or None when the resource type has no such attribute.

    ``path`` is ``attr`` or ``attr.sub``, optionally prefixed by its schema's URN and a colon."""
    urn, rest = split_urn(path, resource_type)
    if urn is None and ":" in rest:
        return None  # an unknown schema URN
    name, _, sub_name = rest.partition(".")
    found = resource_type.attribute(name, urn)
    if found is None:
        return None
    schema, attribute = found
    if not sub_name:
        return ResolvedPath(schema, attribute, None)
    sub = attribute.sub(sub_name)
    if sub is None:
        return None
    return ResolvedPath(schema, attribute, sub)


def resolve_sub(attribute: Attribute, name: str) -> Attribute | None:
    """A sub-attribute of a complex attribute by case-insensitive name (used inside value filters)."""
    return attribute.sub(name)
