"""The typed records services receive are built positionally from database rows: their fields
must be the tables' columns, in the tables' order. The views services return read them as of now
and keep internal fields inside."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import Table

from admit.adapters.persistence import tables as t
from admit.admin import identity_providers, jobs, members, outbox, terms
from admit.admin.invitations import InvitationView, view
from admit.admin.member_view import MemberView, member_view
from admit.domain.records import Account, Invitation, Job, Member, Message, Workspace
from admit.entrypoints.web.api.admin.outbox import MessageOut
from admit.entrypoints.web.api.schemas import (
    IdentityProviderOut,
    InvitationOut,
    JobOut,
    MemberOut,
    MemberPage,
    TermsOut,
    page,
)
from admit.flows.signin.sessions import PublicAccount, public_account

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("record", "table"),
    [
        (Account, t.accounts),
        (Workspace, t.workspaces),
        (Member, t.members),
        (Invitation, t.invitations),
        (Job, t.jobs),
        (Message, t.outbox),
    ],
)
def test_a_records_fields_are_its_tables_columns_in_order(record: type, table: Table) -> None:
    assert record._fields == tuple(column.name for column in table.c)  # type: ignore[attr-defined]


def test_a_record_reads_like_a_row_by_attribute_index_and_mapping() -> None:
    member = Member._make(f"v{n}" for n in range(len(Member._fields)))
    assert member.email == member[8] == member._mapping["email"] == dict(member._mapping)["email"]


def _invitation(state: str = "pending", expires_at: datetime = NOW + timedelta(days=1)) -> Invitation:
    return Invitation(
        id="i1",
        organization_id="o1",
        workspace_id="w1",
        member_id="m1",
        email="ann@example.com",
        phone=None,
        role="member",
        state=state,
        message=None,
        channels=["email"],
        inviter_type="account",
        inviter_id="a1",
        inviter_name="Olga",
        expires_at=expires_at,
        send_count=1,
        reminded_at=None,
        account_id=None,
        created_at=NOW - timedelta(days=6),
        updated_at=NOW - timedelta(days=6),
    )


def test_an_invitation_view_reads_a_lapsed_pending_invitation_as_expired() -> None:
    assert view(_invitation(expires_at=NOW), NOW).state == "expired"
    assert view(_invitation(expires_at=NOW + timedelta(seconds=1)), NOW).state == "pending"
    assert view(_invitation("revoked", expires_at=NOW - timedelta(days=1)), NOW).state == "revoked"


def test_an_invitation_view_has_the_apis_fields_and_not_the_inviters_id() -> None:
    shown = view(_invitation(), NOW)
    assert [f.name for f in fields(InvitationView)] == list(InvitationOut.model_fields)
    assert not hasattr(shown, "inviter_id") and shown.inviter_name == "Olga"
    assert InvitationOut.model_validate(shown).model_dump() == {
        name: getattr(shown, name) for name in InvitationOut.model_fields
    }


def test_an_invitation_view_cannot_be_changed() -> None:
    with pytest.raises(FrozenInstanceError):
        view(_invitation(), NOW).state = "accepted"  # type: ignore[misc]


def _member() -> Member:
    return Member(
        id="m1",
        organization_id="o1",
        workspace_id="w1",
        account_id=None,
        status="invited",
        role="member",
        first_name="Ann",
        last_name="Lee",
        email="ann@example.com",
        username=None,
        phone="+4930901820",
        external_id="HR-1",
        department="Sales",
        job_profile=None,
        language="de",
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
    )


def test_a_member_view_has_the_apis_fields_which_are_the_records_in_order() -> None:
    # member_view converts a record positionally: the orders must agree
    assert [f.name for f in fields(MemberView)] == list(Member._fields) == list(MemberOut.model_fields)
    shown = member_view(_member())
    assert shown == MemberView(**_member()._asdict())
    assert MemberOut.model_validate(shown).model_dump() == _member()._asdict()


def test_a_member_view_takes_the_columns_just_written_and_cannot_be_changed() -> None:
    shown = member_view(_member(), status="suspended", updated_at=NOW)
    assert (shown.status, shown.updated_at, shown.created_at) == ("suspended", NOW, NOW - timedelta(days=1))
    with pytest.raises(FrozenInstanceError):
        shown.status = "active"  # type: ignore[misc]


M2 = "01a21b9697257bcf48f933e952beb8b4"  # ids are 32 hex digits (a cursor names one)


def test_a_page_of_member_views_is_json_objects_with_a_cursor_from_the_last() -> None:
    shown = [member_view(_member()), member_view(_member()._replace(id=M2, created_at=NOW))]
    listing = MemberPage.model_validate(page(shown, limit=2)).model_dump(mode="json")
    assert [item["id"] for item in listing["items"]] == ["m1", M2] and listing["items"][0]["email"] == "ann@example.com"
    assert (
        listing["next_cursor"]
        == members.make_cursor(shown[-1])
        == members.make_cursor(_member()._replace(id=M2, created_at=NOW))
    )
    assert members.parse_cursor(listing["next_cursor"]) == (NOW, M2)
    assert MemberPage.model_validate(page(shown, limit=3)).next_cursor is None


def _job(state: str = "running", position: int = 3, total: int = 4) -> Job:
    return Job(
        id="j1",
        organization_id="o1",
        workspace_id="w1",
        kind="import",
        state=state,
        options={"dry_run": False},
        filename="people.csv",
        upload=b"Email\nann@example.com\n",
        total=total,
        position=position,
        counts={"created": position},
        report=[],
        error=None,
        cancel_requested=False,
        created_by="Olga",
        actor={"kind": "account", "id": "a1", "role": "owner"},
        created_at=NOW,
        updated_at=NOW,
        locked_until=NOW + timedelta(minutes=5),
    )


def test_a_job_view_has_the_apis_fields_and_leaves_the_file_and_the_actor_in_storage() -> None:
    shown = jobs.view(_job())
    assert [f.name for f in fields(jobs.JobView)] == list(JobOut.model_fields)
    assert not any(hasattr(shown, name) for name in ("upload", "actor", "locked_until"))


def test_a_job_views_percent_is_its_position_of_its_total_and_100_once_done() -> None:
    assert jobs.view(_job(position=3, total=4)).percent == 75
    assert jobs.view(_job("done", position=0, total=0)).percent == 100
    assert jobs.view(_job("queued", position=0, total=0)).percent == 0


def _message() -> Message:
    return Message(
        id=7,
        organization_id="o1",
        workspace_id="w1",
        kind="invitation",
        channel="email",
        recipient="ann@example.com",
        language="en",
        subject_id="i1",
        payload={"link": "https://admit.example.com/i/adm_inv_SECRET", "message": "Hello"},
        key="k1",
        state="queued",
        attempts=0,
        next_attempt_at=NOW,
        locked_until=None,
        last_error=None,
        sent_at=None,
        created_at=NOW,
    )


def test_a_message_view_has_no_payload_and_masks_the_secret_in_its_link() -> None:
    shown = outbox.public(_message())
    assert [f.name for f in fields(outbox.MessageView)] == [*MessageOut.model_fields, "link"]
    assert not hasattr(shown, "payload") and shown.link == "https://admit.example.com/i/…"
    assert "SECRET" not in repr(shown)


def test_only_a_revealed_message_view_shows_the_link_with_its_secret() -> None:
    assert outbox.public(_message(), reveal=True).link == "https://admit.example.com/i/adm_inv_SECRET"


def test_no_public_account_has_a_password_hash() -> None:
    account = Account(
        id="a1",
        credential_kind="password",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$SALT$HASH",
        external_issuer=None,
        external_subject=None,
        external_email=None,
        first_name="Ann",
        last_name="Lee",
        language="en",
        status="active",
        must_change_password=False,
        created_at=NOW,
    )
    shown = public_account(account)
    assert "password_hash" not in {f.name for f in fields(PublicAccount)}
    assert not hasattr(shown, "password_hash") and "argon2" not in repr(shown)
    assert [f.name for f in fields(PublicAccount)] == [name for name in Account._fields if name != "password_hash"]
    assert shown.id == "a1" and shown.first_name == "Ann"


def test_a_provider_view_has_the_apis_fields_and_never_the_client_secret() -> None:
    row = SimpleNamespace(
        id="p1",
        organization_id="o1",
        kind="sso",
        name="Contoso",
        issuer="https://login.contoso.example",
        client_id="admit",
        client_secret="SEALED-SECRET",
        scopes=["openid", "email"],
        claims={"groups": "roles"},
        created_at=NOW,
    )
    shown = identity_providers.view(row)
    assert [f.name for f in fields(identity_providers.ProviderView)] == list(IdentityProviderOut.model_fields)
    assert not hasattr(shown, "client_secret") and "SEALED" not in repr(shown) and shown.client_secret_set
    assert shown.claims == {**identity_providers.DEFAULT_CLAIMS, "groups": "roles"}


def test_a_terms_view_has_the_apis_fields_and_not_the_document() -> None:
    assert [f.name for f in fields(terms.TermsView)] == list(TermsOut.model_fields)
    assert not {"document", "id", "organization_id"} & {f.name for f in fields(terms.TermsView)}
