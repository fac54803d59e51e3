"""The SCIM request log written in batches (``scim_log.keep``/``flush``, ``scim.LogBatch``), on
both databases: rows wait in memory and are written together, by the timer, at the batch's size,
before this process reads the log, and at the app's shutdown; rows the database refuses wait
again and are not lost."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from support.api import client

from admit.admin import scim_log, scim_tokens
from admit.shared.context import Actor, Context

USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann@example.com"}


def _logged(ctx: Context, operator: Actor, org: Any, token_id: str) -> list[str]:
    _, rows, _ = scim_log.recent(ctx, operator, org.id, token_id)
    return sorted(f"{row['method']} {row['path']} {row['status']}" for row in rows)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each batch written."""
    sizes: list[int] = []
    original = scim_log.write_many

    def counted(ctx: Context, rows: list[dict[str, Any]]) -> None:
        original(ctx, rows)
        sizes.append(len(rows))

    monkeypatch.setattr(scim_log, "write_many", counted)
    return sizes


def test_rows_wait_and_are_written_together_before_the_log_is_read(
    ctx: Context, operator: Actor, org: Any, workspace: Any, writes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scim_log, "BATCH_WAIT_SECONDS", 60.0)
    made, token = scim_tokens.create(ctx, operator, org.id, name="Entra")
    idp = client(ctx, token)
    assert idp.post("/scim/v2/Users", json=USER).status_code == 201
    assert idp.post("/scim/v2/Users", json=USER).status_code == 409
    assert idp.get("/scim/v2/Nowhere").status_code == 404
    assert writes == [] and scim_log.waiting(ctx) == 3
    assert _logged(ctx, operator, org, made["id"]) == [
        "GET /scim/v2/Nowhere 404", "POST /scim/v2/Users 201", "POST /scim/v2/Users 409",
    ]  # fmt: skip
    assert writes == [3] and scim_log.waiting(ctx) == 0


def test_a_full_batch_is_written_at_once(
    ctx: Context, operator: Actor, org: Any, writes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scim_log, "BATCH_WAIT_SECONDS", 60.0)
    monkeypatch.setattr(scim_log, "BATCH_SIZE", 3)
    _, token = scim_tokens.create(ctx, operator, org.id, name="Okta")
    idp = client(ctx, token)
    for _ in range(7):
        assert idp.get("/scim/v2/ServiceProviderConfig").status_code == 200
    assert writes == [3, 3] and scim_log.waiting(ctx) == 1


def test_the_timer_writes_what_waits(
    ctx: Context, operator: Actor, org: Any, writes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scim_log, "BATCH_WAIT_SECONDS", 1.0)  # two requests well within it, however loaded
    made, token = scim_tokens.create(ctx, operator, org.id, name="Okta")
    app = client(ctx).fastapi_app  # type: ignore[attr-defined]

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        headers = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="https://a.test", headers=headers) as idp:
            for round_ in (1, 2):
                assert (await idp.get("/scim/v2/Users")).status_code == 200
                assert (await idp.get("/scim/v2/Groups")).status_code == 200
                assert writes == [2] * (round_ - 1)  # the rows wait …
                for _ in range(1000):  # … until the timer (10 s at most, however loaded the machine)
                    if len(writes) == round_:
                        break
                    await asyncio.sleep(0.01)
                assert writes == [2] * round_  # the second round armed a timer of its own

    asyncio.run(scenario())
    assert _logged(ctx, operator, org, made["id"]) == ["GET /scim/v2/Groups 200"] * 2 + ["GET /scim/v2/Users 200"] * 2


def test_waiting_rows_are_written_at_shutdown(
    ctx: Context, operator: Actor, org: Any, writes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scim_log, "BATCH_WAIT_SECONDS", 60.0)
    made, token = scim_tokens.create(ctx, operator, org.id, name="Okta")
    app = client(ctx).fastapi_app  # type: ignore[attr-defined]
    with TestClient(app, headers={"authorization": f"Bearer {token}"}) as idp:  # runs the lifespan
        assert idp.get("/scim/v2/Schemas").status_code == 200
        assert writes == []
    assert writes == [1]
    assert _logged(ctx, operator, org, made["id"]) == ["GET /scim/v2/Schemas 200"]


def test_rows_the_database_refuses_wait_again(
    ctx: Context, operator: Actor, org: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(scim_log, "BATCH_WAIT_SECONDS", 60.0)
    made, token = scim_tokens.create(ctx, operator, org.id, name="Okta")
    idp = client(ctx, token)
    assert idp.get("/scim/v2/Schemas").status_code == 200
    original = scim_log.write_many

    def refused(ctx: Context, rows: list[dict[str, Any]]) -> None:
        raise OSError("disk I/O error")

    monkeypatch.setattr(scim_log, "write_many", refused)
    with pytest.raises(OSError):
        scim_log.flush(ctx)
    assert scim_log.waiting(ctx) == 1
    monkeypatch.setattr(scim_log, "MAX_WAITING", 2)  # a database that stays down: the oldest go
    assert idp.get("/scim/v2/Users").status_code == 200
    assert idp.get("/scim/v2/Groups").status_code == 200
    with pytest.raises(OSError):
        scim_log.flush(ctx)
    assert scim_log.waiting(ctx) == 2
    assert "1 rows of the SCIM request log dropped" in caplog.text
    monkeypatch.setattr(scim_log, "write_many", original)
    assert _logged(ctx, operator, org, made["id"]) == ["GET /scim/v2/Groups 200", "GET /scim/v2/Users 200"]


def test_a_row_whose_token_is_gone_is_dropped_and_the_others_written(
    ctx: Context, operator: Actor, org: Any, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import text

    from admit.domain.roles import Role
    from admit.scim.auth import ScimCaller

    kept, _ = scim_tokens.create(ctx, operator, org.id, name="Kept")
    gone, _ = scim_tokens.create(ctx, operator, org.id, name="Gone")
    for made in (kept, gone, kept):
        caller = ScimCaller(organization_id=org.id, workspace_id=None, token_id=made["id"], role=Role.ADMIN, name="x")
        scim_log.keep(ctx, scim_log.entry(ctx, caller, "GET", f"/scim/v2/Users/{made['name']}", 200))
    with engine.begin() as conn:  # a token deleted outright (as an organization's removal would)
        conn.execute(text("DELETE FROM scim_tokens WHERE id = :id"), {"id": gone["id"]})
    assert scim_log.flush(ctx) == 2 and scim_log.waiting(ctx) == 0
    assert "a SCIM request log row was dropped" in caplog.text
    assert _logged(ctx, operator, org, kept["id"]) == ["GET /scim/v2/Users/Kept 200"] * 2


def test_a_full_batch_the_database_refuses_does_not_fail_the_request(
    ctx: Context, operator: Actor, org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scim_log, "BATCH_WAIT_SECONDS", 60.0)
    monkeypatch.setattr(scim_log, "BATCH_SIZE", 1)
    made, token = scim_tokens.create(ctx, operator, org.id, name="Okta")
    original = scim_log.write_many

    def refused(ctx: Context, rows: list[dict[str, Any]]) -> None:
        raise OSError("disk I/O error")

    monkeypatch.setattr(scim_log, "write_many", refused)
    idp = client(ctx, token)
    assert idp.get("/scim/v2/Schemas").status_code == 200  # the answer went out; its row waits
    assert scim_log.waiting(ctx) == 1
    monkeypatch.setattr(scim_log, "write_many", original)
    assert _logged(ctx, operator, org, made["id"]) == ["GET /scim/v2/Schemas 200"]
