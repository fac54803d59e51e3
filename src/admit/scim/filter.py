"""SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a tokenizer, a recursive-descent parser into
a small AST, a compiler to SQLAlchemy Core, and an evaluator over a resource's JSON.

Public API:

* ``parse(text) -> Filter``: the AST of a filter; ``ScimError(400, invalidFilter, "... at position N")``
  for malformed input, a filter longer than ``MAX_FILTER_LENGTH`` or nested deeper than ``MAX_DEPTH``.
* ``parse_path(text) -> PatchPath``: a PATCH ``path`` (``attr``, ``attr.sub``, ``attr[filter]``,
  ``attr[filter].sub``, optionally URN-prefixed); ``invalidPath`` when malformed.
* ``to_sql(ast, mapping, resource_type)``: a SQLAlchemy boolean expression; ``mapping`` maps canonical
  attribute paths (lower case, no URN: ``username``, ``name.givenname``, ``emails.value``,
  ``emails[type eq "work"].value``, ``meta.lastmodified``, ``department``) to a ``Column`` (an expression and
  its ``Kind``) or to a callable ``(op, value) -> expression`` for special cases (``active`` over a status).
* ``matches(ast, resource, resource_type) -> bool``: the filter evaluated against a resource's SCIM JSON,
  honouring each attribute's caseExact and type from ``schemas``.

AST nodes: ``Compare(path, op, value)``, ``Present(path)``, ``And``, ``Or``, ``Not``, ``ValuePath(path, filter)``.
An extension RFC 7644 does not define but Entra ID sends, ``emails[type eq "work"].value eq "x"``, parses as
``emails[type eq "work" and value eq "x"]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeAlias

from sqlalchemy import and_, false, func, literal, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from admit.scim.errors import INVALID_FILTER, INVALID_PATH, ScimError
from admit.scim.schemas import (
    BOOLEAN,
    COMPLEX,
    DATETIME,
    DECIMAL,
    INTEGER,
    Attribute,
    ResourceType,
    resolve,
)

MAX_FILTER_LENGTH = 4096
MAX_DEPTH = 32
COMPARISON_OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
ORDERING_OPERATORS = frozenset({"gt", "ge", "lt", "le"})
SUBSTRING_OPERATORS = frozenset({"co", "sw", "ew"})

Value: TypeAlias = str | bool | int | Decimal | None

_ATTR_NAME = re.compile(r"^\$?[A-Za-z][A-Za-z0-9_-]*$")
_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:.$+")


@dataclass(frozen=True)
class AttrPath:
    """``[urn:]attr[.sub]`` as written (the URN, when given, is a known or unknown schema URN)."""

    urn: str | None
    attr: str
    sub: str | None = None

    def __str__(self) -> str:
        text = f"{self.urn}:{self.attr}" if self.urn else self.attr
        return f"{text}.{self.sub}" if self.sub else text

    @property
    def dotted(self) -> str:
        return f"{self.attr}.{self.sub}" if self.sub else self.attr


@dataclass(frozen=True)
class Compare:
    path: AttrPath
    op: str
    value: Value


@dataclass(frozen=True)
class Present:
    path: AttrPath


@dataclass(frozen=True)
class And:
    left: Filter
    right: Filter


@dataclass(frozen=True)
class Or:
    left: Filter
    right: Filter


@dataclass(frozen=True)
class Not:
    inner: Filter


@dataclass(frozen=True)
class ValuePath:
    """``attr[filter]``: some value of the multi-valued ``attr`` matches ``filter`` (over its sub-attributes)."""

    path: AttrPath
    filter: Filter


Filter: TypeAlias = Compare | Present | And | Or | Not | ValuePath


@dataclass(frozen=True)
class PatchPath:
    """A PATCH path: ``attr``, ``attr.sub``, ``attr[filter]`` or ``attr[filter].sub``."""

    attr: AttrPath
    filter: Filter | None = None
    sub: str | None = None


# --- tokenizer ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "string", "(", ")", "[", "]", "end"
    text: str
    position: int  # 1-based, for error messages
    value: Value = None


def _tokenize(text: str, scim_type: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c in "()[]":
            tokens.append(_Token(c, c, i + 1))
            i += 1
        elif c == '"':
            start = i
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                raise ScimError(400, scim_type, f"unterminated string starting at position {start + 1}")
            raw = text[start : i + 1]
            try:
                decoded = json.loads(raw)
            except ValueError:
                raise ScimError(
                    400, scim_type, f"invalid string escape in the string at position {start + 1}"
                ) from None
            if "\x00" in decoded:
                raise ScimError(400, scim_type, f"NUL character in the string at position {start + 1}")
            if "\\u" in raw and any("\ud800" <= ch <= "\udfff" for ch in decoded):
                raise ScimError(400, scim_type, f"unpaired UTF-16 surrogate in the string at position {start + 1}")
            tokens.append(_Token("string", raw, start + 1, decoded))
            i += 1
        elif c in _WORD_CHARS:
            start = i
            while i < n and text[i] in _WORD_CHARS:
                i += 1
            tokens.append(_Token("word", text[start:i], start + 1))
        else:
            raise ScimError(400, scim_type, f"unexpected character {c!r} at position {i + 1}")
    tokens.append(_Token("end", "", n + 1))
    return tokens


# --- parser ------------------------------------------------------------------------------------------------


def _parse_attr_path(token: _Token, scim_type: str, *, allow_sub: bool = True) -> AttrPath:
    text = token.text
    if text.lower() in ("and", "or", "not") or text.startswith("."):
        raise ScimError(400, scim_type, f"expected an attribute path at position {token.position}")
    urn: str | None = None
    if ":" in text:
        urn, _, text = text.rpartition(":")
        if not urn.lower().startswith("urn:") or not text:
            raise ScimError(400, scim_type, f"invalid attribute path {token.text!r} at position {token.position}")
    parts = text.split(".")
    if len(parts) > 2 or (len(parts) == 2 and not allow_sub) or not all(_ATTR_NAME.match(p) for p in parts):
        raise ScimError(400, scim_type, f"invalid attribute path {token.text!r} at position {token.position}")
    return AttrPath(urn, parts[0], parts[1] if len(parts) == 2 else None)


class _Parser:
    def __init__(self, text: str, scim_type: str) -> None:
        if len(text) > MAX_FILTER_LENGTH:
            raise ScimError(400, scim_type, f"longer than {MAX_FILTER_LENGTH} characters")
        self.scim_type = scim_type
        self.tokens = _tokenize(text, scim_type)
        self.index = 0
        self.depth = 0

    def error(self, message: str, token: _Token | None = None) -> ScimError:
        token = token or self.peek()
        where = "at the end" if token.kind == "end" else f"at position {token.position}"
        return ScimError(400, self.scim_type, f"{message} {where}")

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def next(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "word" and token.text.lower() == word

    def expect(self, kind: str, what: str) -> _Token:
        if self.peek().kind != kind:
            raise self.error(f"expected {what}")
        return self.next()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nested deeper than {MAX_DEPTH} levels")

    def parse_filter(self) -> Filter:
        result = self.parse_or(in_brackets=False)
        if self.peek().kind != "end":
            raise self.error(f"unexpected {self.peek().text!r}")
        return result

    def parse_or(self, *, in_brackets: bool) -> Filter:
        left = self.parse_and(in_brackets=in_brackets)
        while self.keyword("or"):
            self.next()
            left = Or(left, self.parse_and(in_brackets=in_brackets))
        return left

    def parse_and(self, *, in_brackets: bool) -> Filter:
        left = self.parse_unary(in_brackets=in_brackets)
        while self.keyword("and"):
            self.next()
            left = And(left, self.parse_unary(in_brackets=in_brackets))
        return left

    def parse_group(self, *, in_brackets: bool) -> Filter:
        self.enter()
        self.expect("(", "'('")
        inner = self.parse_or(in_brackets=in_brackets)
        self.expect(")", "')'")
        self.depth -= 1
        return inner

    def parse_unary(self, *, in_brackets: bool) -> Filter:
        token = self.peek()
        if token.kind == "(":
            return self.parse_group(in_brackets=in_brackets)
        if self.keyword("not"):
            self.next()
            if self.peek().kind != "(":
                raise self.error("expected '(' after not")
            return Not(self.parse_group(in_brackets=in_brackets))
        if token.kind != "word":
            raise self.error("expected an attribute path" if token.kind != "end" else "expected an expression")
        self.next()
        if self.peek().kind == "[":
            if in_brackets:
                raise self.error("nested value filters are not allowed")
            path = _parse_attr_path(token, self.scim_type, allow_sub=False)
            self.next()
            self.enter()
            inner = self.parse_or(in_brackets=True)
            self.expect("]", "']'")
            self.depth -= 1
            after = self.peek()
            if (
                after.kind == "word"
                and after.text.startswith(".")
                and after.position == self.tokens[self.index - 1].position + 1
            ):
                # Entra's emails[type eq "work"].value eq "x": the same as emails[type eq "work" and value eq "x"]
                self.next()
                sub = _parse_attr_path(
                    _Token("word", after.text[1:], after.position + 1), self.scim_type, allow_sub=False
                )
                comparison = self.parse_comparison(AttrPath(None, sub.attr))
                return ValuePath(path, And(inner, comparison))
            return ValuePath(path, inner)
        path = _parse_attr_path(token, self.scim_type, allow_sub=not in_brackets)
        if in_brackets and path.urn:
            raise self.error("a schema URN inside a value filter", token)
        return self.parse_comparison(path)

    def parse_comparison(self, path: AttrPath) -> Filter:
        op_token = self.peek()
        if op_token.kind != "word":
            raise self.error("expected an operator")
        op = op_token.text.lower()
        if op == "pr":
            self.next()
            return Present(path)
        if op not in COMPARISON_OPERATORS:
            raise self.error(f"unknown operator {op_token.text!r}")
        self.next()
        return Compare(path, op, self.parse_value())

    def parse_value(self) -> Value:
        token = self.next()
        if token.kind == "string":
            return token.value
        if token.kind == "word":
            word = token.text.lower()
            if word in ("true", "false"):
                return word == "true"
            if word == "null":
                return None
            if _NUMBER.match(token.text):
                if "." in token.text or "e" in word:
                    return Decimal(token.text)
                return int(token.text)
        raise self.error("expected a value (a string, true, false, null or a number)", token)


# The filter identity providers send before nearly every change (``userName eq "…"``, Entra's
# ``externalId eq "…"``) in its plain form: read by one regular expression into what the parser
# makes of it (``tests/unit/test_scim_filter.py`` holds the two to the same answers).
_PLAIN_EQ = re.compile(r' *(userName|externalId|displayName|id) +eq +"([^"\\\x00-\x1f\x7f]*)" *', re.IGNORECASE)


def parse(text: str) -> Filter:
    """Parse a filter; ``ScimError(400, invalidFilter)`` when malformed."""
    if not isinstance(text, str) or not text.strip():
        raise ScimError(400, INVALID_FILTER, "the filter is empty")
    plain = _PLAIN_EQ.fullmatch(text) if len(text) <= MAX_FILTER_LENGTH else None
    if plain is not None:
        return Compare(AttrPath(None, plain.group(1)), "eq", plain.group(2))
    return _Parser(text, INVALID_FILTER).parse_filter()


def parse_path(text: str) -> PatchPath:
    """Parse a PATCH path; ``ScimError(400, invalidPath)`` when malformed."""
    if not isinstance(text, str) or not text.strip():
        raise ScimError(400, INVALID_PATH, "the path is empty")
    parser = _Parser(text, INVALID_PATH)
    token = parser.next()
    if token.kind != "word":
        raise parser.error("expected an attribute path", token)
    if parser.peek().kind != "[":
        attr = _parse_attr_path(token, INVALID_PATH)
        if parser.peek().kind != "end":
            raise parser.error(f"unexpected {parser.peek().text!r}")
        return PatchPath(attr)
    attr = _parse_attr_path(token, INVALID_PATH, allow_sub=False)
    parser.next()
    inner = parser.parse_or(in_brackets=True)
    close = parser.expect("]", "']'")
    sub: str | None = None
    after = parser.peek()
    if after.kind == "word":
        if not after.text.startswith(".") or after.position != close.position + 1:
            raise parser.error(f"unexpected {after.text!r}")
        parser.next()
        sub = _parse_attr_path(_Token("word", after.text[1:], after.position + 1), INVALID_PATH, allow_sub=False).attr
    if parser.peek().kind != "end":
        raise parser.error(f"unexpected {parser.peek().text!r}")
    return PatchPath(attr, inner, sub)


# --- SQL ---------------------------------------------------------------------------------------------------


class Kind(Enum):
    """How a column compares."""

    STRING = "string"  # case-insensitive: lower() on both sides
    EXACT = "exact"  # case-exact string
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    NUMBER = "number"


@dataclass(frozen=True)
class Column:
    """A SQL expression an attribute path maps to, and how it compares."""

    expr: ColumnElement[Any]
    kind: Kind


Special: TypeAlias = Callable[[str, Value], ColumnElement[bool]]
"""A callable for attributes with no plain column: ``(op, value)`` -> expression (``op`` is ``pr`` for presence).
It may raise ``ScimError(400, invalidFilter)`` for an operator or value it does not support."""

SqlMapping: TypeAlias = Mapping[str, Column | Special]

LIKE_ESCAPE = "\\"


def escape_like(value: str) -> str:
    """``value`` with LIKE's wildcards (``%``, ``_``) and the escape character escaped by ``LIKE_ESCAPE``."""
    return value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def parse_datetime(value: str) -> datetime:
    """An ISO 8601 date-time (``Z`` or an offset; naive means UTC) as an aware UTC datetime; ValueError if not."""
    if len(value) > 64:
        raise ValueError("too long")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_sql(ast: Filter, mapping: SqlMapping, resource_type: ResourceType) -> ColumnElement[bool]:
    """The filter as a SQLAlchemy boolean expression; ``invalidFilter`` for unknown or unmapped attributes.

    Comparisons never yield SQL NULL (an absent value is false for every operator but ``ne``), so ``not``
    works as the filter language means it."""
    return _SqlCompiler(mapping, resource_type).compile(ast, None)


class _SqlCompiler:
    def __init__(self, mapping: SqlMapping, resource_type: ResourceType) -> None:
        self.mapping = {k.lower(): v for k, v in mapping.items()}
        self.resource_type = resource_type

    def compile(self, node: Filter, prefix: tuple[str, str] | None) -> ColumnElement[bool]:
        # prefix: inside a value filter, (canonical multi-valued attribute, mapping prefix for its sub-attributes)
        if isinstance(node, And):
            return and_(self.compile(node.left, prefix), self.compile(node.right, prefix))
        if isinstance(node, Or):
            return or_(self.compile(node.left, prefix), self.compile(node.right, prefix))
        if isinstance(node, Not):
            return not_(self.compile(node.inner, prefix))
        if isinstance(node, ValuePath):
            return self.value_path(node)
        key = self.key(node.path, prefix)
        column = self.mapping.get(key)
        if column is None:
            shown = f"{prefix[1]}.{node.path.attr}" if prefix is not None else str(node.path)
            raise ScimError(400, INVALID_FILTER, f"filtering by {shown} is not supported{self.filterable(shown)}")
        if isinstance(node, Present):
            return column("pr", None) if callable(column) else _present(column)
        if callable(column):
            return column(node.op, node.value)
        return _compare(column, node.op, node.value, str(node.path))

    def filterable(self, shown: str) -> str:
        """What of the same attribute can be filtered (``emails[type eq "home"].value`` is not, but
        ``emails.value`` is), for the refusal's detail."""
        attribute = shown.split("[", 1)[0].split(".", 1)[0].lower()
        near = sorted(key for key in self.mapping if key.split("[", 1)[0].split(".", 1)[0] == attribute)
        return f" (filterable: {', '.join(near)})" if near else ""

    def key(self, path: AttrPath, prefix: tuple[str, str] | None) -> str:
        if prefix is None:
            resolved = resolve(self.resource_type, str(path))
            if resolved is None:
                raise ScimError(400, INVALID_FILTER, f"unknown attribute {path}")
            if resolved.attribute.type == COMPLEX and resolved.sub_attribute is None:
                # a multi-valued complex attribute compares by its value: emails eq "x" means emails.value eq "x"
                if resolved.attribute.sub("value") is None:
                    return resolved.canonical  # name pr: the caller may map the complex attribute itself
                return f"{resolved.canonical}.value"
            return resolved.canonical
        parent, mapping_prefix = prefix
        attribute = resolve(self.resource_type, parent)
        assert attribute is not None
        sub = attribute.attribute.sub(path.attr)
        if sub is None:
            raise ScimError(400, INVALID_FILTER, f"unknown sub-attribute {path.attr} of {attribute.attribute.name}")
        return f"{mapping_prefix}.{sub.name.lower()}"

    def value_path(self, node: ValuePath) -> ColumnElement[bool]:
        resolved = resolve(self.resource_type, str(node.path))
        if resolved is None or resolved.attribute.type != COMPLEX:
            raise ScimError(400, INVALID_FILTER, f"{node.path} is not a complex attribute")
        parent = resolved.canonical
        conjuncts = _conjuncts(node.filter)
        # A `type eq "work"` conjunct selects a mapping of its own (emails[type eq "work"].value) when the caller
        # maps no emails.type column.
        selected: str | None = None
        rest: list[Filter] = []
        for conjunct in conjuncts:
            if (
                isinstance(conjunct, Compare)
                and conjunct.op == "eq"
                and conjunct.path.attr.lower() == "type"
                and isinstance(conjunct.value, str)
                and f"{parent}.type" not in self.mapping
            ):
                typed = conjunct.value.lower()
                if selected is not None and selected != typed:
                    return false()
                selected = typed
            else:
                rest.append(conjunct)
        mapping_prefix = f'{parent}[type eq "{selected}"]' if selected is not None else parent
        if not rest:
            value_key = f"{mapping_prefix}.value"
            column = self.mapping.get(value_key)
            if column is None:
                shown = f"{mapping_prefix}.value"
                raise ScimError(400, INVALID_FILTER, f"filtering by {shown} is not supported{self.filterable(shown)}")
            return column("pr", None) if callable(column) else _present(column)
        return and_(*(self.compile(c, (parent, mapping_prefix)) for c in rest))


def compare(column: Column, op: str, value: Value, name: str = "attribute") -> ColumnElement[bool]:
    """One comparison (``op`` "pr" for presence) on a mapped column: what a mapping's callable
    answers for the cases it does not handle itself."""
    return _present(column) if op == "pr" else _compare(column, op, value, name)


def _conjuncts(node: Filter) -> list[Filter]:
    if isinstance(node, And):
        return [*_conjuncts(node.left), *_conjuncts(node.right)]
    return [node]


def _present(column: Column) -> ColumnElement[bool]:
    if column.kind in (Kind.STRING, Kind.EXACT):
        return and_(column.expr.is_not(None), column.expr != "")
    return column.expr.is_not(None)


def _compare(column: Column, op: str, value: Value, name: str) -> ColumnElement[bool]:
    expr = column.expr
    if value is None:
        if op == "eq":
            return expr.is_(None)
        if op == "ne":
            return expr.is_not(None)
        raise ScimError(400, INVALID_FILTER, f"{op} null is not supported for {name}")
    operand: Any
    if column.kind in (Kind.STRING, Kind.EXACT):
        if not isinstance(value, str):
            raise ScimError(400, INVALID_FILTER, f"{name} compares with a string")
        if column.kind is Kind.STRING:
            expr = func.lower(expr)
        if op in SUBSTRING_OPERATORS:
            pattern = escape_like(value)
            pattern = {"co": f"%{pattern}%", "sw": f"{pattern}%", "ew": f"%{pattern}"}[op]
            operand = func.lower(literal(pattern)) if column.kind is Kind.STRING else literal(pattern)
            return and_(column.expr.is_not(None), expr.like(operand, escape=LIKE_ESCAPE))
        operand = func.lower(literal(value)) if column.kind is Kind.STRING else literal(value)
    elif column.kind is Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise ScimError(400, INVALID_FILTER, f"{name} compares with true or false")
        if op not in ("eq", "ne"):
            raise ScimError(400, INVALID_FILTER, f"{name} is boolean: only eq and ne apply")
        operand = value
    elif column.kind is Kind.DATETIME:
        if not isinstance(value, str):
            raise ScimError(400, INVALID_FILTER, f"{name} compares with an ISO 8601 date-time string")
        if op in SUBSTRING_OPERATORS:
            raise ScimError(400, INVALID_FILTER, f"{name} is a date-time: {op} does not apply")
        try:
            operand = parse_datetime(value)
        except ValueError:
            raise ScimError(400, INVALID_FILTER, f"{name}: {value[:64]!r} is not an ISO 8601 date-time") from None
    else:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ScimError(400, INVALID_FILTER, f"{name} compares with a number")
        if op in SUBSTRING_OPERATORS:
            raise ScimError(400, INVALID_FILTER, f"{name} is a number: {op} does not apply")
        operand = value
    if op == "eq":
        return and_(column.expr.is_not(None), expr == operand)
    if op == "ne":
        return or_(column.expr.is_(None), expr != operand)
    comparison = {"gt": expr > operand, "ge": expr >= operand, "lt": expr < operand, "le": expr <= operand}[op]
    return and_(column.expr.is_not(None), comparison)


# --- evaluation --------------------------------------------------------------------------------------------


def get_ci(data: Mapping[str, Any], name: str) -> Any:
    """``data[name]`` by a case-insensitive key, or None."""
    if name in data:
        return data[name]
    lowered = name.lower()
    for key, value in data.items():
        if key.lower() == lowered:
            return value
    return None


def matches(ast: Filter, resource: Mapping[str, Any], resource_type: ResourceType) -> bool:
    """Whether ``resource`` (its SCIM JSON) matches the filter; ``invalidFilter`` for unknown attributes."""
    return _Evaluator(resource_type).eval(ast, resource, None)


def matches_value(ast: Filter, item: Mapping[str, Any], attribute: Attribute) -> bool:
    """Whether one value of a multi-valued complex ``attribute`` matches a value filter (``type eq "work"``)."""
    return _Evaluator(None).eval(ast, item, attribute)


class _Evaluator:
    def __init__(self, resource_type: ResourceType | None) -> None:
        self.resource_type = resource_type

    def eval(self, node: Filter, data: Mapping[str, Any], parent: Attribute | None) -> bool:
        if isinstance(node, And):
            return self.eval(node.left, data, parent) and self.eval(node.right, data, parent)
        if isinstance(node, Or):
            return self.eval(node.left, data, parent) or self.eval(node.right, data, parent)
        if isinstance(node, Not):
            return not self.eval(node.inner, data, parent)
        if isinstance(node, ValuePath):
            attribute, values = self.lookup(node.path, data, parent, whole=True)
            items = values if isinstance(values, list) else [values] if values is not None else []
            return any(isinstance(item, Mapping) and self.eval(node.filter, item, attribute) for item in items)
        target, values = self.lookup(node.path, data, parent, whole=False)
        candidates = values if isinstance(values, list) else [values]
        candidates = [v for v in candidates if v is not None and v != ""]
        if isinstance(node, Present):
            return bool(candidates)
        return any(_compare_value(target, node.op, v, node.value) for v in candidates)

    def lookup(
        self, path: AttrPath, data: Mapping[str, Any], parent: Attribute | None, *, whole: bool
    ) -> tuple[Attribute, Any]:
        if parent is not None:
            sub = parent.sub(path.attr)
            if sub is None:
                raise ScimError(400, INVALID_FILTER, f"unknown sub-attribute {path.attr} of {parent.name}")
            return sub, get_ci(data, sub.name)
        assert self.resource_type is not None
        resolved = resolve(self.resource_type, str(path))
        if resolved is None:
            raise ScimError(400, INVALID_FILTER, f"unknown attribute {path}")
        container: Any = data
        if self.resource_type.is_extension(resolved.schema):
            container = get_ci(data, resolved.schema.id) or {}
        value = get_ci(container, resolved.attribute.name) if isinstance(container, Mapping) else None
        if whole:
            return resolved.attribute, value
        sub = resolved.sub_attribute
        if sub is None and resolved.attribute.type == COMPLEX:
            sub = resolved.attribute.sub("value")  # emails eq "x" compares emails.value
            if sub is None:  # name pr: present when some sub-attribute has a value
                return resolved.attribute, [v for v in (value if isinstance(value, list) else [value]) if v]
        if sub is None:
            return resolved.attribute, value
        items = value if isinstance(value, list) else [value]
        return sub, [get_ci(item, sub.name) for item in items if isinstance(item, Mapping)]


def _compare_value(attribute: Attribute, op: str, actual: Any, expected: Value) -> bool:
    if attribute.type == COMPLEX:
        raise ScimError(400, INVALID_FILTER, f"{attribute.name} is complex: name a sub-attribute")
    if expected is None:
        return op == "ne"  # the value is present, so it is not null
    if attribute.type == BOOLEAN:
        if not isinstance(expected, bool) or op not in ("eq", "ne"):
            raise ScimError(400, INVALID_FILTER, f"{attribute.name} is boolean: use eq or ne with true or false")
        return (actual == expected) == (op == "eq") if isinstance(actual, bool) else op == "ne"
    if attribute.type == DATETIME:
        if not isinstance(expected, str) or op in SUBSTRING_OPERATORS:
            raise ScimError(400, INVALID_FILTER, f"{attribute.name} compares with an ISO 8601 date-time")
        try:
            right = parse_datetime(expected)
            left = actual if isinstance(actual, datetime) else parse_datetime(str(actual))
        except ValueError:
            raise ScimError(400, INVALID_FILTER, f"{expected[:64]!r} is not an ISO 8601 date-time") from None
        if left.tzinfo is None:
            left = left.replace(tzinfo=UTC)
        return _ordered(op, left, right)
    if attribute.type in (INTEGER, DECIMAL):
        if isinstance(expected, bool) or not isinstance(expected, int | Decimal) or op in SUBSTRING_OPERATORS:
            raise ScimError(400, INVALID_FILTER, f"{attribute.name} compares with a number")
        try:
            return _ordered(op, Decimal(str(actual)), Decimal(expected))
        except InvalidOperation:
            return op == "ne"
    if not isinstance(expected, str):
        raise ScimError(400, INVALID_FILTER, f"{attribute.name} compares with a string")
    if not isinstance(actual, str):
        return op == "ne"
    left_s, right_s = (actual, expected) if attribute.case_exact else (actual.lower(), expected.lower())
    if op == "co":
        return right_s in left_s
    if op == "sw":
        return left_s.startswith(right_s)
    if op == "ew":
        return left_s.endswith(right_s)
    return _ordered(op, left_s, right_s)


def _ordered(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if op == "gt":
        return bool(left > right)
    if op == "ge":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    if op == "le":
        return bool(left <= right)
    raise ScimError(400, INVALID_FILTER, f"{op} does not apply here")
