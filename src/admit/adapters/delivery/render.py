"""Rendering messages: one Jinja2 template per kind, translated with Babel catalogs (en, de, fr).

A template defines the blocks ``subject``, ``text`` and ``sms`` (plain text, not escaped) and
``body`` (HTML, escaped: an administrator's personal message can never inject markup), which is
wrapped in the shared HTML layout. The language is the member's, else the workspace's, else
English. The subject is folded onto one line: a workspace or person name with line breaks or
other control characters cannot reach a mail header (or the preview) as anything but a space.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from admit.domain.branding import DEFAULT_ACCENT, is_color
from admit.i18n import catalog, pick_language, runtime_translator

HERE = Path(__file__).parent
KINDS = (
    "invitation",
    "invitation_resent",
    "invitation_reminder",
    "activation",
    "email_verification",
    "password_reset",
    "access_code",
    "invitation_accepted",
    "invitation_declined",
    "terms_updated",
    "reinvite_requested",
    "identifier_added",
    "signup_approved",
    "signup_rejected",
    "scim_brake",
    "address_to_confirm",
    "address_changed",
    "webhook_notice",
    "sms_cap_reached",
    "organization_invitation",
    "organization_merge_refused",
    "sign_in_address_changed",
    "phone_to_confirm",
    "phone_verification",
)
# A phone number's code is texted with the email code's words ("Your verification code is ...").
_TEMPLATE = {"invitation_resent": "invitation", "phone_verification": "email_verification"}
_DEFAULTS: dict[str, Any] = {
    "first_name": None,
    "inviter_name": None,
    "message": None,
    "reminder": False,
    "accent_color": None,
    "logo_url": None,
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str


def translations(language: str) -> Translations:
    return catalog(HERE / "locales" / "messages", language)


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the release: no stat() of each file on every message
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["tr"] = runtime_translator(translations(language))  # gettext() is for literals only
    env.globals["m"] = env.get_template("_macros.jinja").module  # blocks are rendered on their own
    return env


def render(kind: str, language: str, payload: dict[str, Any]) -> Rendered:
    if kind not in KINDS:
        raise ValueError(f"no template for message kind {kind!r}")
    language = pick_language(language)
    env = environment(language)
    template = env.get_template(f"{_TEMPLATE.get(kind, kind)}.jinja")
    values = {**_DEFAULTS, **payload, "reminder": kind == "invitation_resent", "language": language}
    # The workspace's branding, checked again here: a colour of the stored shape, an http(s) logo URL.
    values["accent_color"] = values["accent_color"] if is_color(values["accent_color"]) else DEFAULT_ACCENT
    logo = values["logo_url"]
    values["logo_url"] = logo if isinstance(logo, str) and logo.startswith(("https://", "http://")) else None
    if isinstance(values.get("expires_at"), str):
        values["expires"] = (
            format_datetime(datetime.fromisoformat(values["expires_at"]), "medium", tzinfo=UTC, locale=language)
            + " UTC"
        )
    subject = one_line(_block(template, "subject", values))
    body = Markup(_block(template, "body", values).strip())  # noqa: S704 - rendered with autoescape on
    layout = env.get_template("_layout.jinja")
    footer = translations(language).gettext("Sent by Admit on behalf of %(workspace)s.") % {
        "workspace": values.get("workspace_name") or "Admit"
    }
    html = layout.render(
        subject=subject,
        body=body,
        language=language,
        footer=footer,
        logo_url=values["logo_url"],
        logo_alt=values.get("workspace_name") or "",
    )
    text = _block(template, "text", values).strip() + "\n\n-- \n" + footer + "\n"
    return Rendered(subject=subject, text=text, html=html, sms=one_line(_block(template, "sms", values)))


def one_line(text: str) -> str:
    """``text`` on one line: control characters and line or paragraph separators become spaces,
    and runs of white space one space."""
    return " ".join("".join(" " if unicodedata.category(c) in _BREAKS else c for c in text).split())


_BREAKS = frozenset({"Cc", "Zl", "Zp"})


def _block(template: Template, name: str, values: dict[str, Any]) -> str:
    context = template.new_context(values)
    return "".join(template.blocks[name](context))
