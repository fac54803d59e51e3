"""Sign-up posters: one A4 page with a big QR code of a department's sign-up link::

    pdf = signup_poster("Harbour Bakery", "Night shift", "https://admit.example.com/join/…", language="fr")

The page shows "Scan to join" in the language (English, German, French), the workspace, the
department when there is one, the QR code (13 cm, readable from a few metres) and the URL
for those who type it. Long values are cut with an ellipsis, long URLs are broken over up to four
lines; nothing raises on any text. See ``layout`` for the fonts.
"""

from __future__ import annotations

from admit.adapters.printing.layout import Document, new_document

PAGE_WIDTH = 210.0
MARGIN = 20.0
WIDTH = PAGE_WIDTH - 2 * MARGIN
QR_SIZE = 130.0

TEXTS = {
    "en": {"scan": "Scan to join", "or": "Or open this address in a browser:", "title": "Sign up"},
    "de": {
        "scan": "Scannen und beitreten",
        "or": "Oder öffnen Sie diese Adresse im Browser:",
        "title": "Registrierung",
    },
    "fr": {
        "scan": "Scannez pour rejoindre",
        "or": "Ou ouvrez cette adresse dans un navigateur :",
        "title": "Inscription",
    },
}


def signup_poster(workspace: str, department: str | None, url: str, *, language: str = "en") -> bytes:
    """An A4 poster PDF whose QR code opens ``url`` (the sign-up link, given in full). Raises
    ``qr.TooLong`` (a ValueError) only for a URL no QR code can hold (over 2,331 bytes)."""
    code = str(language)[:2].lower()
    words = TEXTS.get(code, TEXTS["en"])
    with new_document(f"{words['title']}: {workspace}", code if code in TEXTS else "en") as document:
        return _poster(document, words, workspace, department, url)


def _poster(document: Document, words: dict[str, str], workspace: str, department: str | None, url: str) -> bytes:
    pdf = document.pdf
    pdf.add_page()

    def centred(text: str, y: float) -> None:
        document.text((PAGE_WIDTH - pdf.get_string_width(text)) / 2, y, text)

    pdf.set_text_color(0)
    centred(document.shrink("sans", "B", document.printable(words["scan"]), WIDTH, 40, 20), 40)
    centred(document.shrink("sans", "B", document.printable(workspace), WIDTH, 28, 14), 58)
    if department:
        pdf.set_text_color(60)
        centred(document.shrink("sans", "", document.printable(department), WIDTH, 22, 12), 72)
    document.qr(str(url), (PAGE_WIDTH - QR_SIZE) / 2, 82, QR_SIZE)
    pdf.set_text_color(60)
    document.font("sans", "", 11)
    centred(document.fit(document.printable(words["or"]), WIDTH), 226)
    pdf.set_text_color(0)
    document.font("mono", "", 11)
    for number, line in enumerate(_url_lines(document.printable(url), document, 4)):
        centred(line, 236 + 6 * number)
    return bytes(pdf.output())


def _url_lines(url: str, document: Document, lines: int) -> list[str]:
    """``url`` broken (anywhere: URLs have no spaces) into at most ``lines`` lines of the page's
    width in the current font, the last cut with an ellipsis if it is still too long."""
    result: list[str] = []
    rest = url
    while rest and len(result) < lines:
        line = document.fit(rest, WIDTH)
        if line == rest or len(result) == lines - 1:
            result.append(line)
            break
        cut = len(line) - 1  # the ellipsis
        result.append(rest[:cut])
        rest = rest[cut:]
    return result
