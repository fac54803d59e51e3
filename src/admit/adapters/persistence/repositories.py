"""Repositories: every method on a tenant-owned table takes the organization id and filters on
it, so a caller can never reach another tenant's row by guessing an id."""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Row,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnClause

from admit.adapters.persistence import tables as t
from admit.domain.records import Invitation, Member, Record, Workspace

# Written into the SQL itself, not bound: a partial index ("WHERE status <> 'removed'", "WHERE state
# = 'pending'") is only usable when the planner sees the value, and PostgreSQL's generic plans for
# prepared statements do not (the member lookups then scanned the whole workspace).
REMOVED: ColumnClause[str] = literal_column("'removed'")
PENDING: ColumnClause[str] = literal_column("'pending'")


_RANDOM_BITS = 80
_last_id = [0, 0]  # this process's last (millisecond, random part)
_id_lock = threading.Lock()


def new_id() -> str:
    """32 hex digits: a millisecond timestamp, then 80 random bits. Ids created later sort later,
    so primary-key inserts append to the index instead of landing at random pages; within one
    millisecond (or after the clock stepped back) this process's next id is the last one plus a
    random step of up to 32 bits, so "in creation order" holds for rows one process adds at once."""
    now = time.time_ns() // 1_000_000
    random = secrets.randbits(_RANDOM_BITS)
    with _id_lock:
        last, previous = _last_id
        if now <= last:
            now, random = last, previous + 1 + secrets.randbits(32)
            if random >= 1 << _RANDOM_BITS:  # not in this universe's lifetime; still sorts later
                now, random = last + 1, secrets.randbits(_RANDOM_BITS - 1)
        _last_id[:] = (now, random)
    return f"{now:012x}{random:020x}"


@cache
def inserter(table: Table) -> Any:
    """One reusable INSERT statement per table (statements are immutable; building them is not free)."""
    return insert(table)


class PendingInserts:
    """Inserts held back and written table by table with one ``executemany`` each (bulk work
    such as imports: thousands of members, invitations, secrets and messages per transaction).
    Only for code that does not read what it has just added before the flush."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def add(self, table: Table, values: dict[str, Any]) -> None:
        self.rows.setdefault(table.name, []).append(values)

    def flush(self, conn: Connection) -> None:
        for table in t.metadata.sorted_tables:  # parents before children (foreign keys)
            rows = self.rows.pop(table.name, None)
            if rows:
                insert_many(conn, table, rows)


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """``executemany`` at the driver, with each column's own conversions (dates, JSON) applied
    once per value: for thousands of rows this is several times cheaper than a Core insert, and
    for one row it skips Core's per-statement work. Rows with differing keys take the Core path;
    on PostgreSQL, ``COPY_MIN_ROWS`` rows or more take :func:`copy_many`."""
    keys = tuple(rows[0])
    if any(tuple(row) != keys for row in rows):
        conn.execute(inserter(table), rows)
        return
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        copy_many(conn, table, rows)
        return
    sql, processors = _driver_insert(conn.dialect, table, keys)
    if len(rows) == 1:
        driver_execute(conn, sql, tuple(map(_convert, rows[0].values(), processors))).close()
        return
    driver_execute(conn, sql, _converted_rows(rows, processors), many=True).close()


def _converted_rows(rows: list[dict[str, Any]], processors: Sequence[Any]) -> list[Any]:
    """Each row's values as the driver takes them, converting only the columns that have a
    conversion (most are text: a group's 10,000 memberships are ids and one timestamp)."""
    converting = [(position, processor) for position, processor in enumerate(processors) if processor is not None]
    if not converting:
        return [tuple(row.values()) for row in rows]
    converted = []
    for row in rows:
        values = list(row.values())
        for position, processor in converting:
            values[position] = _convert(values[position], processor)
        converted.append(values)
    return converted


COPY_MIN_ROWS = 50  # fewer rows on PostgreSQL: one pipelined ``executemany`` costs about the same


def copy_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's ``COPY … FROM STDIN`` of ``rows`` (all with the same keys, as
    :func:`insert_many` passes them), in the connection's transaction: one statement and one
    stream instead of a bound statement per row, and the server skips the per-row executor work.
    Values get the same conversions as the ``executemany`` path (timestamps in UTC, JSON as
    text), so the rows read back the same. A constraint violation anywhere in the rows comes out
    as the same ``IntegrityError`` an insert raises (the whole COPY is undone with the transaction)."""
    keys = tuple(rows[0])
    _, processors = _driver_insert(conn.dialect, table, keys)
    sql = f"COPY {table.name} ({', '.join(keys)}) FROM STDIN"
    dbapi_error = conn.dialect.loaded_dbapi.Error
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            write = copy.write_row
            for values in _converted_rows(rows, processors):
                write(values)
    except dbapi_error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi_error, dialect=conn.dialect, ismulti=True) from exc
    finally:
        cursor.close()


def insert_returning_id(conn: Connection, table: Table, values: dict[str, Any]) -> int:
    """Insert one row at the driver; the id the database gave it (an autoincrement key)."""
    sql, processors = _driver_insert(conn.dialect, table, tuple(values))
    params = tuple(map(_convert, values.values(), processors))
    if conn.dialect.name == "sqlite":
        cursor = driver_execute(conn, sql, params)
        new_id = cursor.lastrowid
    else:
        cursor = driver_execute(conn, f"{sql} RETURNING id", params)
        new_id = cursor.fetchone()[0]
    cursor.close()
    return int(new_id)


def driver_execute(conn: Connection, sql: str, params: Any, *, many: bool = False) -> Any:
    """A statement on a DBAPI cursor of ``conn``'s connection, inside its transaction, without
    Core's per-statement work. Driver errors come out as the same SQLAlchemy exceptions Core
    raises (``IntegrityError`` for a unique-constraint race). Returns the open cursor."""
    dbapi_error = conn.dialect.loaded_dbapi.Error
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except dbapi_error as exc:
        cursor.close()
        raise DBAPIError.instance(sql, params, exc, dbapi_error, dialect=conn.dialect, ismulti=many) from exc
    return cursor


_CONVERTED: dict[tuple[Any, datetime], Any] = {}  # (processor, timestamp) → what the driver gets


def _convert(value: Any, processor: Any) -> Any:
    """``value`` as the driver takes it. A use case stamps every row it writes with the same
    ``now`` (and a chunk of an import shares it too), so timestamps are converted once each."""
    if processor is None or value is None:
        return value
    if value.__class__ is datetime:
        key = (processor, value)
        converted = _CONVERTED.get(key)
        if converted is None:
            if len(_CONVERTED) >= 1024:
                _CONVERTED.clear()
            converted = _CONVERTED[key] = processor(value)
        return converted
    return processor(value)


class DriverQuery:
    """A Core SELECT compiled once per dialect and run on the DBAPI cursor (see
    :func:`driver_execute`): for the lookups on every request's path, where Core's per-statement
    work costs several times what SQLite does. Values pass through the columns' own result
    processors (dates, JSON), into rows that read like SQLAlchemy's ``Row``: by attribute, by
    index and through ``_mapping``. With ``record`` (a named tuple whose fields are the selected
    columns, in order) the rows are made as that record directly: typed, and no copy."""

    def __init__(self, stmt: Select[Any], record: type[tuple[Any, ...]] | None = None) -> None:
        self.stmt = stmt
        self.record = record
        self._compiled: dict[str, _CompiledQuery] = {}

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first row, or None."""
        query = self._compiled.get(conn.dialect.name) or self._compile(conn.dialect)
        cursor = driver_execute(conn, query.sql, query.parameters(params))
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return None if raw is None else query.row(raw)

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row."""
        query = self._compiled.get(conn.dialect.name) or self._compile(conn.dialect)
        cursor = driver_execute(conn, query.sql, query.parameters(params))
        try:
            return [query.row(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def _compile(self, dialect: Any) -> _CompiledQuery:
        compiled = self.stmt.compile(dialect=dialect)
        columns = list(self.stmt.selected_columns)
        if self.record is not None:
            assert self.record._fields == tuple(column.key for column in columns)  # type: ignore[attr-defined]
        query = _CompiledQuery(
            compiled=compiled,
            sql=compiled.string,
            positions=tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None,
            binds=_plain_binds(compiled),
            bind_processors={
                key: processor
                for key, bind in compiled.binds.items()
                if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
            },
            row_type=self.record or _row_type(tuple(column.key for column in columns)),
            processors=tuple(_result_processor(column.type, dialect) for column in columns),
        )
        self._compiled[dialect.name] = query
        return query


@dataclass(frozen=True)
class _CompiledQuery:
    compiled: Any
    sql: str
    positions: tuple[str, ...] | None  # bind names in order, for positional paramstyles
    bind_processors: dict[str, Any]
    row_type: type[tuple[Any, ...]]
    processors: tuple[Any, ...]
    binds: tuple[tuple[str, str, Any, bool], ...] | None  # (name, key, value, required); None: Core's way

    def parameters(self, params: Mapping[str, Any]) -> Any:
        if self.binds is None:
            values = self.compiled.construct_params(params)
        else:  # what construct_params does for plain binds, without its per-call bookkeeping
            values = {}
            for name, key, value, required in self.binds:
                if key in params:
                    values[name] = params[key]
                elif required:
                    values = self.compiled.construct_params(params)  # raises its own error
                    break
                else:
                    values[name] = value
        for key, processor in self.bind_processors.items():
            values[key] = processor(values[key])
        return values if self.positions is None else tuple(values[key] for key in self.positions)

    def row(self, raw: Sequence[Any]) -> Any:
        return self.row_type(*map(_convert, raw, self.processors))


def _plain_binds(compiled: Any) -> tuple[tuple[str, str, Any, bool], ...] | None:
    """Each bound parameter's (name, key, fixed value, required), when every one is plain (no
    expanding IN list, no callable value); else None."""
    binds = []
    for bind, name in compiled.bind_names.items():
        if bind.expanding or bind.callable is not None or bind.isoutparam:
            return None
        binds.append((name, bind.key, bind.value, bool(bind.required)))
    return tuple(binds)


def _result_processor(column_type: Any, dialect: Any) -> Any:
    """The column's own result conversion; for timestamps read as text (SQLite), remembered per
    text: the same workspace, member and invitation rows are read on request after request, and
    parsing a timestamp costs more than the rest of its row's conversion. Only immutable values
    are remembered (never JSON's dicts and lists)."""
    processor = column_type.dialect_impl(dialect).result_processor(dialect, None)
    if processor is None or dialect.name != "sqlite" or not isinstance(column_type, DateTime | t.UTCDateTime):
        return processor
    return lru_cache(maxsize=4096)(processor)


@cache
def _row_type(fields: tuple[str, ...]) -> type[tuple[Any, ...]]:
    base = namedtuple("Row", fields)  # type: ignore[misc]
    mapping = property(lambda row: dict(zip(row._fields, row, strict=True)))
    return type("Row", (base,), {"__slots__": (), "_mapping": mapping})


_DRIVER_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[Any]]] = {}


def _driver_insert(dialect: Any, table: Table, keys: tuple[str, ...]) -> tuple[str, list[Any]]:
    key = (dialect.name, table.name, keys)
    if key not in _DRIVER_INSERTS:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = f"INSERT INTO {table.name} ({', '.join(keys)}) VALUES ({', '.join([mark] * len(keys))})"  # noqa: S608
        _DRIVER_INSERTS[key] = (sql, [_converter(table.c[name].type, dialect) for name in keys])
    return _DRIVER_INSERTS[key]


_CONVERTERS: dict[tuple[str, str], Any] = {}


def _converter(column_type: Any, dialect: Any) -> Any:
    """The column's own bind conversion; JSON as text where the dialect leaves it to the
    statement (psycopg adapts JSON per statement, which a driver-level insert does not have).
    Columns of equal types share one (so :func:`_convert` remembers their timestamps together)."""
    key = (dialect.name, repr(column_type))
    if key not in _CONVERTERS:
        convert = column_type.dialect_impl(dialect).bind_processor(dialect)  # as Core would: the dialect's own
        if convert is None and isinstance(column_type, JSON):
            convert = _json_text
        _CONVERTERS[key] = convert
    return _CONVERTERS[key]


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


Reads = dict[tuple[Any, ...], Any]


class Repository:
    """``pending``: inserts held back (bulk mode, see :class:`PendingInserts`). ``reads``: reads
    remembered for the unit of work (bulk mode too). Bulk work reads the same few rows for every
    person it writes (the organization's controls, the webhook endpoints each audit event goes
    to, the workspace's logo for each message): on PostgreSQL each read is a round trip, and an
    import chunk of 500 people made 2,500 of them. Remembered, they are read once per unit of
    work, as if at its start, and forgotten when the same unit of work changes such a row."""

    def __init__(self, conn: Connection, pending: PendingInserts | None = None, reads: Reads | None = None) -> None:
        self.conn = conn
        self.pending = pending
        self.reads = reads

    def _one(self, stmt: Any) -> Row[Any] | None:
        return self.conn.execute(stmt).first()

    def _remembered(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        """``read()``, once per unit of work in bulk mode (see the class's description)."""
        reads = self.reads
        if reads is None:
            return read()
        if key not in reads:
            reads[key] = read()
        return reads[key]

    def _forget_reads(self) -> None:
        """The unit of work changed a row a remembered read may have returned."""
        if self.reads is not None:
            self.reads.clear()

    def _insert(self, table: Table, values: dict[str, Any]) -> str:
        values.setdefault("id", new_id())
        if self.pending is not None:
            self.pending.add(table, values)
        else:
            insert_many(self.conn, table, [values])
        return str(values["id"])


class Organizations(Repository):
    def add(self, **values: Any) -> str:
        self._forget_reads()
        return self._insert(t.organizations, values)

    _by_id = DriverQuery(select(t.organizations).where(t.organizations.c.id == bindparam("id")))

    def get(self, organization_id: str) -> Row[Any] | None:
        return self._remembered(  # type: ignore[no-any-return]
            ("organization", organization_id), lambda: self._by_id.first(self.conn, {"id": organization_id})
        )

    def list(self, organization_id: str | None = None) -> Sequence[Row[Any]]:
        stmt = select(t.organizations).order_by(t.organizations.c.created_at, t.organizations.c.id)
        if organization_id is not None:
            stmt = stmt.where(
                or_(t.organizations.c.id == organization_id, t.organizations.c.parent_id == organization_id)
            )
        return self.conn.execute(stmt).all()


class Workspaces(Repository):
    def add(self, **values: Any) -> str:
        return self._insert(t.workspaces, values)

    _by_id = DriverQuery(select(t.workspaces).where(t.workspaces.c.id == bindparam("id")), Workspace)
    _by_id_in_org = DriverQuery(_by_id.stmt.where(t.workspaces.c.organization_id == bindparam("org")), Workspace)

    def get(self, organization_id: str | None, workspace_id: str) -> Workspace | None:
        """``organization_id`` None only for the operator (instance-wide) scope."""
        if organization_id is None:
            return self._by_id.first(self.conn, {"id": workspace_id})  # type: ignore[no-any-return]
        return self._by_id_in_org.first(self.conn, {"id": workspace_id, "org": organization_id})  # type: ignore[no-any-return]

    def update(self, organization_id: str, workspace_id: str, **values: Any) -> None:
        self.conn.execute(
            update(t.workspaces)
            .where(t.workspaces.c.id == workspace_id, t.workspaces.c.organization_id == organization_id)
            .values(**values)
        )

    _of_organization = DriverQuery(
        select(t.workspaces)
        .where(t.workspaces.c.organization_id == bindparam("org"))
        .order_by(t.workspaces.c.created_at, t.workspaces.c.id)
    )

    def list(self, organization_id: str) -> Sequence[Workspace]:
        return [Workspace._make(row) for row in self._of_organization.all(self.conn, {"org": organization_id})]


def _rank(role: Any) -> Any:
    return case((role == "owner", 3), (role == "admin", 2), (role == "member", 1), (role == "guest", 0), else_=None)


def _granting_join() -> Any:
    """Members with the groups that grant them a role in their own workspace (outer: none is fine)."""
    m, g, gm = t.members.c, t.groups.c, t.group_members.c
    return t.members.outerjoin(t.group_members, gm.member_id == m.id).outerjoin(
        t.groups, and_(g.id == gm.group_id, g.workspace_id == m.workspace_id, g.role.is_not(None))
    )


def effective_role() -> Any:
    """Over :func:`_granting_join` grouped by member: the higher of the member's own role and
    the highest their groups grant (groups never grant ``owner``)."""
    granted = func.max(_rank(t.groups.c.role))
    return case(
        (granted > _rank(t.members.c.role), case((granted == 2, "admin"), (granted == 1, "member"), else_="guest")),
        else_=t.members.c.role,
    )


def _with_effective_role(*where: Any) -> Select[Any]:
    columns = [effective_role().label("role") if column.key == "role" else column for column in t.members.c]
    return select(*columns).select_from(_granting_join()).where(*where).group_by(*t.members.c)


class Members(Repository):
    c = t.members.c

    def add(self, **values: Any) -> str:
        return self._insert(t.members, values)

    def _member(self, stmt: Any) -> Member | None:
        row = self.conn.execute(stmt).first()
        return None if row is None else Member._make(row)

    def _members(self, stmt: Any) -> list[Member]:
        return [Member._make(row) for row in self.conn.execute(stmt)]

    _by_id = DriverQuery(select(t.members).where(t.members.c.id == bindparam("id")), Member)
    _by_id_in_org = DriverQuery(_by_id.stmt.where(t.members.c.organization_id == bindparam("org")), Member)

    def get(self, organization_id: str | None, member_id: str, *, lock: bool = False) -> Member | None:
        """``organization_id`` None only for the operator scope."""
        if not lock:
            if organization_id is None:
                return self._by_id.first(self.conn, {"id": member_id})  # type: ignore[no-any-return]
            return self._by_id_in_org.first(self.conn, {"id": member_id, "org": organization_id})  # type: ignore[no-any-return]
        stmt = select(t.members).where(self.c.id == member_id)
        if organization_id is not None:
            stmt = stmt.where(self.c.organization_id == organization_id)
        return self._member(stmt.with_for_update() if lock else stmt)

    def find_live(self, organization_id: str, workspace_id: str, **identity: str | None) -> Member | None:
        """The non-removed member of a workspace matching any given email/username/external ID."""
        given = {name: value for name, value in identity.items() if value}
        if not given:
            return None
        query = _find_live_query(tuple(sorted(given)))
        return query.first(self.conn, {"org": organization_id, "ws": workspace_id, **given})  # type: ignore[no-any-return]

    def awaiting_invitation(
        self, organization_id: str, workspace_id: str, after: str | None, limit: int
    ) -> Sequence[Member]:
        """Members awaiting invitation, in id order after ``after`` (Invite All's walk)."""
        stmt = select(t.members).where(
            self.c.organization_id == organization_id,
            self.c.workspace_id == workspace_id,
            self.c.status == "provisioned",
        )
        if after is not None:
            stmt = stmt.where(self.c.id > after)
        return self._members(stmt.order_by(self.c.id).limit(limit))

    def awaiting_without_email(self, organization_id: str, workspace_id: str, limit: int) -> Sequence[Member]:
        """Members without email awaiting invitation or invited (who an access code is for), in
        creation order."""
        stmt = select(t.members).where(
            self.c.organization_id == organization_id,
            self.c.workspace_id == workspace_id,
            self.c.status.in_(("provisioned", "invited")),
            or_(self.c.email.is_(None), self.c.email == ""),
        )
        return self._members(stmt.order_by(self.c.created_at, self.c.id).limit(limit))

    def without_email_created_between(
        self, organization_id: str, workspace_id: str, start: datetime, end: datetime, limit: int
    ) -> Sequence[Member]:
        """Members without email awaiting invitation or invited that were created between ``start``
        and ``end`` (inclusive; an import's run), in creation order."""
        stmt = select(t.members).where(
            self.c.organization_id == organization_id,
            self.c.workspace_id == workspace_id,
            self.c.status.in_(("provisioned", "invited")),
            or_(self.c.email.is_(None), self.c.email == ""),
            self.c.created_at >= start,
            self.c.created_at <= end,
        )
        return self._members(stmt.order_by(self.c.created_at, self.c.id).limit(limit))

    def by_keys(self, organization_id: str, workspace_id: str, name: str, values: Sequence[str]) -> Sequence[Member]:
        """Non-removed members whose ``name`` (email or external ID) is one of ``values``."""
        if not values:
            return []
        return self._members(
            select(t.members).where(
                self.c.organization_id == organization_id,
                self.c.workspace_id == workspace_id,
                self.c.status != REMOVED,
                getattr(self.c, name).in_(values),
            )
        )

    def live_matches(self, organization_id: str, workspace_id: str, keys: Mapping[str, Sequence[str]]) -> Sequence[Any]:
        """The non-removed members having any of the given emails, usernames or external IDs
        (an import's check of a few hundred rows at once)."""
        columns = (self.c.id, self.c.status, self.c.email, self.c.username, self.c.external_id)
        live = (
            self.c.organization_id == organization_id,
            self.c.workspace_id == workspace_id,
            self.c.status != REMOVED,
        )
        if self.conn.dialect.name == "postgresql":
            # One array parameter per key, each looked up through its partial unique index. An IN
            # list of hundreds of parameters is a linear search per row once psycopg prepares the
            # statement (a generic plan cannot hash the list): seconds per chunk at 100,000 members.
            parts = [
                select(*columns).where(
                    *live,
                    getattr(self.c, name).is_not(None),
                    getattr(self.c, name) == any_(bindparam(f"{name}_values", list(values), type_=ARRAY(String))),
                )
                for name, values in keys.items()
                if values
            ]
            if not parts:
                return []
            return self.conn.execute(parts[0] if len(parts) == 1 else union_all(*parts)).all()
        matches = [getattr(self.c, name).in_(values) for name, values in keys.items() if values]
        if not matches:
            return []
        return self.conn.execute(select(*columns).where(*live, or_(*matches))).all()

    # The member with their effective role: their own, or a higher one their groups grant them
    # in the workspace (one query; every permission check and the ID token's role read it).
    _for_account = DriverQuery(
        _with_effective_role(
            t.members.c.organization_id == bindparam("org"),
            t.members.c.workspace_id == bindparam("workspace"),
            t.members.c.account_id == bindparam("account"),
            t.members.c.status != REMOVED,
        ),
        Member,
    )

    def for_account(self, organization_id: str, workspace_id: str, account_id: str) -> Member | None:
        params = {"org": organization_id, "workspace": workspace_id, "account": account_id}
        return self._for_account.first(self.conn, params)  # type: ignore[no-any-return]

    _workspaces_of = DriverQuery(
        select(
            t.members.c.id, effective_role().label("role"), t.workspaces.c.id.label("workspace_id"),
            t.workspaces.c.name, t.workspaces.c.app_url,
        )
        .select_from(_granting_join().join(t.workspaces, t.workspaces.c.id == t.members.c.workspace_id))
        .where(t.members.c.account_id == bindparam("account"), t.members.c.status == "active")
        .group_by(t.members.c.id, t.workspaces.c.id, t.workspaces.c.name, t.workspaces.c.app_url)
        .order_by(t.workspaces.c.name)
    )  # fmt: skip
    _workspaces_of_in_org = DriverQuery(_workspaces_of.stmt.where(t.members.c.organization_id == bindparam("org")))

    def workspaces_of(self, account_id: str, organization_id: str | None = None) -> Sequence[Any]:
        """The account's active memberships with their workspaces (the person's own view), in
        one organization if given."""
        if organization_id is None:
            return self._workspaces_of.all(self.conn, {"account": account_id})
        return self._workspaces_of_in_org.all(self.conn, {"account": account_id, "org": organization_id})

    def list(
        self,
        organization_id: str,
        workspace_id: str,
        *,
        status: str | None = None,
        department: str | None = None,
        role: str | None = None,
        search: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> Sequence[Member]:
        """A page of the directory in creation order (keyset paging: as fast on page 2,000 as on
        page 1), filtered by status, department, role and a search over names and identifiers."""
        stmt = select(t.members).where(self.c.organization_id == organization_id, self.c.workspace_id == workspace_id)
        if status:
            stmt = stmt.where(self.c.status == status)
        if department:
            stmt = stmt.where(self.c.department == department)
        if role:
            stmt = stmt.where(self.c.role == role)
        if search:
            pattern = f"%{search.strip()}%"
            stmt = stmt.where(
                or_(
                    *(
                        getattr(self.c, name).ilike(pattern, escape="\\")
                        for name in ("email", "first_name", "last_name", "username", "external_id", "phone")
                    )
                )
            )
        if after:
            # a row-value comparison, which both databases answer from the listing index
            stmt = stmt.where(
                tuple_(self.c.created_at, self.c.id)
                > tuple_(bindparam("after_at", after[0], type_=t.UTCDateTime), after[1])
            )
        return self._members(stmt.order_by(self.c.created_at, self.c.id).limit(limit))

    def update(self, organization_id: str, member_id: str, **values: Any) -> None:
        self.conn.execute(
            update(t.members).where(self.c.id == member_id, self.c.organization_id == organization_id).values(**values)
        )

    def move(self, organization_id: str, member_id: str, from_status: str, **values: Any) -> bool:
        """Compare-and-set on the status: False when someone else changed it first."""
        result = self.conn.execute(
            update(t.members)
            .where(
                self.c.id == member_id,
                self.c.organization_id == organization_id,
                self.c.status == from_status,
            )
            .values(**values)
        )
        return result.rowcount == 1

    def count(self, organization_id: str, workspace_id: str) -> dict[str, int]:
        rows = self.conn.execute(
            select(self.c.status, func.count())
            .where(self.c.organization_id == organization_id, self.c.workspace_id == workspace_id)
            .group_by(self.c.status)
        ).all()
        return {str(status): int(n) for status, n in rows}


@cache
def _find_live_query(names: tuple[str, ...]) -> DriverQuery:
    c = t.members.c
    return DriverQuery(
        select(t.members).where(
            c.organization_id == bindparam("org"),
            c.workspace_id == bindparam("ws"),
            c.status != REMOVED,
            or_(*(c[name] == bindparam(name) for name in names)),
        ),
        Member,
    )


class Invitations(Repository):
    c = t.invitations.c

    def add(self, **values: Any) -> str:
        return self._insert(t.invitations, values)

    def _invitation(self, stmt: Any) -> Invitation | None:
        row = self.conn.execute(stmt).first()
        return None if row is None else Invitation._make(row)

    def _invitations(self, stmt: Any) -> list[Invitation]:
        return [Invitation._make(row) for row in self.conn.execute(stmt)]

    _by_id = DriverQuery(select(t.invitations).where(t.invitations.c.id == bindparam("id")), Invitation)
    _by_id_in_org = DriverQuery(_by_id.stmt.where(t.invitations.c.organization_id == bindparam("org")), Invitation)

    def get(self, organization_id: str | None, invitation_id: str, *, lock: bool = False) -> Invitation | None:
        """``organization_id`` None only for the operator scope and the invitee's own view."""
        if not lock:
            if organization_id is None:
                return self._by_id.first(self.conn, {"id": invitation_id})  # type: ignore[no-any-return]
            return self._by_id_in_org.first(self.conn, {"id": invitation_id, "org": organization_id})  # type: ignore[no-any-return]
        stmt = select(t.invitations).where(self.c.id == invitation_id)
        if organization_id is not None:
            stmt = stmt.where(self.c.organization_id == organization_id)
        return self._invitation(stmt.with_for_update() if lock else stmt)

    _by_link = DriverQuery(
        select(
            *(c.label(f"s_{c.key}") for c in t.secrets.c),
            *(c.label(f"i_{c.key}") for c in t.invitations.c),
            *(c.label(f"m_{c.key}") for c in t.members.c),
            *(c.label(f"w_{c.key}") for c in t.workspaces.c),
        )
        .select_from(
            t.secrets.join(
                t.invitations,
                and_(
                    t.invitations.c.id == t.secrets.c.subject_id,
                    t.invitations.c.organization_id == t.secrets.c.organization_id,
                ),
            )
            .outerjoin(
                t.members,
                and_(
                    t.members.c.id == t.invitations.c.member_id,
                    t.members.c.organization_id == t.invitations.c.organization_id,
                ),
            )
            .outerjoin(
                t.workspaces,
                and_(
                    t.workspaces.c.id == t.invitations.c.workspace_id,
                    t.workspaces.c.organization_id == t.invitations.c.organization_id,
                ),
            )
        )
        .where(t.secrets.c.digest == bindparam("digest"))
    )
    _SECRET_ROW = _row_type(tuple(col.key for col in t.secrets.c))
    _LINK_SPANS = tuple(
        itertools.accumulate((0, len(t.secrets.c), len(t.invitations.c), len(t.members.c), len(t.workspaces.c)))
    )

    def by_link(self, digest: str) -> tuple[Record, Invitation, Member | None, Workspace | None] | None:
        """The secret with this digest, the invitation it is the link of, and that invitation's
        member and workspace (None if gone), in one statement: what every invitee page reads first.
        None when no secret has the digest or it is not an invitation's (check its purpose)."""
        row = self._by_link.first(self.conn, {"digest": digest})
        if row is None:
            return None
        a, b, c, d, e = self._LINK_SPANS
        secret: Record = self._SECRET_ROW(*row[a:b])  # type: ignore[assignment]
        member = Member._make(row[c:d]) if row[c] is not None else None
        workspace = Workspace._make(row[d:e]) if row[d] is not None else None
        return secret, Invitation._make(row[b:c]), member, workspace

    def pending_for_member(self, organization_id: str, member_id: str) -> Invitation | None:
        return self._invitation(
            select(t.invitations).where(
                self.c.organization_id == organization_id,
                self.c.member_id == member_id,
                self.c.state == PENDING,
            )
        )

    def for_member(self, organization_id: str, member_id: str, limit: int = 50) -> Sequence[Invitation]:
        """The member's invitations, newest first."""
        return self._invitations(
            select(t.invitations)
            .where(self.c.organization_id == organization_id, self.c.member_id == member_id)
            .order_by(self.c.created_at.desc(), self.c.id.desc())
            .limit(limit)
        )

    def list(
        self,
        organization_id: str,
        workspace_id: str,
        *,
        state: str | None = None,
        limit: int = 50,
        after: tuple[datetime, str] | None = None,
        now: datetime | None = None,
    ) -> Sequence[Invitation]:
        stmt = select(t.invitations).where(
            self.c.organization_id == organization_id, self.c.workspace_id == workspace_id
        )
        if state == "expired" and now is not None:
            stmt = stmt.where(or_(self.c.state == "expired", and_(self.c.state == "pending", self.c.expires_at <= now)))
        elif state == "pending" and now is not None:
            stmt = stmt.where(self.c.state == "pending", self.c.expires_at > now)
        elif state:
            stmt = stmt.where(self.c.state == state)
        if after:
            # a row-value comparison, which both databases answer from the listing index
            stmt = stmt.where(
                tuple_(self.c.created_at, self.c.id)
                > tuple_(bindparam("after_at", after[0], type_=t.UTCDateTime), after[1])
            )
        return self._invitations(stmt.order_by(self.c.created_at, self.c.id).limit(limit))

    def pending_for_emails(self, emails: Iterable[str], now: datetime) -> Sequence[Invitation]:
        """Pending, unexpired invitations addressed to any of these emails (the invitee's view)."""
        return self._invitations(
            select(t.invitations)
            .where(self.c.email.in_(list(emails)), self.c.state == "pending", self.c.expires_at > now)
            .order_by(self.c.created_at)
        )

    def move(self, organization_id: str, invitation_id: str, from_state: str, **values: Any) -> bool:
        result = self.conn.execute(
            update(t.invitations)
            .where(
                self.c.id == invitation_id,
                self.c.organization_id == organization_id,
                self.c.state == from_state,
            )
            .values(**values)
        )
        return result.rowcount == 1

    def lapsed(self, now: datetime, limit: int) -> Sequence[Invitation]:
        stmt = (
            select(t.invitations)
            .where(self.c.state == "pending", self.c.expires_at <= now)
            .order_by(self.c.expires_at)
            .limit(limit)
        )
        return self._invitations(stmt.with_for_update(skip_locked=True))

    def reminder_days_in_use(self) -> Sequence[int]:
        """The reminder settings of the workspaces that send reminders (a handful of values)."""
        w = t.workspaces.c
        stmt = select(w.reminder_days).where(w.reminder_days.is_not(None)).distinct().order_by(w.reminder_days)
        return [int(days) for days in self.conn.execute(stmt).scalars()]

    def due_reminders(self, days: int, now: datetime, until: datetime, limit: int) -> Sequence[Invitation]:
        """Pending invitations not yet reminded, of workspaces reminding ``days`` before expiry,
        that expire after ``now`` but by ``until``; rows another sweep holds are skipped."""
        w = t.workspaces.c
        stmt = (
            select(t.invitations)
            .join(t.workspaces, w.id == self.c.workspace_id)
            .where(
                w.reminder_days == days,
                self.c.state == PENDING,
                self.c.reminded_at.is_(None),
                self.c.expires_at > now,
                self.c.expires_at <= until,
            )
            .order_by(self.c.expires_at)
            .limit(limit)
        )
        return self._invitations(stmt.with_for_update(skip_locked=True, of=t.invitations))

    def mark_reminded(self, organization_id: str, invitation_id: str, now: datetime) -> bool:
        """Record the reminder, only if no one has (and the invitation is still pending and
        running): two sweeps never both send it."""
        result = self.conn.execute(
            update(t.invitations)
            .where(
                self.c.id == invitation_id,
                self.c.organization_id == organization_id,
                self.c.state == PENDING,
                self.c.reminded_at.is_(None),
                self.c.expires_at > now,
            )
            .values(reminded_at=now)
        )
        return result.rowcount == 1


class WorkspaceLogos(Repository):
    """A workspace's logo (one per workspace, sanitised before it gets here). The table has no
    organization column: the organization is checked on the workspace it belongs to."""

    c = t.workspace_logos.c

    def _where(self, stmt: Any, organization_id: str | None, workspace_id: str) -> Any:
        stmt = stmt.where(self.c.workspace_id == workspace_id)
        if organization_id is not None:
            owned = select(t.workspaces.c.id).where(
                t.workspaces.c.id == workspace_id, t.workspaces.c.organization_id == organization_id
            )
            stmt = stmt.where(self.c.workspace_id.in_(owned))
        return stmt

    def get(self, organization_id: str | None, workspace_id: str) -> Row[Any] | None:
        return self._one(self._where(select(t.workspace_logos), organization_id, workspace_id))

    _digest = DriverQuery(
        select(
            t.workspace_logos.c.workspace_id,
            t.workspace_logos.c.content_type,
            t.workspace_logos.c.digest,
            t.workspace_logos.c.updated_at,
        ).where(t.workspace_logos.c.workspace_id == bindparam("workspace_id"))
    )

    _digest_in_org = DriverQuery(
        _digest.stmt.where(
            t.workspace_logos.c.workspace_id.in_(
                select(t.workspaces.c.id).where(
                    t.workspaces.c.id == bindparam("workspace_id"), t.workspaces.c.organization_id == bindparam("org")
                )
            )
        )
    )

    def digest(self, organization_id: str | None, workspace_id: str) -> Row[Any] | None:
        """The logo's type and digest, without its data (on every invitee page: at the driver)."""
        if organization_id is None:
            return self._remembered(  # type: ignore[no-any-return]
                ("logo", None, workspace_id), lambda: self._digest.first(self.conn, {"workspace_id": workspace_id})
            )
        return self._remembered(  # type: ignore[no-any-return]
            ("logo", organization_id, workspace_id),
            lambda: self._digest_in_org.first(self.conn, {"workspace_id": workspace_id, "org": organization_id}),
        )

    def put(self, organization_id: str, workspace_id: str, **values: Any) -> None:
        """Replace the workspace's logo, or add it (two first uploads at once: one conflicts)."""
        self._forget_reads()
        changed = self.conn.execute(
            self._where(update(t.workspace_logos), organization_id, workspace_id).values(**values)
        )
        if not changed.rowcount:
            self.conn.execute(insert(t.workspace_logos).values(workspace_id=workspace_id, **values))

    def remove(self, organization_id: str, workspace_id: str) -> bool:
        self._forget_reads()
        gone = self.conn.execute(self._where(delete(t.workspace_logos), organization_id, workspace_id))
        return bool(gone.rowcount)


class Terms(Repository):
    """Versioned terms of service per workspace, and who accepted which version when."""

    c = t.terms.c
    a = t.terms_acceptances.c
    _summary = (c.id, c.workspace_id, c.version, c.filename, c.content_type, c.sha256, c.published_by, c.published_at)

    def add(self, **values: Any) -> str:
        return self._insert(t.terms, values)

    _current = DriverQuery(
        select(*_summary)
        .where(c.organization_id == bindparam("org"), c.workspace_id == bindparam("workspace"))
        .order_by(c.version.desc())
        .limit(1)
    )

    def current(self, organization_id: str, workspace_id: str) -> Row[Any] | None:
        return self._current.first(self.conn, {"org": organization_id, "workspace": workspace_id})  # type: ignore[no-any-return]

    def document(self, organization_id: str, workspace_id: str, version: int) -> Row[Any] | None:
        return self._one(
            select(t.terms).where(
                self.c.organization_id == organization_id,
                self.c.workspace_id == workspace_id,
                self.c.version == version,
            )
        )

    def versions(self, organization_id: str, workspace_id: str) -> Sequence[Any]:
        """Every version, newest first, with how many accounts accepted it."""
        accepted = (
            select(func.count())
            .where(self.a.workspace_id == self.c.workspace_id, self.a.version == self.c.version)
            .scalar_subquery()
        )
        return self.conn.execute(
            select(*self._summary, accepted.label("acceptances"))
            .where(self.c.organization_id == organization_id, self.c.workspace_id == workspace_id)
            .order_by(self.c.version.desc())
        ).all()

    def accepted(self, organization_id: str, workspace_id: str, account_id: str, version: int) -> Row[Any] | None:
        return self._one(
            select(t.terms_acceptances).where(
                self.a.organization_id == organization_id,
                self.a.workspace_id == workspace_id,
                self.a.account_id == account_id,
                self.a.version == version,
            )
        )

    def accept(self, **values: Any) -> str:
        return self._insert(t.terms_acceptances, values)

    def acceptances(self, organization_id: str, workspace_id: str) -> Sequence[Any]:
        """Who accepted which version when, newest version first, then in the order they accepted:
        each acceptance with the name and email of the account's newest membership of the workspace
        (a removed member's row is kept), else the account's own name and email address."""
        m, i, acc = t.members.c, t.account_identifiers.c, t.accounts.c

        def member(column: Any) -> Any:
            return (
                select(column)
                .where(m.workspace_id == self.a.workspace_id, m.account_id == self.a.account_id)
                .order_by(m.created_at.desc(), m.id.desc())
                .limit(1)
                .scalar_subquery()
            )

        identifier = (
            select(i.value)
            .where(i.account_id == self.a.account_id, i.kind == "email")
            .order_by(i.value)
            .limit(1)
            .scalar_subquery()
        )
        return self.conn.execute(
            select(
                self.a.version,
                self.a.accepted_at,
                func.coalesce(member(m.first_name), acc.first_name).label("first_name"),
                func.coalesce(member(m.last_name), acc.last_name).label("last_name"),
                func.coalesce(member(m.email), identifier).label("email"),
            )
            .select_from(t.terms_acceptances.outerjoin(t.accounts, acc.id == self.a.account_id))
            .where(self.a.organization_id == organization_id, self.a.workspace_id == workspace_id)
            .order_by(self.a.version.desc(), self.a.accepted_at, self.a.id)
        ).all()
