"""Idempotency-Key on the REST API over HTTP, on both databases: a retry gets the first answer
and changes nothing twice, another request under the same key is refused, a retry while the first
runs gets 409, and two retries racing in threads make one member."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from support.api import api_token, client
from support.clock import FixedClock

from admit.adapters.persistence.tables import outbox
from admit.shared import idempotency
from admit.shared.context import Context

JSON = {"content-type": "application/json"}


def members(api: Any, workspace_id: str) -> list[str]:
    listed = api.get(f"/api/v1/workspaces/{workspace_id}/members")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    items = body["items"] if isinstance(body, dict) else body
    return sorted(item["email"] for item in items)


def test_a_retry_returns_the_first_answer_and_creates_nothing_twice(
    ctx: Context, org: Any, workspace: Any, engine: Engine
) -> None:
    api = client(ctx, api_token(ctx, org.id))
    path = f"/api/v1/workspaces/{workspace.id}/members"
    body = {"email": "kim@example.com", "invite": True}
    first = api.post(path, json=body, headers={"Idempotency-Key": "create-kim-1"})
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = api.post(path, json=body, headers={"Idempotency-Key": "create-kim-1"})
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert members(api, workspace.id) == ["kim@example.com"]
    with engine.connect() as conn:  # one invitation message, not two
        assert conn.scalar(select(func.count()).select_from(outbox)) == 1
    # Without a key, the same request runs again (and the member exists now).
    assert api.post(path, json=body).status_code == 409


def test_the_same_key_with_another_request_is_refused(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    path = f"/api/v1/workspaces/{workspace.id}/members"
    assert api.post(path, json={"email": "a@example.com"}, headers={"Idempotency-Key": "k"}).status_code == 201
    other = api.post(path, json={"email": "b@example.com"}, headers={"Idempotency-Key": "k"})
    assert other.status_code == 422
    assert other.json()["error"] == {
        "code": "idempotency_key_reused",
        "field": "Idempotency-Key",
        "message": other.json()["error"]["message"],
    }
    elsewhere = api.post(f"/api/v1/workspaces/{workspace.id}/members?x=1", json={"email": "a@example.com"})
    assert elsewhere.status_code == 409  # (no key: runs, and the member exists)
    assert members(api, workspace.id) == ["a@example.com"]


def test_keys_belong_to_their_token(ctx: Context, org: Any, workspace: Any) -> None:
    path = f"/api/v1/workspaces/{workspace.id}/members"
    one = client(ctx, api_token(ctx, org.id))
    two = client(ctx, api_token(ctx, org.id))
    assert one.post(path, json={"email": "a@example.com"}, headers={"Idempotency-Key": "same"}).status_code == 201
    theirs = two.post(path, json={"email": "b@example.com"}, headers={"Idempotency-Key": "same"})
    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers
    assert members(one, workspace.id) == ["a@example.com", "b@example.com"]


def test_hostile_keys_get_a_clear_400(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    path = f"/api/v1/workspaces/{workspace.id}/members"
    for key in (b"x" * 256, b"tab\there", "caf\u00e9".encode(), b"nul\x00", b"\x7f", b""):
        refused = api.post(path, json={"email": "a@example.com"}, headers={"Idempotency-Key": key})
        assert refused.status_code == 400, (key, refused.text)
        assert refused.json()["error"]["code"] == "invalid_idempotency_key"
    assert members(api, workspace.id) == []
    assert api.post(path, json={"email": "a@example.com"}, headers={"Idempotency-Key": "x" * 255}).status_code == 201


def test_a_retry_while_the_first_runs_gets_409(ctx: Context, org: Any, workspace: Any, clock: FixedClock) -> None:
    token = api_token(ctx, org.id)
    api = client(ctx, token)
    path = f"/api/v1/workspaces/{workspace.id}/members"
    body = b'{"email":"a@example.com"}'
    hashed = idempotency.request_hash("POST", path, body)
    caller = idempotency.caller_of(token)
    assert idempotency.begin(ctx, caller, "slow", hashed).decision is idempotency.Decision.RUN  # "another process"
    busy = api.post(path, content=body, headers={"Idempotency-Key": "slow", **JSON})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "idempotency_in_flight"
    assert busy.headers["retry-after"] == "1"
    assert members(api, workspace.id) == []
    clock.advance(minutes=4)
    assert api.post(path, content=body, headers={"Idempotency-Key": "slow", **JSON}).status_code == 409
    clock.advance(minutes=2)  # the first request's process died: the next retry takes the key over
    taken = api.post(path, content=body, headers={"Idempotency-Key": "slow", **JSON})
    assert taken.status_code == 201 and "idempotent-replayed" not in taken.headers
    replayed = api.post(path, content=body, headers={"Idempotency-Key": "slow", **JSON})
    assert replayed.status_code == 201 and replayed.headers["idempotent-replayed"] == "true"
    assert members(api, workspace.id) == ["a@example.com"]


def test_a_failed_request_forgets_its_key_and_unauthenticated_ones_keep_none(
    ctx: Context, org: Any, workspace: Any
) -> None:
    path = f"/api/v1/workspaces/{workspace.id}/members"
    stranger = client(ctx, "adm_api_not-a-token")
    assert stranger.post(path, json={"email": "a@example.com"}, headers={"Idempotency-Key": "k"}).status_code == 401
    basic = client(ctx).post(
        path, json={"email": "a@example.com"}, headers={"Idempotency-Key": "k", "Authorization": "Basic abc"}
    )
    assert basic.status_code == 401
    with ctx.uow() as uow:
        assert uow.idempotency_keys.get(idempotency.caller_of("adm_api_not-a-token"), "k") is None
        assert uow.idempotency_keys.get(idempotency.caller_of("abc"), "k") is None


def test_two_retries_racing_make_one_member(ctx: Context, org: Any, workspace: Any) -> None:
    token = api_token(ctx, org.id)
    path = f"/api/v1/workspaces/{workspace.id}/members"
    start = threading.Barrier(2)
    answers: list[Any] = []

    def send() -> None:
        api = client(ctx, token)
        start.wait()
        answers.append(api.post(path, json={"email": "race@example.com"}, headers={"Idempotency-Key": "race"}))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([201, 201], [201, 409]), [a.text for a in answers]
    if statuses == [201, 201]:  # the second came after the first finished: a replay
        assert any(answer.headers.get("idempotent-replayed") == "true" for answer in answers)
    assert members(client(ctx, token), workspace.id) == ["race@example.com"]


def test_keys_expire_after_a_day(ctx: Context, org: Any, workspace: Any, clock: FixedClock) -> None:
    api = client(ctx, api_token(ctx, org.id))
    path = f"/api/v1/workspaces/{workspace.id}/members"
    assert api.post(path, json={"email": "a@example.com"}, headers={"Idempotency-Key": "day"}).status_code == 201
    clock.advance(hours=23)
    assert idempotency.expire(ctx) == 0
    clock.advance(hours=2)
    assert idempotency.expire(ctx) == 1
    after = api.post(path, json={"email": "a@example.com"}, headers={"Idempotency-Key": "day"})
    assert after.status_code == 409 and "idempotent-replayed" not in after.headers  # ran again


def test_patch_and_delete_are_covered_and_gets_ignore_the_key(ctx: Context, org: Any, workspace: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    created = api.post(f"/api/v1/workspaces/{workspace.id}/members", json={"email": "a@example.com"})
    member_id = created.json()["member"]["id"]
    path = f"/api/v1/members/{member_id}"
    first = api.patch(path, json={"first_name": "Ada"}, headers={"Idempotency-Key": "rename"})
    again = api.patch(path, json={"first_name": "Ada"}, headers={"Idempotency-Key": "rename"})
    assert first.status_code == again.status_code == 200 and again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    removed = api.delete(f"/api/v1/workspaces/{workspace.id}/logo", headers={"Idempotency-Key": "logo"})
    replayed = api.delete(f"/api/v1/workspaces/{workspace.id}/logo", headers={"Idempotency-Key": "logo"})
    assert replayed.status_code == removed.status_code and replayed.headers.get("idempotent-replayed") == "true"
    read = api.get(path, headers={"Idempotency-Key": "rename"})
    assert read.status_code == 200 and "idempotent-replayed" not in read.headers


def test_the_openapi_document_names_the_header(ctx: Context) -> None:
    paths = client(ctx).get("/api/v1/openapi.json").json()["paths"]
    create = paths["/api/v1/workspaces/{workspace_id}/members"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    listing = paths["/api/v1/workspaces/{workspace_id}/members"]["get"]
    assert not any(p["name"] == "Idempotency-Key" for p in listing.get("parameters", []))
