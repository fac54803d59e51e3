"""The inviting side is told by email when a merge is refused (issue 17), on both databases: the
inviter (a person) and the inviting organization's system administrators each get one message in
their language, saying who could not join and why (licences needed and free), with no link and no
secret; trying again for the same reason sends nothing more; an operator's invitation goes to the
system administrators only."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from support.org_worlds import PersonSpec, build, signed_in
from support.outbox import messages

from admit.adapters.delivery.render import render
from admit.adapters.persistence import tables as t
from admit.admin import organization_invitations as oi
from admit.shared.context import Actor, Context

KIND = "organization_merge_refused"


def _big(ctx: Context, operator: Actor) -> object:
    return build(
        ctx, operator, "Big & Co", plan="business",
        people=[PersonSpec("bea@big.example", org_role="system_admin"), PersonSpec("bob@big.example")],
    )  # fmt: skip


def test_a_refusal_for_want_of_licences_reaches_the_inviter_and_the_system_administrators(
    ctx: Context, operator: Actor
) -> None:
    acme = build(
        ctx, operator, "Acme", seats=4, enforced=True,
        people=[
            PersonSpec("boss@acme.example", org_role="system_admin"),
            PersonSpec("sue@acme.example", org_role="system_admin"),
            PersonSpec("ivy@acme.example", org_role="system_admin"),
        ],
    )  # fmt: skip
    big = _big(ctx, operator)
    invitation, token = oi.invite(ctx, acme.actor("ivy@acme.example"), acme.org.id, "bea@big.example")
    with ctx.uow(write=True) as uow:  # Ivy invited, then stopped being a system administrator: still told
        uow.org_controls.revoke(acme.org.id, acme.accounts["ivy@acme.example"])
        conn = uow.conn  # type: ignore[attr-defined]
        accounts = t.accounts
        conn.execute(update(accounts).where(accounts.c.id == acme.accounts["sue@acme.example"]).values(language="de"))
        uow.commit()
    session = signed_in(ctx, big.accounts["bea@big.example"])  # type: ignore[attr-defined]
    with pytest.raises(oi.MergeRefused) as refused:
        oi.accept(ctx, session, invitation_id=invitation.id)
    assert refused.value.code == "no_licences"
    sent = messages(ctx, kind=KIND)
    assert sorted(m["recipient"] for m in sent) == ["boss@acme.example", "ivy@acme.example", "sue@acme.example"]
    for message in sent:
        payload = message["payload"]
        assert (payload["licences_needed"], payload["licences_available"]) == (2, 1)
        assert token not in str(payload) and "link" not in payload and "adm_" not in str(payload)
    boss = next(m for m in sent if m["recipient"] == "boss@acme.example")
    text = render(KIND, boss["language"], boss["payload"]).text
    assert "bea@big.example tried to accept the invitation to join the account of Acme" in text
    assert "bringing their account Big & Co" in text
    assert "Acme needs 2 free licences for the licensed users who would move and has 1." in text
    sue = next(m for m in sent if m["recipient"] == "sue@acme.example")
    assert sue["language"] == "de"
    german = render(KIND, sue["language"], sue["payload"])
    assert "Acme braucht 2 freie Lizenzen" in german.text and "nicht beitreten" in german.subject
    french = render(KIND, "fr", sue["payload"]).text
    assert "Acme a besoin de 2 licences libres" in french
    # Trying again for the same reason tells no one again.
    with pytest.raises(oi.MergeRefused):
        oi.accept(ctx, signed_in(ctx, big.accounts["bea@big.example"]), invitation_id=invitation.id)  # type: ignore[attr-defined]
    assert len(messages(ctx, kind=KIND)) == 3


def test_an_operators_invitation_refused_as_enterprise_tells_the_system_administrators(
    ctx: Context, operator: Actor
) -> None:
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    umb = build(
        ctx, operator, "Umb", plan="enterprise", people=[PersonSpec("eve@umb.example", org_role="system_admin")]
    )
    invitation, _ = oi.invite(ctx, operator, acme.org.id, "eve@umb.example")
    with pytest.raises(oi.MergeRefused):
        oi.accept(ctx, signed_in(ctx, umb.accounts["eve@umb.example"]), invitation_id=invitation.id)
    [sent] = messages(ctx, kind=KIND)
    assert sent["recipient"] == "boss@acme.example"
    text = render(KIND, "en", sent["payload"]).text
    assert "administers an enterprise account, which cannot be acquired" in text
