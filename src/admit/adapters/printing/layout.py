"""What the code sheets and the posters share: the fonts, text made safe to print, text fitted to
a width, and QR codes drawn as vector rectangles.

Fonts. Names and workspaces may be in any script, so the PDFs embed a Unicode TrueType font,
DejaVu Sans (and DejaVu Sans Mono for codes), found at the usual places of Debian, Ubuntu,
Fedora and Alpine. On Debian it is the package ``fonts-dejavu-core``, installed with fontconfig
(``fontconfig-config`` depends on it first), so with almost any desktop or browser package, and
with the Debian chromium that ``make test`` installs; a slim container image may lack it
(``apt-get install fonts-dejavu-core``). Without it the PDFs use the PDF's built-in Helvetica and
Courier and print only Latin-1: other characters become ``?``. DejaVu covers Latin, Greek,
Cyrillic, Arabic and Hebrew letters, but not CJK or emoji, which print as empty boxes (fpdf2 logs
the missing glyphs once per document). Right-to-left runs are put in visual order with fpdf2's
Unicode bidi algorithm, but Arabic letters print in their isolated forms: joining them needs text
shaping (HarfBuzz's Python binding, not a dependency). Nothing here raises on any text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.bidi import BidiParagraph

from admit.adapters.printing import qr

FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu
    Path("/usr/share/fonts/dejavu-sans-fonts"),  # Fedora
    Path("/usr/share/fonts/dejavu"),  # Alpine, Arch
    Path("/usr/share/fonts/TTF"),  # Arch
    Path("/usr/local/share/fonts/dejavu"),  # FreeBSD
)
FONT_FILES = {
    ("sans", ""): "DejaVuSans.ttf",
    ("sans", "B"): "DejaVuSans-Bold.ttf",
    ("mono", ""): "DejaVuSansMono.ttf",
    ("mono", "B"): "DejaVuSansMono-Bold.ttf",
}
CORE_FONTS = {"sans": "helvetica", "mono": "courier"}
MAX_CHARS = 300  # longer text is cut before it is measured
ELLIPSIS = "…"


def font_directory() -> Path | None:
    """The first directory holding all four DejaVu files, or None (then Latin-1 core fonts)."""
    for directory in FONT_DIRECTORIES:
        if all((directory / name).is_file() for name in FONT_FILES.values()):
            return directory
    return None


@dataclass
class Document:
    """An A4 portrait FPDF; ``fonts`` is DejaVu's directory, or None for the core fonts. A font file
    is read when first used; use the document in a ``with`` block, which closes them."""

    pdf: FPDF
    fonts: Path | None

    @property
    def unicode(self) -> bool:
        return self.fonts is not None

    def font(self, family: str, style: str, size: float) -> None:
        if self.fonts is None:
            self.pdf.set_font(CORE_FONTS[family], style, size)
            return
        if f"{family}{style}" not in self.pdf.fonts:
            self.pdf.add_font(family, style, self.fonts / FONT_FILES[(family, style)])
        self.pdf.set_font(family, style, size)

    def __enter__(self) -> Document:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes every font file (fpdf2 closes only those it embedded, and only on output)."""
        for font in self.pdf.fonts.values():
            close = getattr(font, "close", None)
            if close is not None:
                close()

    def printable(self, text: str) -> str:
        """``text`` without control or format characters (NUL, bidi overrides), on one line, short
        enough to measure quickly; only Latin-1 (``?`` for the rest) when the core fonts stand in
        for DejaVu."""
        text = str(text)[: MAX_CHARS * 2]
        cleaned = "".join(
            " " if char in "\t\n\r\x0b\x0c\x85\u2028\u2029" else char
            for char in text
            if unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn") or char in "\t\n\r"
        )
        cleaned = " ".join(cleaned.split())[:MAX_CHARS]
        if not self.unicode:
            cleaned = unicodedata.normalize("NFKC", cleaned)
            cleaned = "".join(char if ord(char) < 256 else "?" for char in cleaned)
        return cleaned

    def text(self, x: float, y: float, text: str) -> None:
        """Writes ``text`` (printable, fitted) with its baseline starting at (``x``, ``y``), in visual
        order: Hebrew or Arabic runs reversed by fpdf2's Unicode bidi algorithm."""
        if self.unicode and any(unicodedata.bidirectional(char) in ("R", "AL") for char in text):
            text = BidiParagraph(text).get_reordered_string()
        self.pdf.text(x, y, text)

    def fit(self, text: str, width: float) -> str:
        """``text`` (already printable) cut to ``width`` millimetres in the current font, with an
        ellipsis when it was cut."""
        pdf = self.pdf
        if pdf.get_string_width(text) <= width:
            return text
        ellipsis = ELLIPSIS if self.unicode else "..."
        low, high = 0, len(text)  # the longest prefix that fits with the ellipsis
        while low < high:
            middle = (low + high + 1) // 2
            if pdf.get_string_width(text[:middle].rstrip() + ellipsis) <= width:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + ellipsis

    def shrink(self, family: str, style: str, text: str, width: float, largest: float, smallest: float) -> str:
        """Sets the largest font size (points, steps of 1) at which ``text`` fits ``width``, down to
        ``smallest``; returns the text, cut with an ellipsis if it does not fit even then."""
        size = largest
        self.font(family, style, size)
        text_width = self.pdf.get_string_width(text)
        if text_width > width:
            size = max(smallest, float(int(largest * width / text_width)))
            self.font(family, style, size)
        return self.fit(text, width)

    def wrap(self, text: str, width: float, lines: int) -> list[str]:
        """``text`` broken at spaces into at most ``lines`` lines of ``width`` in the current font."""
        words = text.split(" ")
        result: list[str] = []
        current = ""
        for index, word in enumerate(words):
            candidate = f"{current} {word}" if current else word
            if self.pdf.get_string_width(candidate) <= width or not current:
                current = candidate
                continue
            result.append(current)
            if len(result) == lines - 1:
                current = " ".join(words[index:])
                break
            current = word
        result.append(current)
        return [self.fit(line, width) for line in result[:lines]]

    def qr(self, url: str, x: float, y: float, size: float) -> None:
        """The QR code of ``url`` in the square at (``x``, ``y``) of side ``size`` millimetres, the
        quiet zone included. Drawn as filled rectangles, one per run of dark modules in a row, in
        one path with the module as the unit (``cm``): smaller and faster than an image per code."""
        matrix = qr.modules(url)
        count = len(matrix)
        module = size / (count + 2 * qr.QUIET_ZONE)
        pdf = self.pdf
        k = pdf.k
        left = (x + qr.QUIET_ZONE * module) * k
        top = (pdf.h - y - qr.QUIET_ZONE * module) * k
        scale = module * k
        ops = [f"q 0 g {scale:.4f} 0 0 {-scale:.4f} {left:.2f} {top:.2f} cm"]
        append = ops.append
        for row_index, row in enumerate(matrix):
            start = -1
            for column, dark in enumerate(row):
                if dark:
                    if start < 0:
                        start = column
                elif start >= 0:
                    append(f"{start} {row_index} {column - start} 1 re")
                    start = -1
            if start >= 0:
                append(f"{start} {row_index} {count - start} 1 re")
        append("f Q")
        pdf._out("\n".join(ops))


def new_document(title: str, language: str) -> Document:
    """An empty A4 portrait document using DejaVu (or the core fonts), no automatic page
    breaks, compressed, with ``title`` and ``language`` in its metadata."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator("Admit")
    pdf.set_lang(language)
    document = Document(pdf, font_directory())
    pdf.set_title(document.printable(title))
    return document
