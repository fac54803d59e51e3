"""The whole lifecycle through the REST API of a real `admit serve`, on SQLite and PostgreSQL:
create a workspace, provision three people (one to invite later), invite, read the outbox, accept
with the token, and check the member is active while the invite-later one stays silent."""

from __future__ import annotations

import re

import httpx
from support.processes import admit, field, server

PASSWORD = "juniper-lighthouse-pebble-27"


def test_rest_journey_from_workspace_to_active_member(database_url: str) -> None:
    operator = field(admit(database_url, "token", "create", "--instance", "--name", "e2e").stdout, "token")
    with (
        server(database_url) as base,
        httpx.Client(base_url=f"{base}/api/v1", headers={"authorization": f"Bearer {operator}"}, timeout=30) as api,
        httpx.Client(base_url=f"{base}/api/v1", timeout=30) as public,
    ):
        org = api.post("/organizations", json={"name": "Globex", "plan": "business", "seats": 5})
        assert org.status_code == 201, org.text
        ws = api.post(f"/organizations/{org.json()['id']}/workspaces", json={"name": "Globex HQ"})
        assert ws.status_code == 201, ws.text
        ws_id = ws.json()["id"]

        people = {}
        for email, invite in (
            ("ann@globex.example", True),
            ("bob@globex.example", False),
            ("cat@globex.example", False),
        ):
            created = api.post(
                f"/workspaces/{ws_id}/members", json={"email": email, "first_name": email[:3].title(), "invite": invite}
            )
            assert created.status_code == 201, created.text
            people[email] = created.json()
        assert people["cat@globex.example"]["invitation"] is None
        invited = api.post(f"/members/{people['bob@globex.example']['member']['id']}/invite", json={})
        assert invited.status_code == 201 and invited.json()["state"] == "pending"
        assert (
            api.get(f"/workspaces/{ws_id}/members", params={"status": "provisioned"}).json()["items"][0]["email"]
            == "cat@globex.example"
        )
        assert len(api.get(f"/workspaces/{ws_id}/invitations", params={"state": "pending"}).json()["items"]) == 2

        outbox = admit(database_url, "outbox", "list", "--reveal").stdout
        links = dict(re.findall(r"(\S+@globex\.example)\s.*?(http://\S+/i/adm_inv_[\w-]+)", outbox))
        assert set(links) == {"ann@globex.example", "bob@globex.example"}, outbox
        ann_token = links["ann@globex.example"].rsplit("/", 1)[1]
        assert links["ann@globex.example"].startswith(f"{base}/i/")

        accepted = public.post("/invitations/accept", json={"token": ann_token, "password": PASSWORD})
        assert accepted.status_code == 200, accepted.text
        ann = api.get(f"/members/{people['ann@globex.example']['member']['id']}").json()
        assert ann["status"] == "active" and ann["account_id"] == accepted.json()["account_id"]
        replay = public.post("/invitations/accept", json={"token": ann_token, "password": PASSWORD})
        assert replay.status_code == 410 and replay.json()["error"]["code"] == "token_already_used"

        session = public.post("/sessions", json={"identifier": "ann@globex.example", "password": PASSWORD})
        assert session.status_code == 201
        assert session.json()["token"].startswith("adm_ses_")

        cat = api.get(f"/members/{people['cat@globex.example']['member']['id']}").json()
        assert cat["status"] == "provisioned"
        assert "cat@globex.example" not in outbox
        forged = public.post("/invitations/accept", json={"token": "adm_inv_" + "A" * 43, "password": PASSWORD})
        assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_token"
        denied = public.post("/sessions", json={"identifier": "cat@globex.example", "password": PASSWORD})
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "invalid_credentials"
        states = {m["email"]: m["status"] for m in api.get(f"/workspaces/{ws_id}/members").json()["items"]}
        assert states == {
            "ann@globex.example": "active",
            "bob@globex.example": "invited",
            "cat@globex.example": "provisioned",
        }
