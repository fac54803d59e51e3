"""SCIM filters: parsing (RFC 7644 §3.4.2.2), PATCH paths, SQL compilation (run on SQLite) and evaluation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Boolean, Column, DateTime, MetaData, String, Table, create_engine, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from admit.scim import filter as f
from admit.scim.errors import ScimError
from admit.scim.schemas import GROUP_TYPE, USER_TYPE

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _error(call: Any, *args: Any) -> ScimError:
    with pytest.raises(ScimError) as caught:
        call(*args)
    return caught.value


# --- parsing -----------------------------------------------------------------------------------------------


def test_comparison_with_any_case_operator_and_attribute() -> None:
    assert f.parse('userName EQ "bjensen"') == f.Compare(f.AttrPath(None, "userName"), "eq", "bjensen")
    assert f.parse("UserName Sw 'x'".replace("'", '"')).op == "sw"  # type: ignore[union-attr]


@pytest.mark.parametrize("op", ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"])
def test_every_operator(op: str) -> None:
    node = f.parse(f'title {op} "x"')
    assert node == f.Compare(f.AttrPath(None, "title"), op, "x")


def test_present() -> None:
    assert f.parse("title pr") == f.Present(f.AttrPath(None, "title"))


def test_and_binds_tighter_than_or() -> None:
    a, b, c = (f.Present(f.AttrPath(None, n)) for n in ("a", "b", "c"))
    assert f.parse("a pr or b pr and c pr") == f.Or(a, f.And(b, c))
    assert f.parse("a pr and b pr or c pr") == f.Or(f.And(a, b), c)
    assert f.parse("(a pr or b pr) and c pr") == f.And(f.Or(a, b), c)
    assert f.parse("not (a pr) and b pr") == f.And(f.Not(a), b)
    assert f.parse("a pr or b pr or c pr") == f.Or(f.Or(a, b), c)


def test_urn_prefixed_paths_and_sub_attributes() -> None:
    node = f.parse(f'{ENTERPRISE}:manager.value eq "26118915"')
    assert node == f.Compare(f.AttrPath(ENTERPRISE, "manager", "value"), "eq", "26118915")
    assert f.parse('name.givenName eq "Barbara"') == f.Compare(f.AttrPath(None, "name", "givenName"), "eq", "Barbara")
    assert f.parse('meta.lastModified gt "2011-05-13T04:42:34Z"').path.dotted == "meta.lastModified"  # type: ignore[union-attr]


def test_value_paths() -> None:
    node = f.parse('emails[type eq "work" and value co "@example.com"]')
    assert node == f.ValuePath(
        f.AttrPath(None, "emails"),
        f.And(
            f.Compare(f.AttrPath(None, "type"), "eq", "work"),
            f.Compare(f.AttrPath(None, "value"), "co", "@example.com"),
        ),
    )
    both = f.parse('emails[type eq "work" and primary eq true]')
    assert isinstance(both, f.ValuePath) and both.filter == f.And(
        f.Compare(f.AttrPath(None, "type"), "eq", "work"), f.Compare(f.AttrPath(None, "primary"), "eq", True)
    )


def test_entra_value_path_with_sub_attribute_comparison() -> None:
    node = f.parse('emails[type eq "work"].value eq "a@example.com"')
    assert node == f.ValuePath(
        f.AttrPath(None, "emails"),
        f.And(
            f.Compare(f.AttrPath(None, "type"), "eq", "work"),
            f.Compare(f.AttrPath(None, "value"), "eq", "a@example.com"),
        ),
    )


def test_literals() -> None:
    def value(text: str) -> Any:
        node = f.parse(f"x eq {text}")
        assert isinstance(node, f.Compare)
        return node.value

    assert value("true") is True and value("FALSE") is False and value("null") is None
    assert value("42") == 42 and value("-1.5") == Decimal("-1.5") and value("1e3") == Decimal("1e3")
    assert value(r'"a\"b\\c\u00e9\n"') == 'a"b\\cé\n'
    assert value('"un (paren) and or"') == "un (paren) and or"


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ('userName eq "x', "position 13"),
        ("userName eq", "at the end"),
        ('userName zz "x"', "position 10"),
        ('userName eq "x" and', "at the end"),
        ('(userName eq "x"', "at the end"),
        ('userName eq "x")', "position 16"),
        ('not userName eq "x"', "position 5"),
        ('userName eq x"', "position 14"),  # the tokenizer finds the open string first
        ('userName eq "x" title pr', "position 17"),
        ('emails[type eq "work"', "at the end"),
        ('emails[type[value eq "x"]]', "position 12"),
        ('userName eq "x" ; drop', "position 17"),
        (r'userName eq "\q"', "position 13"),
        ('a.b.c eq "x"', "position 1"),
        ('userName eq "\\u0000"', "position 13"),
    ],
)
def test_malformed_filters_say_where(text: str, position: str) -> None:
    error = _error(f.parse, text)
    assert error.status == 400 and error.scim_type == "invalidFilter"
    assert position in error.detail, error.detail


@pytest.mark.parametrize("text", ["", "   ", "and", "pr", "()", '"x" eq userName'])
def test_more_malformed_filters(text: str) -> None:
    assert _error(f.parse, text).scim_type == "invalidFilter"


def test_limits() -> None:
    assert "longer than" in _error(f.parse, 'userName eq "' + "x" * 5000 + '"').detail
    deep = "(" * 40 + "a pr" + ")" * 40
    assert "nested deeper" in _error(f.parse, deep).detail
    assert f.parse("(" * 30 + "a pr" + ")" * 30) == f.Present(f.AttrPath(None, "a"))


# --- PATCH paths -------------------------------------------------------------------------------------------


def test_patch_paths() -> None:
    assert f.parse_path("userName") == f.PatchPath(f.AttrPath(None, "userName"))
    assert f.parse_path("name.familyName") == f.PatchPath(f.AttrPath(None, "name", "familyName"))
    assert f.parse_path(f"{ENTERPRISE}:department") == f.PatchPath(f.AttrPath(ENTERPRISE, "department"))
    path = f.parse_path('emails[type eq "work"].value')
    assert path == f.PatchPath(f.AttrPath(None, "emails"), f.Compare(f.AttrPath(None, "type"), "eq", "work"), "value")
    members = f.parse_path('members[value eq "2819c223-7f76-453a-919d-413861904646"]')
    assert members.filter == f.Compare(f.AttrPath(None, "value"), "eq", "2819c223-7f76-453a-919d-413861904646")
    assert members.sub is None


@pytest.mark.parametrize(
    "text", ["", 'emails[type eq "work"] .value', 'emails[type eq "work"]x', "a b", 'emails[type eq "work"', "a.b.c"]
)
def test_malformed_patch_paths(text: str) -> None:
    error = _error(f.parse_path, text)
    assert error.scim_type == "invalidPath"


# --- SQL ---------------------------------------------------------------------------------------------------

metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("id", String, primary_key=True),
    Column("user_name", String),
    Column("external_id", String),
    Column("given_name", String),
    Column("email", String),
    Column("status", String),
    Column("department", String),
    Column("updated_at", DateTime(timezone=True)),
    Column("flag", Boolean),
)


def _active(op: str, value: f.Value) -> ColumnElement[bool]:
    if op not in ("eq", "ne") or not isinstance(value, bool):
        raise ScimError(400, "invalidFilter", "active compares with eq or ne and true or false")
    return (users.c.status == "active") if value == (op == "eq") else (users.c.status != "active")


MAPPING: f.SqlMapping = {
    "username": f.Column(users.c.user_name, f.Kind.STRING),
    "externalId": f.Column(users.c.external_id, f.Kind.EXACT),
    "name.givenname": f.Column(users.c.given_name, f.Kind.STRING),
    "emails.value": f.Column(users.c.email, f.Kind.STRING),
    'emails[type eq "work"].value': f.Column(users.c.email, f.Kind.STRING),
    "active": _active,
    "department": f.Column(users.c.department, f.Kind.STRING),
    "meta.lastmodified": f.Column(users.c.updated_at, f.Kind.DATETIME),
    "title": f.Column(users.c.flag, f.Kind.BOOLEAN),  # a boolean column, to test the kind
}

ROWS = [
    {
        "id": "1",
        "user_name": "Alice@Example.com",
        "external_id": "E-1",
        "given_name": "Alice",
        "email": "alice@example.com",
        "status": "active",
        "department": "Sales",
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
        "flag": True,
    },
    {
        "id": "2",
        "user_name": "bob_smith",
        "external_id": "e-2",
        "given_name": None,
        "email": "bob@other.org",
        "status": "suspended",
        "department": None,
        "updated_at": datetime(2026, 3, 1, tzinfo=UTC),
        "flag": False,
    },
    {
        "id": "3",
        "user_name": "bob%smith",
        "external_id": None,
        "given_name": "Robert",
        "email": None,
        "status": "active",
        "department": "R&D",
        "updated_at": datetime(2026, 6, 1, tzinfo=UTC),
        "flag": None,
    },
    {
        "id": "4",
        "user_name": "bobXsmith",
        "external_id": "E-4",
        "given_name": "",
        "email": "x\\y@example.com",
        "status": "active",
        "department": "sales",
        "updated_at": datetime(2026, 6, 2, tzinfo=UTC),
        "flag": None,
    },
]


@pytest.fixture(scope="module")
def engine() -> Any:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(users), ROWS)
    return engine


def _ids(engine: Any, text: str) -> list[str]:
    expression = f.to_sql(f.parse(text), MAPPING, USER_TYPE)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert str(expression.compile(dialect=dialect))
    with engine.connect() as connection:
        return sorted(connection.execute(select(users.c.id).where(expression)).scalars())


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ('userName eq "alice@example.com"', ["1"]),
        ('USERNAME eq "ALICE@EXAMPLE.COM"', ["1"]),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice@example.com"', ["1"]),
        ('externalId eq "E-1"', ["1"]),
        ('externalId eq "e-1"', []),  # case-exact
        ('externalId ne "E-1"', ["2", "3", "4"]),  # absent counts as not equal
        ('userName sw "bob_"', ["2"]),  # _ is not a wildcard
        ('userName co "%"', ["3"]),  # % is not a wildcard
        ('emails co "\\\\y"', ["4"]),  # the escape character itself
        ('userName ew "SMITH"', ["2", "3", "4"]),
        ("name.givenName pr", ["1", "3"]),  # empty string is not present
        ("not (name.givenName pr)", ["2", "4"]),
        ('not (externalId eq "E-1")', ["2", "3", "4"]),
        ("active eq true", ["1", "3", "4"]),
        ("active eq false", ["2"]),
        ("active ne true", ["2"]),
        (f'{ENTERPRISE}:department eq "SALES"', ["1", "4"]),
        ('meta.lastModified gt "2026-03-01T00:00:00Z"', ["3", "4"]),
        ('meta.lastModified ge "2026-03-01T00:00:00Z"', ["2", "3", "4"]),
        ('meta.lastModified lt "2026-03-01T01:00:00+01:00"', ["1"]),  # 00:00Z
        ('emails[type eq "work" and value co "example.com"]', ["1", "4"]),
        ('emails[type eq "work"].value eq "BOB@other.org"', ["2"]),
        ('emails[value sw "bob"]', ["2"]),
        ('emails[type eq "work"]', ["1", "2", "4"]),
        ('userName gt "bob"', ["2", "3", "4"]),
        ('userName eq "x" or (active eq false and userName sw "b")', ["2"]),
        ("title eq true", ["1"]),
        ("title eq null", ["3", "4"]),
    ],
)
def test_sql_filters_on_sqlite(engine: Any, text: str, ids: list[str]) -> None:
    assert _ids(engine, text) == ids


def test_case_insensitive_compares_lower_on_both_sides() -> None:
    sql = str(f.to_sql(f.parse('userName eq "A"'), MAPPING, USER_TYPE).compile(dialect=postgresql.dialect()))
    assert sql.count("lower(") == 2
    like = f.to_sql(f.parse('userName co "a%b"'), MAPPING, USER_TYPE).compile(dialect=postgresql.dialect())
    assert "ESCAPE '\\'" in str(like) or "ESCAPE '\\\\'" in str(like)
    assert "%a\\%b%" in like.params.values()


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('nickName eq "x"', "not supported"),  # known but unmapped
        ('shoeSize eq "x"', "unknown attribute"),
        ('urn:example:other:shoeSize eq "x"', "unknown attribute"),
        ("userName eq 1", "string"),
        ('active eq "true"', "active"),
        ('meta.lastModified gt "yesterday"', "ISO 8601"),
        ('meta.lastModified co "2026"', "does not apply"),
        ("title gt true", "only eq and ne"),
        ('emails[shoe eq "x"]', "unknown sub-attribute"),
        ('emails[type eq "home"].value eq "x"', "not supported"),
        ("userName gt null", "null"),
    ],
)
def test_sql_refusals(text: str, detail: str) -> None:
    error = _error(f.to_sql, f.parse(text), MAPPING, USER_TYPE)
    assert error.scim_type == "invalidFilter" and detail in error.detail, error.detail


def test_conflicting_types_select_nothing(engine: Any) -> None:
    assert _ids(engine, 'emails[type eq "work" and type eq "home"]') == []


def test_escape_like() -> None:
    assert f.escape_like("50%_\\") == "50\\%\\_\\\\"


def test_mapping_keys_are_case_insensitive(engine: Any) -> None:
    expression = f.to_sql(f.parse('externalid eq "E-4"'), {"ExternalId": MAPPING["externalId"]}, USER_TYPE)
    with engine.connect() as connection:
        assert list(connection.execute(select(func.count()).where(expression)).scalars()) == [1]


# --- evaluation --------------------------------------------------------------------------------------------

USER: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
    "id": "abc",
    "externalId": "Ext-1",
    "userName": "Bjensen@Example.com",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "active": True,
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ],
    ENTERPRISE: {"department": "Tour Operations", "manager": {"value": "m-1"}},
    "meta": {"lastModified": "2026-05-01T10:00:00Z", "resourceType": "User"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "bjensen@example.com"', True),
        ('externalId eq "ext-1"', False),  # caseExact
        ('externalId eq "Ext-1"', True),
        ('name.givenName sw "bar"', True),
        ("title pr", False),
        ("not (title pr)", True),
        ("active eq true", True),
        ("active ne true", False),
        ('emails[type eq "work" and primary eq true]', True),
        ('emails[type eq "home" and primary eq true]', False),
        ('emails[type eq "home"].value ew ".org"', True),
        ('emails co "jensen.org"', True),
        ('emails.value eq "BABS@jensen.org"', True),
        ('emails.type eq "other"', False),
        (f'{ENTERPRISE}:department co "tour"', True),
        ('department eq "tour operations"', True),
        (f'{ENTERPRISE}:manager.value eq "m-1"', True),
        ('meta.lastModified gt "2026-05-01T09:59:59Z"', True),
        ('meta.lastModified lt "2026-05-01T11:00:00+02:00"', False),
        ('userName eq "x" or name.familyName eq "jensen"', True),
        ("title eq null", False),
        ("userName ne null", True),
        ("name pr", True),
        ("not (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr)", False),
    ],
)
def test_matches(text: str, expected: bool) -> None:
    assert f.matches(f.parse(text), USER, USER_TYPE) is expected


def test_matches_on_a_group() -> None:
    group = {"displayName": "Ops", "members": [{"value": "A1"}, {"value": "b2"}]}
    assert f.matches(f.parse('members[value eq "A1"]'), group, GROUP_TYPE)
    assert not f.matches(f.parse('members[value eq "a1"]'), group, GROUP_TYPE)  # ids are case-exact
    assert f.matches(f.parse('displayName eq "OPS"'), group, GROUP_TYPE)


@pytest.mark.parametrize(
    "text",
    [
        'shoe eq "x"',
        'active eq "yes"',
        "active gt true",
        'emails[shoe eq "1"]',
        'meta.lastModified gt "no"',
        'name eq "x"',
    ],
)
def test_matches_refusals(text: str) -> None:
    assert _error(f.matches, f.parse(text), USER, USER_TYPE).scim_type == "invalidFilter"


@pytest.mark.parametrize("joiner", [" and ", " or "])
def test_the_longest_filter_compiles_and_evaluates(joiner: str) -> None:
    text = joiner.join(['userName eq "x"'] * 300)[: f.MAX_FILTER_LENGTH]
    text = text[: text.rfind('"') + 1]
    ast = f.parse(text)
    expression = f.to_sql(ast, MAPPING, USER_TYPE)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert str(expression.compile(dialect=dialect)).count("lower(") > 400
    assert f.matches(ast, {"userName": "X"}, USER_TYPE)


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "ada@example.com"',
        'USERNAME EQ "Ada"',
        ' userName  eq  "x" ',
        'userName eq ""',
        'userName eq "é ü 漢字 <b>"',
        'externalId eq "00u1"',
        'displayName eq "Sales"',
        'id eq "01a2"',
        'userName eq "a\\"b"',  # an escape: the parser's
        'userName eq "a\\u0041"',
        'userName\teq "x"',
        'userName eq "x" and active eq true',
        'userName eq "x")',
        'emails.value eq "x"',
        'userName sw "x"',
        'userName eq "a\x7fb"',
        'userName eq "' + "x" * 5000 + '"',
    ],
)
def test_the_plain_eq_shortcut_reads_a_filter_as_the_parser_does(text: str) -> None:
    try:
        expected: object = f._Parser(text, "invalidFilter").parse_filter()
    except ScimError as error:
        expected = (error.status, error.scim_type)
    try:
        got: object = f.parse(text)
    except ScimError as error:
        got = (error.status, error.scim_type)
    assert got == expected
