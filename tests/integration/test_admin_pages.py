"""The administrator's pages over HTTP, on both databases: who may see them, the people list
(filters, counts, paging, suspend, reactivate, remove), adding a person by hand, inviting and
resending one person, Invite All and Choose people to invite (review, message, preview,
confirmation, job), imports (dry run, problem rows, the report as CSV), cancelling a job and the
audit log."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import api_token, client
from support.outbox import messages, token_for
from support.pages import browser_signed_in, csrf

from admit.adapters.spreadsheets import write_csv, write_xlsx
from admit.admin import bulk_invites, jobs, members, tenancy
from admit.admin.profiles import MemberInput
from admit.entrypoints.web.pages.admin import audit as admin_audit
from admit.entrypoints.web.pages.admin import people as admin_people
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "orchard-lantern-pebble-73"


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name!r}"
    return unescape(match.group(1))


def person(ctx: Context, operator: Actor, workspace: Any, email: str, *, invite: bool = False, **kw: Any) -> str:
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email, **kw), invite=invite)
    return str(created.id)


def signed_in(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "owner", **kw: Any) -> TestClient:
    """A browser signed in as a member of ``workspace`` with ``role``."""
    person(ctx, operator, workspace, email, invite=True, first_name="Olga", last_name="Berg", role=role, **kw)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    return browser_signed_in(ctx, email, PASSWORD)


@pytest.fixture
def owner(ctx: Context, operator: Actor, workspace: Any) -> TestClient:
    return signed_in(ctx, operator, workspace, "olga@example.com")


def status_of(ctx: Context, operator: Actor, member_id: str) -> str:
    return str(members.get(ctx, operator, member_id).status)


def run_job(ctx: Context, page: str) -> str:
    """Run the job a page points at (no runner thread in these tests); return its page path."""
    match = re.search(r"/admin/[^/]+/jobs/([\w-]+)", page)
    assert match, page
    assert jobs.run_next(ctx, match.group(1)) == match.group(1)
    return match.group(0)


# Who may see the admin pages ----------------------------------------------------------------------
def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in_and_back(ctx: Context, workspace: Any) -> None:
    browser = client(ctx)
    for path in (f"/admin/{workspace.id}/people?status=invited", "/admin", f"/admin/{workspace.id}/audit"):
        response = browser.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in?next=/admin")
    response = browser.get(f"/admin/{workspace.id}/people?status=invited", follow_redirects=False)
    assert response.headers["location"] == f"/sign-in?next=/admin/{workspace.id}/people%3Fstatus%3Dinvited"
    refused = browser.post(f"/admin/{workspace.id}/people/new", data={"email": "x@example.com"})
    assert refused.status_code == 403  # no cookie at all: the CSRF check still applies


def test_a_member_gets_a_refusal_page_and_another_tenants_workspace_is_not_found(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    browser = signed_in(ctx, operator, workspace, "mia@example.com", role="member")
    for path in ("people", "invitations", "import", "audit", "people/new"):
        page = browser.get(f"/admin/{workspace.id}/{path}")
        assert page.status_code == 403, path
        assert "You cannot administer this workspace" in page.text and "Traceback" not in page.text
    assert browser.get("/admin").status_code == 403
    home = browser.get("/").text
    assert 'href="/admin"' not in home
    other_org = tenancy.create_organization(ctx, operator, "Globex")
    other = tenancy.create_workspace(ctx, operator, other_org.id, "Globex Main")
    owner = signed_in(ctx, operator, workspace, "olga@example.com")
    stranger = owner.get(f"/admin/{other.id}/people")
    assert stranger.status_code == 404 and "Not found" in stranger.text
    assert owner.get("/admin/no-such-workspace/people").status_code == 404
    index = owner.get("/admin").text
    assert f'href="/admin/{workspace.id}/people"' in index and "Globex" not in index
    assert 'href="/admin"' in owner.get("/").text  # the signed-in home links to the admin pages


def test_admin_forms_refuse_a_post_without_the_csrf_token(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    member_id = person(ctx, operator, workspace, "ann@example.com")
    for path in (
        "people/new",
        f"people/{member_id}/remove",
        f"people/{member_id}/invite",
        "invitations/all",
        "import",
    ):
        refused = owner.post(f"/admin/{workspace.id}/{path}", data={"step": "confirm", "email": "z@example.com"})
        assert refused.status_code == 403, path
    assert status_of(ctx, operator, member_id) == "provisioned" and messages(ctx, recipient="ann@example.com") == []


def test_the_admin_pages_speak_the_administrators_language(ctx: Context, operator: Actor, workspace: Any) -> None:
    browser = signed_in(ctx, operator, workspace, "greta@example.com", language="de")
    person(ctx, operator, workspace, "ann@example.com")
    people = browser.get(f"/admin/{workspace.id}/people", headers={"accept-language": "fr"}).text
    assert '<html lang="de">' in people and "Person hinzufügen" in people and "Wartet auf Einladung" in people
    unsent = browser.get(f"/admin/{workspace.id}/invitations").text
    assert "1 Person wartet auf eine Einladung." in unsent


# People ------------------------------------------------------------------------------------------
def test_people_list_counts_filters_and_pages(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_people, "PAGE_SIZE", 2)
    for n in range(5):
        person(ctx, operator, workspace, f"p{n}@example.com", first_name=f"Pat{n}", department="Sales" if n % 2 else "")
    person(ctx, operator, workspace, "inv@example.com", invite=True, first_name="Ivy", role="admin")
    page = owner.get(f"/admin/{workspace.id}/people?status=provisioned").text
    counts = {label: int(n) for n, label in re.findall(r'<span class="count">(\d+)</span> ([^<]+)</a>', page)}
    assert counts == {"Awaiting invitation": 5, "Invited": 1, "Active": 1, "Suspended": 0, "Removed": 0}
    names = re.compile(r"<th scope=\"row\"><a href=\"/admin/[^\"]+/people/\w+\">(Pat\d)</a></th>")
    seen = names.findall(page)
    assert len(seen) == 2 and "First page" not in page
    second = owner.get(unescape(re.search(r'href="([^"]+)" rel="next"', page).group(1))).text  # type: ignore[union-attr]
    assert len(names.findall(second)) == 2 and "First page" in second
    seen += names.findall(second)
    third = owner.get(unescape(re.search(r'href="([^"]+)" rel="next"', second).group(1))).text  # type: ignore[union-attr]
    seen += names.findall(third)
    assert 'rel="next"' not in third and sorted(seen) == [f"Pat{n}" for n in range(5)]  # each once
    sales = owner.get(f"/admin/{workspace.id}/people?department=Sales").text
    assert "Pat1" in sales and "Pat3" in sales and "Pat0" not in sales
    admins = owner.get(f"/admin/{workspace.id}/people?role=admin").text
    assert "Ivy" in admins and "Pat" not in admins and ">Resend<" in admins
    found = owner.get(f"/admin/{workspace.id}/people?q=p3%40").text
    assert "Pat3" in found and "Pat1" not in found
    nobody = owner.get(f"/admin/{workspace.id}/people?q=%25").text  # wildcards are literal
    assert "Nobody matches these filters." in nobody
    bad = owner.get(f"/admin/{workspace.id}/people?cursor=garbage")
    assert bad.status_code == 400 and "cursor" in bad.text
    assert bad.text.count('<tr data-member="') == 2  # the first page instead


def test_adding_a_person_invites_them_at_once_and_shows_errors_next_to_the_field(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    tenancy.update_workspace(
        ctx,
        operator,
        workspace.id,
        {"departments": ["Sales", "Kitchen"], "job_profiles": ["Cook"], "required_fields": ["department"]},
    )
    form = owner.get(f"/admin/{workspace.id}/people/new").text
    assert '<select id="department" name="department" required' in form and "(required)" in form
    assert '<option value="owner"' in form and "<option>Cook</option>" in form and 'value="de" lang="de"' in form
    token = csrf(form)
    fields = {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "role": "member", "language": "de"}
    missing = owner.post(f"/admin/{workspace.id}/people/new", data={**fields, "csrftoken": token})
    assert missing.status_code == 422
    assert 'id="department-error">department is required in this workspace' in missing.text
    assert 'aria-describedby="department-error"' in missing.text and 'value="ann@example.com"' in missing.text
    bad_email = owner.post(
        f"/admin/{workspace.id}/people/new",
        data={**fields, "email": "not-an-email", "department": "Sales", "csrftoken": token},
    )
    assert bad_email.status_code == 422 and 'id="email-error">' in bad_email.text and "Traceback" not in bad_email.text
    done = owner.post(
        f"/admin/{workspace.id}/people/new",
        data={**fields, "department": "Sales", "job_profile": "Cook", "csrftoken": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "done=created" in done.headers["location"]
    listed = owner.get(done.headers["location"]).text
    assert "Ann Lee was added and invited." in listed
    [invited] = members.list_members(ctx, operator, workspace.id, status="invited", search="ann@")
    assert invited.department == "Sales" and invited.language == "de"
    assert [m["kind"] for m in messages(ctx, recipient="ann@example.com")] == ["invitation"]
    again = owner.post(f"/admin/{workspace.id}/people/new", data={**fields, "department": "Sales", "csrftoken": token})
    assert again.status_code == 409 and 'id="email-error">a member with this email already exists' in again.text


def test_an_admin_cannot_grant_the_owner_role(ctx: Context, operator: Actor, workspace: Any) -> None:
    admin = signed_in(ctx, operator, workspace, "adam@example.com", role="admin")
    form = admin.get(f"/admin/{workspace.id}/people/new").text
    assert '<option value="admin"' in form and '<option value="owner"' not in form
    forged = admin.post(
        f"/admin/{workspace.id}/people/new",
        data={"email": "boss@example.com", "role": "owner", "csrftoken": csrf(form)},
    )
    assert forged.status_code == 403 and 'id="role-error">' in forged.text
    assert members.list_members(ctx, operator, workspace.id, search="boss") == []


def test_suspend_reactivate_and_remove_after_a_confirmation_page(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    member_id = person(ctx, operator, workspace, "ann@example.com", invite=True, first_name="Ann")
    claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)
    page = owner.get(f"/admin/{workspace.id}/people?status=active").text
    back = hidden(page, "back")
    assert back == f"/admin/{workspace.id}/people?status=active"
    suspended = owner.post(
        f"/admin/{workspace.id}/people/{member_id}/suspend",
        data={"csrftoken": csrf(page), "back": back},
        follow_redirects=False,
    )
    assert suspended.status_code == 303
    assert suspended.headers["location"].startswith(f"/admin/{workspace.id}/people?status=active&done=suspended")
    assert "Ann was suspended." in owner.get(suspended.headers["location"]).text
    assert status_of(ctx, operator, member_id) == "suspended"
    again = owner.post(f"/admin/{workspace.id}/people/{member_id}/suspend", data={"csrftoken": csrf(page)})
    assert again.status_code == 409 and "cannot become suspended" in again.text
    owner.post(f"/admin/{workspace.id}/people/{member_id}/reactivate", data={"csrftoken": csrf(page)})
    assert status_of(ctx, operator, member_id) == "active"
    confirm = owner.get(f"/admin/{workspace.id}/people/{member_id}/remove?back={back}")
    assert confirm.status_code == 200 and "Remove Ann?" in confirm.text
    assert status_of(ctx, operator, member_id) == "active"  # asking changes nothing
    removed = owner.post(
        f"/admin/{workspace.id}/people/{member_id}/remove",
        data={"csrftoken": csrf(confirm.text), "back": "https://evil.example/"},
        follow_redirects=False,
    )
    assert removed.headers["location"].startswith(f"/admin/{workspace.id}/people?done=removed")  # never elsewhere
    assert status_of(ctx, operator, member_id) == "removed"


def test_an_owner_cannot_be_suspended_by_an_admin(ctx: Context, operator: Actor, workspace: Any) -> None:
    boss = person(ctx, operator, workspace, "boss@example.com", invite=True, role="owner")
    claims.accept_with_token(ctx, token_for(ctx, "boss@example.com"), password=PASSWORD)
    admin = signed_in(ctx, operator, workspace, "adam@example.com", role="admin")
    page = admin.get(f"/admin/{workspace.id}/people").text
    refused = admin.post(f"/admin/{workspace.id}/people/{boss}/suspend", data={"csrftoken": csrf(page)})
    assert refused.status_code == 403 and "cannot grant the owner role" in refused.text and "People" in refused.text
    assert status_of(ctx, operator, boss) == "active"


def test_invite_and_resend_one_person_after_review_and_confirmation(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    member_id = person(ctx, operator, workspace, "ann@example.com", first_name="Ann", last_name="Lee")
    listing = owner.get(f"/admin/{workspace.id}/people?status=provisioned").text
    link = unescape(re.search(rf'href="(/admin/[^"]+/people/{member_id}/invite[^"]*)"', listing).group(1))  # type: ignore[union-attr]
    review = owner.get(link).text
    assert "Invite Ann Lee" in review and "invited you to Acme Main" in review and "<pre" in review
    token = csrf(review)
    back = hidden(review, "back")
    url = f"/admin/{workspace.id}/people/{member_id}/invite"
    again = owner.post(url, data={"csrftoken": token, "back": back, "message": "Welcome aboard", "step": "preview"})
    assert "Welcome aboard" in again.text.split("<pre", 1)[1]  # the preview shows the message
    confirm = owner.post(url, data={"csrftoken": token, "back": back, "message": "Welcome aboard", "step": "send"})
    assert "Invite Ann Lee?" in confirm.text and "Welcome aboard" in confirm.text
    assert status_of(ctx, operator, member_id) == "provisioned"  # nothing sent before OK
    sent = owner.post(
        url,
        data={"csrftoken": token, "back": back, "message": "Welcome aboard", "step": "confirm"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and "done=invited" in sent.headers["location"]
    assert "Ann Lee was invited." in owner.get(sent.headers["location"]).text
    assert status_of(ctx, operator, member_id) == "invited"
    [first] = messages(ctx, recipient="ann@example.com")
    assert first["payload"]["message"] == "Welcome aboard"
    old_token = token_for(ctx, "ann@example.com")
    resend = owner.get(f"/admin/{workspace.id}/people/{member_id}/invite").text
    assert "Resend the invitation to Ann Lee" in resend
    confirm = owner.post(url, data={"csrftoken": token, "step": "send"}).text
    assert "Resend the invitation to Ann Lee?" in confirm
    done = owner.post(url, data={"csrftoken": token, "step": "confirm"}, follow_redirects=False)
    assert "done=resent" in done.headers["location"]
    assert [m["kind"] for m in messages(ctx, recipient="ann@example.com")] == ["invitation", "invitation_resent"]
    assert token_for(ctx, "ann@example.com") != old_token
    claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)
    active = owner.get(f"/admin/{workspace.id}/people/{member_id}/invite")
    assert active.status_code == 409 and "already a member" in active.text


# Unsent invitations ---------------------------------------------------------------------------------
def test_invite_all_shows_the_invitation_lets_the_message_change_and_asks_before_sending(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    for n in range(3):
        person(ctx, operator, workspace, f"p{n}@example.com", first_name=f"Pat{n}")
    unsent = owner.get(f"/admin/{workspace.id}/invitations").text
    assert "3 people are awaiting invitation." in unsent and f'href="/admin/{workspace.id}/invitations/all"' in unsent
    review = owner.get(f"/admin/{workspace.id}/invitations/all").text
    assert "Subject:</span> <strong>Olga Berg invited you to Acme Main</strong>" in review
    assert re.search(r"Hello Pat\d,", review.split("<pre", 1)[1])  # the email as one of them gets it
    token, url = csrf(review), f"/admin/{workspace.id}/invitations/all"
    too_long = owner.post(url, data={"csrftoken": token, "message": "x" * 2001, "step": "send"})
    assert too_long.status_code == 422 and "at most 2000 characters" in too_long.text
    preview = owner.post(url, data={"csrftoken": token, "message": "<b>See you Monday</b>", "step": "preview"}).text
    assert "&lt;b&gt;See you Monday&lt;/b&gt;" in preview and "<b>See you" not in preview
    confirm = owner.post(url, data={"csrftoken": token, "message": "See you Monday", "step": "send"}).text
    assert "Invite 3 people?" in confirm and "See you Monday" in confirm
    assert messages(ctx, kind="invitation") == [m for m in messages(ctx, kind="invitation") if "olga" in m["recipient"]]
    sent = owner.post(url, data={"csrftoken": token, "message": "See you Monday", "step": "confirm"})
    assert sent.status_code == 200 and "Invite All" in sent.text
    job_page = run_job(ctx, str(sent.url))
    done = owner.get(job_page).text
    assert "3 people invited." in done and "Finished." in done and 'http-equiv="refresh"' not in done
    invited = [m for m in messages(ctx, kind="invitation") if m["recipient"].startswith("p")]
    assert len(invited) == 3 and {m["payload"]["message"] for m in invited} == {"See you Monday"}
    assert "Nobody is awaiting invitation." in owner.get(f"/admin/{workspace.id}/invitations").text


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_choose_people_invites_the_listed_people_and_lists_the_rows_that_match_nobody(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient, kind: str
) -> None:
    for n in range(3):
        person(ctx, operator, workspace, f"p{n}@example.com", external_id=f"HR-{n}")
    rows = [["HR-0"], ["HR-9"], ["HR-2"]]
    data = write_csv(["External ID"], rows) if kind == "csv" else write_xlsx(["External ID"], rows)
    page = owner.get(f"/admin/{workspace.id}/invitations/choose").text
    assert f'href="/admin/{workspace.id}/invitations/template.csv"' in page
    template = owner.get(f"/admin/{workspace.id}/invitations/template.xlsx")
    assert template.status_code == 200 and template.content.startswith(b"PK")
    uploaded = owner.post(
        f"/admin/{workspace.id}/invitations/choose",
        data={"csrftoken": csrf(page)},
        files={"file": (f"list.{kind}", data)},
    )
    assert uploaded.status_code == 200
    assert f'list.{kind}: 2 of 3 rows name people awaiting invitation by "External ID".' in uploaded.text
    matched = uploaded.text.split('id="matched-rows"', 1)[1].split("</table>", 1)[0]
    unmatched = uploaded.text.split('id="unmatched-rows"', 1)[1].split("</table>", 1)[0]
    assert "HR-0" in matched and "HR-2" in matched and "HR-9" not in matched
    assert "HR-9" in unmatched and "Matches nobody in this workspace" in unmatched
    token, upload = csrf(uploaded.text), hidden(uploaded.text, "upload")
    url = f"/admin/{workspace.id}/invitations/choose/review"
    carried = {"csrftoken": token, "upload": upload, "filename": f"list.{kind}"}
    confirm = owner.post(url, data={**carried, "message": "Hello", "step": "send"}).text
    assert "Invite 2 listed people?" in confirm and f"list.{kind}" in confirm  # never more than will be
    assert hidden(confirm, "upload") == upload
    assert [m for m in messages(ctx, kind="invitation") if m["recipient"].startswith("p")] == []
    sent = owner.post(url, data={**carried, "message": "Hello", "step": "confirm"})
    done = owner.get(run_job(ctx, str(sent.url))).text
    assert "2 people invited." in done and "1 row matches nobody." in done
    assert "no member with this External ID" in done and '<td data-label="Row">3</td>' in done
    assert {m.status for m in members.list_members(ctx, operator, workspace.id, search="HR-1")} == {"provisioned"}


def test_choose_people_refuses_a_file_without_email_or_external_id_and_a_broken_carry(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    page = owner.get(f"/admin/{workspace.id}/invitations/choose").text
    wrong = owner.post(
        f"/admin/{workspace.id}/invitations/choose",
        data={"csrftoken": csrf(page)},
        files={"file": ("names.csv", write_csv(["First name"], [["Ann"]]))},
    )
    assert wrong.status_code == 422 and "Email" in wrong.text and "External ID" in wrong.text
    none = owner.post(f"/admin/{workspace.id}/invitations/choose", data={"csrftoken": csrf(page)}, files={})
    assert none.status_code == 422 and "choose a CSV or XLSX file" in none.text
    broken = owner.post(
        f"/admin/{workspace.id}/invitations/choose/review",
        data={"csrftoken": csrf(page), "upload": "not base64!", "step": "confirm"},
    )
    assert broken.status_code == 422 and "upload it again" in broken.text
    assert jobs.list_jobs(ctx, operator, workspace.id) == []


# Imports and jobs ------------------------------------------------------------------------------------
def upload_import(browser: TestClient, workspace: Any, data: bytes, name: str = "people.csv", **fields: str) -> Any:
    page = browser.get(f"/admin/{workspace.id}/import").text
    return browser.post(
        f"/admin/{workspace.id}/import", data={"csrftoken": csrf(page), **fields}, files={"file": (name, data)}
    )


def test_an_import_needs_a_choice_between_invite_now_and_later(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    page = owner.get(f"/admin/{workspace.id}/import").text
    assert 'name="invite" value="now" required>' in page and "checked" not in page  # no default
    assert f'href="/admin/{workspace.id}/import/template.csv"' in page
    data = write_csv(["Email"], [["ann@example.com"]])
    refused = upload_import(owner, workspace, data)
    assert refused.status_code == 422 and 'id="invite-error">choose whether to invite' in refused.text
    unreadable = upload_import(owner, workspace, b"\x00\x01garbage", "people.xlsx", invite="later")
    assert unreadable.status_code == 422 and 'id="file-error">' in unreadable.text
    assert jobs.list_jobs(ctx, operator, workspace.id) == []
    template = owner.get(f"/admin/{workspace.id}/import/template.csv")
    assert template.status_code == 200 and b"Email" in template.content


def test_an_import_dry_run_writes_nothing_and_lists_every_problem_row(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    person(ctx, operator, workspace, "old@example.com")
    rows = [["ann@example.com", "Ann"], ["old@example.com", "Old"], ["not-an-email", "Bad"], ["bo@example.com", "Bo"]]
    started = upload_import(owner, workspace, write_csv(["Email", "First name"], rows), invite="now", dry_run="yes")
    assert started.status_code == 200
    page = owner.get(run_job(ctx, str(started.url))).text
    assert "Dry run: nothing was written and nothing was sent." in page
    assert "2 people would be created." in page and "1 already in the workspace" in page and "1 row has errors." in page
    assert '<td data-label="Row">4</td>' in page and "not a valid email address" in page and "Problems (2)" in page
    assert members.list_members(ctx, operator, workspace.id, search="ann@") == []
    assert messages(ctx, recipient="ann@example.com") == []
    # "Run this import": the same file and choices, for real, without uploading it again; once.
    assert "Run this import" in page
    dry_path = str(started.url).split("testserver")[1]
    ran = owner.post(f"{dry_path}/run", data={"csrftoken": csrf(page)}, follow_redirects=False)
    assert ran.status_code == 303 and ran.headers["location"] != dry_path
    real = owner.get(run_job(ctx, ran.headers["location"])).text
    assert "Dry run" not in real and "2 people created." in real and "Run this import" not in real
    assert [m.email for m in members.list_members(ctx, operator, workspace.id, search="ann@")] == ["ann@example.com"]
    assert len(messages(ctx, recipient="ann@example.com")) == 1  # invited now, as the dry run chose
    again = owner.post(f"{dry_path}/run", data={"csrftoken": csrf(page)}, follow_redirects=False)
    assert again.headers["location"] == ran.headers["location"]  # a second click: the same import
    not_dry = owner.post(f"{ran.headers['location']}/run", data={"csrftoken": csrf(page)}, follow_redirects=False)
    assert not_dry.headers["location"] == ran.headers["location"]  # a real import is not run again
    assert len(messages(ctx, recipient="ann@example.com")) == 1


def test_an_import_then_its_report_as_csv_with_formula_cells_neutralised(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"departments": ["Sales"]})
    rows = [["ann@example.com", "Sales"], ["bo@example.com", "=HYPERLINK(1)"]]
    started = upload_import(owner, workspace, write_csv(["Email", "=Department"], rows), invite="later")
    page = owner.get(run_job(ctx, str(started.url))).text
    assert "1 person created." in page and "Awaiting invitation: 1" in page and "1 row has errors." in page
    assert "Dry run" not in page
    link = re.search(r'href="(/admin/[^"]+/report\.csv)"', page).group(1)  # type: ignore[union-attr]
    report = owner.get(link)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert table[0] == ["Row", "Column", "Problem", "Kind"]
    [[row, column, problem, kind]] = table[1:]
    assert row == "3" and column == "'=Department" and kind == "error" and "not a department" in problem
    assert status_of(ctx, operator, members.list_members(ctx, operator, workspace.id, search="ann@")[0].id) == (
        "provisioned"
    )


def test_a_queued_job_can_be_cancelled_and_shows_its_progress_until_then(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    person(ctx, operator, workspace, "p@example.com")
    review = owner.get(f"/admin/{workspace.id}/invitations/all").text
    sent = owner.post(f"/admin/{workspace.id}/invitations/all", data={"csrftoken": csrf(review), "step": "confirm"})
    job_page = sent.text
    assert '<meta http-equiv="refresh" content="2">' in job_page and "<progress" in job_page
    assert 'aria-live="polite"' in job_page and "Waiting to start" in job_page
    cancelled = owner.post(f"{sent.url.path}/cancel", data={"csrftoken": csrf(job_page)})
    assert cancelled.status_code == 200 and "Cancelled after 0 of 1" in cancelled.text
    assert 'http-equiv="refresh"' not in cancelled.text and ">Cancel</button>" not in cancelled.text
    assert jobs.run_next(ctx) is None
    assert messages(ctx, recipient="p@example.com") == []
    listing = owner.get(f"/admin/{workspace.id}/jobs").text
    assert "Invite All" in listing and "Cancelled" in listing


def test_another_workspaces_job_is_not_found_here(
    ctx: Context, operator: Actor, workspace: Any, org: Any, owner: TestClient
) -> None:
    other = tenancy.create_workspace(ctx, operator, org.id, "Acme Other")
    person(ctx, operator, other, "p@example.com")
    job = bulk_invites.invite_all(ctx, operator, other.id)
    assert owner.get(f"/admin/{workspace.id}/jobs/{job.id}").status_code == 404
    assert owner.get(f"/admin/{other.id}/jobs/{job.id}").status_code == 404  # not a member there


# Audit log -----------------------------------------------------------------------------------------
def test_the_audit_log_filters_by_action_and_pages_to_older_events(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_audit, "PAGE_SIZE", 2)
    for n in range(3):
        member_id = person(ctx, operator, workspace, f"p{n}@example.com")
        members.remove(ctx, operator, member_id)
    page = owner.get(f"/admin/{workspace.id}/audit?action=member.").text
    assert '<option value="member." selected>' in page
    rows = page.split("<tbody>")[1]
    assert rows.count('data-action="member.') == 2 and 'data-action="member.removed"' in rows
    assert "An operator removed p2@example.com" in rows
    older = unescape(re.search(r'href="([^"]+)" rel="next"', page).group(1))  # type: ignore[union-attr]
    assert "action=member." in older and "before=" in older
    second = owner.get(older).text.split("<tbody>")[1]
    assert second.count('data-action="member.') == 2 and "p1@example.com" in second and "p2@example.com" not in second
    invitations = owner.get(f"/admin/{workspace.id}/audit?action=invitation.").text.split("<tbody>")[1]
    assert 'data-action="member.' not in invitations and 'data-action="invitation.accepted"' in invitations
    assert "Olga Berg accepted the invitation" in invitations  # the subject is named


# Values never become markup (see also tests/unit/test_template_safety.py) ---------------------------
MARKUP_HEADER = b"<b>x</b>,<a href=//evil.example>y</a>\r\nann@example.com,Ann\r\n"


def test_markup_in_an_uploaded_files_header_is_shown_as_text(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    refused = upload_import(owner, workspace, MARKUP_HEADER, "people.csv", invite="now")
    assert refused.status_code == 422 and 'id="file-error">' in refused.text
    assert "&lt;b&gt;x&lt;/b&gt;" in refused.text and "&lt;a href=//evil.example&gt;" in refused.text
    assert "<b>x</b>" not in refused.text and "<a href=//evil.example" not in refused.text
    page = owner.get(f"/admin/{workspace.id}/invitations/choose").text
    chosen = owner.post(
        f"/admin/{workspace.id}/invitations/choose",
        data={"csrftoken": csrf(page)},
        files={"file": ("list.csv", MARKUP_HEADER)},
    )
    assert chosen.status_code == 422 and 'id="file-error">' in chosen.text
    assert "<b>x</b>" not in chosen.text and "<a href=//evil.example" not in chosen.text
    assert jobs.list_jobs(ctx, operator, workspace.id) == []


def test_markup_in_a_typed_value_is_shown_as_text_in_the_error_next_to_the_field(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    tenancy.update_workspace(ctx, operator, workspace.id, {"departments": ["Sales"]})
    token = csrf(owner.get(f"/admin/{workspace.id}/people/new").text)
    fields = {"email": "ann@example.com", "role": "member", "language": "en", "csrftoken": token}
    refused = owner.post(f"/admin/{workspace.id}/people/new", data={**fields, "department": "<b>x</b>%(y)s"})
    assert refused.status_code == 422
    assert 'id="department-error">&#39;&lt;b&gt;x&lt;/b&gt;%(y)s&#39; is not a department' in refused.text
    assert "<b>x</b>" not in refused.text
    bad_email = owner.post(f"/admin/{workspace.id}/people/new", data={**fields, "email": '"><b>x</b>@example.com'})
    assert bad_email.status_code == 422 and 'id="email-error">' in bad_email.text
    assert "<b>x</b>" not in bad_email.text and 'value="&#34;&gt;&lt;b&gt;x&lt;/b&gt;@example.com"' in bad_email.text
    assert members.list_members(ctx, operator, workspace.id, search="ann@") == []


def test_the_preview_is_the_email_this_person_will_get_not_another_members(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    """Inviting Zoe once previewed "Bonjour Carla" (the first member awaiting invitation, in French)."""
    person(ctx, operator, workspace, "carla@example.com", first_name="Carla", language="fr")
    zoe = person(ctx, operator, workspace, "zoe@example.com", first_name="Zoe", language="de")
    review = owner.get(f"/admin/{workspace.id}/people/{zoe}/invite").text
    email = review.split("<pre", 1)[1]
    assert "Hallo Zoe" in email and "Carla" not in email and "Bonjour" not in email
    sent = owner.post(
        f"/admin/{workspace.id}/people/{zoe}/invite",
        data={"csrftoken": csrf(review), "back": hidden(review, "back"), "step": "confirm"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    resend = owner.get(f"/admin/{workspace.id}/people/{zoe}/invite").text  # now a resend: still Zoe's email
    assert "Hallo Zoe" in resend.split("<pre", 1)[1] and "Carla" not in resend.split("<pre", 1)[1]


def test_the_api_previews_for_one_member_of_this_workspace_only(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    person(ctx, operator, workspace, "carla@example.com", first_name="Carla", language="fr")
    zoe = person(ctx, operator, workspace, "zoe@example.com", first_name="Zoe", language="de")
    api = client(ctx, api_token(ctx, org.id))
    mine = api.get(f"/api/v1/workspaces/{workspace.id}/invitations/preview", params={"member_id": zoe})
    assert mine.status_code == 200 and "Hallo Zoe" in mine.json()["text"]
    sample = api.get(f"/api/v1/workspaces/{workspace.id}/invitations/preview")
    sample_text = sample.json()["text"]  # Invite All's preview: as the first member awaiting invitation gets it
    assert "Bonjour Carla" in sample_text or "Hallo Zoe" in sample_text
    other = tenancy.create_workspace(ctx, operator, org.id, "Elsewhere")
    stranger = person(ctx, operator, other, "sam@example.com", first_name="Sam")
    refused = api.get(f"/api/v1/workspaces/{workspace.id}/invitations/preview", params={"member_id": stranger})
    assert refused.status_code == 404 and refused.json()["error"]["field"] == "member_id"


def test_a_list_that_matches_nobody_awaiting_invitation_offers_nothing_to_send(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    person(ctx, operator, workspace, "ivy@example.com", invite=True)  # already invited
    data = write_csv(["Email"], [["ivy@example.com"], ["nobody@example.com"], ["IVY@example.com"]])
    page = owner.get(f"/admin/{workspace.id}/invitations/choose").text
    review = owner.post(
        f"/admin/{workspace.id}/invitations/choose", data={"csrftoken": csrf(page)}, files={"file": ("l.csv", data)}
    ).text
    assert 'l.csv: 0 of 3 rows name people awaiting invitation by "Email".' in review
    assert 'value="send"' not in review  # nothing would be sent
    unmatched = review.split('id="unmatched-rows"', 1)[1].split("</table>", 1)[0]
    assert "Already invited or a member" in unmatched and "Matches nobody in this workspace" in unmatched
