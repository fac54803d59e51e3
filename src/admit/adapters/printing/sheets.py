"""Access-code sheets: an A4 PDF of cards to cut apart, one per person, eight to a page::

    pdf = code_sheet([Card("Ana Lima", "Harbour Bakery", "K7QM-3XPA-9TRD-W2HF",
                           "https://admit.example.com/code?code=K7QM-3XPA-9TRD-W2HF")], language="de")

Each card carries the person's name, the workspace, the code in large monospace type (as given,
grouped), the redeem URL in small type, a QR code of that URL, and one line of instructions in
English, German or French. Cut lines are dashed. Text that does not fit (a 10,000-character name)
is cut with an ellipsis; control characters are dropped; nothing raises on any text. See
``layout`` for the fonts and the scripts they cover.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from admit.adapters.printing.layout import Document, new_document

PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0  # A4, millimetres
COLUMNS, ROWS = 2, 4
CARDS_PER_PAGE = COLUMNS * ROWS
MARGIN_X, TOP = 8.0, 14.0
CARD_WIDTH, CARD_HEIGHT = (PAGE_WIDTH - 2 * MARGIN_X) / COLUMNS, 68.0
PADDING = 5.0
QR_SIZE = 36.0  # the quiet zone included
TEXT_WIDTH = CARD_WIDTH - 2 * PADDING - QR_SIZE - 2
WIDE_TEXT = CARD_WIDTH - 2 * PADDING

TEXTS = {
    "en": {
        "title": "Access codes",
        "instruction": "Open the link or scan the code, then choose your password.",
        "code": "Access code",
        "cut": "Cut along the dashed lines.",
        "page": "Page {page} of {pages}",
    },
    "de": {
        "title": "Zugangscodes",
        "instruction": "Öffnen Sie den Link oder scannen Sie den Code und wählen Sie dann Ihr Passwort.",
        "code": "Zugangscode",
        "cut": "Entlang der gestrichelten Linien ausschneiden.",
        "page": "Seite {page} von {pages}",
    },
    "fr": {
        "title": "Codes d'accès",
        "instruction": "Ouvrez le lien ou scannez le code, puis choisissez votre mot de passe.",
        "code": "Code d'accès",
        "cut": "Découpez le long des pointillés.",
        "page": "Page {page} sur {pages}",
    },
}


@dataclass(frozen=True)
class Card:
    """One person's card: ``url`` is the full redeem URL with the code filled in (the QR code's
    content)."""

    name: str
    workspace: str
    code: str
    url: str


def texts(language: str) -> dict[str, str]:
    """The printed texts in ``language`` ("de", "fr", "de-CH"...), English for any other."""
    return TEXTS.get(str(language)[:2].lower(), TEXTS["en"])


def code_sheet(cards: Sequence[Card], *, language: str = "en", title: str | None = None) -> bytes:
    """The cards as an A4 PDF, eight to a page (one empty page with the header if there are none).
    ``title`` heads every page (default "Access codes" in the language) and names the document.
    Raises ``qr.TooLong`` (a ValueError) only for a URL no QR code can hold (over 2,331 bytes)."""
    words = texts(language)
    with new_document(title or words["title"], language if language in TEXTS else "en") as document:
        return _sheet(document, cards, words, title)


def _sheet(document: Document, cards: Sequence[Card], words: dict[str, str], title: str | None) -> bytes:
    pdf = document.pdf
    heading = document.printable(title or words["title"])
    document.font("sans", "", 8)
    instruction = document.wrap(document.printable(words["instruction"]), TEXT_WIDTH, 3)
    pages = max(1, math.ceil(len(cards) / CARDS_PER_PAGE))
    for page in range(pages):
        pdf.add_page()
        _header(document, heading, words, page + 1, pages)
        chunk = cards[page * CARDS_PER_PAGE : (page + 1) * CARDS_PER_PAGE]
        _cut_lines(document, len(chunk))
        for index, card in enumerate(chunk):
            x = MARGIN_X + (index % COLUMNS) * CARD_WIDTH
            y = TOP + (index // COLUMNS) * CARD_HEIGHT
            _card(document, card, x, y, instruction, words["code"])
    return bytes(pdf.output())


def _header(document: Document, heading: str, words: dict[str, str], page: int, pages: int) -> None:
    pdf = document.pdf
    pdf.set_text_color(0)
    document.font("sans", "B", 10)
    document.text(MARGIN_X, 9, document.fit(heading, 110))
    document.font("sans", "", 8)
    pdf.set_text_color(90)
    right = f"{document.printable(words['cut'])}  {words['page'].format(page=page, pages=pages)}"
    document.text(PAGE_WIDTH - MARGIN_X - pdf.get_string_width(right), 9, right)


def _cut_lines(document: Document, count: int) -> None:
    """Dashed lines around the page's ``count`` cards (filled row by row), each line drawn once."""
    pdf = document.pdf
    pdf.set_draw_color(150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    rows = math.ceil(count / COLUMNS)

    def in_row(row: int) -> int:
        return min(COLUMNS, max(0, count - row * COLUMNS)) if 0 <= row < rows else 0

    for row in range(rows + 1):
        width = max(in_row(row - 1), in_row(row))
        y = TOP + row * CARD_HEIGHT
        pdf.line(MARGIN_X, y, MARGIN_X + width * CARD_WIDTH, y)
    for column in range(COLUMNS + 1):
        height = sum(1 for row in range(rows) if in_row(row) > max(0, column - 1))
        x = MARGIN_X + column * CARD_WIDTH
        if height:
            pdf.line(x, TOP, x, TOP + height * CARD_HEIGHT)
    pdf.set_dash_pattern()


def _card(document: Document, card: Card, x: float, y: float, instruction: list[str], code_label: str) -> None:
    pdf = document.pdf
    left = x + PADDING
    document.qr(str(card.url), x + CARD_WIDTH - PADDING - QR_SIZE + 2, y + 3, QR_SIZE)
    pdf.set_text_color(90)
    document.font("sans", "", 8)
    document.text(left, y + 9, document.fit(document.printable(card.workspace), TEXT_WIDTH))
    pdf.set_text_color(0)
    name = document.shrink("sans", "B", document.printable(card.name), TEXT_WIDTH, 13, 9)
    document.text(left, y + 16, name)
    document.font("sans", "", 8)
    for line_number, line in enumerate(instruction):
        document.text(left, y + 23 + 4 * line_number, line)
    pdf.set_text_color(90)
    document.font("sans", "", 7)
    document.text(left, y + 44, code_label)
    pdf.set_text_color(0)
    code = document.shrink("mono", "B", document.printable(card.code), WIDE_TEXT, 20, 10)
    document.text(left, y + 52, code)
    url = document.shrink("sans", "", document.printable(card.url), WIDE_TEXT, 7, 5)
    document.text(left, y + 60, url)
