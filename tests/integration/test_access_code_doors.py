"""Access codes through their doors, on both databases: the redeem page ``/code`` (prefilled by
``?c=``, no Referer, the workspace and name shown, a username and password chosen, signed in and
into the workspace; errors next to the field with what was typed kept; single use; the code is no
password afterwards), wrong codes from many client addresses over HTTP, and the REST API (create
once, see, withdraw, SMS through the outbox, a CSV for a selection; permissions)."""

from __future__ import annotations

import csv
import random
import re
from typing import Any

from fastapi.testclient import TestClient
from support.api import api_token, client
from support.outbox import messages, token_for
from support.pages import csrf

from admit.admin import access_codes, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain import access_codes as codes
from admit.flows.invitation import claims
from admit.shared.context import Actor, Context

PASSWORD = "lantern-orchard-pebble-58"


def frontline(ctx: Context, operator: Actor, workspace: Any, external_id: str = "E-100", **kw: Any) -> str:
    given = MemberInput(first_name="Ana", last_name="Silva", external_id=external_id, **kw)
    created, _ = members.provision(ctx, operator, workspace.id, given, invite=False)
    return str(created.id)


def at(browser: TestClient, address: str) -> TestClient:
    """The browser as the app sees it from ``address`` (``request.client.host``)."""
    browser._transport.client = (address, 50000)  # type: ignore[attr-defined]
    return browser


def test_a_person_redeems_a_code_on_the_pages_and_is_signed_in(ctx: Context, operator: Actor, workspace: Any) -> None:
    member_id = frontline(ctx, operator, workspace)
    code = access_codes.issue(ctx, operator, member_id).code
    browser = client(ctx)
    assert 'href="/code"' in browser.get("/sign-in").text
    entered = browser.get(f"/code?c={code}")
    assert entered.status_code == 200 and f'value="{code}"' in entered.text
    assert entered.headers["referrer-policy"] == "no-referrer" and entered.headers["cache-control"] == "no-store"
    assert 'autocomplete="off"' in entered.text and 'autocapitalize="characters"' in entered.text
    step = browser.post("/code", data={"code": code.lower(), "csrftoken": csrf(entered.text)})
    assert step.status_code == 200 and "Ana Silva" in step.text and "Acme Main" in step.text
    assert 'name="username"' in step.text
    weak = browser.post(
        "/code/redeem", data={"code": code, "username": "ana.silva", "password": "short", "csrftoken": csrf(step.text)}
    )
    assert weak.status_code == 422 and 'class="errors"' in weak.text and 'value="ana.silva"' in weak.text
    done = browser.post(
        "/code/redeem",
        data={"code": code, "username": "ana.silva", "password": PASSWORD, "csrftoken": csrf(step.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/joined/{workspace.id}"
    joined = browser.get(done.headers["location"])
    assert joined.status_code == 200 and "Acme Main" in joined.text
    assert members.get(ctx, operator, member_id).status == "active"
    again = client(ctx)
    form = again.get("/code").text
    used = again.post("/code", data={"code": code, "csrftoken": csrf(form)})
    assert used.status_code == 410 and 'id="code-error"' in used.text and "already been used" in used.text
    signin = again.get("/sign-in").text
    for identifier, password in (("ana.silva", code), (code, PASSWORD)):
        refused = again.post(
            "/sign-in", data={"identifier": identifier, "password": password, "csrftoken": csrf(signin)}
        )
        assert refused.status_code == 401
    assert again.post(
        "/sign-in", data={"identifier": "ana.silva", "password": PASSWORD, "csrftoken": csrf(signin)},
        follow_redirects=False,
    ).status_code == 303  # fmt: skip


def test_wrong_and_hostile_codes_are_refused_next_to_the_field(ctx: Context, operator: Actor, workspace: Any) -> None:
    browser = client(ctx)
    form = browser.get("/code?c=%3Cb%3Ex").text
    assert 'value="&lt;b&gt;x"' in form and "<b>x" not in form
    for typed, status, said in (
        ("<script>alert(1)</script>", 422, "16 characters"),
        ("2222-2222-2222-2222", 422, "not valid"),
        ("x" * 5000, 422, "16 characters"),
        ("AB\x00C", 422, "16 characters"),
    ):
        refused = at(browser, "192.0.2.10").post("/code", data={"code": typed, "csrftoken": csrf(form)})
        assert refused.status_code == status and said in refused.text and 'id="code-error"' in refused.text, typed
        assert "<script>alert" not in refused.text and "Traceback" not in refused.text


def test_wrong_codes_from_many_addresses_over_http_find_nothing(ctx: Context, operator: Actor, workspace: Any) -> None:
    issued = [access_codes.issue(ctx, operator, frontline(ctx, operator, workspace, f"E-{n}")) for n in range(2)]
    real = {codes.normalise(i.code)[:4] for i in issued}
    browser = client(ctx)
    token = csrf(browser.get("/code").text)
    guesses = random.Random(7)
    statuses: set[int] = set()
    for n in range(600):
        guess = "".join(guesses.choice(codes.ALPHABET) for _ in range(16))
        if guess[:4] in real:
            continue
        answer = at(browser, f"203.0.{n // 3 % 250}.{n % 3}").post("/code", data={"code": guess, "csrftoken": token})
        statuses.add(answer.status_code)
    assert statuses == {422}
    for item in issued:
        step = at(browser, "198.51.100.77").post("/code", data={"code": item.code, "csrftoken": token})
        assert step.status_code == 200 and "Ana Silva" in step.text
    slowed = at(browser, "192.0.2.99")
    for _ in range(5):
        slowed.post("/code", data={"code": "2222-2222-2222-2222", "csrftoken": token})
    throttled = slowed.post("/code", data={"code": issued[0].code, "csrftoken": token})
    assert throttled.status_code == 429 and throttled.headers["retry-after"]


def test_the_api_creates_shows_withdraws_sends_and_exports_codes(ctx: Context, operator: Actor, workspace: Any) -> None:
    member_id = frontline(ctx, operator, workspace, phone="+4915112345678")
    api = client(ctx, api_token(ctx, workspace.organization_id, role="admin"))
    created = api.post(f"/api/v1/members/{member_id}/access-code")
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    code = created.json()["code"]
    assert created.json()["url"] == f"https://admit.example.test/code?c={code}"
    shown = api.get(f"/api/v1/members/{member_id}/access-code")
    assert shown.json()["state"] == "live" and code not in shown.text
    assert api.delete(f"/api/v1/members/{member_id}/access-code").json()["state"] == "withdrawn"
    assert api.delete(f"/api/v1/members/{member_id}/access-code").status_code == 409
    off = api.post(f"/api/v1/members/{member_id}/access-code/sms")
    assert off.status_code == 409 and off.json()["error"]["code"] == "sms_disabled"
    api.patch(f"/api/v1/workspaces/{workspace.id}", json={"sms_enabled": True})
    sent = api.post(f"/api/v1/members/{member_id}/access-code/sms")
    assert sent.status_code == 202 and sent.json()["state"] == "live"
    [sms] = messages(ctx, kind="access_code")
    assert sms["channel"] == "sms" and sms["recipient"] == "+4915112345678"
    exported = api.post(f"/api/v1/workspaces/{workspace.id}/access-codes.csv", json={"member_ids": [member_id]})
    assert exported.status_code == 200 and exported.headers["cache-control"] == "no-store"
    [row] = list(csv.DictReader(exported.text.splitlines()))
    assert row["member_id"] == member_id and re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", row["code"])
    assert row["code"] != sms["payload"]["code"]
    bad = api.post(f"/api/v1/workspaces/{workspace.id}/access-codes.csv", json={"member_ids": []})
    assert bad.status_code == 422
    member_token = client(ctx, api_token(ctx, workspace.organization_id, role="member"))
    assert member_token.post(f"/api/v1/members/{member_id}/access-code").status_code == 403
    globex = tenancy.create_organization(ctx, operator, "Globex")
    stranger = client(ctx, api_token(ctx, globex.id, role="admin"))
    assert stranger.post(f"/api/v1/members/{member_id}/access-code").status_code == 404


def test_the_console_adds_a_person_without_email_and_makes_their_code_once(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    members.provision(ctx, operator, workspace.id, MemberInput(email="olga@example.com", role="owner"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "olga@example.com"), password=PASSWORD)
    browser = client(ctx)
    signin = browser.get("/sign-in").text
    browser.post("/sign-in", data={"identifier": "olga@example.com", "password": PASSWORD, "csrftoken": csrf(signin)})
    form = browser.get(f"/admin/{workspace.id}/people/new").text
    added = browser.post(
        f"/admin/{workspace.id}/people/new",
        data={
            "first_name": "Ana",
            "last_name": "Silva",
            "external_id": "E-9",
            "role": "member",
            "csrftoken": csrf(form),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    person = browser.get(added.headers["location"])
    assert person.status_code == 200 and "No access code yet." in person.text and "Access code</td>" not in person.text
    member_id = added.headers["location"].rsplit("/", 1)[1]
    assert members.get(ctx, operator, member_id).status == "invited"
    made = browser.post(f"/admin/{workspace.id}/people/{member_id}/access-code", data={"csrftoken": csrf(person.text)})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    code = re.search(r'id="access-code">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
    assert codes.normalise(code)
    again = browser.get(f"/admin/{workspace.id}/people/{member_id}").text
    assert code not in again and "A code is live until" in again and "Withdraw the code" in again
    assert "Access code created" in again  # the person's history
    assert "Send a new code by SMS" not in again  # no phone
    done = browser.post(
        f"/admin/{workspace.id}/people/{member_id}/access-code/withdraw", data={"csrftoken": csrf(again)},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"].endswith("?done=code_withdrawn")
    after = browser.get(done.headers["location"]).text
    assert "The access code was withdrawn." in after and "The code was withdrawn on" in after
    refused = browser.post(
        f"/admin/{workspace.id}/people/{member_id}/access-code/withdraw", data={"csrftoken": csrf(after)}
    )
    assert refused.status_code == 409 and "no live access code" in refused.text


def test_the_pages_say_when_a_code_expired_or_the_workspace_requires_single_sign_on(
    ctx: Context, operator: Actor, workspace: Any, clock: Any
) -> None:
    code = access_codes.issue(ctx, operator, frontline(ctx, operator, workspace)).code
    browser = client(ctx)
    token = csrf(browser.get("/code").text)
    with ctx.uow(write=True) as uow:
        uow.workspaces.update(workspace.organization_id, workspace.id, sso_required=True)
        uow.commit()
    sso = browser.post("/code", data={"code": code, "csrftoken": token})
    assert sso.status_code == 422 and "requires single sign-on" in sso.text and "Ana Silva" not in sso.text
    with ctx.uow(write=True) as uow:
        uow.workspaces.update(workspace.organization_id, workspace.id, sso_required=False)
        uow.commit()
    clock.advance(days=31)
    expired = browser.post("/code", data={"code": code, "csrftoken": token})
    assert expired.status_code == 410 and "has expired" in expired.text and 'id="code-error"' in expired.text
    german = browser.post("/code", data={"code": code, "csrftoken": token}, headers={"accept-language": "de"})
    assert "Zugangscode ist abgelaufen" in german.text and 'lang="de"' in german.text
