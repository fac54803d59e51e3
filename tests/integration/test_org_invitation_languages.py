"""Organization invitations' refusals and errors are said by their code in the reader's language
(issue 17), on both databases: a German invitee reads why an enterprise account cannot be
acquired and why a merge waits for licences in German (the English reason stays on the
invitation for the API and the audit); the inviting side's console says the refusal in its
administrator's language; a French link without an account offers to create one in French."""

from __future__ import annotations

from sqlalchemy import update
from support.api import client
from support.org_worlds import PersonSpec, build
from support.pages import browser_signed_in, csrf

from admit.adapters.persistence import tables as t
from admit.admin import organization_invitations as oi
from admit.shared.context import Actor, Context

PASSWORD = "x" * 20  # support.org_worlds' accounts


def _speaks(ctx: Context, account_id: str, language: str) -> None:
    with ctx.uow(write=True) as uow:
        uow.conn.execute(update(t.accounts).where(t.accounts.c.id == account_id).values(language=language))  # type: ignore[attr-defined]
        uow.commit()


def test_a_german_invitee_reads_the_enterprise_refusal_in_german(ctx: Context, operator: Actor) -> None:
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    corp = build(
        ctx, operator, "Corp", plan="enterprise", people=[PersonSpec("eva@corp.example", org_role="system_admin")]
    )
    _speaks(ctx, corp.accounts["eva@corp.example"], "de")
    invitation, _ = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "eva@corp.example")
    browser = browser_signed_in(ctx, "eva@corp.example", PASSWORD)
    shown = browser.get(f"/home/org-invitations/{invitation.id}", headers={"accept-language": "en"})
    assert shown.status_code == 200 and '<html lang="de"' in shown.text
    assert "Diese Einladung kann jetzt nicht angenommen werden:" in shown.text
    assert "Die Systemadministration eines Enterprise-Tarifs kann nicht durch eine Einladung" in shown.text
    assert "cannot be acquired" not in shown.text and "Accept and join" not in shown.text


def test_a_merge_waiting_for_licences_is_said_in_german_on_both_sides(ctx: Context, operator: Actor) -> None:
    acme = build(
        ctx, operator, "Acme", seats=1, enforced=True, people=[PersonSpec("boss@acme.example", org_role="system_admin")]
    )
    hooli = build(
        ctx, operator, "Hooli", people=[
            PersonSpec("gavin@hooli.example", org_role="system_admin"), PersonSpec("dinesh@hooli.example"),
            PersonSpec("jared@hooli.example"),
        ],
    )  # fmt: skip
    _speaks(ctx, hooli.accounts["gavin@hooli.example"], "de")
    _speaks(ctx, acme.accounts["boss@acme.example"], "de")
    invitation, _ = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "gavin@hooli.example")
    browser = browser_signed_in(ctx, "gavin@hooli.example", PASSWORD)
    shown = browser.get(f"/home/org-invitations/{invitation.id}")
    german = "Acme braucht 3 freie Lizenzen für die übernommenen lizenzierten Benutzer und hat 0"
    assert german in shown.text and "needs 3 free licences" not in shown.text
    refused = browser.post(
        f"/home/org-invitations/{invitation.id}/accept", data={"csrftoken": csrf(shown.text)}, follow_redirects=False
    )
    assert refused.status_code == 409 and refused.text.count(german) == 1
    assert "needs 3 free licences" not in refused.text
    kept = oi.get_invitation(ctx, acme.actor("boss@acme.example"), acme.org.id, invitation.id)
    assert kept.refusal is not None and kept.refusal.startswith("Acme needs 3 free licences")  # English for the audit
    assert kept.refusal_code == "no_licences" and kept.refusal_numbers == {"needed": 3, "available": 0}
    api = client(ctx, _session(ctx, "boss@acme.example")).get(f"/api/v1/organizations/{acme.org.id}/invitations")
    assert api.json()[0]["refusal"] == kept.refusal and api.json()[0]["refusal_code"] == "no_licences"
    console = browser_signed_in(ctx, "boss@acme.example", PASSWORD).get(f"/admin/org/{acme.org.id}/invitations")
    assert console.status_code == 200 and "Zusammenführung abgelehnt:" in console.text
    assert german in console.text and "needs 3 free licences" not in console.text


def _session(ctx: Context, email: str) -> str:
    answer = client(ctx).post("/api/v1/sessions", json={"identifier": email, "password": PASSWORD})
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["token"])


def test_a_french_link_without_an_account_offers_the_account_in_french(ctx: Context, operator: Actor) -> None:
    acme = build(ctx, operator, "Acme", people=[PersonSpec("boss@acme.example", org_role="system_admin")])
    _, token = oi.invite(ctx, acme.actor("boss@acme.example"), acme.org.id, "zoe@new.example", language="fr")
    browser = client(ctx)
    shown = browser.get(f"/org-invitations/{token}", headers={"accept-language": "en"})
    assert shown.status_code == 200 and '<html lang="fr"' in shown.text
    assert "Créer votre compte" in shown.text and "Au moins 15 caractères" in shown.text
    weak = browser.post(
        f"/org-invitations/{token}/create", data={"csrftoken": csrf(shown.text), "password": ""}, follow_redirects=False
    )
    assert weak.status_code == 422 and "Choisissez un mot de passe pour créer votre compte." in weak.text
    console = browser_signed_in(ctx, "boss@acme.example", PASSWORD)
    page = console.get(f"/admin/org/{acme.org.id}/invitations")
    twice = console.post(
        f"/admin/org/{acme.org.id}/invitations",
        data={"email": "zoe@new.example", "language": "fr", "csrftoken": csrf(page.text)},
        headers={"accept-language": "fr"},
    )
    assert twice.status_code == 409 and "Cette adresse a déjà une invitation en attente." in twice.text
