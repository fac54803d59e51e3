"""Every message kind renders in every language, safely."""

from __future__ import annotations

import pytest

from admit.adapters.delivery.render import KINDS, render
from admit.i18n import LANGUAGES, pick_language

PAYLOAD = {
    "workspace_name": "Acme",
    "inviter_name": "Jo Admin",
    "message": "<script>alert(1)</script> See you <b>Monday</b>",
    "first_name": "Ann",
    "link": "https://admit.example.test/i/adm_inv_" + "x" * 43,
    "expires_at": "2026-11-29T09:00:00+00:00",
    "code": "493021",
    "expires_minutes": 15,
    "invitee": "ann@example.com",
    "version": "3",
    "address": "ann@example.com",
    "url": "https://hooks.example.com/admit",
    "type": "member.suspended",
    "organization_name": "Acme Corp",  # an invitation to join an organization's account (issue 17)
    "decline_link": "https://admit.example.test/org-invitations/adm_oin_" + "x" * 43 + "?answer=decline",
    "enterprise": False,
    "acquired_name": "Big Co",  # a refused merge, told to the inviting side (issue 17)
    "refusal": "no_licences",
    "reason": "Acme Corp needs 2 free licences",
    "licences_needed": 2,
    "licences_available": 1,
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_every_language(kind: str, language: str) -> None:
    rendered = render(kind, language, PAYLOAD)
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and rendered.sms.strip()
    assert f'<html lang="{language}">' in rendered.html
    assert "{{" not in rendered.text + rendered.html + rendered.sms
    assert "%(" not in rendered.text + rendered.html + rendered.sms


@pytest.mark.parametrize("language", ["de", "fr"])
@pytest.mark.parametrize("kind", KINDS)
def test_german_and_french_are_translated(kind: str, language: str) -> None:
    english, translated = render(kind, "en", PAYLOAD), render(kind, language, PAYLOAD)
    assert translated.subject != english.subject
    assert translated.text != english.text


def test_personal_message_is_escaped_in_html_and_kept_in_text() -> None:
    rendered = render("invitation", "en", PAYLOAD)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<b>Monday</b>" not in rendered.html
    assert "<script>alert(1)</script> See you <b>Monday</b>" in rendered.text


def test_invitation_links_and_sms_stay_short() -> None:
    rendered = render("invitation", "de", PAYLOAD)
    assert PAYLOAD["link"] in rendered.text and f'href="{PAYLOAD["link"]}"' in rendered.html
    assert rendered.sms.endswith(str(PAYLOAD["link"])) and len(rendered.sms) <= 160
    assert rendered.subject == "Erinnerung: Sie sind zu Acme eingeladen" or "eingeladen" in rendered.subject


def test_resend_says_it_is_a_reminder() -> None:
    assert render("invitation_resent", "en", PAYLOAD).subject == "Reminder: you are invited to Acme"
    assert render("invitation", "en", PAYLOAD).subject == "Jo Admin invited you to Acme"
    assert render("invitation", "en", {**PAYLOAD, "inviter_name": None}).subject == "You are invited to Acme"


def test_language_falls_back_to_english() -> None:
    assert pick_language(None, "xx", "fr") == "fr"
    assert pick_language(None) == "en"
    assert "Hello Ann," in render("invitation", "pt", PAYLOAD).text


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="no template"):
        render("surprise", "en", PAYLOAD)
