"""Languages (en, de, fr) and their gettext catalogs, compiled from .po files when first used.

Templates translate literal texts with ``gettext``/``{% trans %}`` and a message known only at run
time (a domain error that may quote what someone typed or uploaded) with ``tr``: Jinja's
``gettext`` marks its result safe, so it must never be given anything but a literal.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup, escape

LANGUAGES = ("en", "de", "fr")


@cache
def catalog(path: Path, language: str) -> Translations:
    """The compiled catalog at ``path/<language>/LC_MESSAGES/<domain>.po`` (empty for English)."""
    po_file = path.parent / language / "LC_MESSAGES" / f"{path.name}.po"
    if not po_file.exists():
        return Translations()
    with po_file.open("rb") as po:
        messages = read_po(po, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, messages)
    buffer.seek(0)
    return Translations(fp=buffer)


def runtime_translator(translations: Translations) -> Callable[[object], Markup]:
    """The templates' ``tr``: a runtime message translated when the catalog has it, always
    escaped and never %-formatted (it may contain what a user typed, markup or ``%`` included)."""

    def tr(message: object) -> Markup:
        return escape(translations.gettext(str(message)))

    return tr


def pick_language(*candidates: str | None) -> str:
    return next((c for c in candidates if c in LANGUAGES), "en")


def negotiate(accept_language: str | None) -> str | None:
    """The best of our languages in an Accept-Language header, or None."""
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((quality, tag.split("-")[0].lower()))
    return next((tag for _, tag in sorted(ranked, key=lambda r: -r[0]) if tag in LANGUAGES), None)
