"""Read an uploaded people spreadsheet (CSV or XLSX) into rows of canonical fields, refusing hostile files.

Files are hostile until proven otherwise: size first, then the type by magic bytes (the name only says
what is expected), then zip and XML checks (see :mod:`admit.adapters.spreadsheets.xlsx`), then the header.
Row numbers are the ones a person sees in Excel: the header is row 1 when it is the first row, blank rows
and multi-line cells keep the count right.

CSV encodings: a BOM decides (UTF-8, UTF-16, UTF-32). Without one the file is UTF-8 if it decodes as such;
otherwise each *line* that is not valid UTF-8 is read as cp1252 (Windows Latin-1) and the valid lines stay
UTF-8. So a UTF-8 file in which one row was typed in a Latin-1 editor reads correctly everywhere, instead of
turning every "é" of the good rows into "Ã©". ``Table.encoding`` then says ``"utf-8+cp1252"``; a file with
no valid UTF-8 beyond ASCII says ``"cp1252"``. The 5 bytes cp1252 leaves undefined become U+FFFD.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from admit.adapters.spreadsheets.errors import ImportFileError
from admit.adapters.spreadsheets.headers import canonical_field, map_headers
from admit.adapters.spreadsheets.xlsx import MAX_COLUMN, ZIP_MAGIC, Workbook

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
DELIMITERS = (",", ";", "\t", "|")
DUPLICATE_KEYS = ("email", "username", "external_id")
CASELESS_KEYS = frozenset({"email", "username"})

_CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
_XLSX_SUFFIXES = frozenset({".xlsx"})
_OTHER_SPREADSHEETS = {
    ".xls": "an Excel 97-2003 workbook",
    ".xlsm": "a macro-enabled workbook",
    ".xlsb": "a binary Excel workbook",
    ".ods": "an OpenDocument spreadsheet",
    ".numbers": "a Numbers spreadsheet",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EMPTY_ZIP = b"PK\x05\x06"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SAVE_AS = "save it as .xlsx or as CSV (UTF-8)"


@dataclass(slots=True)
class Row:
    """One non-empty data row: ``number`` as Excel shows it, ``values`` for every recognised column (stripped,
    ``""`` when the cell is empty)."""

    number: int
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Row ``row`` has the same ``field`` as the earlier row ``earlier_row``."""

    row: int
    earlier_row: int
    field: str
    value: str
    label: str

    @property
    def message(self) -> str:
        return f"row {self.row} repeats row {self.earlier_row} ({self.label})"


@dataclass(frozen=True, slots=True)
class Table:
    """A file that was read: its headers as written, where each canonical field is, and the data rows."""

    kind: Literal["csv", "xlsx"]
    headers: list[str]
    columns: dict[str, int]
    ignored_columns: list[str]
    rows: list[Row] = field(repr=False)
    header_row: int = 1
    encoding: str | None = None
    delimiter: str | None = None

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def label(self, field: str) -> str:
        """The header as written for a canonical field (``"E-Mail"`` for ``email``)."""
        return self.headers[self.columns[field]]

    def find_duplicates(self, keys: Sequence[str] = DUPLICATE_KEYS) -> list[Duplicate]:
        """:func:`find_duplicates` over this table's rows, labelled with its headers."""
        return find_duplicates(self.rows, keys, labels={name: self.label(name) for name in self.columns})


def read_table(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    allow_unknown_columns: bool = True,
) -> Table:
    """Read an uploaded ``.csv``/``.tsv``/``.txt`` or ``.xlsx`` file (a name without suffix: by content).

    Raises :class:`ImportFileError` (see :mod:`admit.adapters.spreadsheets.errors` for the codes).
    Columns nobody recognises are listed in ``ignored_columns``, or refused with ``unknown_columns`` if
    ``allow_unknown_columns`` is off.
    """
    if len(data) > max_bytes:
        raise ImportFileError(
            f"the file is {_megabytes(len(data))}; at most {_megabytes(max_bytes)} can be imported at once",
            code="too_large",
        )
    kind = _kind(data, filename)
    if kind == "xlsx":
        table = _read_rows("xlsx", Workbook(data).rows(), max_rows)
    else:
        text, encoding = _decode(data)
        delimiter = _sniff(text)
        _count_csv_rows(text, delimiter, max_rows)
        table = _read_rows("csv", _csv_records(text, delimiter), max_rows, encoding=encoding, delimiter=delimiter)
    if table.ignored_columns and not allow_unknown_columns:
        shown = ", ".join(f'"{name}"' for name in table.ignored_columns)
        raise ImportFileError(
            f"unknown column(s) {shown}; rename or remove them",
            row=table.header_row,
            column=table.ignored_columns[0],
            code="unknown_columns",
        )
    return table


def find_duplicates(
    rows: Iterable[Row], keys: Sequence[str] = DUPLICATE_KEYS, *, labels: Mapping[str, str] | None = None
) -> list[Duplicate]:
    """For every row whose key repeats an earlier row's, which row it repeats (one entry per key).

    Email and username compare case-insensitively, other keys exactly; empty values never match. ``labels``
    names the fields in messages (``"row 9 repeats row 4 (E-Mail)"``), defaulting to the field name."""
    labels = labels or {}
    first_seen: dict[tuple[str, str], int] = {}
    found: list[Duplicate] = []
    for row in rows:
        for key in keys:
            value = row.values.get(key, "")
            if not value:
                continue
            seen = first_seen.setdefault((key, value.casefold() if key in CASELESS_KEYS else value), row.number)
            if seen != row.number:
                found.append(Duplicate(row.number, seen, key, value, labels.get(key, key)))
    return found


# --- both formats -----------------------------------------------------------------------------------------


def _read_rows(
    kind: Literal["csv", "xlsx"],
    records: Iterator[tuple[int, Mapping[int, str]]],
    max_rows: int,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Table:
    """The first non-empty record is the header; later non-empty records become rows (at most ``max_rows``)."""
    for number, cells in records:
        if "".join(cells.values()).strip():
            header_row = number
            headers = [cells.get(index, "").strip().lstrip("\ufeff").strip() for index in range(max(cells) + 1)]
            break
    else:
        raise ImportFileError("the file is empty: it has no header row and no data", code="no_header")
    columns, ignored = map_headers(headers, row=header_row)
    wanted = list(columns.items())
    rows: list[Row] = []
    for number, cells in records:
        if not "".join(cells.values()).strip():
            continue
        if len(rows) == max_rows:
            raise _too_many_rows(max_rows, number)
        rows.append(Row(number, {name: _cell(cells.get(index, "")) for name, index in wanted}))
    return Table(kind, headers, columns, ignored, rows, header_row, encoding, delimiter)


def _kind(data: bytes, filename: str) -> Literal["csv", "xlsx"]:
    """What the name promises, checked against the first bytes."""
    path = PurePosixPath(filename.replace("\\", "/"))
    suffix, filename = path.suffix.lower(), path.name or "the file"
    zipped = data.startswith((ZIP_MAGIC, _EMPTY_ZIP))
    if suffix in _OTHER_SPREADSHEETS:
        raise ImportFileError(f"{filename} is {_OTHER_SPREADSHEETS[suffix]}; {_SAVE_AS}", code="not_a_spreadsheet")
    if suffix in _XLSX_SUFFIXES or (not suffix and zipped):
        if data.startswith(ZIP_MAGIC):
            return "xlsx"
        if data.startswith(_OLE_MAGIC):
            raise ImportFileError(
                f"{filename} is an Excel 97-2003 or password-protected workbook; save it as .xlsx without a password",
                code="wrong_magic",
            )
        raise ImportFileError(
            f"{filename} is not an Excel workbook (it is not a zip archive); {_SAVE_AS}", code="wrong_magic"
        )
    if suffix and suffix not in _CSV_SUFFIXES:
        raise ImportFileError(f"{filename} is neither CSV nor XLSX; {_SAVE_AS}", code="not_a_spreadsheet")
    if zipped:
        raise ImportFileError(
            f"{filename} is named like a CSV file but is a zip archive (an Excel workbook?); upload it as .xlsx",
            code="wrong_magic",
        )
    if data.startswith(_OLE_MAGIC):
        raise ImportFileError(f"{filename} is an Excel 97-2003 workbook, not CSV; {_SAVE_AS}", code="wrong_magic")
    return "csv"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# --- CSV --------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with (see the module docstring)."""
    bom, codec = next(((bom, codec) for bom, codec in _BOMS if data.startswith(bom)), (b"", "utf-8"))
    if codec in ("utf-16", "utf-32"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].decode(codec, "replace").count("\n") + 1
            raise ImportFileError(
                f"the file starts as {codec.upper()} but byte {exc.start:,} (line {line}) is not valid {codec.upper()}",
                code="encoding",
            ) from exc
        if "\x00" in text:
            raise ImportFileError("the file contains NUL characters; it is not a text file", code="encoding")
        return text, codec
    if b"\x00" in data:
        raise ImportFileError(
            f"the file contains binary data (NUL bytes), so it is not a CSV file; {_SAVE_AS}", code="wrong_magic"
        )
    body = data[len(bom) :]
    try:
        return body.decode("utf-8"), codec
    except UnicodeDecodeError:
        pass
    lines: list[str] = []
    utf8_beyond_ascii = False
    for raw in body.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
            utf8_beyond_ascii = utf8_beyond_ascii or not raw.isascii()
        except UnicodeDecodeError:
            lines.append(raw.decode("cp1252", "replace"))
    return "\n".join(lines), f"{codec}+cp1252" if utf8_beyond_ascii else "cp1252"


def _sniff(text: str) -> str:
    """The delimiter of the header line: the candidate that splits it into the most known headers, then into
    the most columns; ``,`` when the line has none of them (a single column)."""
    head = text[: 64 * 1024]
    line = next((candidate for candidate in head.splitlines() if candidate.strip(" \t,;|\"'")), "")
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        if delimiter not in line:
            continue
        fields = next(csv.reader([line], delimiter=delimiter), [])
        score = (sum(canonical_field(name) is not None for name in fields), len(fields))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _count_csv_rows(text: str, delimiter: str, max_rows: int) -> None:
    """Refuse a CSV file with too many rows before any row is built: counting is ~20x faster than reading."""
    if text.count("\n") + text.count("\r") < max_rows + 1:
        return  # fewer line breaks than allowed records: nothing to count
    seen = 0
    try:
        for number, record in enumerate(_csv_reader(text, delimiter), start=1):
            if "".join(record).strip():
                seen += 1
                if seen > max_rows + 1:  # the header is not a data row
                    raise _too_many_rows(max_rows, number)
    except csv.Error:
        return  # reading reports it, with the row


def _too_many_rows(max_rows: int, number: int) -> ImportFileError:
    return ImportFileError(
        f"the file has more than {max_rows:,} data rows; split it into smaller files", row=number, code="too_many_rows"
    )


def _csv_reader(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, dict[int, str]]]:
    """(record number, {column: text}); a record is a spreadsheet row even when a quoted cell spans lines."""
    number = 0
    try:
        for record in _csv_reader(text, delimiter):
            number += 1
            if len(record) > MAX_COLUMN:
                raise ImportFileError(f"the row has more than {MAX_COLUMN:,} columns", row=number, code="malformed")
            yield number, dict(enumerate(record))
    except csv.Error as exc:
        raise ImportFileError(f"the CSV record cannot be read ({exc})", row=number + 1, code="malformed") from exc


def _cell(raw: str) -> str:
    """A cell's value, stripped; a ``'`` that neutralised a formula trigger on export (ours or a
    spreadsheet's text marker) is dropped, so exported phone numbers (``'+49…``) import again."""
    value = raw.strip()
    if value.startswith("'") and value[1:2] in ("=", "+", "-", "@"):
        return value[1:]
    return value
