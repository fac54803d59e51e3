"""``admit demo`` on both databases: the dev mailbox it leaves behind starts with an invitation to
someone who has not joined, and holds no invitation to a person who is already active (the
owner is active at once, without an invitation)."""

from __future__ import annotations

from support.processes import admit

from admit.adapters.persistence.database import make_engine
from admit.bootstrap import make_uow_factory


def test_the_demo_mailbox_opens_on_a_pending_invitation(database_url: str) -> None:
    admit(database_url, "demo")
    admit(database_url, "demo")  # idempotent: a second run adds no message
    engine = make_engine(database_url)
    try:
        with make_uow_factory(engine)() as uow:
            mailbox = list(uow.outbox.list(limit=200))  # what /dev/mailbox lists, newest first
            assert mailbox, "the demo leaves a message to read"
            first = mailbox[0]
            assert (first.kind, first.recipient) == ("invitation", "sam@demo.example")
            invited = [m for m in mailbox if m.kind == "invitation"]
            for message in invited:
                invitation = uow.invitations.get(None, message.subject_id)
                assert invitation is not None and invitation.state == "pending"
                member = uow.members.get(invitation.organization_id, invitation.member_id)
                assert member is not None and member.status == "invited", message.recipient
            assert "owner@demo.example" not in {m.recipient for m in mailbox}
            owner = uow.accounts.by_identifiers([("email", "owner@demo.example")])
            assert owner is not None and not owner.must_change_password  # the printed password works
    finally:
        engine.dispose()
