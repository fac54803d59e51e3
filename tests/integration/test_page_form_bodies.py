"""Page forms are read in full before their handler runs, on both databases: a field sent twice is
refused with a page naming it (urlencoded or multipart, a file field too), a body larger than the
page takes is refused with 413, and anything that is not a form is refused like a forged one."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.api import client
from support.outbox import token_for
from support.pages import csrf

from admit.adapters.spreadsheets import write_csv
from admit.admin import invitations, jobs
from admit.admin.profiles import MemberInput
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "granite-harbour-willow-27"
FORM = "application/x-www-form-urlencoded"


def member(ctx: Context, operator: Actor, workspace: Any, email: str, role: str = "member") -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email=email, first_name="Ann", role=role))
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)


def sign_in_form(browser: TestClient) -> str:
    return csrf(browser.get("/sign-in").text)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("identifier=mallory%40example.com&identifier=ann%40example.com", "identifier"),
        ("identifier=mallory%40example.com&%69dentifier=ann%40example.com", "identifier"),  # the same name
        ("identifier=ann%40example.com&password=x&password={password}", "password"),
        ("identifier=ann%40example.com&csrftoken={token}", "csrftoken"),
    ],
)
def test_a_field_sent_twice_is_refused_and_nobody_is_signed_in(
    ctx: Context, operator: Actor, workspace: Any, body: str, field: str
) -> None:
    member(ctx, operator, workspace, "ann@example.com")
    browser = client(ctx)
    token = sign_in_form(browser)
    sent = f"csrftoken={token}&" + body.format(password=PASSWORD, token=token)
    if field != "password":
        sent += f"&password={PASSWORD}"
    refused = browser.post("/sign-in", content=sent, headers={"content-type": FORM}, follow_redirects=False)
    assert refused.status_code == 400 and refused.headers["content-type"] == "text/html; charset=utf-8"
    assert f"The field “{field}” was sent more than once" in refused.text
    assert "admit_session" not in refused.headers.get("set-cookie", "")
    assert 'href="/sign-in"' in refused.text and "default-src 'none'" in refused.headers["content-security-policy"]


def test_the_repeated_field_is_named_in_the_persons_language_and_escaped(ctx: Context) -> None:
    browser = client(ctx)
    token = sign_in_form(browser)
    refused = browser.post(
        "/sign-in",
        content=f"csrftoken={token}&%3Cscript%3E=1&%3Cscript%3E=2",
        headers={"content-type": FORM, "accept-language": "de"},
    )
    assert refused.status_code == 400 and 'lang="de"' in refused.text
    assert "Das Feld „&lt;script&gt;“ wurde mehr als einmal gesendet" in refused.text and "<script>" not in refused.text


def owner(ctx: Context, operator: Actor, workspace: Any) -> TestClient:
    member(ctx, operator, workspace, "olga@example.com", role="owner")
    browser = client(ctx)
    token = sign_in_form(browser)
    browser.post("/sign-in", data={"identifier": "olga@example.com", "password": PASSWORD, "csrftoken": token})
    return browser


def test_an_upload_with_a_repeated_file_or_field_is_refused_and_no_import_starts(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    browser = owner(ctx, operator, workspace)
    path = f"/admin/{workspace.id}/import"
    token = csrf(browser.get(path).text)
    people = write_csv(["Email"], [["ann@example.com"]])
    others = write_csv(["Email"], [["mallory@example.com"]])
    for files, field in (
        ([("invite", (None, "later")), ("file", ("a.csv", people)), ("file", ("b.csv", others))], "file"),
        ([("invite", (None, "later")), ("invite", (None, "now")), ("file", ("a.csv", people))], "invite"),
    ):
        refused = browser.post(path, data={"csrftoken": token}, files=files)
        assert refused.status_code == 400, field
        assert f"The field “{field}” was sent more than once" in refused.text
    assert jobs.list_jobs(ctx, operator, workspace.id) == []
    accepted = browser.post(
        path, data={"csrftoken": token, "invite": "later"}, files={"file": ("a.csv", people)}, follow_redirects=False
    )
    assert accepted.status_code == 303 and len(jobs.list_jobs(ctx, operator, workspace.id)) == 1


def test_a_page_form_larger_than_a_megabyte_is_refused_unread(ctx: Context, operator: Actor, workspace: Any) -> None:
    member(ctx, operator, workspace, "ann@example.com")
    browser = client(ctx)
    token = sign_in_form(browser)
    padding = "x" * (1024 * 1024)
    refused = browser.post(
        "/sign-in",
        data={"csrftoken": token, "identifier": "ann@example.com", "password": PASSWORD, "padding": padding},
        headers={"accept-language": "fr"},
        follow_redirects=False,
    )
    assert refused.status_code == 413 and "Ce formulaire est trop volumineux" in refused.text
    assert "admit_session" not in refused.headers.get("set-cookie", "")


def test_the_administrators_forms_take_larger_bodies(ctx: Context, operator: Actor, workspace: Any) -> None:
    browser = owner(ctx, operator, workspace)
    url = f"/admin/{workspace.id}/invitations/all"
    token = csrf(browser.get(url).text)
    carried = browser.post(url, data={"csrftoken": token, "step": "preview", "message": "x" * (2 * 1024 * 1024)})
    assert carried.status_code == 422 and "at most 2000 characters" in carried.text  # read by the handler


def test_a_post_that_is_not_a_form_is_refused_like_a_forged_one(ctx: Context) -> None:
    browser = client(ctx)
    token = sign_in_form(browser)
    for content_type, body in (
        ("application/json", f'{{"csrftoken": "{token}"}}'),
        ("text/plain", f"csrftoken={token}"),
    ):
        refused = browser.post("/sign-in", content=body, headers={"content-type": content_type, "x-csrftoken": token})
        assert refused.status_code == 403 and "This form could not be accepted" in refused.text, content_type
