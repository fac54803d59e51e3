"""QR codes of a URL, for screens and for print (segno).

Error correction level M (15 % of the symbol may be lost: a crease, a stain, a thumb over a
poster), raised by segno when that needs no larger symbol, and the standard quiet zone of four
modules kept around it: scanners need the white border.
"""

from __future__ import annotations

import io

import segno

ERROR = "m"
QUIET_ZONE = 4  # modules, the standard's minimum


MAX_BYTES = 2_331  # the largest symbol (version 40) at level M, in byte mode


class TooLong(ValueError):
    """The URL does not fit a QR code (more than ``MAX_BYTES`` bytes of UTF-8)."""


def make(url: str) -> segno.QRCode:
    """The QR code of ``url``; ``TooLong`` (a ValueError) if no QR code can hold it. Admit's URLs
    are far shorter: a redeem URL with its code is about 60 bytes (a 33 × 33 symbol)."""
    try:
        return segno.make_qr(str(url), error=ERROR, boost_error=True)
    except segno.DataOverflowError as error:
        raise TooLong(f"a URL of {len(str(url).encode('utf-8', 'replace'))} bytes does not fit a QR code") from error


def modules(url: str) -> tuple[bytearray, ...]:
    """The symbol's rows without the quiet zone: each a bytearray of 0 (light) and 1 (dark)."""
    return make(url).matrix


def png(url: str, scale: int = 10) -> bytes:
    """A PNG of the QR code of ``url``: ``scale`` pixels per module, black on white, quiet zone kept."""
    out = io.BytesIO()
    make(url).save(out, kind="png", scale=max(1, scale), border=QUIET_ZONE)
    return out.getvalue()


def svg(url: str) -> bytes:
    """An SVG of the QR code of ``url`` (UTF-8 XML, one path; sized in millimetres for print)."""
    out = io.BytesIO()
    make(url).save(out, kind="svg", scale=1, border=QUIET_ZONE, unit="mm", xmldecl=True, title=None)
    return out.getvalue()
