"""SCIM bearer tokens through the REST API, and how /scim/v2 treats the requests made with them,
on both databases: a token is shown once, listed without its secret, revoked (and refused at once);
who may create which token (manage settings; a token for every workspace only by the
organization; the role a ceiling, never owner); one organization's token never reaches another's;
every error under /scim/v2 is a SCIM error body (401 with WWW-Authenticate, 404, 405, 413, 415,
400 invalidSyntax), never a page; the request log holds no secret and is pruned after 30 days."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.clock import FixedClock

from admit.admin import scim_log, scim_tokens, tenancy
from admit.domain.errors import InvalidCredentials, TooManyAttempts
from admit.domain.roles import Role
from admit.scim import auth
from admit.shared.context import Actor, Context

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def tokens_path(org_id: str) -> str:
    return f"/api/v1/organizations/{org_id}/scim-tokens"


def scim(ctx: Context, token: str | None) -> Any:
    return client(ctx, token)


def assert_scim_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    assert body.get("scimType") == scim_type
    return body


def events(ctx: Context, org_id: str) -> list[Any]:
    with ctx.uow() as uow:
        return [e for e in uow.events.list(org_id, action="scim_token.") if e.organization_id == org_id]


def test_a_token_is_shown_once_listed_without_its_secret_and_stops_at_once_when_revoked(
    ctx: Context, org: Any, workspace: Any
) -> None:
    api = client(ctx, api_token(ctx, org.id, role="admin"))
    created = api.post(tokens_path(org.id), json={"name": "Entra ID", "role": "member"})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert token.startswith("adm_scm_") and created.json()["workspace_id"] is None
    listed = api.get(tokens_path(org.id))
    assert listed.status_code == 200 and token not in listed.text and "digest" not in listed.text
    [row] = listed.json()
    assert row["name"] == "Entra ID" and row["role"] == "member" and row["revoked_at"] is None
    assert row["created_by_name"] == "test" and row["last_used_at"] is None

    config = scim(ctx, token).get("/scim/v2/ServiceProviderConfig")
    assert config.status_code == 200 and config.headers["content-type"].startswith("application/scim+json")
    body = config.json()
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert body["bulk"] == {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576}
    assert body["filter"] == {"supported": True, "maxResults": 1000} and body["patch"] == {"supported": True}
    assert body["changePassword"]["supported"] is False and body["sort"]["supported"] is False
    assert body["etag"]["supported"] is True and body["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert api.get(tokens_path(org.id)).json()[0]["last_used_at"] is not None

    assert api.delete(f"{tokens_path(org.id)}/{row['id']}").status_code == 204
    refused = scim(ctx, token).get("/scim/v2/ServiceProviderConfig")
    assert_scim_error(refused, 401)
    assert "Bearer" in refused.headers["www-authenticate"]
    assert api.get(f"{tokens_path(org.id)}/{row['id']}").json()["revoked_at"] is not None
    assert api.delete(f"{tokens_path(org.id)}/{row['id']}").status_code == 204  # again: nothing changes
    assert sorted(e.action for e in events(ctx, org.id)) == ["scim_token.created", "scim_token.revoked"]


def test_who_may_create_which_token(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    member = client(ctx, api_token(ctx, org.id, role="member"))
    refused = member.post(tokens_path(org.id), json={"name": "Okta", "workspace_id": workspace.id})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    owner = client(ctx, api_token(ctx, org.id, role="owner"))
    for bad, field in (
        ({"name": "Okta", "role": "owner"}, "role"),
        ({"name": "", "role": "admin"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 7}, "name"),
        ({"name": "Okta", "workspace_id": ["x"]}, "workspace_id"),
    ):
        answer = owner.post(tokens_path(org.id), json=bad)
        assert answer.status_code == 422 and answer.json()["error"]["field"] == field, (bad, answer.text)
    nul = owner.post(tokens_path(org.id), json={"name": "a\x00b"})
    assert nul.status_code == 422
    with pytest.raises(Exception, match="never owner"):
        scim_tokens.create(ctx, operator, org.id, name="Okta", role="owner")
    # A token limited to the workspace manages that workspace's tokens, not the organization's.
    limited = client(ctx, api_token(ctx, org.id, role="admin", workspace_id=workspace.id))
    assert limited.post(tokens_path(org.id), json={"name": "Okta"}).status_code == 201
    [made] = limited.get(tokens_path(org.id)).json()
    assert made["workspace_id"] == workspace.id
    org_wide = owner.post(tokens_path(org.id), json={"name": "Entra"}).json()
    listed = limited.get(tokens_path(org.id)).json()
    assert {(t["name"], t["manageable"]) for t in listed} == {("Okta", True), ("Entra", False)}
    denied = limited.delete(f"{tokens_path(org.id)}/{org_wide['id']}")
    assert denied.status_code == 403
    other = tenancy.create_workspace(ctx, operator, org.id, "Acme Other")
    elsewhere = limited.post(tokens_path(org.id), json={"name": "Okta", "workspace_id": other.id})
    assert elsewhere.status_code == 404


def test_one_organizations_token_never_reaches_another(ctx: Context, operator: Actor, org: Any, workspace: Any) -> None:
    other_org = tenancy.create_organization(ctx, operator, "Globex")
    other_ws = tenancy.create_workspace(ctx, operator, other_org.id, "Globex Main")
    theirs, their_token = scim_tokens.create(ctx, operator, other_org.id, name="Globex IdP", workspace_id=other_ws.id)
    ours = client(ctx, api_token(ctx, org.id, role="owner"))
    assert ours.get(tokens_path(other_org.id)).status_code == 404
    assert ours.get(f"{tokens_path(other_org.id)}/{theirs['id']}").status_code == 404
    assert ours.delete(f"{tokens_path(other_org.id)}/{theirs['id']}").status_code == 404
    assert ours.delete(f"{tokens_path(org.id)}/{theirs['id']}").status_code == 404
    assert ours.post(tokens_path(org.id), json={"name": "x", "workspace_id": other_ws.id}).status_code == 404
    assert scim_tokens.get(ctx, operator, other_org.id, theirs["id"])["revoked_at"] is None
    caller = auth.authenticate(ctx, f"Bearer {their_token}")
    assert caller.organization_id == other_org.id and caller.workspace_id == other_ws.id
    assert caller.role is Role.MEMBER and caller.reaches(other_org.id, other_ws.id)
    assert not caller.reaches(org.id) and not caller.reaches(other_org.id, workspace.id)
    # A SCIM token is no API token, and an API token no SCIM token.
    as_api = client(ctx, their_token).get(f"/api/v1/workspaces/{other_ws.id}/members")
    assert as_api.status_code == 400 and as_api.json()["error"]["code"] == "invalid_token"
    assert_scim_error(scim(ctx, api_token(ctx, org.id)).get("/scim/v2/ServiceProviderConfig"), 401)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer adm_scm_unknown",
        "Bearer adm_api_x",
        "Bearer " + "a" * 500,
    ],
)
def test_every_refusal_of_a_token_is_the_same_401(ctx: Context, header: str | None) -> None:
    browser = client(ctx)
    headers = {} if header is None else {"authorization": header}
    for method, path in (
        ("GET", "/scim/v2/ServiceProviderConfig"),
        ("GET", "/scim/v2/Users"),
        ("POST", "/scim/v2/Users"),
    ):
        answer = browser.request(method, path, headers=headers)
        body = assert_scim_error(answer, 401)
        assert "Bearer" in answer.headers["www-authenticate"] and "<html" not in answer.text.lower()
        assert body["detail"] == auth.REFUSED
    with pytest.raises(InvalidCredentials):
        auth.authenticate(ctx, header)


def test_scim_errors_are_scim_bodies_and_each_request_is_logged(ctx: Context, operator: Actor, org: Any) -> None:
    made, token = scim_tokens.create(ctx, operator, org.id, name="Okta", role="admin")
    idp = scim(ctx, token)
    assert_scim_error(idp.get("/scim/v2/Nothing/here"), 404)
    assert_scim_error(idp.get("/scim/v2"), 404)
    not_allowed = idp.post("/scim/v2/ServiceProviderConfig", json={"a": 1})  # no CSRF token: the guard lets it be
    assert_scim_error(not_allowed, 405)
    assert_scim_error(
        idp.post("/scim/v2/Users", content=b"{not json", headers={"content-type": "application/scim+json"}),
        400,
        "invalidSyntax",
    )
    assert_scim_error(
        idp.post("/scim/v2/Users", content=b"a=b", headers={"content-type": "text/plain"}), 415, "invalidSyntax"
    )
    huge = b'{"a": "' + b"x" * (1024 * 1024) + b'"}'
    assert_scim_error(idp.post("/scim/v2/Bulk", content=huge, headers={"content-type": "application/json"}), 413)
    chunks = (b"x" * 65536 for _ in range(20))  # no Content-Length: counted as it arrives
    assert_scim_error(idp.post("/scim/v2/Bulk", content=chunks, headers={"content-type": "application/json"}), 413)
    _, rows, more = scim_log.recent(ctx, operator, org.id, made["id"])
    assert more is None
    assert [(r["method"], r["path"], r["status"]) for r in reversed(rows)] == [
        ("GET", "/scim/v2/Nothing/here", 404),
        ("GET", "/scim/v2", 404),
        ("POST", "/scim/v2/ServiceProviderConfig", 405),
        ("POST", "/scim/v2/Users", 400),
        ("POST", "/scim/v2/Users", 415),
        ("POST", "/scim/v2/Bulk", 413),
        ("POST", "/scim/v2/Bulk", 413),
    ]


def test_last_used_is_written_at_most_once_a_minute(ctx: Context, clock: FixedClock, operator: Actor, org: Any) -> None:
    made, token = scim_tokens.create(ctx, operator, org.id, name="Okta")
    first = clock.now()
    auth.authenticate(ctx, f"Bearer {token}")
    clock.advance(seconds=59)
    auth.authenticate(ctx, f"bearer {token}")
    assert scim_tokens.get(ctx, operator, org.id, made["id"])["last_used_at"] == first
    clock.advance(seconds=1)
    auth.authenticate(ctx, f"Bearer {token}")
    assert scim_tokens.get(ctx, operator, org.id, made["id"])["last_used_at"] == clock.now()


def test_the_log_keeps_no_secret_pages_and_forgets_after_30_days(
    ctx: Context, clock: FixedClock, operator: Actor, org: Any, workspace: Any
) -> None:
    made, token = scim_tokens.create(ctx, operator, org.id, name="Okta", workspace_id=workspace.id)
    caller = auth.authenticate(ctx, f"Bearer {token}")
    change = {
        "userName": "ada@example.com",
        "password": "tulip-granite-58",
        "urn:ietf:params:scim:schemas:core:2.0:User:password": "x",
        "Operations": [
            {"op": "replace", "path": "password", "value": "hunter2-secret"},
            {"op": "add", "value": {"clientSecret": "s3", "displayName": "Ada"}},
        ],
        "note": token,
        "long": "y" * 1000,
    }
    scim_log.write(ctx, scim_log.entry(ctx, caller, "PATCH", "/scim/v2/Users/1", 200, "1", change))
    clock.advance(days=31)
    for n in range(3):
        scim_log.write(ctx, scim_log.entry(ctx, caller, "GET", f"/scim/v2/Users/{n}", 200))
        clock.advance(seconds=1)
    _, page, more = scim_log.recent(ctx, operator, org.id, made["id"], limit=2)
    assert [r["path"] for r in page] == ["/scim/v2/Users/2", "/scim/v2/Users/1"] and more is not None
    _, rest, last = scim_log.recent(ctx, operator, org.id, made["id"], limit=2, before=more)
    assert [r["path"] for r in rest] == ["/scim/v2/Users/0", "/scim/v2/Users/1"] and last is None
    logged = rest[-1]["change"]
    text = repr(logged)
    for secret in ("tulip-granite", "hunter2", "s3'", token):
        assert secret not in text
    assert logged["userName"] == "ada@example.com" and logged["password"] == scim_log.HIDDEN
    assert logged["Operations"][0]["value"] == scim_log.HIDDEN
    assert logged["Operations"][1]["value"] == {"clientSecret": scim_log.HIDDEN, "displayName": "Ada"}
    assert len(logged["long"]) <= scim_log.MAX_TEXT + 1
    with pytest.raises(Exception, match="position"):
        scim_log.recent(ctx, operator, org.id, made["id"], before="yesterday|x")
    assert scim_log.prune(ctx) == 1
    _, remaining, _ = scim_log.recent(ctx, operator, org.id, made["id"])
    assert len(remaining) == 3
    other = tenancy.create_organization(ctx, operator, "Globex")
    with pytest.raises(Exception, match="not found"):
        scim_log.recent(ctx, Actor.operator(), other.id, made["id"])


def test_a_runaway_provider_is_slowed_down(ctx: Context, operator: Actor, org: Any, monkeypatch: Any) -> None:
    _, token = scim_tokens.create(ctx, operator, org.id, name="Okta")
    monkeypatch.setattr(auth, "REQUESTS_PER_MINUTE", 2)
    idp = scim(ctx, token)
    assert [idp.get("/scim/v2/ServiceProviderConfig").status_code for _ in range(2)] == [200, 200]
    slowed = idp.get("/scim/v2/ServiceProviderConfig")
    assert_scim_error(slowed, 429)
    assert 1 <= int(slowed.headers["retry-after"]) <= 60


def test_the_request_limit_is_shared_by_every_process(
    ctx: Context, operator: Actor, org: Any, clock: FixedClock, monkeypatch: Any
) -> None:
    """Two processes (two budgets) on one database: together they pass the limit never."""
    made, token = scim_tokens.create(ctx, operator, org.id, name="Okta")
    header = f"Bearer {token}"
    monkeypatch.setattr(auth, "REQUESTS_PER_MINUTE", 4)
    first, second = auth._Budget(), auth._Budget()
    allowed = []
    for budget in (first, second, first, second, first, second):
        monkeypatch.setattr(auth, "_budget", budget)
        try:
            auth.authenticate(ctx, header)
            allowed.append(True)
        except TooManyAttempts as refused:
            assert 1 <= refused.retry_after <= 60
            allowed.append(False)
    assert allowed == [True, True, True, True, False, False]
    clock.advance(seconds=61)  # a new window
    auth.authenticate(ctx, header)
    # At the default limit a process leases 60 requests at a time: 100 requests, two writes.
    monkeypatch.setattr(auth, "REQUESTS_PER_MINUTE", 6000)
    monkeypatch.setattr(auth, "_budget", auth._Budget())
    clock.advance(seconds=61)
    for _ in range(100):
        auth.authenticate(ctx, header)
    with ctx.uow(write=True) as uow:  # counting nothing, not committed: the count as it stands
        count, _ = uow.throttles.count_in_window(f"scim:requests:{made['id']}", clock.now(), clock.now(), 0)
    assert count == 120
