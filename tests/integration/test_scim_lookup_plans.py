"""The lookups identity providers make before every change (``userName eq``, ``externalId eq``,
found or not, and a group PATCH adding one member) go through indexes on SQLite: each statement
they run is planned without walking the workspace's members (the plan SQLite chose for some of them
tested every member of the workspace: 1.4 ms per lookup among 10,000 members). And what they find."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from support.api import client

from admit.adapters.persistence import repositories
from admit.admin import members, scim_tokens, tenancy
from admit.admin.profiles import MemberInput
from admit.shared.context import Actor, Context

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's planner

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
WALKS = ("ix_members_listing", "ix_members_directory")  # the workspace's indexes: every member in turn


@contextmanager
def statements(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT run meanwhile, through Core or at the driver, with its parameters."""
    seen: list[tuple[str, Any]] = []
    at_driver = repositories.driver_execute

    def recording(conn: Any, sql: str, params: Any, *, many: bool = False) -> Any:
        if not many:
            seen.append((sql, params))
        return at_driver(conn, sql, params, many=many)

    def core(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if not many:
            seen.append((sql, params))

    monkeypatch.setattr(repositories, "driver_execute", recording)
    event.listen(engine, "before_cursor_execute", core)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", core)


def walks(engine: Engine, seen: list[tuple[str, Any]]) -> list[str]:
    """The statements whose plan walks a workspace's members, with the plan."""
    found = []
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for sql, params in seen:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            plan = " / ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))  # type: ignore[union-attr]
            if any(index in plan for index in WALKS):
                found.append(f"{sql}\n  {plan}")
    return found


def test_provider_lookups_find_by_index(
    ctx: Context, operator: Actor, org: Any, workspace: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = scim_tokens.create(ctx, operator, org.id, name="Entra ID", role="admin", workspace_id=workspace.id)
    scim = client(ctx, token)
    ids = {}
    for n in range(12):
        body = {"schemas": [USER], "userName": f"u{n}@example.com", "externalId": f"ext-{n}"}
        created = scim.post("/scim/v2/Users", json=body)
        assert created.status_code == 201, created.text
        ids[n] = created.json()["id"]
    other = tenancy.create_workspace(ctx, operator, org.id, "Elsewhere")  # same organization, outside the token
    _, elsewhere = scim_tokens.create(ctx, operator, org.id, name="Okta", role="admin", workspace_id=other.id)
    outside = client(ctx, elsewhere).post(
        "/scim/v2/Users", json={"schemas": [USER], "userName": "far@example.com", "externalId": "ext-3"}
    )
    assert outside.status_code == 201
    members.remove(ctx, operator, ids[5])
    group = scim.post("/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "Crew"}).json()["id"]

    def found(query: str) -> list[str]:
        answer = scim.get("/scim/v2/Users", params={"filter": query})
        assert answer.status_code == 200, answer.text
        return [user["id"] for user in answer.json()["Resources"]]

    with statements(engine, monkeypatch) as seen:
        assert found('userName eq "U4@example.com"') == [ids[4]]
        assert found('userName eq "nobody@example.com"') == []
        assert found('externalId eq "ext-3"') == [ids[3]]  # not the other workspace's ext-3
        assert found('externalId eq "ext-5"') == []  # removed
        assert found('externalId eq "EXT-3"') == []  # externalId is case-exact
        assert found('externalId eq "nothing"') == []
        add = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": ids[7]}]}]}
        assert scim.patch(f"/scim/v2/Groups/{group}", json=add).status_code in (200, 204)
    assert len(seen) > 10
    walked = walks(engine, seen)
    assert walked == [], "\n".join(walked)
    assert (
        client(ctx, elsewhere).get("/scim/v2/Users", params={"filter": 'externalId eq "ext-3"'}).json()["totalResults"]
        == 1
    )
    members_of = scim.get(f"/scim/v2/Groups/{group}").json()["members"]
    assert [m["value"] for m in members_of] == [ids[7]]
    foreign = {
        "schemas": [PATCH],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": outside.json()["id"]}]}],
    }
    assert scim.patch(f"/scim/v2/Groups/{group}", json=foreign).status_code in (200, 204)  # out of reach: left out
    assert [m["value"] for m in scim.get(f"/scim/v2/Groups/{group}").json()["members"]] == [ids[7]]
    plain = MemberInput(email="plain@example.com")
    provisioned, _ = members.provision(ctx, operator, workspace.id, plain, invite=False)
    assert found('userName eq "plain@example.com"') == [provisioned.id]  # a member no provider named
