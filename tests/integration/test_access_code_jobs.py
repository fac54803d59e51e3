"""Access codes for a whole import, and Invite All's fallback to them, on both databases: the
service finds exactly the people an import created who have no email or phone (not people who
were there before, not a skipped row's member, not someone with an email, not a role the actor
may not grant); the REST API (count, PDF and CSV, fresh codes each time, audited with the job,
refusals); the console's job page (the offer with N, the PDF and CSV downloads, errors shown on
the page); and Invite All, which leaves people no message can reach awaiting invitation, counts
them, links to the access codes page with them preselected and prints their sheet."""

from __future__ import annotations

import csv
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import api_token, client
from support.clock import FixedClock
from support.outbox import token_for
from support.pages import csrf
from support.pdfs import qr_codes, read, text_of

from admit.admin import access_codes, audit, bulk_invites, imports, jobs, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import Conflict, NotFound
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchard-pebble-58"
HEADER = "Email;First name;Last name;External ID;Role\n"


def run(ctx: Context, operator: Actor, workspace: Any, text: str, **kw: Any) -> jobs.JobView:
    job = imports.start(ctx, operator, workspace.id, (HEADER + text).encode(), "people.csv", **kw)
    assert jobs.run_next(ctx) == job.id
    return jobs.get(ctx, operator, job.id)


def before_import(ctx: Context, operator: Actor, workspace: Any, clock: FixedClock) -> str:
    """A person without email who was there before the import (the file names her again)."""
    given = MemberInput(first_name="Olga", last_name="Old", external_id="E-OLD")
    old, _ = members.provision(ctx, operator, workspace.id, given, invite=False)
    clock.advance(minutes=5)
    return str(old.id)


def imported(ctx: Context, operator: Actor, workspace: Any, clock: FixedClock) -> tuple[jobs.JobView, dict[str, str]]:
    before_import(ctx, operator, workspace, clock)
    job = run(
        ctx, operator, workspace,
        ";Ana;Silva;E-1;member\n"
        ";<b>Ben</b>;Silva;e-2;member\n"
        "cy@example.com;Cy;Mail;E-3;member\n"
        ";Olga;Again;E-OLD;member\n"
        ";Ada;Owner;E-4;owner\n",
        invite="later",
    )  # fmt: skip
    assert job.counts == {"created": 4, "awaiting_invitation": 4, "skipped": 1}, job.counts
    clock.advance(minutes=5)
    given = MemberInput(first_name="Late", last_name="Comer", external_id="E-LATE")
    members.provision(ctx, operator, workspace.id, given, invite=False)  # after the import: not in it
    ids = {m.external_id or "": m.id for m in members.list_members(ctx, operator, workspace.id, limit=50)}
    return job, ids


def admin_of(ctx: Context, operator: Actor, workspace: Any, email: str, role: str) -> TestClient:
    """A signed-in browser of a person who joined ``workspace`` with ``role``."""
    members.provision(ctx, operator, workspace.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    browser = client(ctx)
    form = browser.get("/sign-in").text
    done = browser.post(
        "/sign-in", data={"identifier": email, "password": PASSWORD, "csrftoken": csrf(form)}, follow_redirects=False
    )
    assert done.status_code == 303
    return browser


def test_the_service_finds_exactly_the_imported_people_without_email_or_phone(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    job, ids = imported(ctx, operator, workspace, clock)
    found = access_codes.job_people(ctx, operator, job.id)
    assert [p.external_id for p in found] == ["E-1", "e-2", "E-4"]  # not Olga (before), Cy (email), Late (after)
    issued = access_codes.issue_for_job(ctx, operator, job.id, workspace_id=workspace.id)
    assert sorted(i.member_id for i in issued) == sorted([ids["E-1"], ids["e-2"], ids["E-4"]])
    assert all(access_codes.current(ctx, operator, ids[k]).state == "live" for k in ("E-1", "e-2", "E-4"))  # type: ignore[union-attr]
    assert access_codes.current(ctx, operator, ids["E-OLD"]) is None
    [exported] = audit.events(ctx, operator, workspace.id, action="access_code.exported")
    assert exported["data"]["job_id"] == job.id and exported["data"]["count"] == 3
    with pytest.raises(NotFound):
        access_codes.job_people(ctx, operator, job.id, workspace_id="nope")
    dry = run(ctx, operator, workspace, ";Dry;Run;E-9;member\n", invite="later", dry_run=True)
    with pytest.raises(Conflict) as refused:
        access_codes.issue_for_job(ctx, operator, dry.id)
    assert refused.value.code == "dry_run"
    with_email = run(ctx, operator, workspace, "zed@example.com;Zed;Mail;E-10;member\n", invite="later")
    assert access_codes.job_people(ctx, operator, with_email.id) == []
    with pytest.raises(Conflict) as nobody:
        access_codes.issue_for_job(ctx, operator, with_email.id)
    assert nobody.value.code == "nobody_needs_code"
    queued = imports.start(
        ctx, operator, workspace.id, (HEADER + ";Q;R;E-11;member\n").encode(), "q.csv", invite="later"
    )
    with pytest.raises(Conflict) as running:
        access_codes.job_people(ctx, operator, queued.id)
    assert running.value.code == "job_running"


def test_the_api_counts_and_prints_a_whole_imports_codes(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    job, ids = imported(ctx, operator, workspace, clock)
    api = client(ctx, api_token(ctx, workspace.organization_id, role="admin"))
    path = f"/api/v1/jobs/{job.id}/access-codes"
    counted = api.get(path)
    assert counted.status_code == 200 and counted.json()["count"] == 2  # an admin may not grant owner: not Ada
    assert set(counted.json()["member_ids"]) == {ids["E-1"], ids["e-2"]}
    sheet = api.post(path, params={"format": "pdf", "language": "fr"})
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-type"] == "application/pdf" and sheet.headers["cache-control"] == "no-store"
    text = text_of(sheet.content)
    assert "Ana Silva" in text and "<b>Ben</b> Silva" in text and "Ada" not in text and "Code d'accès" in text
    urls = qr_codes(read(sheet.content).pages[0])
    assert len(urls) == 2 and all(u.startswith(access_codes.redeem_url(ctx, "")) for u in urls)
    table = api.post(path, params={"format": "csv"})
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(table.text.splitlines()))
    assert {r["member_id"] for r in rows} == {ids["E-1"], ids["e-2"]}
    assert not {access_codes.redeem_url(ctx, r["code"]) for r in rows} & set(urls)  # fresh: the sheet's withdrawn
    events = audit.events(ctx, operator, workspace.id, action="access_code.exported")
    assert len(events) == 2 and all(e["data"]["job_id"] == job.id for e in events)
    assert api.post(path, params={"format": "xml"}).status_code == 422
    assert api.post(path, params={"language": "xx"}).status_code == 422
    assert api.post("/api/v1/jobs/nope/access-codes").status_code == 404
    member_token = client(ctx, api_token(ctx, workspace.organization_id, role="member"))
    assert member_token.post(path).status_code == 403 and member_token.get(path).status_code == 403
    globex = tenancy.create_organization(ctx, operator, "Globex")
    stranger = client(ctx, api_token(ctx, globex.id, role="admin"))
    assert stranger.post(path).status_code == 404
    dry = run(ctx, operator, workspace, ";Dry;Run;E-9;member\n", invite="later", dry_run=True)
    refused = api.post(f"/api/v1/jobs/{dry.id}/access-codes")
    assert refused.status_code == 409 and "dry_run" in refused.text


def test_the_job_page_offers_the_imports_codes_as_a_sheet_or_csv(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    job, ids = imported(ctx, operator, workspace, clock)
    browser = admin_of(ctx, operator, workspace, "olga@example.com", "owner")
    page = browser.get(f"/admin/{workspace.id}/jobs/{job.id}")
    assert page.status_code == 200
    assert "Access codes for the 3 people in this import who have no email or phone" in page.text
    assert f'action="/admin/{workspace.id}/jobs/{job.id}/access-codes"' in page.text
    action = f"/admin/{workspace.id}/jobs/{job.id}/access-codes"
    no_token = browser.post(action, data={"format": "pdf"})
    assert no_token.status_code == 403 and access_codes.current(ctx, operator, ids["E-1"]) is None
    sheet = browser.post(action, data={"format": "pdf", "csrftoken": csrf(page.text)})
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "application/pdf"
    assert sheet.headers["cache-control"] == "no-store"
    assert len(qr_codes(read(sheet.content).pages[0])) == 3
    table = browser.post(action, data={"format": "csv", "csrftoken": csrf(page.text)})
    assert table.status_code == 200 and len(list(csv.DictReader(table.text.splitlines()))) == 3
    empty = run(ctx, operator, workspace, "zed@example.com;Zed;Mail;E-10;member\n", invite="later")
    plain = browser.get(f"/admin/{workspace.id}/jobs/{empty.id}").text
    assert "Access codes for the" not in plain and "/access-codes" not in plain
    refused = browser.post(
        f"/admin/{workspace.id}/jobs/{empty.id}/access-codes", data={"format": "pdf", "csrftoken": csrf(plain)}
    )
    assert refused.status_code == 409 and "job-codes-error" in refused.text
    assert "nobody in this job needs an access code" in refused.text and "Traceback" not in refused.text
    member = admin_of(ctx, operator, workspace, "mo@example.com", "member")
    assert member.get(f"/admin/{workspace.id}/jobs/{job.id}").status_code == 403


def test_invite_all_counts_people_who_need_a_code_and_offers_their_sheet(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    for first, external in (("Ana", "E-1"), ("Ben", "E-2")):
        given = MemberInput(first_name=first, last_name="Silva", external_id=external)
        members.provision(ctx, operator, workspace.id, given, invite=False)
    members.provision(ctx, operator, workspace.id, MemberInput(email="eve@example.com"), invite=False)
    job = bulk_invites.invite_all(ctx, operator, workspace.id)
    assert jobs.run_next(ctx) == job.id
    done = jobs.get(ctx, operator, job.id)
    assert done.counts == {"invited": 1, "needs_code": 2}
    assert {e["kind"] for e in done.report} == {"needs_code"}
    assert {e["reason"] for e in done.report} == {f"{x}: {bulk_invites.NEEDS_CODE}" for x in ("E-1", "E-2")}
    browser = admin_of(ctx, operator, workspace, "olga@example.com", "owner")
    page = browser.get(f"/admin/{workspace.id}/jobs/{job.id}").text
    assert "2 people have no email or phone to send to and need an access code." in page
    assert f'href="/admin/{workspace.id}/access-codes?select=waiting"' in page
    assert "Access codes for the 2 people no invitation could reach" in page
    chosen = browser.get(f"/admin/{workspace.id}/access-codes?select=waiting").text
    assert chosen.count(" checked") == 2
    api = client(ctx, api_token(ctx, workspace.organization_id, role="admin"))
    sheet = api.post(f"/api/v1/jobs/{job.id}/access-codes")
    assert sheet.status_code == 200 and len(qr_codes(read(sheet.content).pages[0])) == 2
