"""Small images for the logo tests, made without an image library: a valid PNG of any size (one
colour, with an optional text chunk) and SVG documents."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (31, 111, 235), *, text: bytes = b"") -> bytes:
    """A ``width``×``height`` PNG of one colour (8-bit RGB); ``text``: a tEXt chunk as well."""
    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    extra = chunk(b"tEXt", b"Comment\x00" + text) if text else b""
    return (
        SIGNATURE
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
    )


def svg(inner: str = '<rect width="10" height="10" fill="#1f6feb"/>', attributes: str = "") -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="0 0 10 10" {attributes}>{inner}</svg>'
    ).encode()
