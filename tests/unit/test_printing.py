"""The printable PDFs and QR codes, read back: pypdf parses the PDFs, and their QR codes are rebuilt
from the page's content stream (the rectangles the sheet drew) and decoded with zxing-cpp."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from support.qr_reading import decode, qr_codes, read

from admit.adapters.printing import layout, posters, qr, sheets
from admit.adapters.printing.sheets import Card

BASE = "https://admit.example.com/code?code="
needs_dejavu = pytest.mark.skipif(
    layout.font_directory() is None, reason="DejaVu (Debian's fonts-dejavu-core) is not installed"
)


def card(number: int, name: str | None = None, workspace: str = "Harbour Bakery") -> Card:
    code = f"K7QM-3XPA-9TRD-{number:04d}"
    return Card(name if name is not None else f"Person {number} Lima", workspace, code, BASE + code)


@pytest.mark.parametrize(("count", "pages"), [(1, 1), (8, 1), (9, 2), (100, 13)])
def test_a_sheet_has_eight_cards_a_page(count: int, pages: int) -> None:
    cards = [card(number) for number in range(count)]
    reader = read(sheets.code_sheet(cards))
    assert len(reader.pages) == pages
    assert all(round(float(page.mediabox.width)) == 595 for page in reader.pages)  # A4
    text = "\n".join(page.extract_text() for page in reader.pages)
    for each in cards:
        assert each.name in text
        assert each.code in text
        assert each.url in text
    assert "Harbour Bakery" in text
    assert "Open the link or scan the code" in text


def test_every_cards_qr_code_decodes_to_its_redeem_url() -> None:
    cards = [card(number) for number in range(11)]
    reader = read(sheets.code_sheet(cards))
    decoded = [url for page in reader.pages for url in qr_codes(page)]
    assert decoded == [each.url for each in cards]


@pytest.mark.parametrize(
    ("language", "instruction", "label"),
    [
        ("en", "then choose your password", "Access code"),
        ("de", "Passwort", "Zugangscode"),
        ("fr", "mot de passe", "Code d'accès"),
        ("de-CH", "Passwort", "Zugangscode"),
        ("xx", "then choose your password", "Access code"),
    ],
)
def test_the_sheet_speaks_the_language(language: str, instruction: str, label: str) -> None:
    reader = read(sheets.code_sheet([card(1)], language=language, title="Bäckerei: Nachtschicht"))
    text = " ".join(reader.pages[0].extract_text().split())
    assert instruction in text
    assert label in text
    assert "Bäckerei: Nachtschicht" in text
    assert reader.metadata is not None and reader.metadata.title == "Bäckerei: Nachtschicht"


HOSTILE = [
    "<script>alert(1)</script> ${7*7} {{ 7*7 }} %PDF-1.4 ) Tj (",
    "Ana\x00Lima\r\nX\x1b[31m\u202eevil",
    "W" * 10_000,
    "שרה כהן",
    "محمد الأحمد",
    "王小明 🧑‍🍳🥐",
    "\ud800 lone surrogate",
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_names_and_workspaces_neither_raise_nor_leave_the_card(value: str) -> None:
    cards = [Card(value, value, "K7QM-3XPA", BASE + "K7QM-3XPA"), Card(value, value, value, BASE + "x")]
    reader = read(sheets.code_sheet(cards, title=value))
    page = reader.pages[0]
    text = page.extract_text()
    assert "\x00" not in text
    assert len(text) < 2_000  # cut with an ellipsis, not 10,000 characters
    assert qr_codes(page) == [BASE + "K7QM-3XPA", BASE + "x"]


@needs_dejavu
def test_right_to_left_names_print_in_visual_order() -> None:
    name = "שרה כהן"
    text = read(sheets.code_sheet([card(1, name=name, workspace="מאפיית הנמל")])).pages[0].extract_text()
    # pypdf reads a line in the order the glyphs sit on the page, left to right, and then applies
    # the bidi algorithm: drawn in stored order, the name would come back reversed ("ןהכ הרש").
    assert name in text
    assert "מאפיית הנמל" in text


@needs_dejavu
def test_a_long_name_is_cut_with_an_ellipsis_within_the_card() -> None:
    document = layout.new_document("t", "en")
    document.font("sans", "B", 13)
    name = document.shrink("sans", "B", "Maximiliane " * 40, sheets.TEXT_WIDTH, 13, 9)
    assert name.endswith("…")
    assert document.pdf.get_string_width(name) <= sheets.TEXT_WIDTH
    assert document.pdf.font_size_pt == 9
    document.close()


def test_a_url_no_qr_code_can_hold_is_a_clear_error() -> None:
    with pytest.raises(qr.TooLong, match="does not fit a QR code"):
        sheets.code_sheet([Card("Ana", "Bakery", "K7QM", BASE + "x" * 2_400)])
    with pytest.raises(ValueError, match="does not fit a QR code"):
        posters.signup_poster("Bakery", None, BASE + "x" * 2_400)


def test_without_dejavu_the_sheet_prints_latin_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "FONT_DIRECTORIES", ())
    cards = [card(1, name="José Müller 王"), card(2, name="W" * 5_000)]
    reader = read(sheets.code_sheet(cards, language="fr"))
    text = reader.pages[0].extract_text()
    assert "José Müller ?" in text
    assert "Code d'accès" in text
    assert qr_codes(reader.pages[0]) == [each.url for each in cards]


def test_the_poster_decodes_to_its_url_and_names_the_department() -> None:
    url = "https://admit.example.com/join/adm_sul_" + "Q" * 43
    reader = read(posters.signup_poster("Bäckerei am Hafen", "Nachtschicht", url, language="de"))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert qr_codes(page) == [url]
    text = page.extract_text()
    assert "Scannen und beitreten" in text
    assert "Bäckerei am Hafen" in text
    assert "Nachtschicht" in text
    assert url in text.replace("\n", "")


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_poster_neither_raises_nor_loses_its_code(value: str) -> None:
    url = "https://admit.example.com/join/" + "x" * 400
    reader = read(posters.signup_poster(value, value or None, url, language=value))
    page = reader.pages[0]
    assert qr_codes(page) == [url]
    assert "Scan to join" in page.extract_text()


def test_png_decodes_to_the_url() -> None:
    url = BASE + "K7QM-3XPA-9TRD-W2HF"
    data = qr.png(url)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert decode(image) == [url]
    small = Image.open(io.BytesIO(qr.png(url, scale=3)))
    assert small.size[0] < image.size[0]
    assert decode(small) == [url]


def test_svg_is_xml_with_the_symbol_and_its_quiet_zone() -> None:
    url = BASE + "K7QM-3XPA-9TRD-W2HF"
    root = ET.fromstring(qr.svg(url))  # noqa: S314 (our own output)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    modules = len(qr.modules(url))
    assert modules == 33  # version 4
    assert root.attrib["viewBox"] == f"0 0 {modules + 8} {modules + 8}"
    assert root.attrib["width"] == f"{modules + 8}mm"
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None and path.attrib["d"].startswith("M4 4.5h7")  # the finder pattern's top row
