"""The pages of an invitation to join an organization's account (issue 17), on both databases:
the email's link shows the invitation before sign-in and the merge plan after it; accepting
after a stale sign-in goes back to the sign-in page; accepting moves the account; the signed-in
home lists the invitation and declining from it changes nothing; hostile names are escaped."""

from __future__ import annotations

from support.api import client
from support.org_worlds import PersonSpec, build, snapshot
from support.pages import browser_signed_in, csrf, sign_in

from admit.admin import organization_invitations as oi
from admit.shared.context import Actor, Context

PASSWORD = "x" * 20  # support.org_worlds' accounts


def test_the_email_link_shows_the_plan_and_a_paid_user_accepts_after_a_fresh_sign_in(
    ctx: Context, operator: Actor, clock: object
) -> None:
    acme = build(ctx, operator, "Acme <b>", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    paid = build(
        ctx, operator, "Pat's", plan="pro", people=[PersonSpec("pat@pro.example", org_role="system_admin")],
        groups={"Crew": ["pat@pro.example"]},
    )  # fmt: skip
    _, token = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "pat@pro.example")
    anonymous = client(ctx).get(f"/org-invitations/{token}")
    assert anonymous.status_code == 200 and "Sign in to answer" in anonymous.text
    assert "Acme &lt;b&gt;" in anonymous.text and "<b>" not in anonymous.text.split("<main", 1)[-1].split("</h1>")[0]
    browser = browser_signed_in(ctx, "pat@pro.example", PASSWORD)
    shown = browser.get(f"/org-invitations/{token}")
    assert shown.status_code == 200 and "What accepting does" in shown.text
    assert "is acquired by Acme &lt;b&gt;" in shown.text and "Workspaces that move: 1" in shown.text
    clock.advance(minutes=6)  # type: ignore[attr-defined]
    stale = browser.post(
        f"/org-invitations/{token}/accept", data={"csrftoken": csrf(shown.text)}, follow_redirects=False
    )
    assert stale.status_code == 303 and stale.headers["location"].startswith("/sign-in?next=/org-invitations/")
    assert snapshot(ctx, paid.org.id)["workspaces"] == [(paid.workspaces[0].id, paid.org.id)]
    assert sign_in(browser, "pat@pro.example", PASSWORD, f"/org-invitations/{token}").status_code == 303
    shown = browser.get(f"/org-invitations/{token}")
    done = browser.post(
        f"/org-invitations/{token}/accept", data={"csrftoken": csrf(shown.text)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/?notice=org_joined"
    assert (paid.workspaces[0].id, acme.org.id) in snapshot(ctx, paid.org.id, acme.org.id)["workspaces"]
    assert browser.get(f"/org-invitations/{token}").status_code == 410


def test_the_home_lists_the_invitation_and_declining_there_changes_nothing(ctx: Context, operator: Actor) -> None:
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    free = build(ctx, operator, "Free", plan="free", people=[PersonSpec("fay@free.example")])
    invitation, _ = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "fay@free.example")
    browser = browser_signed_in(ctx, "fay@free.example", PASSWORD)
    home = browser.get("/")
    assert "Invitations to join an account" in home.text and f"/home/org-invitations/{invitation.id}" in home.text
    shown = browser.get(f"/home/org-invitations/{invitation.id}?answer=decline")
    assert "You become a member of Acme 1 as a licensed user." in shown.text
    assert "Accept and join" not in shown.text  # the decline link asks to decline only
    before = snapshot(ctx, acme.org.id, free.org.id)
    done = browser.post(
        f"/home/org-invitations/{invitation.id}/decline", data={"csrftoken": csrf(shown.text)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/?notice=org_declined"
    assert snapshot(ctx, acme.org.id, free.org.id) == before
    assert "Invitations to join an account" not in browser.get("/").text
    stranger = browser_signed_in(ctx, "boss@acme.example", PASSWORD)
    assert stranger.get(f"/home/org-invitations/{invitation.id}").status_code == 404
    no_csrf = browser.post(f"/home/org-invitations/{invitation.id}/accept", follow_redirects=False)
    assert no_csrf.status_code in (400, 403)


def test_a_merge_refused_for_lack_of_licences_can_be_tried_and_says_why_once(ctx: Context, operator: Actor) -> None:
    """The plan page keeps the accept button when only licences are missing: trying records the
    refusal for the inviting side; the page shows the reason once, with the numbers, and the
    settings that change in words, not column names."""
    acme = build(
        ctx, operator, "Acme", seats=1, enforced=True, people=[PersonSpec("boss@acme.example", org_role="system_admin")]
    )
    hooli = build(
        ctx, operator, "Hooli", people=[
            PersonSpec("gavin@hooli.example", org_role="system_admin"), PersonSpec("dinesh@hooli.example"),
            PersonSpec("jared@hooli.example"),
        ],
    )  # fmt: skip
    invitation, _ = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "gavin@hooli.example")
    browser = browser_signed_in(ctx, "gavin@hooli.example", PASSWORD)
    shown = browser.get(f"/home/org-invitations/{invitation.id}")
    assert "Licences needed: 3; available: 0" in shown.text and "Accept and join" in shown.text
    assert "Licence enforcement becomes the inviting account" in shown.text
    assert "licences_enforced" not in shown.text
    before = snapshot(ctx, acme.org.id, hooli.org.id)
    refused = browser.post(
        f"/home/org-invitations/{invitation.id}/accept", data={"csrftoken": csrf(shown.text)}, follow_redirects=False
    )
    assert refused.status_code == 409
    reason = "Acme needs 3 free licences for the licensed users acquired and has 0"
    assert refused.text.count(reason) == 1 and "Traceback" not in refused.text
    assert snapshot(ctx, acme.org.id, hooli.org.id) == before
    seen = oi.get_invitation(ctx, acme.actor("boss@acme.example"), acme.org.id, invitation.id)
    assert seen.state == "pending" and seen.refusal is not None and reason in seen.refusal
