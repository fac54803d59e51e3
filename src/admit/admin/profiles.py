"""A member's directory entry as given by an admin, an import or an integration: validated
against the workspace's rules and normalised before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from admit.admin.licences import parse_licence
from admit.admin.tenancy import check_language
from admit.domain.errors import ValidationFailed
from admit.domain.identifiers import normalise_email, normalise_phone, normalise_username
from admit.domain.records import Workspace
from admit.domain.roles import parse_role

FIELD_LIMITS = {"first_name": 100, "last_name": 100, "external_id": 255, "department": 200, "job_profile": 200}


@dataclass
class MemberInput:
    email: str | None = None
    username: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    external_id: str | None = None
    department: str | None = None
    job_profile: str | None = None
    language: str | None = None
    role: str = "member"
    # Issue 17: the licence a new member joins with, licensed (the default: None) or viewer (takes
    # no seat). Only a new member's: changing a member's licence is admin.licences.set_licence.
    licence: str | None = None

    def cleaned(self, workspace: Workspace, phone_region: str | None) -> dict[str, Any]:
        """Normalised column values, or ``ValidationFailed`` naming the field."""
        values: dict[str, Any] = {
            name: (v.strip() or None) if isinstance(v := getattr(self, name), str) else v for name in _FIELDS
        }
        for name, value in values.items():
            if isinstance(value, str) and "\x00" in value:
                raise ValidationFailed("text cannot contain NUL characters", field=name)
        for name, limit in FIELD_LIMITS.items():
            if values[name] is not None and len(values[name]) > limit:
                raise ValidationFailed(f"at most {limit} characters", field=name)
        if values["email"]:
            values["email"] = normalise_email(values["email"])
        if values["username"]:
            values["username"] = normalise_username(values["username"])
        if values["phone"]:
            values["phone"] = normalise_phone(values["phone"], region=phone_region)
        reachable = values["email"] or (values["username"] and values["phone"])
        # A member without email: a name and an external ID, who gets an access code.
        known = values["external_id"] and (values["first_name"] or values["last_name"])
        if not reachable and not known:
            raise ValidationFailed(
                "an email, a username and a phone number, or a name and an external ID is required", field="email"
            )
        values["role"] = parse_role(values["role"] or "member").value
        if values["licence"] is None:
            del values["licence"]
        else:
            values["licence"] = parse_licence(values["licence"])
        values["language"] = check_language(values["language"] or workspace.default_language)
        for name in workspace.required_fields:
            if not values.get(name):
                raise ValidationFailed(f"{name.replace('_', ' ')} is required in this workspace", field=name)
        _check_choice(values, "department", workspace.departments)
        _check_choice(values, "job_profile", workspace.job_profiles)
        return values


def _check_choice(values: dict[str, Any], name: str, choices: list[str]) -> None:
    if choices and values[name] is not None and values[name] not in choices:
        raise ValidationFailed(f"{values[name]!r} is not a {name.replace('_', ' ')} of this workspace", field=name)


_FIELDS = tuple(field.name for field in fields(MemberInput))
