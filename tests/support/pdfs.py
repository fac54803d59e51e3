"""Reading printed PDFs back in tests: pypdf parses them, and their QR codes are rebuilt from the
page's content stream (the rectangles the sheet drew) and decoded with zxing-cpp."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image) if result.format == zxingcpp.BarcodeFormat.QRCode]


def decode_png(data: bytes) -> list[str]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return decode(image)


def qr_codes(page: object) -> list[str]:
    """The page's QR codes, in the order drawn: each path of unit rectangles after a module-sized
    ``cm`` is rebuilt into an image (4 modules of quiet zone, 6 pixels a module) and decoded."""
    operations = ContentStream(page.get_contents(), page.pdf).operations  # type: ignore[attr-defined]
    found: list[str] = []
    runs: list[tuple[int, int, int]] | None = None
    for operands, operator in operations:
        if operator == b"cm" and float(operands[0]) > 0 and float(operands[3]) < 0:
            runs = []
        elif operator == b"re" and runs is not None:
            x, y, width, height = (float(value) for value in operands)
            assert height == 1 and x == int(x) and y == int(y) and width == int(width)
            runs.append((int(x), int(y), int(width)))
        elif operator == b"f" and runs is not None:
            size = max(x + width for x, _, width in runs)
            image = Image.new("L", ((size + 8) * 6, (size + 8) * 6), 255)
            for x, y, width in runs:
                image.paste(0, ((x + 4) * 6, (y + 4) * 6, (x + 4 + width) * 6, (y + 5) * 6))
            decoded = decode(image)
            assert len(decoded) == 1, "a drawn QR code did not decode"
            found.append(decoded[0])
            runs = None
    return found


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    """Every page's text, one page after another."""
    return "\n".join(page.extract_text() for page in read(pdf).pages)
