"""Rules that once lived only in the pages, driven through the REST API (and the CLI where it has
the command): each fails if the service stops enforcing it."""

from __future__ import annotations

from typing import Any

import pytest
from support.api import api_token, client
from support.outbox import token_for
from support.processes import admit, field

from admit.admin import bulk_invites, imports, invitations, jobs, members, outbox, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import NotFound, PermissionDenied, ValidationFailed
from admit.domain.members import person_names
from admit.flows.invitation import claims
from admit.flows.signin import sessions
from admit.shared.context import Actor, Context

PASSWORD = "juniper-atlas-harbor-52"
CSV = b"Email,First name,Last name\nnew@example.com,New,Person\n"


def _invite(ctx: Context, operator: Actor, workspace: Any, email: str, **names: str) -> str:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email=email, **names))
    return token_for(ctx, email)


def _accept(ctx: Context, token: str, **body: Any) -> Any:
    return client(ctx).post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD, **body})


@pytest.mark.parametrize("first", ["", "A" * 101])
def test_a_sign_up_needs_both_names_of_at_most_100_characters(
    ctx: Context, operator: Actor, workspace: Any, first: str
) -> None:
    token = _invite(ctx, operator, workspace, "uma@example.com")
    with pytest.raises(ValidationFailed) as refused:
        claims.accept_with_token(ctx, token, password=PASSWORD, first_name=first, last_name="Ray", names_required=True)
    assert refused.value.code == ("name_too_long" if first else "name_required")
    [member] = members.list_members(ctx, operator, workspace.id)
    assert member.status == "invited" and member.account_id is None  # nothing was written


def test_a_claim_through_the_api_caps_names_and_keeps_the_administrators(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    token = _invite(ctx, operator, workspace, "ola@example.com", first_name="Ola", last_name="Berg")
    assert _accept(ctx, token).status_code == 200
    claimed = _invite(ctx, operator, workspace, "eve@example.com")
    too_long = _accept(ctx, claimed, first_name="E" * 101, last_name="Stone")
    assert too_long.status_code == 422 and too_long.json()["error"]["field"] == "first_name"
    assert _accept(ctx, claimed, first_name=" Eve ", last_name="Stone").status_code == 200
    names = {m.email: (m.first_name, m.last_name) for m in members.list_members(ctx, operator, workspace.id)}
    assert names == {"ola@example.com": ("Ola", "Berg"), "eve@example.com": ("Eve", "Stone")}


@pytest.mark.parametrize(
    ("first", "last", "code"), [("", "King", "name_required"), ("A" * 101, "King", "name_too_long")]
)
def test_joining_through_sso_needs_names_in_the_service(first: str, last: str, code: str) -> None:
    """sso.join_invitation (the only door an SSO sign-up has) names the account with these."""
    with pytest.raises(ValidationFailed) as refused:
        person_names(first, last)
    assert refused.value.code == code
    assert person_names(" Ada ", "King") == ("Ada", "King")


LONG_MESSAGE = "x" * 2001


def test_a_personal_message_over_2000_characters_is_refused_by_every_use_case(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    person = MemberInput(email="max@example.com")
    attempts = [
        lambda: invitations.invite(ctx, operator, workspace.id, person, message=LONG_MESSAGE),
        lambda: members.provision(ctx, operator, workspace.id, person, invite=True, message=LONG_MESSAGE),
        lambda: bulk_invites.invite_all(ctx, operator, workspace.id, message=LONG_MESSAGE),
        lambda: bulk_invites.preview(ctx, operator, workspace.id, message=LONG_MESSAGE),
        lambda: imports.start(ctx, operator, workspace.id, CSV, "p.csv", invite="now", message=LONG_MESSAGE),
        lambda: bulk_invites.invite_listed(ctx, operator, workspace.id, CSV, "p.csv", message=LONG_MESSAGE),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationFailed) as refused:
            attempt()
        assert refused.value.code == "message_too_long" and refused.value.field == "message"
    invitation, _ = invitations.invite(ctx, operator, workspace.id, person, message="x" * 2000)
    with pytest.raises(ValidationFailed):
        invitations.resend(ctx, operator, invitation.id, message=LONG_MESSAGE)
    assert [m.email for m in members.list_members(ctx, operator, workspace.id)] == ["max@example.com"]
    assert jobs.list_jobs(ctx, operator, workspace.id) == []


def test_the_cli_refuses_a_personal_message_over_2000_characters(database_url: str) -> None:
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Vandelay Main").stdout, "id")
    for command in (["invite", ws, "art@example.com"], ["member", "add", ws, "--email", "art@example.com"]):
        refused = admit(database_url, *command, "--message", LONG_MESSAGE, check=False)
        assert refused.returncode == 1 and "message_too_long" in refused.stderr, refused.stderr
    assert "art@example.com" not in admit(database_url, "member", "list", ws).stdout


@pytest.mark.parametrize("choice", [None, "", "soon", "True"])
def test_an_import_must_choose_to_invite_now_or_later(
    ctx: Context, operator: Actor, workspace: Any, choice: str | None
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        imports.start(ctx, operator, workspace.id, CSV, "p.csv", invite=choice)
    assert refused.value.code == "invite_choice_required" and refused.value.field == "invite"
    assert jobs.list_jobs(ctx, operator, workspace.id) == []


def test_the_api_and_cli_refuse_an_import_without_the_choice(ctx: Context, workspace: Any, org: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    for query in ("", "?invite=", "?invite=soon"):
        refused = api.post(f"/api/v1/workspaces/{workspace.id}/imports{query}", content=CSV)
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "invite"
    assert jobs.list_jobs(ctx, Actor.operator(), workspace.id) == []


def test_a_member_or_job_of_another_workspace_is_not_found_where_a_door_names_a_workspace(
    ctx: Context, operator: Actor, org: Any, workspace: Any
) -> None:
    other = tenancy.create_workspace(ctx, operator, org.id, "Acme Other")
    member, _ = members.provision(ctx, operator, other.id, MemberInput(email="far@example.com"), invite=False)
    job = imports.start(ctx, operator, other.id, CSV, "p.csv", invite="later")
    for use_case in (members.get, members.suspend, members.remove):
        with pytest.raises(NotFound):
            use_case(ctx, operator, member.id, workspace_id=workspace.id)
    for job_case in (jobs.get, jobs.cancel):
        with pytest.raises(NotFound):
            job_case(ctx, operator, job.id, workspace_id=workspace.id)
    assert members.get(ctx, operator, member.id, workspace_id=other.id).status == "provisioned"
    assert jobs.get(ctx, operator, job.id, workspace_id=other.id).state == "queued"


def test_message_links_are_masked_by_the_outbox_service_unless_an_operator_reveals_them(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="lia@example.com"))
    [masked] = outbox.list_messages(ctx, operator, workspace_id=workspace.id)
    assert masked.link.endswith("/i/…") and "adm_inv_" not in str(masked)
    [revealed] = outbox.list_messages(ctx, operator, reveal=True)
    assert revealed.link.endswith(token_for(ctx, "lia@example.com"))
    admin = sessions.authenticate_api_token(ctx, api_token(ctx, org.id))
    with pytest.raises(PermissionDenied):
        outbox.list_messages(ctx, admin, workspace_id=workspace.id, reveal=True)
    listed = client(ctx, api_token(ctx, org.id)).get(f"/api/v1/workspaces/{workspace.id}/messages").text
    assert "adm_inv_" not in listed


def test_the_api_refuses_a_personal_message_over_2000_characters(ctx: Context, workspace: Any, org: Any) -> None:
    api = client(ctx, api_token(ctx, org.id))
    invited = api.post(
        f"/api/v1/workspaces/{workspace.id}/invitations", json={"email": "kim@example.com", "message": LONG_MESSAGE}
    )
    assert invited.status_code == 422 and invited.json()["error"]["field"] == "message"
    queued = api.post(f"/api/v1/workspaces/{workspace.id}/invitations/all", json={"message": LONG_MESSAGE})
    assert queued.status_code == 422
    assert members.list_members(ctx, Actor.operator(), workspace.id) == []


def test_the_cli_refuses_an_import_without_the_choice_or_with_a_long_message(database_url: str, tmp_path: Any) -> None:
    org = field(admit(database_url, "org", "create", "Pendant").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Pendant Main").stdout, "id")
    people = tmp_path / "people.csv"
    people.write_bytes(CSV)
    unchosen = admit(database_url, "import", str(people), "--workspace", ws, check=False)
    assert unchosen.returncode == 2 and "--invite" in unchosen.stderr
    long = admit(
        database_url,
        "import",
        str(people),
        "--workspace",
        ws,
        "--invite",
        "now",
        "--message",
        LONG_MESSAGE,
        check=False,
    )
    assert long.returncode == 1 and "message_too_long" in long.stderr
    assert "new@example.com" not in admit(database_url, "member", "list", ws).stdout
