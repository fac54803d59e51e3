"""The SCIM request log written in batches (``scim.LogBatch``), on both databases: a request's row
waits while another request is in flight and is written, with that one's, when the last finishes;
a lone request's row is written before its call ends; a request that hangs does not keep the
others' rows back longer than the batch's wait."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from support.api import client

from admit.admin import scim_log, scim_tokens
from admit.entrypoints.web.scim import LogBatch
from admit.shared.context import Actor, Context


def _logged(ctx: Context, operator: Actor, org: Any, token_id: str) -> list[str]:
    _, rows, _ = scim_log.recent(ctx, operator, org.id, token_id)
    return sorted(f"{row['method']} {row['path']}" for row in rows)


def test_rows_wait_for_the_requests_in_flight_and_are_written_together(
    ctx: Context, operator: Actor, org: Any, workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made, token = scim_tokens.create(ctx, operator, org.id, name="Entra")
    app = client(ctx).fastapi_app  # type: ignore[attr-defined]
    headers = {"authorization": f"Bearer {token}", "content-type": "application/scim+json"}
    monkeypatch.setattr(LogBatch, "WAIT_SECONDS", 0.3)
    writes: list[int] = []
    original = scim_log.write_many

    def counted(ctx: Context, rows: list[dict[str, Any]]) -> None:
        writes.append(len(rows))
        original(ctx, rows)

    monkeypatch.setattr(scim_log, "write_many", counted)

    batch = LogBatch.of(app.state)

    async def until(condition: Any) -> None:
        for _ in range(500):  # 5 s at most, however loaded the machine
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("waited in vain")

    async def scenario() -> None:
        release = asyncio.Event()

        class Slow(httpx.AsyncByteStream):  # a body that arrives when the test says so
            async def __aiter__(self) -> Any:
                await release.wait()
                yield b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann@example.com"}'

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://admit.example.test", headers=headers
        ) as api:
            slow = asyncio.create_task(api.post("/scim/v2/Users", content=Slow()))
            await until(lambda: batch.in_flight == 1)
            assert (await api.get("/scim/v2/Users")).status_code == 200
            assert writes == []  # the row waits: a request is in flight
            release.set()
            assert (await slow).status_code == 201
            assert writes == [2]  # the last to finish wrote both
            # A request that hangs: the timer writes the other rows after WAIT_SECONDS.
            release.clear()
            hung = asyncio.create_task(api.post("/scim/v2/Users", content=Slow()))
            await until(lambda: batch.in_flight == 1)
            assert (await api.get("/scim/v2/ServiceProviderConfig")).status_code == 200
            assert writes == [2]
            await until(lambda: writes == [2, 1])
            release.set()
            assert (await hung).status_code == 409  # ann again: the userName is taken
            assert writes == [2, 1, 1]

    asyncio.run(scenario())
    assert _logged(ctx, operator, org, made["id"]) == [
        "GET /scim/v2/ServiceProviderConfig", "GET /scim/v2/Users", "POST /scim/v2/Users", "POST /scim/v2/Users",
    ]  # fmt: skip


def test_a_lone_request_writes_its_row_before_its_call_ends(ctx: Context, operator: Actor, org: Any) -> None:
    made, token = scim_tokens.create(ctx, operator, org.id, name="Okta")
    idp = client(ctx, token)
    assert idp.get("/scim/v2/ServiceProviderConfig").status_code == 200
    assert _logged(ctx, operator, org, made["id"]) == ["GET /scim/v2/ServiceProviderConfig"]
