"""The typed records services receive are built positionally from database rows: their fields
must be the tables' columns, in the tables' order. The views services return read them as of now
and keep internal fields inside."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Table

from admit.adapters.persistence import tables as t
from admit.admin.invitations import InvitationView, view
from admit.domain.records import Invitation, Member, Workspace
from admit.entrypoints.web.api.schemas import InvitationOut

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("record", "table"), [(Workspace, t.workspaces), (Member, t.members), (Invitation, t.invitations)]
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
