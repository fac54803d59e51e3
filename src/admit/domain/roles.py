"""Workspace roles and the permissions behind them.

A role is granted per workspace. Roles are ranked; nobody can grant a role above their own.
"""

from __future__ import annotations

from enum import StrEnum

from admit.domain.errors import PermissionDenied, ValidationFailed


class Permission(StrEnum):
    VIEW_DIRECTORY = "view_directory"
    INVITE = "invite"
    MANAGE_PEOPLE = "manage_people"
    MANAGE_SETTINGS = "manage_settings"
    VIEW_AUDIT = "view_audit"
    MANAGE_OWNERS = "manage_owners"


class Role(StrEnum):
    GUEST = "guest"
    MEMBER = "member"
    ADMIN = "admin"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def permissions(self) -> frozenset[Permission]:
        return _PERMISSIONS[self]

    def allows(self, permission: Permission) -> bool:
        return permission in _PERMISSIONS[self]


_RANK = {Role.GUEST: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}

_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.GUEST: frozenset(),
    Role.MEMBER: frozenset({Permission.VIEW_DIRECTORY}),
    Role.ADMIN: frozenset(
        {
            Permission.VIEW_DIRECTORY,
            Permission.INVITE,
            Permission.MANAGE_PEOPLE,
            Permission.MANAGE_SETTINGS,
            Permission.VIEW_AUDIT,
        }
    ),
    Role.OWNER: frozenset(Permission),
}


def parse_role(value: str, *, field: str = "role") -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed(f"unknown role {value!r}; use one of {allowed}", field=field) from None


def require(role: Role, permission: Permission) -> None:
    if not role.allows(permission):
        raise PermissionDenied(f"the {role.value} role may not {permission.value.replace('_', ' ')}")


def grantable(granter: Role) -> list[Role]:
    """The roles ``granter`` may give: its own and those below, lowest first."""
    return [role for role in Role if can_grant(granter, role)]


def can_grant(granter: Role, role: Role) -> bool:
    return role.rank <= granter.rank


def ensure_can_grant(granter: Role, role: Role) -> None:
    """Refuse to grant ``role`` when it ranks above the granter's own role."""
    if not can_grant(granter, role):
        raise PermissionDenied(f"your role ({granter.value}) cannot grant the {role.value} role", field="role")
