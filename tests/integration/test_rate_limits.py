"""Rate limits on invitations, resends and every SMS (admin.rate_limits), over HTTP and on both
databases: the API's 429 with Retry-After, the console page's message, the CLI's message, the
burst of resends that sends one message and leaves only the newest link working, the per-country
SMS limit, the organization's daily SMS cap (administrators told once), bulk jobs not counted per
person, and counters shared between threads (no spend past a limit)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.api import api_token, client
from support.clock import FixedClock
from support.outbox import messages, token_for
from support.pages import browser_signed_in, csrf
from support.processes import admit

from admit.admin import bulk_invites, invitations, jobs, members, rate_limits, tenancy
from admit.admin.invitations import invite
from admit.admin.profiles import MemberInput
from admit.domain.errors import DomainError, SecretRejected
from admit.domain.roles import Role
from admit.flows.invitation import claims
from admit.flows.recovery import password_reset
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "orchard-lantern-pebble-73"


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    """Each test sets the limits it needs; the defaults are back afterwards."""
    rate_limits.configure()
    yield
    rate_limits.configure()


def _sms_workspace(ctx: Context, org: Any, name: str = "Field") -> Any:
    workspace = tenancy.create_workspace(ctx, Actor.operator("test"), org.id, name)
    client(ctx, api_token(ctx, org.id)).patch(f"/api/v1/workspaces/{workspace.id}", json={"sms_enabled": True})
    return workspace


def _by_phone(n: int, phone: str) -> dict[str, Any]:
    return {"username": f"crew{n}", "phone": phone}


# The API: 429 with Retry-After -------------------------------------------------------------------
def test_the_api_refuses_invitations_past_the_inviters_limit_with_429_and_retry_after(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    rate_limits.configure(invitations_per_inviter=2)
    api = client(ctx, api_token(ctx, org.id))
    url = f"/api/v1/workspaces/{workspace.id}/invitations"
    assert [api.post(url, json={"email": f"p{n}@example.com"}).status_code for n in range(2)] == [201, 201]
    refused = api.post(url, json={"email": "p2@example.com"})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"].startswith("you have sent too many invitations this hour (2 an hour)")
    assert messages(ctx, recipient="p2@example.com") == []  # nothing written, nothing sent
    assert members.list_members(ctx, Actor.operator(), workspace.id, search="p2@") == []
    clock.advance(minutes=59, seconds=30)
    assert api.post(url, json={"email": "p2@example.com"}).headers["Retry-After"] == "30"
    another = client(ctx, api_token(ctx, org.id))  # another inviter has a count of its own
    assert another.post(url, json={"email": "p3@example.com"}).status_code == 201
    clock.advance(seconds=30)  # the window is over
    assert api.post(url, json={"email": "p2@example.com"}).status_code == 201


def test_workspace_and_organization_limits_count_every_inviter(ctx: Context, org: Any, workspace: Any) -> None:
    rate_limits.configure(invitations_per_workspace=2, invitations_per_organization=3)
    second = tenancy.create_workspace(ctx, Actor.operator("test"), org.id, "Second")
    first, other = client(ctx, api_token(ctx, org.id)), client(ctx, api_token(ctx, org.id))
    one = f"/api/v1/workspaces/{workspace.id}/invitations"
    two = f"/api/v1/workspaces/{second.id}/invitations"
    assert first.post(one, json={"email": "a@example.com"}).status_code == 201
    assert other.post(one, json={"email": "b@example.com"}).status_code == 201
    full = other.post(one, json={"email": "c@example.com"})
    assert full.status_code == 429 and "this workspace has sent too many invitations" in full.json()["error"]["message"]
    assert first.post(two, json={"email": "d@example.com"}).status_code == 201
    past = other.post(two, json={"email": "e@example.com"})
    assert past.status_code == 429 and "this organization has sent too many" in past.json()["error"]["message"]
    elsewhere = tenancy.create_organization(ctx, Actor.operator("test"), "Elsewhere", plan="business", seats=5)
    there = tenancy.create_workspace(ctx, Actor.operator("test"), elsewhere.id, "There")
    own = client(ctx, api_token(ctx, elsewhere.id))
    assert own.post(f"/api/v1/workspaces/{there.id}/invitations", json={"email": "f@example.com"}).status_code == 201


def test_creating_a_member_with_invite_counts_as_an_invitation(ctx: Context, org: Any, workspace: Any) -> None:
    rate_limits.configure(invitations_per_inviter=1)
    api = client(ctx, api_token(ctx, org.id))
    url = f"/api/v1/workspaces/{workspace.id}/members"
    assert api.post(url, json={"email": "a@example.com", "invite": True}).status_code == 201
    refused = api.post(url, json={"email": "b@example.com", "invite": True})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert api.post(url, json={"email": "b@example.com"}).status_code == 201  # without an invitation: not limited


# Resends: a burst sends one message, only the newest link works --------------------------------------
def test_ten_quick_resends_send_one_message_and_only_the_newest_link_works(
    ctx: Context, org: Any, workspace: Any, clock: FixedClock
) -> None:
    api = client(ctx, api_token(ctx, org.id))
    created = api.post(f"/api/v1/workspaces/{workspace.id}/invitations", json={"email": "ann@example.com"})
    invitation_id = created.json()["id"]
    first_link = token_for(ctx, "ann@example.com")
    answers = []
    for _ in range(10):
        answers.append(api.post(f"/api/v1/invitations/{invitation_id}/resend", json={}))
        clock.advance(seconds=2)
    assert [a.status_code for a in answers] == [200] + [429] * 9
    assert [int(a.headers["Retry-After"]) for a in answers[1:]] == list(range(58, 40, -2))
    assert answers[-1].json()["error"]["code"] == "resent_too_soon"
    assert "its newest link stays the one that works" in answers[-1].json()["error"]["message"]
    sent = messages(ctx, recipient="ann@example.com", kind="invitation_resent")
    assert len(sent) == 1  # one message within the window
    assert api.get(f"/api/v1/invitations/{invitation_id}").json()["send_count"] == 2
    newest = token_for(ctx, "ann@example.com")
    assert newest != first_link and newest in sent[0]["payload"]["link"]
    with pytest.raises(SecretRejected):
        claims.accept_with_token(ctx, first_link, password=PASSWORD)
    old = client(ctx).post("/api/v1/invitations/accept", json={"token": first_link, "password": PASSWORD})
    assert old.status_code in (400, 404, 410) and old.json()["error"]["code"] != "rate_limited"
    clock.advance(seconds=42)  # the window is over: one more resend goes out
    assert api.post(f"/api/v1/invitations/{invitation_id}/resend", json={}).status_code == 200
    assert len(messages(ctx, recipient="ann@example.com", kind="invitation_resent")) == 2
    with pytest.raises(SecretRejected):
        claims.accept_with_token(ctx, newest, password=PASSWORD)
    latest = token_for(ctx, "ann@example.com")
    done = client(ctx).post("/api/v1/invitations/accept", json={"token": latest, "password": PASSWORD})
    assert done.status_code == 200, done.text


def test_resends_per_inviter_are_limited_across_invitations(ctx: Context, org: Any, workspace: Any) -> None:
    rate_limits.configure(resends_per_inviter=2)
    api = client(ctx, api_token(ctx, org.id))
    ids = [
        api.post(f"/api/v1/workspaces/{workspace.id}/invitations", json={"email": f"p{n}@example.com"}).json()["id"]
        for n in range(3)
    ]
    codes = [api.post(f"/api/v1/invitations/{i}/resend", json={}).status_code for i in ids]
    assert codes == [200, 200, 429]
    assert messages(ctx, recipient="p2@example.com", kind="invitation_resent") == []


# SMS: per country, and the organization's daily cap -------------------------------------------------
def test_sms_are_limited_per_destination_country(ctx: Context, org: Any) -> None:
    rate_limits.configure(sms_per_country=1)
    field = _sms_workspace(ctx, org)
    api = client(ctx, api_token(ctx, org.id))
    url = f"/api/v1/workspaces/{field.id}/invitations"
    assert api.post(url, json=_by_phone(1, "+4915112345678")).status_code == 201
    german = api.post(url, json=_by_phone(2, "+4915198765432"))
    assert german.status_code == 429 and "to DE numbers" in german.json()["error"]["message"]
    assert api.post(url, json=_by_phone(3, "+33612345678")).status_code == 201  # France has its own count
    assert [m["recipient"] for m in messages(ctx) if m["channel"] == "sms"] == ["+4915112345678", "+33612345678"]
    assert rate_limits.country_of("+4915112345678") == "DE" and rate_limits.country_of("nonsense") == "ZZ"


def test_the_daily_sms_cap_refuses_until_midnight_and_tells_the_administrators_once(
    ctx: Context, operator: Actor, org: Any, clock: FixedClock
) -> None:
    rate_limits.configure(sms_daily_cap=2)
    field = _sms_workspace(ctx, org)
    members.provision(ctx, operator, field.id, MemberInput(email="boss@example.com", role="owner"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "boss@example.com"), password=PASSWORD)
    api = client(ctx, api_token(ctx, org.id))
    url = f"/api/v1/workspaces/{field.id}/invitations"
    assert [api.post(url, json=_by_phone(n, f"+4915100000{n:03d}")).status_code for n in range(2)] == [201, 201]
    refused = api.post(url, json=_by_phone(2, "+4915100000002"))
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "sms_daily_cap_reached"
    midnight = datetime.combine(clock.now().date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert refused.headers["Retry-After"] == str(int((midnight - clock.now()).total_seconds()))
    assert "daily SMS limit is reached" in refused.json()["error"]["message"]
    assert api.post(url, json=_by_phone(3, "+4915100000003")).status_code == 429
    notices = messages(ctx, kind="sms_cap_reached")
    assert [n["recipient"] for n in notices] == ["boss@example.com"]  # told once, not once per refusal
    assert api.post(url, json={"email": "mail@example.com"}).status_code == 201  # email still goes out
    clock.at = midnight + timedelta(minutes=1)
    assert api.post(url, json=_by_phone(4, "+4915100000004")).status_code == 201  # a new day
    assert len(messages(ctx, kind="sms_cap_reached")) == 1


def test_bulk_invitations_are_not_counted_per_person_but_their_sms_count_against_the_daily_cap(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    rate_limits.configure(invitations_per_inviter=1, invitations_per_workspace=1, sms_daily_cap=2)
    for n in range(5):
        members.provision(ctx, operator, workspace.id, MemberInput(email=f"p{n}@example.com"), invite=False)
    job = bulk_invites.invite_all(ctx, operator, workspace.id)
    assert jobs.run_next(ctx, job.id) == job.id
    assert jobs.get(ctx, operator, job.id).counts.get("invited") == 5
    field = _sms_workspace(ctx, org)
    for n in range(3):
        members.provision(
            ctx, operator, field.id, MemberInput(username=f"crew{n}", phone=f"+4915100000{n:03d}"), invite=False
        )
    sms_job = bulk_invites.invite_all(ctx, operator, field.id)
    assert jobs.run_next(ctx, sms_job.id) == sms_job.id
    done = jobs.get(ctx, operator, sms_job.id)
    assert done.counts.get("invited") == 2
    assert any("daily SMS limit is reached" in str(line) for line in done.report)
    assert len([m for m in messages(ctx) if m["channel"] == "sms"]) == 2
    assert len(messages(ctx, kind="sms_cap_reached")) == 0  # nobody in Field may manage people: no one to tell


def test_an_identity_providers_sync_is_not_counted_per_person(ctx: Context, org: Any, workspace: Any) -> None:
    rate_limits.configure(invitations_per_inviter=1, invitations_per_workspace=1)
    scim = Actor(ActorKind.SCIM, id="0" * 32, organization_id=org.id, role=Role.ADMIN, name="directory")
    for n in range(3):
        members.provision(ctx, scim, workspace.id, MemberInput(email=f"s{n}@example.com"), invite=True)
    assert len(messages(ctx, kind="invitation")) == 3
    api = client(ctx, api_token(ctx, org.id))
    url = f"/api/v1/workspaces/{workspace.id}/invitations"
    assert api.post(url, json={"email": "x@example.com"}).status_code == 201  # the sync spent none of the hour's one
    assert api.post(url, json={"email": "y@example.com"}).status_code == 429


# The console page and the CLI --------------------------------------------------------------------
def test_the_console_shows_a_resend_refusal_as_a_message(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    members.provision(ctx, operator, workspace.id, MemberInput(email="olga@example.com", role="owner"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "olga@example.com"), password=PASSWORD)
    owner = browser_signed_in(ctx, "olga@example.com", PASSWORD)
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email="ann@example.com"), invite=True)
    url = f"/admin/{workspace.id}/people/{created.id}/invite"
    token = csrf(owner.get(url).text)
    first = owner.post(url, data={"csrftoken": token, "step": "confirm"}, follow_redirects=False)
    assert first.status_code == 303 and "done=resent" in first.headers["location"]
    again = owner.post(url, data={"csrftoken": token, "step": "confirm"}, follow_redirects=False)
    assert again.status_code == 429 and again.headers["content-type"].startswith("text/html")
    assert "this invitation was just sent; its newest link stays the one that works; try again in 60 seconds" in (
        again.text
    )
    assert "Traceback" not in again.text and '"error"' not in again.text
    assert len(messages(ctx, recipient="ann@example.com", kind="invitation_resent")) == 1


def test_the_cli_says_why_an_invitation_is_refused(database_url: str, ctx: Context, workspace: Any) -> None:
    env = {"ADMIT_RATE_INVITATIONS_PER_INVITER": "1"}
    admit(database_url, "invite", workspace.id, "a@example.com", **env)
    refused = admit(database_url, "invite", workspace.id, "b@example.com", check=False, **env)
    assert refused.returncode == 1
    said = " ".join((refused.stdout + refused.stderr).split())
    assert "rate_limited: you have sent too many invitations this hour (1 an hour); try again in" in said
    assert "Traceback" not in said


# Shared counters ----------------------------------------------------------------------------------------
def test_two_threads_never_spend_past_a_limit(ctx: Context, operator: Actor, workspace: Any) -> None:
    rate_limits.configure(invitations_per_workspace=5)
    start = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def inviting(worker: int) -> None:
        start.wait()
        for n in range(6):
            try:
                invite(ctx, operator, workspace.id, MemberInput(email=f"w{worker}-{n}@example.com"))
                result = "sent"
            except DomainError as exc:
                result = exc.code
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=inviting, args=(w,)) for w in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["rate_limited"] * 7 + ["sent"] * 5
    assert len(messages(ctx, kind="invitation")) == 5


def test_a_counter_window_restarts_once_it_is_over(ctx: Context, clock: FixedClock) -> None:
    now = clock.now()
    with ctx.uow(write=True) as uow:
        assert uow.throttles.count_in_window("rate:test", now, now + timedelta(minutes=1)) == (
            1,
            now + timedelta(minutes=1),
        )
        assert uow.throttles.count_in_window("rate:test", now + timedelta(seconds=59), now + timedelta(hours=1)) == (
            2,
            now + timedelta(minutes=1),
        )
        later = now + timedelta(minutes=1)
        assert uow.throttles.count_in_window("rate:test", later, later + timedelta(minutes=1)) == (
            1,
            later + timedelta(minutes=1),
        )
        uow.commit()


def test_limits_refuse_negative_values() -> None:
    with pytest.raises(ValueError, match="sms_daily_cap"):
        rate_limits.configure(sms_daily_cap=-1)


# Every SMS, whatever its kind --------------------------------------------------------------------------
def test_the_daily_sms_cap_counts_every_kind_of_sms_and_refuses_an_access_code_with_429(
    ctx: Context, org: Any, clock: FixedClock
) -> None:
    """An invitation's SMS and an access code's SMS count against the same daily cap; past it the
    access code's SMS is refused as an invitation's is (429, Retry-After to midnight UTC), and
    nothing of the refused request is written."""
    rate_limits.configure(sms_daily_cap=2)
    field = _sms_workspace(ctx, org)
    api = client(ctx, api_token(ctx, org.id))
    made = api.post(f"/api/v1/workspaces/{field.id}/invitations", json=_by_phone(1, "+4915100000001"))
    assert made.status_code == 201, made.text  # SMS 1: an invitation
    code_sms = f"/api/v1/members/{made.json()['member_id']}/access-code/sms"
    assert api.post(code_sms).status_code == 202  # SMS 2: an access code
    refused = api.post(code_sms)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "sms_daily_cap_reached"
    midnight = datetime.combine(clock.now().date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert refused.headers["Retry-After"] == str(int((midnight - clock.now()).total_seconds()))
    assert sorted(m["kind"] for m in messages(ctx) if m["channel"] == "sms") == ["access_code", "invitation"]
    again = api.post(f"/api/v1/workspaces/{field.id}/invitations", json=_by_phone(2, "+4915100000002"))
    assert again.status_code == 429  # the access code's SMS counted for the invitations too


def test_an_access_code_sms_counts_against_the_per_country_limit(ctx: Context, org: Any) -> None:
    rate_limits.configure(sms_per_country=1)
    field = _sms_workspace(ctx, org)
    api = client(ctx, api_token(ctx, org.id))
    made = api.post(f"/api/v1/workspaces/{field.id}/invitations", json=_by_phone(1, "+4915100000001"))
    assert made.status_code == 201, made.text
    refused = api.post(f"/api/v1/members/{made.json()['member_id']}/access-code/sms")
    assert refused.status_code == 429 and "to DE numbers" in refused.json()["error"]["message"]
    assert refused.headers["Retry-After"] == "3600"


def test_a_password_reset_sms_past_the_daily_cap_is_not_sent_and_the_page_says_nothing_more(
    ctx: Context, org: Any, operator: Actor
) -> None:
    """An account's own password reset (no organization) counts as the instance's SMS. Past the
    cap no link is queued, the page is the one anybody sees (a 429 would tell that the number has
    an account), and the link already sent still works."""
    field = _sms_workspace(ctx, org)
    phone = "+4915100000009"
    members.provision(ctx, operator, field.id, MemberInput(username="ida", phone=phone), invite=True)
    invited = next(m for m in messages(ctx) if m["channel"] == "sms")
    claims.accept_with_token(ctx, str(invited["payload"]["link"]).rsplit("/", 1)[1], password=PASSWORD)
    rate_limits.configure(sms_daily_cap=1)
    browser = client(ctx)
    form = {"identifier": phone, "csrftoken": csrf(browser.get("/forgot-password").text)}
    assert browser.post("/forgot-password", data=form).status_code == 200  # the one SMS
    (sent,) = [m for m in messages(ctx, kind="password_reset") if m["channel"] == "sms"]
    again = browser.post("/forgot-password", data=form)
    unknown = browser.post("/forgot-password", data={**form, "identifier": "+4915100000077"})
    assert again.status_code == unknown.status_code == 200
    assert again.text.replace(phone, "X") == unknown.text.replace("+4915100000077", "X")
    assert len([m for m in messages(ctx, kind="password_reset") if m["channel"] == "sms"]) == 1
    token = str(sent["payload"]["link"]).rsplit("/", 1)[1]
    password_reset.inspect_reset(ctx, token)  # not revoked by the refused second request


def test_the_cli_says_in_one_line_why_an_access_code_sms_is_refused(
    database_url: str, ctx: Context, org: Any, operator: Actor
) -> None:
    field = _sms_workspace(ctx, org)
    created, _ = members.provision(
        ctx, operator, field.id, MemberInput(username="ida", phone="+4915100000001"), invite=False
    )
    cap = {"ADMIT_SMS_DAILY_CAP_PER_ORGANIZATION": "1"}
    admit(database_url, "code", "sms", created.id, **cap)  # the day's one SMS
    refused = admit(database_url, "code", "sms", created.id, check=False, **cap)
    assert refused.returncode == 1
    said = (refused.stdout + refused.stderr).strip()
    assert said.startswith("Error sms_daily_cap_reached: the organization's daily SMS limit is reached")
    assert len(said.splitlines()) == 1 and "Traceback" not in said


def test_a_reminder_past_the_daily_sms_cap_goes_by_email_only(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    """A reminder's SMS counts against the cap like any other; past it the reminder still goes by
    email (the sweep goes on), and the SMS is not queued."""
    tenancy.update_workspace(ctx, operator, workspace.id, {"sms_enabled": True, "reminder_days": 1})
    invite(ctx, operator, workspace.id, MemberInput(email="jan@example.com", phone="+49 30 901820"))
    invite(ctx, operator, workspace.id, MemberInput(email="eve@example.com", phone="+49 30 901821"))
    clock.advance(days=6)  # the same UTC day count starts again: the invitations' SMS were days ago
    rate_limits.configure(sms_daily_cap=1)
    assert invitations.remind_due(ctx) == 2
    sent = [(m["recipient"], m["channel"]) for m in messages(ctx, kind="invitation_reminder")]
    assert sorted(c for _, c in sent) == ["email", "email", "sms"], sent  # one SMS, both emails


def test_the_administrators_are_told_whichever_kind_of_sms_meets_the_cap(
    ctx: Context, operator: Actor, org: Any
) -> None:
    """An access code's SMS refused by the daily cap rolls back with its request, and the notice
    to the administrators is still written (in a transaction of its own), once a day."""
    field = _sms_workspace(ctx, org)
    members.provision(ctx, operator, field.id, MemberInput(email="boss@example.com", role="owner"), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, "boss@example.com"), password=PASSWORD)
    created, _ = members.provision(
        ctx, operator, field.id, MemberInput(username="ida", phone="+4915100000001"), invite=False
    )
    rate_limits.configure(sms_daily_cap=1)
    api = client(ctx, api_token(ctx, org.id))
    code_sms = f"/api/v1/members/{created.id}/access-code/sms"
    assert api.post(code_sms).status_code == 202
    assert api.post(code_sms).status_code == 429
    (notice,) = messages(ctx, kind="sms_cap_reached")
    assert notice["recipient"] == "boss@example.com" and notice["payload"]["workspace_name"] == field.name
    assert api.post(code_sms).status_code == 429
    assert len(messages(ctx, kind="sms_cap_reached")) == 1  # once a day
    assert [m["kind"] for m in messages(ctx) if m["channel"] == "sms"] == ["access_code"]  # nothing half-written
