"""The REST API drives the same self-service flows as the pages, with the same server-side flow
state: a sign-up's verified address and a member's terms downloads are recorded on the server,
bound to the client holding the flow's handle; each flow has one kind and one owner, expires
and ends when it is used. On both databases."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from support.api import api_token, client
from support.clock import FixedClock
from support.outbox import code_for, token_for

from admit.admin import invitations
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchid-gravel-83"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NAMES = {"first_name": "Nia", "last_name": "Long"}


def invite(ctx: Context, operator: Actor, workspace: Any, email: str = "nia@example.com") -> str:
    """An invitation by address alone (its welcome is a sign-up); its link's token."""
    invitations.invite(ctx, operator, workspace.id, MemberInput(email=email))
    return token_for(ctx, email)


def start(api: TestClient, token: str) -> str:
    started = api.post("/api/v1/invitations/sign-up", json={"token": token})
    assert started.status_code == 201, started.text
    return str(started.json()["flow"])


def verify(api: TestClient, flow: str, code: str) -> Any:
    return api.post("/api/v1/invitations/sign-up/verify", json={"flow": flow, "code": code})


def claim(api: TestClient, token: str, flow: str | None) -> Any:
    return api.post("/api/v1/invitations/claim", json={"token": token, "password": PASSWORD, "flow": flow, **NAMES})


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_an_api_sign_up_verifies_the_address_in_its_flow_then_claims_and_signs_in(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    api = client(ctx)
    token = invite(ctx, operator, workspace)
    assert error(claim(api, token, None)) == (403, "email_not_verified")  # the token alone is no proof here
    flow = start(api, token)
    assert flow.startswith("adm_flw_")
    assert error(claim(api, token, flow)) == (403, "email_not_verified")  # sent, not verified yet
    verified = verify(api, flow, code_for(ctx, "nia@example.com"))
    assert verified.status_code == 200 and verified.json() == {"verified": True, "email": "nia@example.com"}
    done = claim(api, token, flow)
    assert done.status_code == 201, done.text
    session = done.json()["session_token"]
    assert session.startswith("adm_ses_") and done.json()["status"] == "active"
    mine = client(ctx, session).get("/api/v1/me/invitations")
    assert mine.status_code == 200  # signed in by the claim itself
    assert error(verify(api, flow, code_for(ctx, "nia@example.com")))[0] == 400  # the flow ended with the claim


def test_a_code_works_only_in_the_flow_that_asked_for_it(ctx: Context, operator: Actor, workspace: Any) -> None:
    token = invite(ctx, operator, workspace)
    alice, mallory = client(ctx), client(ctx)
    hers = start(alice, token)
    her_code = code_for(ctx, "nia@example.com")
    theirs = start(mallory, token)  # another client with the same link, its own flow and code
    assert error(verify(mallory, theirs, her_code)) == (400, "invalid_code")
    assert error(claim(mallory, token, theirs)) == (403, "email_not_verified")
    assert verify(alice, hers, her_code).status_code == 200
    assert error(claim(mallory, token, theirs)) == (403, "email_not_verified")  # her proof is not theirs
    assert claim(alice, token, hers).status_code == 201


def test_a_verified_flow_cannot_claim_another_invitation(ctx: Context, operator: Actor, workspace: Any) -> None:
    api = client(ctx)
    nia = invite(ctx, operator, workspace)
    ola = invite(ctx, operator, workspace, "ola@example.com")
    flow = start(api, nia)
    assert verify(api, flow, code_for(ctx, "nia@example.com")).status_code == 200
    assert error(claim(api, ola, flow)) == (403, "email_not_verified")
    assert claim(api, nia, flow).status_code == 201


def test_an_expired_sign_up_flow_is_refused(ctx: Context, operator: Actor, workspace: Any, clock: FixedClock) -> None:
    api = client(ctx)
    token = invite(ctx, operator, workspace)
    flow = start(api, token)
    assert verify(api, flow, code_for(ctx, "nia@example.com")).status_code == 200
    clock.advance(minutes=61)  # a flow lives one hour
    assert error(claim(api, token, flow)) == (403, "email_not_verified")
    assert claim(api, token, start(api, token)).status_code == 403  # a fresh flow must be verified again


def test_a_sign_up_flow_is_only_for_invitations_that_ask_for_one(ctx: Context, operator: Actor, workspace: Any) -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="kim@example.com", **NAMES))
    api = client(ctx)
    token = token_for(ctx, "kim@example.com")
    refused = api.post("/api/v1/invitations/sign-up", json={"token": token})
    assert error(refused) == (409, "not_a_sign_up")
    assert claim(api, token, None).status_code == 201  # the administrator entered the profile: activate


# Terms of service through the API.


def member(ctx: Context, operator: Actor, workspace: Any, email: str) -> TestClient:
    """A signed-in member of the workspace, as an API client."""
    invitations.invite(ctx, operator, workspace.id, MemberInput(email=email, **NAMES))
    result = claims.claim_and_sign_in(ctx, token_for(ctx, email), password=PASSWORD)
    return client(ctx, result["session"])


def publish(ctx: Context, org: Any, workspace: Any, document: bytes = PDF) -> None:
    admin = client(ctx, api_token(ctx, org.id, role="admin"))
    name = "terms.pdf" if document.startswith(b"%PDF") else "terms.txt"
    assert admin.post(f"/api/v1/workspaces/{workspace.id}/terms?filename={name}", content=document).is_success


def download(api: TestClient, workspace: Any, version: int, flow: str | None = None) -> Any:
    return api.post(f"/api/v1/me/terms/{workspace.id}/{version}/download", json={"flow": flow})


def accept(api: TestClient, workspace: Any, version: int, flow: str | None) -> Any:
    return api.post(f"/api/v1/me/terms/{workspace.id}/{version}/accept", json={"flow": flow})


def test_api_terms_are_accepted_only_after_a_recorded_download(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    publish(ctx, org, workspace)
    tia = member(ctx, operator, workspace, "tia@example.com")
    pending = tia.get(f"/api/v1/me/terms/{workspace.id}").json()
    assert pending["to_accept"]["version"] == 1 and pending["to_accept"]["filename"] == "terms.pdf"
    assert error(accept(tia, workspace, 1, None)) == (409, "terms_not_downloaded")
    got = download(tia, workspace, 1)
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    flow = got.headers["admit-flow"]
    assert flow.startswith("adm_flw_")
    assert error(accept(tia, workspace, 2, flow)) == (409, "terms_changed")  # no such version
    accepted = accept(tia, workspace, 1, flow)
    assert accepted.status_code == 200 and accepted.json()["version"] == 1
    assert tia.get(f"/api/v1/me/terms/{workspace.id}").json()["to_accept"] is None
    publish(ctx, org, workspace, b"Version two")
    assert error(accept(tia, workspace, 2, flow)) == (409, "terms_not_downloaded")  # the flow ended
    again = download(tia, workspace, 2, flow)
    assert again.headers["admit-flow"] != flow  # an ended flow is not reused
    assert accept(tia, workspace, 2, again.headers["admit-flow"]).status_code == 200


def test_a_terms_flow_belongs_to_the_account_that_downloaded(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    publish(ctx, org, workspace)
    tia = member(ctx, operator, workspace, "tia@example.com")
    uma = member(ctx, operator, workspace, "uma@example.com")
    flow = download(tia, workspace, 1).headers["admit-flow"]
    assert error(accept(uma, workspace, 1, flow)) == (409, "terms_not_downloaded")
    assert download(uma, workspace, 1, flow).headers["admit-flow"] != flow  # not added to her flow either
    assert accept(tia, workspace, 1, flow).status_code == 200


def test_an_expired_terms_flow_is_refused(
    ctx: Context, operator: Actor, workspace: Any, org: Any, clock: FixedClock
) -> None:
    publish(ctx, org, workspace)
    tia = member(ctx, operator, workspace, "tia@example.com")
    flow = download(tia, workspace, 1).headers["admit-flow"]
    clock.advance(minutes=61)
    assert error(accept(tia, workspace, 1, flow)) == (409, "terms_not_downloaded")


def test_api_terms_are_only_for_members_of_the_workspace(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    publish(ctx, org, workspace)
    outsider = client(ctx, api_token(ctx, org.id, role="owner"))  # an API token is not a person
    assert outsider.get(f"/api/v1/me/terms/{workspace.id}").status_code == 401
    assert error(download(client(ctx), workspace, 1)) == (401, "invalid_credentials")
