"""Member use cases tested through the UnitOfWork port, without a database: an in-memory unit of
work holds one workspace and its members; the rules are the services' own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from support.clock import FixedClock

from admit.adapters.identity.hashing import Argon2Hasher
from admit.admin import members
from admit.bootstrap import SystemRandom
from admit.domain.errors import Conflict, NotFound, PermissionDenied
from admit.domain.records import Member, Workspace
from admit.domain.roles import Role
from admit.domain.workspaces import DEFAULTS
from admit.shared.context import Actor, ActorKind, Context

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _workspace(workspace_id: str) -> Workspace:
    return Workspace(
        workspace_id, "org", f"Workspace {workspace_id}", DEFAULTS.invitation_lifetime_days, DEFAULTS.password_policy,
        ["password"], False, None, "en", True, False, True, 500, [], [], [], False, [], "member", None, None,
        None, None, 30, "verify", T0,
    )  # fmt: skip


def _member(member_id: str, workspace_id: str, role: str = "member", status: str = "active") -> Member:
    return Member(
        member_id, "org", workspace_id, f"acc-{member_id}", status, role, "Ann", "Lee", f"{member_id}@example.com",
        None, None, None, None, None, "en", T0, T0,
    )  # fmt: skip


@dataclass
class _Members:
    rows: dict[str, Member]

    def get(self, organization_id: str | None, member_id: str, lock: bool = False) -> Member | None:
        row = self.rows.get(member_id)
        return row if row is not None and organization_id in (None, row.organization_id) else None

    def for_account(self, organization_id: str, workspace_id: str, account_id: str) -> Member | None:
        return next(
            (m for m in self.rows.values() if (m.workspace_id, m.account_id) == (workspace_id, account_id)), None
        )

    def move(self, organization_id: str, member_id: str, from_status: str, **values: Any) -> bool:
        row = self.rows[member_id]
        if row.status != from_status:
            return False
        self.rows[member_id] = row._replace(**values)
        return True


@dataclass
class _Workspaces:
    rows: dict[str, Workspace]

    def get(self, organization_id: str | None, workspace_id: str) -> Workspace | None:
        return self.rows.get(workspace_id)


@dataclass
class _Events:
    added: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **values: Any) -> None:
        self.added.append(values)


@dataclass
class _AppSessions:
    """Apps' sessions (for back-channel logout): what the use cases asked for and ended."""

    asked: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    revoked: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def of_account(
        self, account_id: str, *, organization_id: str | None = None, workspace_id: str | None = None
    ) -> list[Any]:
        self.asked.append((account_id, organization_id, workspace_id))
        return []

    def remove(self, sids: list[str]) -> None:
        self.removed += sids

    def revoke_issued_to(
        self, account_id: str, now: datetime, *, organization_id: str | None = None, workspace_id: str | None = None
    ) -> int:
        self.revoked.append((account_id, organization_id, workspace_id))
        return 0


class _NoOrganizationRoles:
    """Nobody here is a system administrator (issue 17's organization roles)."""

    def role_of(self, organization_id: str, account_id: str) -> None:
        return None


class _NoWebhooks:
    """No webhook endpoint: a published event finds no subscriber."""

    def subscribers(self, organization_id: str, workspace_id: str | None) -> list[Any]:
        return []


class _UnitOfWork:
    def __init__(self, store: dict[str, Any]) -> None:
        self.store, self.members, self.workspaces, self.events = (
            store,
            store["members"],
            store["workspaces"],
            store["events"],
        )
        self.oidc_app_sessions = self.oidc_codes = store["app_sessions"]
        self.org_controls = _NoOrganizationRoles()
        self.webhooks = _NoWebhooks()
        self.committed = False

    def __enter__(self) -> _UnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.store["commits"] += int(self.committed)

    def commit(self) -> None:
        self.committed = True


@pytest.fixture
def store() -> dict[str, Any]:
    return {
        "workspaces": _Workspaces({"w1": _workspace("w1"), "w2": _workspace("w2")}),
        "members": _Members({"a": _member("a", "w1", "admin"), "b": _member("b", "w1"), "c": _member("c", "w2")}),
        "events": _Events(),
        "app_sessions": _AppSessions(),
        "commits": 0,
    }


@pytest.fixture
def ctx(store: dict[str, Any]) -> Context:
    return Context(
        uow=lambda **_: _UnitOfWork(store),  # type: ignore[arg-type,return-value]
        clock=FixedClock(),
        random=SystemRandom(),
        hasher=Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),
        base_url="https://admit.example.test",
    )


ADMIN = Actor(ActorKind.ACCOUNT, id="acc-a")


def test_an_admin_suspends_a_member_and_the_event_is_recorded(ctx: Context, store: dict[str, Any]) -> None:
    done = members.suspend(ctx, ADMIN, "b", workspace_id="w1")
    assert done.status == "suspended" and store["members"].rows["b"].status == "suspended"
    [event] = store["events"].added
    assert (event["action"], event["subject_id"], event["data"]["previous"]) == ("member.suspended", "b", "active")
    assert store["commits"] == 1


def test_suspending_a_member_ends_their_apps_sessions_in_that_workspace(ctx: Context, store: dict[str, Any]) -> None:
    members.suspend(ctx, ADMIN, "b", workspace_id="w1")
    sessions = store["app_sessions"]
    assert sessions.asked == [("acc-b", "org", "w1")] and sessions.revoked == [("acc-b", "org", "w1")]
    assert store["commits"] == 1  # in the suspension's own unit of work


def test_nobody_suspends_themselves(ctx: Context, store: dict[str, Any]) -> None:
    with pytest.raises(Conflict) as refused:
        members.suspend(ctx, ADMIN, "a")
    assert refused.value.code == "self_lockout" and store["events"].added == [] and store["commits"] == 0


def test_a_member_of_another_workspace_is_not_found_where_the_door_names_one(
    ctx: Context, store: dict[str, Any]
) -> None:
    operator = Actor.operator("test")
    with pytest.raises(NotFound):
        members.suspend(ctx, operator, "c", workspace_id="w1")
    assert store["members"].rows["c"].status == "active"


def test_a_plain_member_may_not_suspend_anyone(ctx: Context, store: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        members.suspend(ctx, Actor(ActorKind.ACCOUNT, id="acc-b"), "a")
    assert Role(store["members"].rows["a"].role) is Role.ADMIN and store["members"].rows["a"].status == "active"
