"""The merge plan (issue 17, Smartsheet's "Invitation to join a Smartsheet account"): a pure
function from the two organizations' state to what accepting an organization invitation does.

The invitee's situation decides:

- **free user** (no paid organization of their own): they simply become a member of the inviting
  organization's first workspace (the oldest), with the member role, as a licensed user when a
  licence is free (or licences are not enforced), else as a resource viewer;
- **paid user** (they are a system administrator of, or the only person in, an organization on a
  paid plan, pro or business, with only them in it): that account is acquired;
- **business system administrator** (the same, with other people in it): the whole organization
  is acquired. Acquiring moves every workspace with all its members and content, and the groups:
  the inviting organization must have a free licence for every licensed member who would hold a
  seat under its own reservation rule (when it enforces licences), else nothing moves. Licensed
  users, resource viewers and group administrators keep their level (a group administrator who
  already holds a role in the inviting organization keeps that one); the acquired account's system
  administrators lose the role (the inviting side may grant it again); the acquired account's
  global settings give way to the inviting account's; the acquired account is closed (its plan
  becomes free, no licences: its billing stops);
- **enterprise system administrator**: cannot be acquired this way; the invitation says so.

What an acquired organization loses: its organization-level access stays with the closed account
and stops working in the same transaction: its live API and SCIM tokens are revoked, its enabled
webhook endpoints are disabled, and every refresh and access token of its apps (OpenID clients) is
revoked (``revoked``: each listed in the plan as "will be revoked"). Its SSO identity providers are
kept with the closed account (not deleted: accounts that signed in through them keep their link),
but no longer used: they leave the moved workspaces' login methods (password when none is left; SSO
stops being required where no SSO method is left), and the inviting organization's sign-in rules
apply from then on.

Group name collisions: an acquired group whose name (casefolded) is taken in the inviting
organization is renamed ``<name> (<acquired organization's name>)``, then with `` 2``, `` 3`` …
until the name is free (cut to 256 characters).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FREE_USER, PAID_USER, BUSINESS_ADMIN, ENTERPRISE_ADMIN = "free_user", "paid_user", "business_admin", "enterprise_admin"
PAID_PLANS = ("pro", "business", "enterprise")
USED, PENDING = ("active", "suspended"), ("provisioned", "invited")
SYSTEM_ADMIN, GROUP_ADMIN = "system_admin", "group_admin"
NAME_LIMIT = 256
# The organization settings an acquisition replaces with the inviting organization's.
SETTINGS = ("licences_enforced", "reserve_seats_for_invitations", "allowed_email_domains", "who_may_invite")


@dataclass(frozen=True)
class Person:
    """A member row that is not removed."""

    member_id: str
    account_id: str | None
    workspace_id: str
    status: str
    licence: str
    role: str
    email: str | None = None


@dataclass(frozen=True)
class Group:
    id: str
    display_name: str
    name_key: str


@dataclass(frozen=True)
class Side:
    """One organization's state, as the plan needs it."""

    id: str
    name: str
    plan: str
    seats: int
    licences_enforced: bool
    reserve_seats: bool
    settings: Mapping[str, Any]
    workspaces: Sequence[tuple[str, str]]  # (id, name), oldest first
    members: Sequence[Person]
    admins: Mapping[str, str]  # account id -> system_admin | group_admin
    groups: Sequence[Group]
    access: Sequence[Access] = ()  # live tokens, enabled webhooks, apps with live tokens


@dataclass(frozen=True)
class Access:
    """An acquired organization's access that the merge revokes (api_token, scim_token, app),
    disables (webhook) or stops using (sso_provider)."""

    kind: str
    id: str
    name: str


@dataclass(frozen=True)
class Invitee:
    email: str
    account_id: str | None
    own: Sequence[Side] = ()  # paid organizations of their own (system administrator, or alone in it)
    member_of_inviter: bool = False


@dataclass(frozen=True)
class GroupMove:
    group_id: str
    name: str
    new_name: str
    new_key: str

    @property
    def renamed(self) -> bool:
        return self.name != self.new_name


@dataclass(frozen=True)
class SettingChange:
    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class MergePlan:
    kind: str
    allowed: bool
    refusal: str | None  # a code: enterprise, several_accounts, already_member, no_workspace, no_licences
    reason: str | None
    inviting_id: str
    inviting_name: str
    acquired_id: str | None = None
    acquired_name: str | None = None
    workspace_id: str | None = None  # the free user's workspace
    workspace_name: str | None = None
    licence: str | None = None  # the free user's licence type
    workspaces: list[tuple[str, str]] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    licences_needed: int = 0
    licences_available: int | None = None  # None: the inviting organization does not enforce licences
    roles_lost: list[str] = field(default_factory=list)  # account ids losing system administration
    roles_kept: list[str] = field(default_factory=list)  # account ids keeping group administration
    group_admins_granted: list[str] = field(default_factory=list)  # of roles_kept: granted anew
    settings_changed: list[SettingChange] = field(default_factory=list)
    groups: list[GroupMove] = field(default_factory=list)
    revoked: list[Access] = field(default_factory=list)  # the acquired organization's: will be revoked

    @property
    def collisions(self) -> list[GroupMove]:
        return [g for g in self.groups if g.renamed]


def holds_seat(status: str, licence: str, reserve: bool) -> bool:
    """Whether a member holds a seat (used, or reserved while pending if the organization reserves)."""
    if licence != "licensed":
        return False
    return status in USED or (status in PENDING and reserve)


def seats_held(side: Side) -> int:
    return sum(holds_seat(p.status, p.licence, side.reserve_seats) for p in side.members)


def name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def resolve_groups(inviting: Side, acquired: Side) -> list[GroupMove]:
    """The acquired groups' names in the inviting organization (see the module's rule)."""
    taken = {g.name_key for g in inviting.groups}
    moves = []
    for group in sorted(acquired.groups, key=lambda g: (g.name_key, g.id)):
        new = group.display_name
        number = 1
        while name_key(new) in taken:
            suffix = f" ({acquired.name})" + (f" {number}" if number > 1 else "")
            new = group.display_name[: NAME_LIMIT - len(suffix)] + suffix  # a name has at most 200 characters
            number += 1
        taken.add(name_key(new))
        moves.append(GroupMove(group.id, group.display_name, new, name_key(new)))
    return moves


def _refused(kind: str, inviting: Side, code: str, reason: str, **extra: Any) -> MergePlan:
    return MergePlan(kind, False, code, reason, inviting.id, inviting.name, **extra)


def plan(inviting: Side, invitee: Invitee) -> MergePlan:
    """What accepting the invitation does (``allowed``) or why it cannot (``refusal``, ``reason``)."""
    free = inviting.seats - seats_held(inviting)
    available = max(free, 0) if inviting.licences_enforced else None
    if invitee.member_of_inviter:
        return _refused(
            FREE_USER, inviting, "already_member", "you are already a member of this organization's account"
        )
    if any(side.plan == "enterprise" for side in invitee.own):
        side = next(s for s in invitee.own if s.plan == "enterprise")
        return _refused(
            ENTERPRISE_ADMIN, inviting, "enterprise",
            "an enterprise plan's system administrator cannot be acquired by an invitation; the accounts"
            " can only be joined by the operator",
            acquired_id=side.id, acquired_name=side.name,
        )  # fmt: skip
    if len(invitee.own) > 1:
        return _refused(
            BUSINESS_ADMIN, inviting, "several_accounts",
            "you administer more than one paid account; only one account can be acquired, so ask the"
            " operator to join them",
        )  # fmt: skip
    if not invitee.own:
        if not inviting.workspaces:
            return _refused(FREE_USER, inviting, "no_workspace", "the organization has no workspace to join yet")
        workspace_id, workspace_name = inviting.workspaces[0]
        licence = "licensed" if available is None or available >= 1 else "viewer"
        return MergePlan(
            FREE_USER, True, None, None, inviting.id, inviting.name,
            workspace_id=workspace_id, workspace_name=workspace_name, licence=licence,
            licences_needed=1 if licence == "licensed" else 0, licences_available=available,
        )  # fmt: skip
    acquired = invitee.own[0]
    accounts = {p.account_id for p in acquired.members if p.account_id is not None}
    kind = PAID_USER if accounts <= {invitee.account_id} else BUSINESS_ADMIN
    needed = sum(holds_seat(p.status, p.licence, inviting.reserve_seats) for p in acquired.members)
    lost = sorted(
        a for a, role in acquired.admins.items() if role == SYSTEM_ADMIN and inviting.admins.get(a) != SYSTEM_ADMIN
    )
    kept = sorted(a for a, role in acquired.admins.items() if role == GROUP_ADMIN)
    details: dict[str, Any] = {
        "acquired_id": acquired.id,
        "acquired_name": acquired.name,
        "workspaces": list(acquired.workspaces),
        "people": list(acquired.members),
        "licences_needed": needed,
        "licences_available": available,
        "roles_lost": lost,
        "roles_kept": kept,
        "group_admins_granted": [a for a in kept if a not in inviting.admins],
        "settings_changed": [
            SettingChange(name, acquired.settings.get(name), inviting.settings.get(name))
            for name in SETTINGS
            if acquired.settings.get(name) != inviting.settings.get(name)
        ],
        "groups": resolve_groups(inviting, acquired),
        "revoked": list(acquired.access),
    }
    if available is not None and needed > available:
        return _refused(
            kind, inviting, "no_licences",
            f"{inviting.name} needs {needed} free licences for the licensed users acquired and has {available};"
            " nothing moves until it has enough",
            **details,
        )  # fmt: skip
    return MergePlan(kind, True, None, None, inviting.id, inviting.name, **details)
