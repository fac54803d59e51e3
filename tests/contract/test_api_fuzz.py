"""Schemathesis fuzzes every operation of the REST API, as every kind of caller, on both
databases: no answer is a server error, every status code is one the OpenAPI declares, and
every body matches its declared schema.

Inputs are valid by the schema (positive) and invalid (negative); path parameters are random
half the time (so 404s are exercised) and real ids otherwise, so fuzzed bodies reach the use
cases behind them. Runs are derandomized: a failure reproduces. ADMIT_FUZZ_EXAMPLES=200 fuzzes
deeper (10 examples per operation by default).

(schemathesis' own pytest loader, ``from_fixture``, does not work with pytest 9.2, so each
operation is a parametrized test that runs Hypothesis itself.)
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from support.api import client
from support.api_world import World, populate

from admit.config import Settings
from admit.entrypoints.web.app import create_app
from admit.shared.context import Context

CALLERS = ["operator", "owner", "admin", "member", "session", "anonymous"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("ADMIT_FUZZ_EXAMPLES", "10"))  # per operation and database


_schemas: list[Any] = []  # the API's schema, loaded once per process (generating it costs more than a test)


def _schema(app: Any) -> Any:
    if not _schemas:
        _schemas.append(schemathesis.openapi.from_asgi("/api/v1/openapi.json", app))
    schema = _schemas[0]
    schema.app = app  # calls go to this test's app (its database)
    return schema


def _operations() -> list[tuple[str, str]]:
    app = create_app(Settings(dev_mode=True, _env_file=None), None, background=False)  # type: ignore[arg-type,call-arg]
    paths = app.openapi()["paths"]
    return [(method.upper(), path) for path, methods in paths.items() for method in methods]


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), _operations())
def test_api_answers_every_input_within_its_contract(ctx: Context, method: str, path: str) -> None:
    world = populate(ctx)
    app = client(ctx).fastapi_app  # type: ignore[attr-defined]
    operation = _schema(app)[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases, caller=st.sampled_from(CALLERS), real_ids=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_within_contract(case: Any, caller: str, real_ids: bool) -> None:
        call(case, caller, real_ids, world)

    answers_within_contract()


def call(case: Any, caller: str, real_ids: bool, world: World) -> None:
    if real_ids:
        for name in case.path_parameters or {}:
            if name in world.ids:
                case.path_parameters[name] = world.ids[name]
    headers = {} if caller == "anonymous" else {"authorization": f"Bearer {world.tokens[caller]}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
