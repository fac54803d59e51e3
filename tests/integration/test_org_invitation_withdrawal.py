"""Withdrawing an invitation to join an organization's account (issue 17), on both databases: only
a system administrator of the inviting organization (or an owner token, or the operator), only
while pending, audited; the email's link then says the invitation was withdrawn (before and after
sign-in, never a stack trace), the home no longer lists it, and it cannot be answered."""

from __future__ import annotations

from support.api import api_token, client
from support.org_worlds import PersonSpec, build, events
from support.pages import browser_signed_in, csrf

from admit.admin import organization_invitations as oi
from admit.domain.errors import Conflict, LinkGone, NotFound, PermissionDenied
from admit.shared.context import Actor, Context

PASSWORD = "x" * 20  # support.org_worlds' accounts


def _raises(kind: type[Exception], work: object) -> Exception:
    try:
        work()  # type: ignore[operator]
    except kind as exc:
        return exc
    raise AssertionError(f"expected {kind.__name__}")


def test_a_system_administrator_withdraws_a_pending_invitation_and_its_link_says_so(
    ctx: Context, operator: Actor
) -> None:
    acme = build(
        ctx, operator, "Acme",
        people=[PersonSpec("boss@acme.example", org_role="system_admin"), PersonSpec("ann@acme.example", role="owner")],
    )  # fmt: skip
    build(ctx, operator, "Free", plan="free", people=[PersonSpec("fay@free.example")])
    boss = acme.actor("boss@acme.example")
    invitation, token = oi.invite(ctx, boss, acme.org.id, "fay@free.example")
    # A workspace owner who is not a system administrator may not; another organization cannot see it.
    _raises(PermissionDenied, lambda: oi.withdraw(ctx, acme.actor("ann@acme.example"), acme.org.id, invitation.id))
    other = build(ctx, operator, "Other", people=[PersonSpec("olga@other.example", org_role="system_admin")])
    _raises(
        (NotFound, PermissionDenied),  # type: ignore[arg-type]
        lambda: oi.withdraw(ctx, other.actor("olga@other.example"), acme.org.id, invitation.id),
    )
    _raises(NotFound, lambda: oi.withdraw(ctx, other.actor("olga@other.example"), other.org.id, invitation.id))
    withdrawn = oi.withdraw(ctx, boss, acme.org.id, invitation.id)
    assert withdrawn.state == "withdrawn" and withdrawn.answered_at is not None
    assert events(ctx, acme.org.id)[-1] == "org_invitation.withdrawn"
    again = _raises(Conflict, lambda: oi.withdraw(ctx, boss, acme.org.id, invitation.id))
    assert again.code == "not_pending" and "withdrawn" in again.message  # type: ignore[attr-defined]
    # The link: before sign-in and after it, the page says it was withdrawn (410), never a trace.
    anonymous = client(ctx).get(f"/org-invitations/{token}")
    assert anonymous.status_code == 410 and "This invitation was withdrawn" in anonymous.text
    assert "Traceback" not in anonymous.text
    fay = browser_signed_in(ctx, "fay@free.example", PASSWORD)
    shown = fay.get(f"/org-invitations/{token}")
    assert shown.status_code == 410 and "This invitation was withdrawn" in shown.text
    assert fay.get(f"/home/org-invitations/{invitation.id}").status_code == 410
    assert "Invitations to join an account" not in fay.get("/").text
    home = fay.get("/")
    posted = fay.post(f"/org-invitations/{token}/accept", data={"csrftoken": csrf(home.text)}, follow_redirects=False)
    assert posted.status_code == 410 and "This invitation was withdrawn" in posted.text
    gone = _raises(LinkGone, lambda: oi.preview(ctx, token))
    assert gone.code == oi.WITHDRAWN  # type: ignore[attr-defined]
    # A new invitation to the same address may be sent after a withdrawal.
    assert oi.invite(ctx, boss, acme.org.id, "fay@free.example")[0].state == "pending"


def test_an_answered_or_expired_invitation_cannot_be_withdrawn(ctx: Context, operator: Actor, clock: object) -> None:
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    build(ctx, operator, "Free", plan="free", people=[PersonSpec("fay@free.example")])
    boss = acme.actor("boss@acme.example")
    declined, _ = oi.invite(ctx, boss, acme.org.id, "fay@free.example")
    oi.decline(ctx, build_account(ctx, "fay@free.example"), invitation_id=declined.id)
    refused = _raises(Conflict, lambda: oi.withdraw(ctx, boss, acme.org.id, declined.id))
    assert "declined" in refused.message  # type: ignore[attr-defined]
    late, _ = oi.invite(ctx, boss, acme.org.id, "late@example.com")
    clock.advance(days=8)  # type: ignore[attr-defined]
    expired = _raises(Conflict, lambda: oi.withdraw(ctx, boss, acme.org.id, late.id))
    assert "expired" in expired.message  # type: ignore[attr-defined]
    for hostile in ("", "x" * 5000, "a\x00b", 7, None):
        _raises(NotFound, lambda value=hostile: oi.withdraw(ctx, boss, acme.org.id, value))  # type: ignore[misc]


def build_account(ctx: Context, email: str) -> str:
    from support.org_worlds import account

    return account(ctx, email)


def test_the_rest_door_withdraws_with_an_owner_token_and_refuses_the_rest(ctx: Context, operator: Actor) -> None:
    acme = build(ctx, operator, "Acme")
    owner = client(ctx, api_token(ctx, acme.org.id, role="owner"))
    base = f"/api/v1/organizations/{acme.org.id}/invitations"
    made = owner.post(base, json={"email": "pat@example.com"}).json()
    low = client(ctx, api_token(ctx, acme.org.id, role="admin")).post(f"{base}/{made['id']}/withdraw")
    assert low.status_code == 403
    other = build(ctx, operator, "Other")
    foreign = client(ctx, api_token(ctx, other.org.id, role="owner")).post(f"{base}/{made['id']}/withdraw")
    assert foreign.status_code == 404
    done = owner.post(f"{base}/{made['id']}/withdraw")
    assert done.status_code == 200 and done.json()["state"] == "withdrawn", done.text
    assert owner.get(f"{base}/{made['id']}").json()["state"] == "withdrawn"
    twice = owner.post(f"{base}/{made['id']}/withdraw")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "not_pending"
    assert owner.post(f"{base}/{'z' * 400}/withdraw").status_code == 404
