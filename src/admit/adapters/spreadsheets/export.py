"""Files we hand out (import templates, error reports): CSV and XLSX that a spreadsheet opens safely.

Every cell goes through :func:`neutralise` first (OWASP "CSV injection"): a cell that starts like a formula
is prefixed with ``'`` so Excel, LibreOffice and Google Sheets show it as text instead of running it. The
price is that a phone number such as ``+49 30 1234`` is exported as ``'+49 30 1234``.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from itertools import chain

from admit.adapters.spreadsheets.xlsx import build_xlsx

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """``'`` + the cell when it starts with ``= + - @``, a tab or a carriage return; otherwise the cell."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def _cells(values: Iterable[object]) -> list[str]:
    return [neutralise("" if value is None else str(value)) for value in values]


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str = ",") -> bytes:
    """UTF-8 with a BOM (so Excel detects the encoding), CRLF records, quoting where needed; ``None`` -> ``""``."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(_cells(headers))
    writer.writerows(_cells(row) for row in rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8", "replace")


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A minimal workbook (one sheet, bold header, inline strings); cells as for :func:`write_csv`."""
    return build_xlsx(_cells(row) for row in chain([headers], rows))
