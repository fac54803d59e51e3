"""Repositories for SCIM provisioning: the bearer tokens identity providers hold, and the log of
the requests they made. A token is looked up by its digest alone (what the caller holds and cannot
guess); everything else is filtered by its organization."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Row,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    not_,
    or_,
    select,
    true,
    union_all,
    update,
)

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import REMOVED, DriverQuery, Repository, insert_many, new_id
from admit.scim.errors import ScimError
from admit.scim.filter import Column, Compare, Kind, compare, to_sql
from admit.scim.schemas import USER_SCHEMA, USER_TYPE


class ScimTokens(Repository):
    c = t.scim_tokens.c

    def add(self, **values: Any) -> str:
        return self._insert(t.scim_tokens, values)

    def get(self, organization_id: str, token_id: str) -> Row[Any] | None:
        if len(token_id) > 32 or "\x00" in token_id:
            return None
        return self._one(select(t.scim_tokens).where(self.c.id == token_id, self.c.organization_id == organization_id))

    _by_digest = DriverQuery(select(t.scim_tokens).where(t.scim_tokens.c.digest == bindparam("digest")))

    def by_digest(self, digest: str) -> Row[Any] | None:
        return self._by_digest.first(self.conn, {"digest": digest})  # type: ignore[no-any-return]

    def list(self, organization_id: str) -> Sequence[Row[Any]]:
        """The organization's tokens, the newest first."""
        stmt = (
            select(t.scim_tokens)
            .where(self.c.organization_id == organization_id)
            .order_by(self.c.created_at.desc(), self.c.id.desc())
        )
        return self.conn.execute(stmt).all()

    def revoke(self, organization_id: str, token_id: str, now: datetime) -> bool:
        done = self.conn.execute(
            update(t.scim_tokens)
            .where(self.c.id == token_id, self.c.organization_id == organization_id, self.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(done.rowcount)

    def touch(self, token_id: str, now: datetime, before: datetime) -> None:
        """Mark the token used at ``now`` unless that was already done after ``before``."""
        self.conn.execute(
            update(t.scim_tokens)
            .where(self.c.id == token_id, (self.c.last_used_at.is_(None)) | (self.c.last_used_at <= before))
            .values(last_used_at=now)
        )


class ScimRequests(Repository):
    c = t.scim_requests.c

    def add(self, **values: Any) -> str:
        return self._insert(t.scim_requests, values)

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            ids = sorted(new_id() for _ in rows)  # in the rows' order, also within one millisecond
            insert_many(self.conn, t.scim_requests, [{"id": id_, **row} for id_, row in zip(ids, rows, strict=True)])

    def list(
        self,
        organization_id: str,
        token_id: str,
        *,
        before: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> Sequence[Row[Any]]:
        """The token's requests, the newest first; ``before``: after this (time, id) in that order."""
        stmt = select(t.scim_requests).where(self.c.organization_id == organization_id, self.c.token_id == token_id)
        if before is not None:
            at, row_id = before
            stmt = stmt.where(or_(self.c.created_at < at, and_(self.c.created_at == at, self.c.id < row_id)))
        stmt = stmt.order_by(self.c.created_at.desc(), self.c.id.desc()).limit(limit)
        return self.conn.execute(stmt).all()

    def remove_older_than(self, before: datetime) -> int:
        done = self.conn.execute(delete(t.scim_requests).where(self.c.created_at < before))
        return int(done.rowcount or 0)


# --- SCIM users ------------------------------------------------------------------------------------------
# Every live member in a token's scope is a SCIM User; its scim_users row (if any) holds the userName and
# externalId an identity provider gave it and the attributes Admit has no column for.

_m = t.members.c
_s = t.scim_users.c
USER_NAME = func.coalesce(_s.user_name, _m.email, _m.username, _m.external_id)
LAST_MODIFIED = case(
    (and_(_s.updated_at.is_not(None), _s.updated_at > _m.updated_at), _s.updated_at), else_=_m.updated_at
)
_JOINED = t.members.outerjoin(t.scim_users, _s.member_id == _m.id)


def _members_named(workspace_scoped: bool) -> DriverQuery:
    """The ids of the live members whose userName is ``:key`` (casefolded; ``:lower`` lowercased,
    ``:exact`` as given), found through indexes, never by scanning the directory: the provider's
    userName (scim_users, unique per organization), else a member without one whose email,
    username or external ID it is. Identity providers look every user up this way
    (``userName eq "…"``) before each change: compiled once, run at the driver."""
    m2, s2 = t.members.alias("named"), t.scim_users.alias("named_scim")
    in_scope = (
        m2.c.workspace_id == bindparam("ws")
        if workspace_scoped
        else m2.c.workspace_id.in_(select(t.workspaces.c.id).where(t.workspaces.c.organization_id == bindparam("org")))
    )
    plain = [
        select(m2.c.id).where(
            in_scope,
            m2.c.status != REMOVED,
            column == bindparam(value),
            ~select(s2.c.member_id).where(s2.c.member_id == m2.c.id).exists(),
        )
        for column, value in ((m2.c.email, "lower"), (m2.c.username, "lower"), (m2.c.external_id, "exact"))
    ]
    given = select(s2.c.member_id).where(
        s2.c.organization_id == bindparam("org"), s2.c.user_name_key == bindparam("key")
    )
    return DriverQuery(union_all(given, *plain))  # type: ignore[arg-type]


_NAMED_IN_ORGANIZATION, _NAMED_IN_WORKSPACE = _members_named(False), _members_named(True)


def members_named(conn: Any, organization_id: str, workspace_id: str | None, user_name: str) -> list[str]:
    """See :func:`_members_named`."""
    query = _NAMED_IN_ORGANIZATION if workspace_id is None else _NAMED_IN_WORKSPACE
    params = {"org": organization_id, "key": user_name.casefold(), "lower": user_name.lower(), "exact": user_name}
    if workspace_id is not None:
        params["ws"] = workspace_id
    return [row[0] for row in query.all(conn, params)]


def _ids_in(ids: list[str]) -> Any:
    """A member id among ``ids``; plain false for none (a provider asking for someone who is not
    there yet, before each create): as an empty IN, SQLite still walked the whole workspace."""
    return _m.id.in_(ids) if ids else false()


_WITH_EXTERNAL_ID = select(_s.member_id).where(
    _s.organization_id == bindparam("org"), _s.external_id == bindparam("value")
)
_WITH_EXTERNAL_ID_IN = {  # the whole organization's, or one workspace's (a token limited to it)
    False: DriverQuery(_WITH_EXTERNAL_ID),
    True: DriverQuery(
        _WITH_EXTERNAL_ID.join_from(t.scim_users, t.members, _m.id == _s.member_id).where(
            _m.workspace_id == bindparam("ws")
        )
    ),
}


def user_filter_mapping(conn: Any, organization_id: str, workspace_id: str | None) -> dict[str, Any]:
    """The SQL of each filterable User attribute (``filter.to_sql``'s mapping). ``userName eq``
    and ``externalId eq`` are looked up at once through indexes (``members_named``, the external
    ID's index) and compile to the ids found: as a subquery or a join, SQLite's planner would walk
    the whole directory and test each row against it."""

    def user_name(op: str, value: Any) -> Any:
        if op == "eq" and isinstance(value, str):  # the providers' lookup: through indexes
            return _ids_in(members_named(conn, organization_id, workspace_id, value))
        return compare(Column(USER_NAME, Kind.STRING), op, value, "userName")

    def external_id(op: str, value: Any) -> Any:
        if op == "eq" and isinstance(value, str):  # a provider matching on externalId: by its index
            params = {"org": organization_id, "value": value, "ws": workspace_id}
            found = _WITH_EXTERNAL_ID_IN[workspace_id is not None].all(conn, params)
            return _ids_in([row[0] for row in found])
        return compare(Column(_s.external_id, Kind.EXACT), op, value, "externalId")

    def active(op: str, value: Any) -> Any:
        if op == "pr":
            return true()
        if op not in ("eq", "ne") or not isinstance(value, bool):
            raise ScimError(400, "invalidFilter", "active compares with eq or ne and true or false")
        is_active = _m.status != "suspended"
        return is_active if (op == "eq") == value else not_(is_active)

    def text_of(name: str) -> Any:
        return _s.attributes[name].as_string()

    def in_groups(column: Any, kind: Kind, name: str) -> Any:
        """A User's ``groups`` (direct memberships) compared as a multi-valued attribute: some
        group of the member's matches; ``ne`` matches members in no such group."""
        gm, g = t.group_members.c, t.groups.c

        def where(op: str, value: Any) -> Any:
            if op == "ne":
                return not_(where("eq", value))
            found = select(gm.member_id).join(t.groups, g.id == gm.group_id).where(g.organization_id == organization_id)
            if op != "pr":
                found = found.where(compare(Column(column, kind), op, value, name))
            return _m.id.in_(found)

        return where

    return {
        "id": Column(_m.id, Kind.EXACT),
        "username": user_name,
        "externalid": external_id,
        "name.givenname": Column(_m.first_name, Kind.STRING),
        "name.familyname": Column(_m.last_name, Kind.STRING),
        "emails.value": Column(_m.email, Kind.STRING),
        'emails[type eq "work"].value': Column(_m.email, Kind.STRING),
        "phonenumbers.value": Column(_m.phone, Kind.STRING),
        "displayname": Column(text_of("displayName"), Kind.STRING),
        "title": Column(_m.job_profile, Kind.STRING),
        "department": Column(_m.department, Kind.STRING),
        "employeenumber": Column(_m.external_id, Kind.EXACT),
        "permissiontype": Column(_m.role, Kind.STRING),
        "language": Column(_m.language, Kind.STRING),
        "workspaceid": Column(_m.workspace_id, Kind.EXACT),
        "groups.value": in_groups(t.groups.c.id, Kind.EXACT, "groups.value"),
        "groups.display": in_groups(t.groups.c.display_name, Kind.STRING, "groups.display"),
        "active": active,
        "meta.created": Column(_m.created_at, Kind.DATETIME),
        "meta.lastmodified": Column(LAST_MODIFIED, Kind.DATETIME),
    }


def _user_name_sought(where: Any) -> str | None:
    """The value of a filter that is exactly ``userName eq "…"`` (core schema), else None."""
    if not isinstance(where, Compare) or where.op != "eq" or not isinstance(where.value, str):
        return None
    path = where.path
    if (
        path.sub is not None
        or path.attr.lower() != "username"
        or (path.urn or USER_SCHEMA).lower() != USER_SCHEMA.lower()
    ):
        return None
    return where.value


class ScimUsers(Repository):
    c = t.scim_users.c

    def _scope(self, organization_id: str, workspace_id: str | None) -> Any:
        where = and_(_m.organization_id == organization_id, _m.status != REMOVED)
        return where if workspace_id is None else and_(where, _m.workspace_id == workspace_id)

    def get(self, organization_id: str, workspace_id: str | None, member_id: str) -> Row[Any] | None:
        """(member columns..., scim: the scim_users row's columns prefixed ``scim_``) of a live member in scope."""
        if len(member_id) > 32 or "\x00" in member_id:
            return None
        row = self._user_by_id.first(self.conn, {"id": member_id})
        return row if row is not None and self._in_scope(row, organization_id, workspace_id) else None

    @staticmethod
    def _in_scope(row: Any, organization_id: str, workspace_id: str | None) -> bool:
        """What :meth:`_scope` says in SQL: a live member of the organization (and workspace)."""
        if row.organization_id != organization_id or row.status == "removed":
            return False
        return workspace_id is None or row.workspace_id == workspace_id

    @staticmethod
    def _select() -> Any:
        return select(
            t.members,
            USER_NAME.label("user_name"),
            _s.external_id.label("scim_external_id"),
            _s.attributes.label("scim_attributes"),
            _s.updated_at.label("scim_updated_at"),
        ).select_from(_JOINED)

    _user_by_id = DriverQuery(_select().where(_m.id == bindparam("id")))

    def search(
        self,
        organization_id: str,
        workspace_id: str | None,
        where: Any,
        *,
        offset: int = 0,
        after: tuple[datetime, str] | None = None,
        limit: int = 100,
    ) -> tuple[Sequence[Row[Any]], int]:
        """A page of the users in scope matching ``where`` (a parsed SCIM filter or None) in creation
        order, and how many match in all; ``invalidFilter`` for an attribute that cannot be filtered.
        ``userName eq "…"``, the lookup identity providers make before every change, is answered by
        statements compiled once (the ids through indexes, then each user by its id)."""
        named = _user_name_sought(where)
        if named is not None:
            found = [
                row
                for member_id in dict.fromkeys(members_named(self.conn, organization_id, workspace_id, named))
                if (row := self._user_by_id.first(self.conn, {"id": member_id})) is not None
                and self._in_scope(row, organization_id, workspace_id)
            ]
            found.sort(key=lambda row: (row.created_at, row.id))
            page = [row for row in found if (row.created_at, row.id) > after] if after is not None else found[offset:]
            return page[: max(limit, 0)], len(found)
        condition = self._scope(organization_id, workspace_id)
        if where is not None:
            condition = and_(
                condition, to_sql(where, user_filter_mapping(self.conn, organization_id, workspace_id), USER_TYPE)
            )
        total = self.conn.execute(select(func.count()).select_from(_JOINED).where(condition)).scalar_one()
        stmt = self._select().where(condition)
        if after is not None:
            at, member_id = after
            stmt = stmt.where(or_(_m.created_at > at, and_(_m.created_at == at, _m.id > member_id)))
        stmt = stmt.order_by(_m.created_at, _m.id).limit(limit)
        if after is None and offset:
            stmt = stmt.offset(offset)
        rows = self.conn.execute(stmt).all() if limit > 0 else []
        return rows, int(total)

    def user_name_taken(self, organization_id: str, workspace_id: str, key: str, exclude: str | None = None) -> bool:
        """Whether a live user of the organization holds this (casefolded) userName, or a live member of
        ``workspace_id`` this email or username (one statement, compiled once)."""
        params = {"org": organization_id, "key": key, "ws": workspace_id, "exclude": exclude or ""}
        return self._user_name_holder.first(self.conn, params) is not None

    @staticmethod
    def _holders() -> Any:
        live = and_(_m.status != REMOVED, _m.id != bindparam("exclude"))  # ids are never empty
        given = (
            select(_m.id)
            .select_from(_JOINED)
            .where(_s.organization_id == bindparam("org"), _s.user_name_key == bindparam("key"), live)
        )
        plain = [  # stored lower-case: their unique indexes answer
            select(_m.id).where(_m.workspace_id == bindparam("ws"), column == bindparam("key"), live)
            for column in (_m.email, _m.username)
        ]
        return union_all(given, *plain).limit(1)

    _user_name_holder = DriverQuery(_holders())

    def add(self, member_id: str, **values: Any) -> None:
        """The scim_users row of a member just created (``AlreadyExists`` on a userName clash)."""
        insert_many(self.conn, t.scim_users, [{"member_id": member_id, "created_at": values["updated_at"], **values}])

    def save(self, member_id: str, **values: Any) -> None:
        """Insert or replace the member's scim_users row (``AlreadyExists`` on a userName clash)."""
        done = self.conn.execute(update(t.scim_users).where(self.c.member_id == member_id).values(**values))
        if not done.rowcount:
            self.conn.execute(
                insert(t.scim_users).values(member_id=member_id, created_at=values["updated_at"], **values)
            )

    def remove(self, organization_id: str, member_id: str) -> None:
        self.conn.execute(
            delete(t.scim_users).where(self.c.member_id == member_id, self.c.organization_id == organization_id)
        )


class ScimHolds(Repository):
    """Deactivations and removals an identity provider asked for, held by the deprovisioning brake
    (:mod:`admit.admin.scim_brake`) until an administrator releases or dismisses them."""

    c = t.scim_holds.c

    def lock_workspace(self, organization_id: str, workspace_id: str) -> None:
        """Serialize the brake's count-then-decide per workspace: a row lock on PostgreSQL (held
        until the transaction ends); SQLite's write transactions (BEGIN IMMEDIATE) are serial already."""
        self.conn.execute(
            select(t.workspaces.c.id)
            .where(t.workspaces.c.id == workspace_id, t.workspaces.c.organization_id == organization_id)
            .with_for_update()
        )

    def scim_endings_since(self, organization_id: str, workspace_id: str, since: datetime) -> tuple[int, int]:
        """How many members of the workspace an identity provider suspended and removed since
        ``since`` (from the audit trail, written in the transaction of each change); removing
        someone already suspended takes nothing away and is not counted, and a member suspended,
        reactivated and suspended again counts once."""
        e = t.events.c
        rows = self.conn.execute(
            select(e.action, func.count(e.subject_id.distinct()))
            .where(
                e.organization_id == organization_id,
                e.workspace_id == workspace_id,
                e.created_at >= since,
                e.actor_type == "scim",
                e.action.in_(("member.suspended", "member.removed")),
                func.coalesce(e.data["previous"].as_string(), "") != "suspended",
            )
            .group_by(e.action)
        ).all()
        counts = {str(action): int(n) for action, n in rows}
        return counts.get("member.suspended", 0), counts.get("member.removed", 0)

    def held_for(self, member_id: str) -> Row[Any] | None:
        return self._one(select(t.scim_holds).where(self.c.member_id == member_id, self.c.state == "held"))

    def held_since(self, organization_id: str, workspace_id: str, since: datetime) -> int:
        """Holds made in the workspace since ``since`` (whatever became of them)."""
        stmt = select(func.count()).where(
            self.c.organization_id == organization_id, self.c.workspace_id == workspace_id, self.c.created_at >= since
        )
        return int(self.conn.execute(stmt).scalar_one())

    def add(self, **values: Any) -> str:
        return self._insert(t.scim_holds, values)

    def held(
        self, organization_id: str, workspace_id: str, ids: Sequence[str] | None = None, *, limit: int = 1000
    ) -> Sequence[Row[Any]]:
        """The workspace's held changes (``ids``: only these), the oldest first, with their member's
        name, addresses and status."""
        m = t.members.c
        stmt = (
            select(
                self.c.id,
                self.c.member_id,
                self.c.token_id,
                self.c.action,
                self.c.created_at,
                m.first_name,
                m.last_name,
                m.email,
                m.username,
                m.status.label("member_status"),
                t.scim_tokens.c.name.label("token_name"),
            )
            .join(t.members, m.id == self.c.member_id)
            .join(t.scim_tokens, t.scim_tokens.c.id == self.c.token_id)
            .where(self.c.organization_id == organization_id, self.c.workspace_id == workspace_id)
            .where(self.c.state == "held")
            .order_by(self.c.created_at, self.c.id)
            .limit(limit)
        )
        if ids is not None:
            stmt = stmt.where(self.c.id.in_(list(ids)))
        return cast("Sequence[Row[Any]]", self.conn.execute(stmt).all())

    def decide(self, organization_id: str, hold_id: str, state: str, now: datetime, by: str | None) -> bool:
        """Mark a held change released or dismissed; False if it was decided meanwhile."""
        done = self.conn.execute(
            update(t.scim_holds)
            .where(self.c.id == hold_id, self.c.organization_id == organization_id, self.c.state == "held")
            .values(state=state, decided_at=now, decided_by=by)
        )
        return bool(done.rowcount)
