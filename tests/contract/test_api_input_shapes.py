"""Every JSON input of the REST API, enumerated from its OpenAPI document (a new operation or
field is covered without touching this file), answers malformed values with an error in the
envelope, never a server error, and writes nothing when it refuses.

For each field of each JSON body: null, a value of the wrong type, an array, an object, an
empty string, a 100 kB string and the field given twice. For each JSON body as a whole: not
JSON, empty, a JSON array, JSON sent as text/plain.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from support.api import client
from support.api_world import World, populate

from admit.adapters.persistence.tables import metadata
from admit.config import Settings
from admit.entrypoints.web.app import create_app
from admit.shared.context import Context

OVERSIZE = "x" * 100_000


def _spec() -> dict[str, Any]:
    app = create_app(Settings(dev_mode=True, _env_file=None), None, background=False)  # type: ignore[arg-type,call-arg]
    return app.openapi()


SPEC = _spec()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def json_operations() -> list[tuple[str, str, str]]:
    """(method, path, body schema name) of every operation that takes a JSON body."""
    found = []
    for path, methods in SPEC["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                ref = content["application/json"]["schema"]["$ref"]
                found.append((method.upper(), path, ref.rsplit("/", 1)[1]))
    return found


OPERATIONS = json_operations()


def types_of(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property accepts."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        return set().union(*(types_of(option) for option in schema["anyOf"]))
    if "enum" in schema or "const" in schema:
        return {type(value).__name__.replace("str", "string") for value in schema.get("enum", [schema.get("const")])}
    return {schema.get("type", "any")}


def sample(schema: dict[str, Any]) -> Any:
    """A value of the right type (not necessarily one the use case accepts)."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        return sample(next(o for o in schema["anyOf"] if o.get("type") != "null"))
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "array" and schema.get("minItems"):
        return [sample(schema.get("items", {"type": "string"}))] * schema["minItems"]
    values = {"string": "x" * max(1, schema.get("minLength", 1)), "integer": schema.get("minimum", 1)}
    return values.get(kind, {"boolean": True, "array": [], "object": {}}.get(kind))


def baseline(model: str) -> dict[str, Any]:
    schema = SPEC["components"]["schemas"][model]
    return {name: sample(schema["properties"][name]) for name in schema.get("required", [])}


WRONG_TYPE = {"string": 12345, "integer": "abc", "number": "abc", "boolean": "maybe", "array": 7, "object": "x"}


def variants(schema: dict[str, Any]) -> list[tuple[str, Any, bool]]:
    """(label, value, must be refused) for one property."""
    accepts = types_of(schema)
    wrong = next((WRONG_TYPE[kind] for kind in sorted(accepts) if kind in WRONG_TYPE), 12345)
    bounded = all(kind != "string" or _bounded(schema) for kind in accepts)
    return [
        ("null", None, "null" not in accepts),
        ("wrong type", wrong, True),
        ("array", [1, 2], True),
        ("object", {"k": 1}, True),
        ("empty string", "", "string" not in accepts),
        ("oversize string", OVERSIZE, bounded),
    ]


def _bounded(schema: dict[str, Any]) -> bool:
    schema = _resolve(schema)
    if "anyOf" in schema:
        return all(_bounded(o) for o in schema["anyOf"] if o.get("type") == "string")
    return "maxLength" in schema or "enum" in schema


def counts(ctx: Context) -> dict[str, int]:
    with ctx.uow() as uow:
        row = uow.conn.execute(  # type: ignore[attr-defined]
            select(*(select(func.count()).select_from(table).scalar_subquery() for table in metadata.sorted_tables))
        ).one()
    return dict(zip((table.name for table in metadata.sorted_tables), row, strict=True))


def problems_of(response: Any, label: str, must_refuse: bool, field: str | None) -> list[str]:
    where = f"{label}: {response.status_code} {response.text[:200]}"
    if response.status_code >= 500:
        return [where]
    if response.status_code < 400:
        return [where] if must_refuse else []
    error = response.json().get("error")
    if not isinstance(error, dict) or set(error) != {"code", "message", "field"}:
        return [f"{where} (not the error envelope)"]
    if must_refuse and response.status_code != 422:
        return [f"{where} (expected 422)"]
    if field and response.status_code == 422 and not str(error["field"]).startswith(field):
        return [f"{where} (expected the field {field})"]
    return []


def send(api: TestClient, method: str, url: str, content: str | bytes, content_type: str = "application/json") -> Any:
    return api.request(method, url, content=content, headers={"content-type": content_type})


@pytest.fixture
def world(ctx: Context) -> World:
    return populate(ctx)


def _url(path: str, world: World) -> str:
    return path.format(**world.ids)


def _caller(path: str, world: World) -> str:
    return world.tokens["session" if path.startswith("/api/v1/me/") else "operator"]


@pytest.mark.parametrize(("method", "path", "model"), OPERATIONS)
def test_every_json_field_refuses_malformed_values(
    ctx: Context, world: World, method: str, path: str, model: str
) -> None:
    api = client(ctx, _caller(path, world))
    url, base = _url(path, world), baseline(model)
    problems: list[str] = []
    for name, schema in SPEC["components"]["schemas"][model]["properties"].items():
        for label, value, must_refuse in variants(schema):
            before = counts(ctx)
            response = send(api, method, url, json.dumps({**base, name: value}))
            problems += problems_of(response, f"{name} {label}", must_refuse, name if must_refuse else None)
            if response.status_code == 422:
                assert counts(ctx) == before, f"{name} {label}: refused but wrote"
        duplicated = json.dumps({**base, name: sample(schema)})[:-1] + f", {json.dumps(name)}: null}}"
        problems += problems_of(send(api, method, url, duplicated), f"{name} twice", True, name)
    assert not problems, "\n".join(problems)


BAD_BODIES = [
    ("not JSON", "{not json", "application/json"),
    ("empty", "", "application/json"),
    ("array", "[]", "application/json"),
    ("array of objects", '[{"name": "x"}]', "application/json"),
    ("a string", '"x"', "application/json"),
    ("not UTF-8", b'{"name": "\xff\xfe"}', "application/json"),
    ("deeply nested", "[" * 100_000 + "]" * 100_000, "application/json"),
    ("text", '{"name": "x"}', "text/plain"),
]


@pytest.mark.parametrize(("method", "path", "model"), OPERATIONS)
def test_every_json_body_refuses_what_is_not_a_json_object(
    ctx: Context, world: World, method: str, path: str, model: str
) -> None:
    api = client(ctx, _caller(path, world))
    problems: list[str] = []
    before = counts(ctx)
    for label, content, content_type in BAD_BODIES:
        problems += problems_of(send(api, method, _url(path, world), content, content_type), label, True, None)
    assert counts(ctx) == before
    assert not problems, "\n".join(problems)


def test_every_string_in_a_json_body_is_bounded() -> None:
    """A string without maxLength (or enum) would let a client store as much as it sends."""
    unbounded = []

    def visit(where: str, schema: dict[str, Any]) -> None:
        schema = _resolve(schema)
        for option in schema.get("anyOf", []):
            visit(where, option)
        if schema.get("type") == "string" and not _bounded(schema):
            unbounded.append(where)
        if schema.get("type") == "array":
            visit(f"{where}[]", schema.get("items", {}))
            if "maxItems" not in schema:
                unbounded.append(f"{where} (items)")
        if schema.get("type") == "object" and "additionalProperties" in schema:
            visit(f"{where}{{}}", schema["additionalProperties"])
            visit(f"{where} (keys)", schema.get("propertyNames", {"type": "string"}))
            if "maxProperties" not in schema:
                unbounded.append(f"{where} (properties)")
        for name, prop in schema.get("properties", {}).items():
            visit(f"{where}.{name}", prop)

    for _, _, model in OPERATIONS:
        visit(model, SPEC["components"]["schemas"][model])
    assert not unbounded, unbounded
