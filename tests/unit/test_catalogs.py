"""Every text in the pages and messages is translated into German and French."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from admit.domain.passwords import PasswordPolicy

SRC = Path(__file__).resolve().parents[2] / "src" / "admit"
PAGES = [
    "welcome*.html",
    "dead_link.html",
    "declined.html",
    "joined.html",
    "sign_in.html",
    "forgot_password*.html",
    "reset*.html",
    "home.html",
    "landing.html",
    "asked_again.html",
    "terms.html",
    "admin_*.html",
    "change_password.html",
    "sso_*.html",
    "sign_up_*.html",
    "form_refused.html",
    "oidc_*.html",
    "code_*.html",
    "add_email.html",
    "add_phone.html",
    "_org_*.html",
]


def _messages(folder: Path, patterns: list[str]) -> set[str]:
    method_map = [(pattern, "jinja2.ext:babel_extract") for pattern in patterns]
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(folder), method_map=method_map, options_map={"**": {"extensions": "jinja2.ext.i18n"}}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("language", ["de", "fr"])
def test_every_page_text_and_password_rule_is_translated(language: str) -> None:
    wanted = _messages(SRC / "entrypoints" / "web" / "templates", PAGES)
    wanted |= {rule.text for name in ("length", "composition") for rule in PasswordPolicy.named(name).rules()}
    with (SRC / "entrypoints" / "web" / "locales" / language / "LC_MESSAGES" / "pages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    missing = sorted(m for m in wanted if not (catalog.get(m) and catalog.get(m).string))
    assert missing == []


@pytest.mark.parametrize("language", ["de", "fr"])
def test_every_message_text_is_translated(language: str) -> None:
    wanted = _messages(SRC / "adapters" / "delivery" / "templates", ["*.jinja"])
    with (SRC / "adapters" / "delivery" / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    missing = sorted(m for m in wanted if not (catalog.get(m) and catalog.get(m).string))
    assert missing == []
