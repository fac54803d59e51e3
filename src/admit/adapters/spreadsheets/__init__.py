"""Uploaded people spreadsheets (CSV, XLSX): read them safely, find duplicate rows, write safe exports::

table = read_table(upload, "people.xlsx")      # ImportFileError(code=...) if the file is refused
for row in table.rows:                          # row.number is the row Excel shows
    email = row.values.get("email", "")         # only the recognised columns, stripped
for duplicate in table.find_duplicates():
    report(duplicate.row, duplicate.message)    # "row 9 repeats row 4 (E-Mail)"
template = write_xlsx(["Email", "First name"], [])
"""

from admit.adapters.spreadsheets.errors import ImportFileError
from admit.adapters.spreadsheets.export import neutralise, write_csv, write_xlsx
from admit.adapters.spreadsheets.headers import FIELDS, SYNONYMS, canonical_field
from admit.adapters.spreadsheets.reader import MAX_BYTES, MAX_ROWS, Duplicate, Row, Table, find_duplicates, read_table

__all__ = [
    "FIELDS",
    "MAX_BYTES",
    "MAX_ROWS",
    "SYNONYMS",
    "Duplicate",
    "ImportFileError",
    "Row",
    "Table",
    "canonical_field",
    "find_duplicates",
    "neutralise",
    "read_table",
    "write_csv",
    "write_xlsx",
]
