"""Unsent invitations (the Workplace article): "Invite All" and "Choose people to invite" from a
CSV or XLSX file with an Email or External ID column, run as jobs, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from support.outbox import messages

from admit.adapters.spreadsheets import write_csv, write_xlsx
from admit.admin import bulk_invites, jobs, members
from admit.admin.profiles import MemberInput
from admit.domain.errors import ValidationFailed
from admit.shared.context import Actor, Context


def provision(ctx: Context, operator: Actor, workspace: Any, *emails: str, **kw: Any) -> None:
    for n, email in enumerate(emails):
        members.provision(
            ctx, operator, workspace.id, MemberInput(email=email, external_id=f"HR-{n}", **kw), invite=False
        )


def finished(ctx: Context, operator: Actor, job: jobs.JobView) -> jobs.JobView:
    assert jobs.run_next(ctx) == job.id
    return jobs.get(ctx, operator, job.id)


def test_invite_all_invites_every_member_awaiting_invitation_once(
    ctx: Context, operator: Actor, workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_invites, "CHUNK", 2)
    provision(ctx, operator, workspace, "a@example.com", "b@example.com", "c@example.com")
    members.provision(ctx, operator, workspace.id, MemberInput(username="dan", phone="+4915112345678"), invite=False)
    members.provision(ctx, operator, workspace.id, MemberInput(email="live@example.com"), invite=True)
    job = bulk_invites.invite_all(ctx, operator, workspace.id, message="See you Monday")
    assert job.total == 4
    done = finished(ctx, operator, job)
    assert done.state == "done" and done.counts == {"invited": 3, "needs_code": 1}  # no SMS here: dan gets a code
    assert done.report[0]["kind"] == "needs_code" and done.report[0]["reason"].startswith("dan: no email")
    sent = [m for m in messages(ctx, kind="invitation") if m["payload"]["message"] == "See you Monday"]
    assert sorted(m["recipient"] for m in sent) == ["a@example.com", "b@example.com", "c@example.com"]
    again = finished(ctx, operator, bulk_invites.invite_all(ctx, operator, workspace.id))
    assert again.counts == {"needs_code": 1}  # nobody is invited twice


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_choose_people_invites_the_listed_members_and_lists_what_did_not_match(
    ctx: Context, operator: Actor, workspace: Any, kind: str
) -> None:
    provision(ctx, operator, workspace, "a@example.com", "b@example.com", "c@example.com")
    rows = [["A@Example.com"], ["nobody@example.com"], [""], ["b@example.com"], ["a@example.com"]]
    data = write_csv(["E-mail address"], rows) if kind == "csv" else write_xlsx(["Email"], rows)
    job = bulk_invites.invite_listed(ctx, operator, workspace.id, data, f"list.{kind}")
    done = finished(ctx, operator, job)
    assert done.counts == {"invited": 2, "unmatched": 1, "duplicate": 1}  # the empty row 4 is no one
    assert [(e["row"], e["kind"]) for e in done.report] == [(3, "unmatched"), (6, "duplicate")]
    assert {m.email: m.status for m in members.list_members(ctx, operator, workspace.id)} == {
        "a@example.com": "invited",
        "b@example.com": "invited",
        "c@example.com": "provisioned",
    }


def test_choose_people_by_external_id(ctx: Context, operator: Actor, workspace: Any) -> None:
    provision(ctx, operator, workspace, "a@example.com", "b@example.com")
    data = write_csv(["External ID", "Name"], [["HR-1", "Bea"], ["HR-9", "Nobody"]])
    done = finished(ctx, operator, bulk_invites.invite_listed(ctx, operator, workspace.id, data, "ids.csv"))
    assert done.counts == {"invited": 1, "unmatched": 1}
    assert done.report[0]["reason"] == "no member with this External ID"


def test_a_list_without_email_or_external_id_is_refused(ctx: Context, operator: Actor, workspace: Any) -> None:
    with pytest.raises(ValidationFailed, match="Email"):
        bulk_invites.invite_listed(ctx, operator, workspace.id, write_csv(["First name"], [["Ann"]]), "x.csv")


def test_preview_shows_the_invitation_with_the_custom_message(ctx: Context, operator: Actor, workspace: Any) -> None:
    provision(ctx, operator, workspace, "a@example.com", first_name="Alma")
    preview = bulk_invites.preview(ctx, operator, workspace.id, message="Bring <coffee>")
    assert preview.subject == "You are invited to Acme Main"
    assert "Alma" in preview.text and "Bring <coffee>" in preview.text and "Bring &lt;coffee&gt;" in preview.html
