"""The bulk people endpoints over HTTP: imports, Invite All, invitations from a list, jobs,
the import template, the preview and the audit log (both databases)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from support.api import api_token, client

from admit.adapters.spreadsheets import read_table, write_xlsx
from admit.admin import jobs
from admit.shared.context import Context


def api(ctx: Context, org: Any, role: str = "admin") -> TestClient:
    return client(ctx, api_token(ctx, org.id, role=role))


def test_import_through_the_api_then_invite_all(ctx: Context, org: Any, workspace: Any) -> None:
    http = api(ctx, org)
    body = b"Email,First name,Last name\nann@example.com,Ann,Lee\nbob@example.com,Bob,Ray\nbad,x,y\n"
    started = http.post(f"/api/v1/workspaces/{workspace.id}/imports?invite=later&filename=p.csv", content=body)
    assert started.status_code == 202 and started.json()["state"] == "queued" and started.json()["total"] == 3
    jobs.run_next(ctx)
    job = http.get(f"/api/v1/jobs/{started.json()['id']}").json()
    assert job["state"] == "done" and job["percent"] == 100 and job["counts"]["awaiting_invitation"] == 2
    assert job["report"] == [{"row": 4, "column": "Email", "reason": job["report"][0]["reason"], "kind": "error"}]
    preview = http.get(f"/api/v1/workspaces/{workspace.id}/invitations/preview?message=Hello").json()
    assert preview["subject"] == "You are invited to Acme Main" and "Hello" in preview["text"]
    all_job = http.post(f"/api/v1/workspaces/{workspace.id}/invitations/all", json={"message": "Hello"})
    assert all_job.status_code == 202
    jobs.run_next(ctx)
    assert http.get(f"/api/v1/jobs/{all_job.json()['id']}").json()["counts"] == {"invited": 2}
    listed = http.get(f"/api/v1/workspaces/{workspace.id}/jobs").json()
    assert [j["kind"] for j in listed] == ["invite_all", "import"]
    log = http.get(f"/api/v1/workspaces/{workspace.id}/events?action=invitation.").json()
    assert len(log) == 2 and {e["subject_name"] for e in log} == {"ann@example.com", "bob@example.com"}
    assert all(e["actor_name"] == "test" for e in log)  # the API token's name


def test_bad_files_get_a_clear_error_and_no_job(ctx: Context, org: Any, workspace: Any) -> None:
    http = api(ctx, org)
    refused = http.post(f"/api/v1/workspaces/{workspace.id}/imports?invite=now&filename=p.xlsx", content=b"Email\n")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "wrong_magic"
    no_key = http.post(
        f"/api/v1/workspaces/{workspace.id}/invitations/list?filename=l.csv", content=b"First name\nAnn\n"
    )
    assert no_key.status_code == 422 and no_key.json()["error"]["code"] == "no_key_column"
    assert http.get(f"/api/v1/workspaces/{workspace.id}/jobs").json() == []


def test_members_cannot_import_read_jobs_or_the_audit_log(ctx: Context, org: Any, workspace: Any) -> None:
    admin, member = api(ctx, org), api(ctx, org, role="member")
    job = admin.post(f"/api/v1/workspaces/{workspace.id}/imports?invite=later", content=b"Email\na@example.com\n")
    assert member.post(f"/api/v1/workspaces/{workspace.id}/imports?invite=later", content=b"Email\n").status_code == 403
    assert member.get(f"/api/v1/jobs/{job.json()['id']}").status_code == 403
    assert member.post(f"/api/v1/jobs/{job.json()['id']}/cancel").status_code == 403
    assert member.get(f"/api/v1/workspaces/{workspace.id}/events").status_code == 403
    cancelled = admin.post(f"/api/v1/jobs/{job.json()['id']}/cancel").json()
    assert cancelled["state"] == "cancelled" and cancelled["cancel_requested"] is True


def test_templates_have_every_column_and_read_back(ctx: Context, org: Any, workspace: Any) -> None:
    http = api(ctx, org)
    for fmt in ("csv", "xlsx"):
        response = http.get(f"/api/v1/workspaces/{workspace.id}/imports/template?format={fmt}")
        assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
        table = read_table(response.content, f"template.{fmt}")
        assert "email" in table.columns and "initial_password" in table.columns and len(table) == 1


def test_a_resend_goes_to_the_address_and_number_the_member_has_now(ctx: Context, org: Any, workspace: Any) -> None:
    """An administrator changed or cleared the email address after inviting: the resend follows
    the member as they are now, and refuses (never a server error) when nothing is left."""
    http = api(ctx, org)
    http.patch(f"/api/v1/workspaces/{workspace.id}", json={"sms_enabled": True})
    created = http.post(
        f"/api/v1/workspaces/{workspace.id}/members",
        json={"email": "old@example.com", "username": "dora", "phone": "+49 30 901820", "invite": True},
    ).json()
    invitation_id, member_id = created["invitation"]["id"], created["member"]["id"]
    assert http.patch(f"/api/v1/members/{member_id}", json={"email": None}).status_code == 200
    resent = http.post(f"/api/v1/invitations/{invitation_id}/resend", json={})
    assert resent.status_code == 200, resent.text
    assert resent.json()["channels"] == ["sms"] and resent.json()["email"] is None
    http.patch(f"/api/v1/workspaces/{workspace.id}", json={"sms_enabled": False})
    refused = http.post(f"/api/v1/invitations/{invitation_id}/resend", json={})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_delivery_channel"
    assert http.get(f"/api/v1/invitations/{invitation_id}").json()["send_count"] == 2  # unchanged by the refusal


def test_an_xlsx_body_sent_as_xlsx_needs_no_file_name(ctx: Context, org: Any, workspace: Any) -> None:
    http = api(ctx, org)
    data = write_xlsx(["Email", "First name"], [["ann@example.com", "Ann"]])
    xlsx = {"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    started = http.post(f"/api/v1/workspaces/{workspace.id}/imports?invite=later", content=data, headers=xlsx)
    assert started.status_code == 202, started.text
    jobs.run_next(ctx)
    job = http.get(f"/api/v1/jobs/{started.json()['id']}").json()
    assert job["state"] == "done" and job["counts"]["awaiting_invitation"] == 1, job
    as_csv = http.post(f"/api/v1/workspaces/{workspace.id}/imports?invite=later", content=data)
    assert as_csv.status_code == 422 and "xlsx" in as_csv.text  # sent as nothing in particular: read as CSV, and told
