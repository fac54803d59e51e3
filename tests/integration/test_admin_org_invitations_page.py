"""The organization area's invitations page (issue 17), on both databases: linked from the
organization page; a system administrator invites (errors next to the field, what was typed kept),
sees each invitation's state, dates and a refused merge's reason (escaped), and withdraws a
pending one through a confirmation page and a POST with the CSRF token; a workspace owner who is
not a system administrator is refused and another organization is not found."""

from __future__ import annotations

import pytest
from support.org_worlds import PersonSpec, build, signed_in
from support.outbox import messages
from support.pages import browser_signed_in, csrf

from admit.admin import organization_invitations as oi
from admit.shared.context import Actor, Context

PASSWORD = "x" * 20  # support.org_worlds' accounts


def test_a_system_administrator_invites_lists_and_withdraws(ctx: Context, operator: Actor) -> None:
    acme = build(
        ctx, operator, "Acme", seats=1, enforced=True,
        people=[PersonSpec("boss@acme.example", org_role="system_admin")],
    )  # fmt: skip
    build(
        ctx, operator, "Big <i>", plan="business",
        people=[PersonSpec("bea@big.example", org_role="system_admin"), PersonSpec("bob@big.example")],
    )  # fmt: skip
    browser = browser_signed_in(ctx, "boss@acme.example", PASSWORD)
    area = browser.get(f"/admin/org/{acme.org.id}").text
    assert f'href="/admin/org/{acme.org.id}/invitations"' in area
    page = browser.get(f"/admin/org/{acme.org.id}/invitations")
    assert page.status_code == 200 and "No invitations yet." in page.text
    bad = browser.post(
        f"/admin/org/{acme.org.id}/invitations",
        data={"email": "<b>not an address", "language": "de", "csrftoken": csrf(page.text)},
    )
    assert bad.status_code == 422 and 'id="email-error"' in bad.text
    assert 'value="&lt;b&gt;not an address"' in bad.text and '<option value="de" lang="de" selected>' in bad.text
    made = browser.post(
        f"/admin/org/{acme.org.id}/invitations",
        data={"email": "bea@big.example", "language": "fr", "csrftoken": csrf(page.text)},
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"].endswith("/invitations?done=invited")
    [sent] = messages(ctx, recipient="bea@big.example", kind="organization_invitation")
    assert sent["language"] == "fr"
    twice = browser.post(
        f"/admin/org/{acme.org.id}/invitations",
        data={"email": "bea@big.example", "language": "en", "csrftoken": csrf(page.text)},
    )
    assert twice.status_code == 409 and "already has an open invitation" in twice.text
    # The invitee's merge is refused (two licences needed, one free): the list says why, escaped.
    [invitation] = oi.list_invitations(ctx, operator, acme.org.id)
    session = signed_in(ctx, build_account_id(ctx, "bea@big.example"))
    with pytest.raises(oi.MergeRefused):
        oi.accept(ctx, session, invitation_id=invitation.id)
    listed = browser.get(f"/admin/org/{acme.org.id}/invitations").text
    row = listed.split(f'data-org-invitation="{invitation.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Pending" in row and "Merge refused:" in row and "needs 2 free licences" in row
    assert "<i>" not in listed
    confirm_path = f"/admin/org/{acme.org.id}/invitations/{invitation.id}/withdraw"
    assert f'href="{confirm_path}"' in row
    confirm = browser.get(confirm_path)
    assert confirm.status_code == 200 and "Withdraw the invitation to bea@big.example?" in confirm.text
    assert oi.get_invitation(ctx, operator, acme.org.id, invitation.id).state == "pending"  # GET changed nothing
    no_csrf = browser.post(confirm_path, follow_redirects=False)
    assert no_csrf.status_code in (400, 403)
    done = browser.post(confirm_path, data={"csrftoken": csrf(confirm.text)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=withdrawn")
    after = browser.get(done.headers["location"]).text
    assert "The invitation was withdrawn." in after and "Withdrawn" in after and f'href="{confirm_path}"' not in after
    late = browser.get(confirm_path).text
    assert "there is nothing to withdraw" in late
    again = browser.post(confirm_path, data={"csrftoken": csrf(confirm.text)})
    assert again.status_code == 409 and "Only a pending invitation can be withdrawn" in again.text
    assert "Traceback" not in again.text


def build_account_id(ctx: Context, email: str) -> str:
    from support.org_worlds import account

    return account(ctx, email)


def test_the_page_in_german_and_french(ctx: Context, operator: Actor) -> None:
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    oi.invite(ctx, operator, acme.org.id, "pat@example.com")
    browser = browser_signed_in(ctx, "boss@acme.example", PASSWORD)
    german = browser.get(f"/admin/org/{acme.org.id}/invitations", headers={"accept-language": "de"}).text
    assert "Einladungen zum Beitritt zum Konto" in german and "Zurückziehen" in german
    french = browser.get(f"/admin/org/{acme.org.id}/invitations", headers={"accept-language": "fr"}).text
    assert "Invitations à rejoindre le compte" in french and "Retirer" in french


def test_others_are_refused(ctx: Context, operator: Actor) -> None:
    acme = build(
        ctx, operator, "Acme",
        people=[
            PersonSpec("boss@acme.example", org_role="system_admin"), PersonSpec("owen@acme.example", role="owner")
        ],
    )  # fmt: skip
    other = build(ctx, operator, "Other", people=[PersonSpec("olga@other.example", org_role="system_admin")])
    invitation, _ = oi.invite(ctx, operator, acme.org.id, "pat@example.com")
    owner = browser_signed_in(ctx, "owen@acme.example", PASSWORD)
    assert owner.get(f"/admin/org/{acme.org.id}/invitations").status_code == 403
    page = owner.get(f"/admin/{acme.workspaces[0].id}/people").text
    refused = owner.post(
        f"/admin/org/{acme.org.id}/invitations/{invitation.id}/withdraw", data={"csrftoken": csrf(page)}
    )
    assert refused.status_code == 403
    stranger = browser_signed_in(ctx, "olga@other.example", PASSWORD)
    assert stranger.get(f"/admin/org/{acme.org.id}/invitations").status_code == 404
    assert stranger.get(f"/admin/org/{other.org.id}/invitations/{invitation.id}/withdraw").status_code == 404
    own = stranger.get(f"/admin/org/{other.org.id}/invitations").text
    gone = stranger.post(
        f"/admin/org/{other.org.id}/invitations/{invitation.id}/withdraw", data={"csrftoken": csrf(own)}
    )
    assert gone.status_code == 404
    assert oi.get_invitation(ctx, operator, acme.org.id, invitation.id).state == "pending"
