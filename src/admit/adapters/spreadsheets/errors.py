"""The one error raised for an uploaded spreadsheet that cannot be read safely.

It is a :class:`~admit.domain.errors.ValidationFailed`, so the web edge answers 422 with its ``code``;
``field`` is the column's header (when one is concerned), ``row`` the row number a person sees in Excel.

Codes (stable, for the importer and the UI)::

    too_large          the upload is larger than allowed
    not_a_spreadsheet  neither CSV nor XLSX by name, or a zip that holds no workbook
    wrong_magic        the content does not match the name (.xlsx that is no zip, .csv that is a zip or binary)
    zip_bomb           too many zip entries, too much uncompressed data, a suspicious compression ratio,
                       or an entry that inflates beyond its declared size
    xml_entities       an XML part declares a DTD or entities (billion laughs, external entities)
    corrupt            a damaged zip or XML part, impossible cell references, rows out of order, or a row
                       wider than a worksheet
    encoding           text that cannot be decoded (broken UTF-16, NUL characters)
    malformed          a CSV record that cannot be read (a field beyond the size limit, or more columns than
                       a worksheet has)
    no_header          the file is empty, or its first non-empty row names no known column
    no_rows            the file has a header row and nothing under it
    duplicate_header   two columns mean the same field
    unknown_columns    unrecognised columns, when the caller does not allow them
    too_many_rows      more data rows than allowed
"""

from __future__ import annotations

from admit.domain.errors import ValidationFailed

CODES = frozenset(
    {
        "too_large",
        "not_a_spreadsheet",
        "wrong_magic",
        "zip_bomb",
        "xml_entities",
        "corrupt",
        "encoding",
        "malformed",
        "no_header",
        "no_rows",
        "duplicate_header",
        "unknown_columns",
        "too_many_rows",
    }
)


class ImportFileError(ValidationFailed):
    """An uploaded file was refused. ``message`` starts with where: ``row 17, column "Email": ...``."""

    code = "import_file"

    def __init__(self, message: str, row: int | None = None, column: str | None = None, *, code: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown import error code {code!r}")
        self.detail = message
        self.row = row
        self.column = column
        super().__init__(_locate(message, row, column), field=column, code=code)


def _locate(message: str, row: int | None, column: str | None) -> str:
    where = []
    if row is not None:
        where.append(f"row {row}")
    if column is not None:
        where.append(f'column "{column}"')
    return f"{', '.join(where)}: {message}" if where else message
