"""Workspace roles: ranked, with permissions; nobody grants above their own role."""

from __future__ import annotations

import itertools

import pytest

from admit.domain.errors import PermissionDenied, ValidationFailed
from admit.domain.roles import Permission, Role, ensure_can_grant, grantable, parse_role, require

ORDER = [Role.GUEST, Role.MEMBER, Role.ADMIN, Role.OWNER]
PAIRS = [
    pytest.param(granter, role, id=f"{granter.value}-grants-{role.value}")
    for granter, role in itertools.product(Role, repeat=2)
]


def test_roles_rank_guest_below_member_below_admin_below_owner() -> None:
    assert sorted(Role, key=lambda role: role.rank) == ORDER
    assert [role.rank for role in ORDER] == sorted({role.rank for role in ORDER})  # strictly increasing
    assert set(ORDER) == set(Role)


@pytest.mark.parametrize(("granter", "role"), PAIRS)
def test_granter_can_grant_only_roles_at_or_below_their_own(granter: Role, role: Role) -> None:
    if ORDER.index(role) <= ORDER.index(granter):
        ensure_can_grant(granter, role)
    else:
        with pytest.raises(PermissionDenied) as caught:
            ensure_can_grant(granter, role)
        assert caught.value.code == "permission_denied"
        assert caught.value.field == "role"


def test_admin_can_invite_manage_people_and_settings() -> None:
    for permission in (Permission.INVITE, Permission.MANAGE_PEOPLE, Permission.MANAGE_SETTINGS):
        assert Role.ADMIN.allows(permission)
        require(Role.ADMIN, permission)


def test_admin_cannot_manage_owners() -> None:
    assert not Role.ADMIN.allows(Permission.MANAGE_OWNERS)
    with pytest.raises(PermissionDenied):
        require(Role.ADMIN, Permission.MANAGE_OWNERS)


def test_member_can_view_the_directory_but_not_invite() -> None:
    assert Role.MEMBER.permissions == {Permission.VIEW_DIRECTORY}
    with pytest.raises(PermissionDenied) as caught:
        require(Role.MEMBER, Permission.INVITE)
    assert caught.value.code == "permission_denied"


def test_guest_has_no_permissions() -> None:
    assert Role.GUEST.permissions == frozenset()
    for permission in Permission:
        assert not Role.GUEST.allows(permission)


def test_owner_has_every_permission() -> None:
    assert Role.OWNER.permissions == set(Permission)
    for permission in Permission:
        require(Role.OWNER, permission)


def test_higher_role_has_every_permission_of_a_lower_one() -> None:
    for lower, higher in itertools.pairwise(ORDER):
        assert lower.permissions <= higher.permissions


@pytest.mark.parametrize(("text", "role"), [("admin", Role.ADMIN), (" Owner ", Role.OWNER), ("GUEST", Role.GUEST)])
def test_parse_role_reads_any_case_and_spacing(text: str, role: Role) -> None:
    assert parse_role(text) is role


@pytest.mark.parametrize("text", ["", "superuser", "root", "admins"])
def test_parse_role_refuses_an_unknown_role(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_role(text)
    assert caught.value.field == "role"
    assert caught.value.code == "validation_failed"


def test_the_roles_one_may_grant_are_ones_own_and_those_below() -> None:
    assert grantable(Role.OWNER) == [Role.GUEST, Role.MEMBER, Role.ADMIN, Role.OWNER]
    assert grantable(Role.ADMIN) == [Role.GUEST, Role.MEMBER, Role.ADMIN]
    assert grantable(Role.GUEST) == [Role.GUEST]
