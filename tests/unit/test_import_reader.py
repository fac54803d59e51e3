"""Reading uploaded people spreadsheets: round trips, header synonyms, row numbers, hostile files, exports."""

from __future__ import annotations

import codecs
import csv
import io
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.import_files import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    MAIN,
    PROLOG,
    SHEET,
    STRINGS,
    csv_bytes,
    declare_size,
    inline_cell,
    row_xml,
    shared_strings_xlsx,
    sheet_xml,
    strings_xml,
    value_cell,
    workbook_parts,
    xlsx,
    zip_bomb,
    zip_parts,
)

from admit.adapters.spreadsheets import (
    FIELDS,
    SYNONYMS,
    ImportFileError,
    Row,
    canonical_field,
    find_duplicates,
    neutralise,
    read_table,
    write_csv,
    write_xlsx,
)
from admit.adapters.spreadsheets.errors import CODES
from admit.adapters.spreadsheets.reader import _cell as read_cell
from admit.adapters.spreadsheets.xlsx import CHUNK, MAX_ENTRIES
from admit.domain.errors import ValidationFailed

HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refused(data: bytes, filename: str, **options: int | bool) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        read_table(data, filename, **options)
    assert caught.value.code in CODES
    return caught.value


def people(table_rows: list[Row]) -> list[tuple[int, dict[str, str]]]:
    return [(row.number, row.values) for row in table_rows]


# --- generated tables read back equal -------------------------------------------------------------------------

STYLES = [
    lambda name: name,
    str.upper,
    str.lower,
    str.title,
    lambda name: name.replace(" ", "_"),
    lambda name: name.replace(" ", "-"),
    lambda name: f"  {name} ",
]


@st.composite
def headings(draw: st.DrawFn) -> list[tuple[str, str]]:
    """(field, header as written) for 2 to 6 distinct fields, each under a random synonym and spelling."""
    fields = draw(st.lists(st.sampled_from(FIELDS), min_size=2, max_size=6, unique=True))
    return [
        (field, draw(st.sampled_from(STYLES))(draw(st.sampled_from((field, *SYNONYMS[field]))))) for field in fields
    ]


# Characters a CSV writer must quote or escape come often, not by chance.
SPECIAL = st.sampled_from([",", ";", "|", "\t", '"', "'", "\n", "\r", " ", "=", "-", "<", "&"])
UNICODE_TEXT = st.text(st.one_of(SPECIAL, st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"])))
# Latin-1 text that cannot be mistaken for UTF-8: no bytes 0x80-0xBF, which UTF-8 needs after a lead byte.
LATIN1_TEXT = st.text(
    st.one_of(SPECIAL, st.sampled_from([chr(code) for code in [*range(0x20, 0x7F), *range(0xC0, 0x100)]]))
)
XML_TEXT = st.text(
    st.one_of(SPECIAL, st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="\ufffe\uffff"))
)


@st.composite
def csv_cases(draw: st.DrawFn) -> tuple[bytes, list[str], dict[str, int], list[tuple[int, dict[str, str]]], str, str]:
    heads = draw(headings())
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "latin-1"]))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    text = LATIN1_TEXT if encoding == "latin-1" else UNICODE_TEXT
    rows = draw(st.lists(st.lists(text, min_size=len(heads), max_size=len(heads)), max_size=8))
    lineterminator = draw(st.sampled_from(["\r\n", "\n"]))
    if lineterminator == "\n":  # Python's writer then leaves a lone "\r" unquoted, which no reader can tell apart
        rows = [[value.replace("\r", "") for value in row] for row in rows]
    data = csv_bytes(
        [[header for _, header in heads], *rows],
        delimiter=delimiter,
        encoding=encoding,
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        lineterminator=lineterminator,
    )
    expected = [
        (number, {field: value.strip() for (field, _), value in zip(heads, row, strict=True)})
        for number, row in enumerate(rows, start=2)
        if "".join(row).strip()
    ]
    columns = {field: index for index, (field, _) in enumerate(heads)}
    return data, [header.strip() for _, header in heads], columns, expected, delimiter, encoding


@HYPOTHESIS
@given(csv_cases())
def test_generated_csv_reads_back_equal(case: tuple[bytes, list[str], dict[str, int], list, str, str]) -> None:
    data, headers, columns, expected, delimiter, encoding = case
    table = read_table(data, "people.csv")
    assert table.kind == "csv"
    assert table.delimiter == delimiter
    assert table.headers == headers
    assert table.columns == columns
    assert table.ignored_columns == []
    assert people(table.rows) == expected
    if encoding == "utf-8-sig":
        assert table.encoding == "utf-8-sig"
    elif encoding.startswith("utf-16"):
        assert table.encoding == "utf-16"


@HYPOTHESIS
@given(headings(), st.lists(st.lists(XML_TEXT, min_size=6, max_size=6), max_size=8), st.sampled_from(["csv", "xlsx"]))
def test_generated_table_exported_by_write_csv_or_write_xlsx_reads_back(
    heads: list[tuple[str, str]], rows: list[list[str]], kind: str
) -> None:
    rows = [row[: len(heads)] for row in rows]
    write = write_csv if kind == "csv" else write_xlsx
    table = read_table(write([header for _, header in heads], rows), f"export.{kind}")
    assert table.kind == kind
    assert table.headers == [header.strip() for _, header in heads]
    assert table.columns == {field: index for index, (field, _) in enumerate(heads)}
    expected = [
        (number, {field: read_cell(neutralise(value)) for (field, _), value in zip(heads, row, strict=True)})
        for number, row in enumerate(rows, start=2)
        if "".join(map(neutralise, row)).strip()
    ]
    assert people(table.rows) == expected


@HYPOTHESIS
@given(
    headings(),
    st.lists(st.lists(XML_TEXT, min_size=6, max_size=6), max_size=8),
    st.lists(st.integers(0, 40), min_size=6, max_size=6, unique=True).map(sorted),
    st.lists(st.integers(1, 3), min_size=9, max_size=9),
)
def test_generated_table_with_shared_strings_and_gaps_reads_back_equal(
    heads: list[tuple[str, str]], rows: list[list[str]], positions: list[int], steps: list[int]
) -> None:
    """Columns at arbitrary letters (gaps), rows at arbitrary numbers (gaps), texts in the shared strings."""
    positions = positions[: len(heads)]
    numbers = [sum(steps[: index + 1]) for index in range(len(rows) + 1)]
    sheet_rows = [(numbers[0], list(zip(positions, [header for _, header in heads], strict=True)))]
    sheet_rows += [
        (number, [(column, value) for column, value in zip(positions, row, strict=False) if value])
        for number, row in zip(numbers[1:], rows, strict=True)
    ]
    table = read_table(shared_strings_xlsx(sheet_rows), "people.xlsx")
    assert table.header_row == numbers[0]
    assert table.columns == {field: position for (field, _), position in zip(heads, positions, strict=True)}
    assert table.headers[positions[-1]] == heads[-1][1].strip()
    expected = [
        (number, {field: value.strip() for (field, _), value in zip(heads, row, strict=False)})
        for number, row in zip(numbers[1:], rows, strict=True)
        if "".join(row[: len(heads)]).strip()
    ]
    assert people(table.rows) == expected


# --- headers ------------------------------------------------------------------------------------------------

SPOKEN = {
    "email": ["E-Mail", "Email Address", "Courriel", "Adresse e-mail", "EMAIL", "e_mail", "E-Mail-Adresse"],
    "external_id": ["External ID", "Externe ID", "ID externe", "external-id", "EXTERNAL_ID"],
    "first_name": ["First name", "Vorname", "Prénom", "prenom", "PRÉNOM", "Pre\u0301nom", "first_name"],
    "last_name": ["Last name", "Nachname", "Nom", "Nom de famille", "LASTNAME"],
    "department": ["Department", "Abteilung", "Service", "Département", "departement"],
    "job_profile": ["Job profile", "Jobprofil", "Job-Profil", "Profil de poste"],
    "role": ["Permission type", "Role", "Rolle", "Rôle", "Type d'autorisation", "Type d’autorisation"],
    "language": ["Language", "Sprache", "Langue"],
    "phone": ["Phone", "Mobile", "Telefon", "Handy", "Téléphone", "Numéro de téléphone"],
    "username": ["Username", "User name", "Benutzername", "Nom d'utilisateur", "NOM D’UTILISATEUR"],
    "initial_password": ["Initial password", "One-time password", "Initiales Passwort", "Mot de passe initial"],
}


@pytest.mark.parametrize(
    ("header", "field"), [(header, field) for field, headers in SPOKEN.items() for header in headers]
)
def test_headers_in_english_german_and_french_mean_their_field(header: str, field: str) -> None:
    assert canonical_field(header) == field
    table = read_table(csv_bytes([[header, "Notes"], ["value", "n"]]), "people.csv")
    assert table.columns == {field: 0}
    assert table.label(field) == header
    assert table.rows == [Row(2, {field: "value"})]


def test_every_listed_synonym_means_its_own_field_and_unknown_headers_are_listed_not_refused() -> None:
    for field, names in SYNONYMS.items():
        assert {canonical_field(name) for name in names} == {field}
    assert canonical_field("Name") is None
    assert canonical_field("") is None
    table = read_table(csv_bytes([["Name", "E-Mail", "Kommentar", ""], ["Ada", "ada@x.example", "hi", ""]]), "a.csv")
    assert table.columns == {"email": 1}
    assert table.ignored_columns == ["Name", "Kommentar"]
    assert table.rows == [Row(2, {"email": "ada@x.example"})]


def test_unknown_columns_can_be_refused() -> None:
    error = refused(csv_bytes([["E-Mail", "Notizen"], ["a@x.example", "x"]]), "a.csv", allow_unknown_columns=False)
    assert error.code == "unknown_columns"
    assert (error.row, error.column) == (1, "Notizen")
    assert str(error).startswith('row 1, column "Notizen": unknown column(s) "Notizen"')


def test_two_headers_for_one_field_are_refused_naming_both() -> None:
    error = refused(csv_bytes([["E-Mail", "Vorname", "Courriel"], ["a@x.example", "Ada", "b@x.example"]]), "a.csv")
    assert error.code == "duplicate_header"
    assert (error.row, error.column, error.field) == (1, "Courriel", "Courriel")
    assert str(error) == 'row 1, column "Courriel": repeats column "E-Mail" (both mean email); keep only one of them'
    assert isinstance(error, ValidationFailed)


@pytest.mark.parametrize(
    ("data", "row"),
    [
        pytest.param(b"Name;Notes\nAda;x\n", 1, id="unknown-headers"),
        pytest.param(b"\n,,\n\nName,Notes\n", 4, id="after-blank-rows"),
        pytest.param(b"", None, id="empty"),
        pytest.param(b"\r\n ,  , \r\n", None, id="only-blank-rows"),
        pytest.param(codecs.BOM_UTF8, None, id="only-a-bom"),
    ],
)
def test_a_file_without_a_known_header_is_refused(data: bytes, row: int | None) -> None:
    error = refused(data, "people.csv")
    assert error.code == "no_header"
    assert error.row == row
    if row is None:
        assert str(error) == "the file is empty: it has no header row and no data"
    else:
        assert str(error).startswith(f"row {row}: the first row must name the columns")
        assert '"Name", "Notes"' in str(error)


# --- row numbers ------------------------------------------------------------------------------------------


def test_row_numbers_are_the_spreadsheets_with_blank_rows_and_multiline_cells() -> None:
    data = (
        b"\r\n"  # row 1: blank, the header is on row 2
        b"Email;Vorname;Notes\r\n"
        b'a@x.example;"Ada\r\nAugusta";"a\nb\nc"\r\n'  # row 3, three lines
        b";;\r\n"  # row 4: empty cells only
        b"\r\n"  # row 5
        b'b@x.example;Bob;"x;y"\r\n'  # row 6
        b'  ;"  ";\r\n'  # row 7: blanks
        b'"c@x.example";" Cy ";"said ""hi"""'  # row 8, no final newline
    )
    table = read_table(data, "people.csv")
    assert table.header_row == 2
    assert table.delimiter == ";"
    assert people(table.rows) == [
        (3, {"email": "a@x.example", "first_name": "Ada\r\nAugusta"}),
        (6, {"email": "b@x.example", "first_name": "Bob"}),
        (8, {"email": "c@x.example", "first_name": "Cy"}),
    ]


def test_short_and_long_records_are_padded_and_cut() -> None:
    table = read_table(b"Email,Vorname,Nachname\na@x.example\nb@x.example,Bo,Bu,extra,more\n", "a.csv")
    assert people(table.rows) == [
        (2, {"email": "a@x.example", "first_name": "", "last_name": ""}),
        (3, {"email": "b@x.example", "first_name": "Bo", "last_name": "Bu"}),
    ]


def test_delimiter_is_the_one_that_splits_the_header_into_known_columns() -> None:
    table = read_table('E-Mail;"Nom, Prénom";Vorname\na@x.example;"Lovelace, Ada";Ada\n'.encode(), "a.csv")
    assert table.delimiter == ";"
    assert table.headers == ["E-Mail", "Nom, Prénom", "Vorname"]
    assert table.rows == [Row(2, {"email": "a@x.example", "first_name": "Ada"})]
    assert read_table(b"Email\na@x.example\n", "a.csv").delimiter == ","
    assert read_table(b"Email|Rolle\ta\na@x.example|admin\n", "a.csv").delimiter == "|"


def test_xlsx_rows_and_cells_map_through_references_gaps_and_missing_references() -> None:
    sheet = sheet_xml(
        [
            row_xml(2, [inline_cell("B2", "E-Mail"), inline_cell("D2", "Vorname"), inline_cell(None, "Nachname")]),
            row_xml(None, [inline_cell("B3", "a@x.example"), inline_cell("E3", "Lovelace")]),  # row 3
            row_xml(7, [inline_cell("D7", "Bob"), inline_cell(None, "Builder"), inline_cell("A7", "ignored")]),
            row_xml(9, [inline_cell("B9", "   ")]),
            row_xml(None, [inline_cell(None, "x"), inline_cell(None, "c@x.example")]),  # row 10, columns A and B
        ]
    )
    table = read_table(xlsx(sheet), "people.xlsx")
    assert table.header_row == 2
    assert table.headers == ["", "E-Mail", "", "Vorname", "Nachname"]
    assert table.columns == {"email": 1, "first_name": 3, "last_name": 4}
    assert people(table.rows) == [
        (3, {"email": "a@x.example", "first_name": "", "last_name": "Lovelace"}),
        (7, {"email": "", "first_name": "Bob", "last_name": "Builder"}),
        (10, {"email": "c@x.example", "first_name": "", "last_name": ""}),
    ]


def test_xlsx_cell_types_shared_rich_inline_numbers_booleans_and_formula_results() -> None:
    strings = strings_xml(
        [
            "<t>Email</t>",
            "<t>Telefon</t>",
            "<t>Profil</t>",
            "<t>Sprache</t>",
            "<r><rPr><b/></rPr><t>Zo</t></r><r><t>ë@x.example</t></r><rPh sb='0' eb='1'><t>ゾ</t></rPh>",
        ]
    )
    sheet = sheet_xml(
        [
            row_xml(1, [value_cell(f"{col}1", str(index), "s") for index, col in enumerate("ABCD")]),
            row_xml(2, [value_cell("A2", "4", "s"), value_cell("B2", "4915112345678"), value_cell("C2", "3.0", "n")]),
            row_xml(3, [value_cell("B3", "1E+3"), value_cell("C3", "1", "b"), value_cell("D3", "de", "str")]),
            row_xml(4, [value_cell("B4", "0.1"), value_cell("C4", "0", "b"), value_cell("D4", "#N/A", "e")]),
            row_xml(5, ['<c r="B5"><f>1+2</f><v>3</v></c>', '<c r="C5" t="str"><f>A1</f><v>Email</v></c>']),
            row_xml(6, [value_cell("B6", "-2.5E-3"), '<c r="C6" s="1"/>', value_cell("D6", "1.0000000000000002")]),
        ]
    )
    table = read_table(xlsx(sheet, strings), "people.xlsx")
    assert table.columns == {"email": 0, "phone": 1, "job_profile": 2, "language": 3}
    assert people(table.rows) == [
        (2, {"email": "Zoë@x.example", "phone": "4915112345678", "job_profile": "3", "language": ""}),
        (3, {"email": "", "phone": "1000", "job_profile": "TRUE", "language": "de"}),
        (4, {"email": "", "phone": "0.1", "job_profile": "FALSE", "language": "#N/A"}),
        (5, {"email": "", "phone": "3", "job_profile": "Email", "language": ""}),
        (6, {"email": "", "phone": "-0.0025", "job_profile": "", "language": "1.0000000000000002"}),
    ]


def test_xlsx_first_sheet_is_found_through_the_workbook_then_by_its_default_name() -> None:
    people_sheet = sheet_xml([row_xml(1, [inline_cell("A1", "Email")]), row_xml(2, [inline_cell("A2", "a@x.example")])])
    other = sheet_xml([row_xml(1, [inline_cell("A1", "Nothing to see")])])
    parts = workbook_parts(people_sheet, sheet_path="xl/worksheets/people.xml")
    parts[SHEET] = other  # sheet1.xml exists but is not the first sheet
    assert read_table(zip_parts(parts), "a.xlsx").rows == [Row(2, {"email": "a@x.example"})]
    bare = {SHEET: people_sheet, "[Content_Types].xml": parts["[Content_Types].xml"]}  # no workbook.xml
    assert read_table(zip_parts(bare), "a.xlsx").rows == [Row(2, {"email": "a@x.example"})]


def test_xlsx_in_the_strict_ooxml_namespace_reads_too() -> None:
    strict = "http://purl.oclc.org/ooxml/spreadsheetml/main"
    sheet = sheet_xml(
        [row_xml(1, [inline_cell("A1", "Email")]), row_xml(2, [inline_cell("A2", "a@x")])], namespace=strict
    )
    assert read_table(xlsx(sheet), "a.xlsx").rows == [Row(2, {"email": "a@x"})]


# --- encodings ------------------------------------------------------------------------------------------


def test_a_utf8_file_with_one_latin1_row_reads_each_line_in_its_own_encoding() -> None:
    """Documented choice: lines that are valid UTF-8 stay UTF-8, the others are cp1252 (no mojibake in the
    good rows). The table says so, so the importer can warn."""
    data = (
        b"Email;Nachname\n"
        + "a@x.example;Zoë Šimić\n".encode()
        + "b@x.example;Müller € Œ\n".encode("cp1252")
        + "c@x.example;Ñandú\n".encode()
    )
    table = read_table(data, "a.csv")
    assert table.encoding == "utf-8+cp1252"
    assert [row.values["last_name"] for row in table] == ["Zoë Šimić", "Müller € Œ", "Ñandú"]
    assert [row.number for row in table] == [2, 3, 4]


def test_a_latin1_or_cp1252_file_reads_as_cp1252() -> None:
    data = "Prénom;Nom\nJérôme;Dupré – “ok” €\n".encode("cp1252") + b"Ren\xe9;und\x81fined\n"
    table = read_table(data, "a.csv")
    assert table.encoding == "cp1252"
    assert table.headers == ["Prénom", "Nom"]
    assert people(table.rows) == [
        (2, {"first_name": "Jérôme", "last_name": "Dupré – “ok” €"}),
        (3, {"first_name": "René", "last_name": "und\ufffdfined"}),
    ]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_files_are_read_by_their_byte_order_mark(codec: str) -> None:
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(codec) or {
        "utf-32-le": codecs.BOM_UTF32_LE,
        "utf-32-be": codecs.BOM_UTF32_BE,
    }[codec]
    data = bom + "Courriel\tPrénom\r\nzoë@x.example\tZoë 😀\r\n".encode(codec)
    table = read_table(data, "a.tsv")
    assert table.delimiter == "\t"
    assert table.rows == [Row(2, {"email": "zoë@x.example", "first_name": "Zoë 😀"})]


def test_broken_utf16_is_refused_naming_the_line() -> None:
    data = codecs.BOM_UTF16_LE + "Email\r\na@x.example\r\n".encode("utf-16-le") + b"\x00\xd8A\x00"  # lone surrogate
    error = refused(data, "a.csv")
    assert error.code == "encoding"
    assert "line 3" in str(error)
    assert refused(codecs.BOM_UTF16_LE + "Email\r\n\x00x".encode("utf-16-le"), "a.csv").code == "encoding"


# --- sizes and limits --------------------------------------------------------------------------------------


def test_an_upload_above_the_size_limit_is_refused_before_reading() -> None:
    error = refused(b"Email\n" + b"a@x.example\n" * 100_000, "a.csv", max_bytes=1024 * 1024)
    assert error.code == "too_large"
    assert str(error) == "the file is 1.1 MB; at most 1.0 MB can be imported at once"


def test_a_million_row_csv_is_refused_quickly() -> None:
    data = b"Email\n" + b"a@x.example\n" * 1_000_000
    started = time.perf_counter()
    error = refused(data, "people.csv")
    assert time.perf_counter() - started < 2
    assert error.code == "too_many_rows"
    assert error.row == 200_002
    assert str(error) == "row 200002: the file has more than 200,000 data rows; split it into smaller files"


def test_the_row_limit_counts_data_rows_not_blank_ones() -> None:
    data = b"Email\n\n" + b"a@x.example\n\n\n" * 5
    assert len(read_table(data, "a.csv", max_rows=5).rows) == 5
    error = refused(data + b"b@x.example\n", "a.csv", max_rows=5)
    assert (error.code, error.row) == ("too_many_rows", 18)
    sheet = sheet_xml(row_xml(number, [inline_cell(None, "Email" if number == 1 else "x")]) for number in range(1, 400))
    error = refused(xlsx(sheet), "a.xlsx", max_rows=100)
    assert (error.code, error.row) == ("too_many_rows", 102)


def test_an_unparseable_csv_record_is_refused_with_its_row() -> None:
    data = b'Email,Notes\na@x.example,ok\nb@x.example,"' + b"x" * 200_000 + b'"\n'
    error = refused(data, "a.csv")
    assert error.code == "malformed"
    assert error.row == 3
    assert str(error).startswith("row 3: the CSV record cannot be read (field larger than field limit")


def test_a_row_wider_than_a_worksheet_is_refused() -> None:
    error = refused(b"Email\na@x.example" + b"," * 20_000 + b"\n", "a.csv")
    assert (error.code, str(error)) == ("malformed", "row 2: the row has more than 16,384 columns")
    cells = [inline_cell("A1", "Email")] + [inline_cell(None, "x")] * 16_384
    error = refused(xlsx(sheet_xml([row_xml(1, cells)])), "a.xlsx")
    assert (error.code, str(error)) == ("corrupt", "row 1: the row has more than 16,384 columns")


# --- type by magic bytes ---------------------------------------------------------------------------------


def test_an_xlsx_name_on_something_else_is_refused() -> None:
    error = refused(b"Email\na@x.example\n", "people.xlsx")
    assert error.code == "wrong_magic"
    assert (
        str(error)
        == "people.xlsx is not an Excel workbook (it is not a zip archive); save it as .xlsx or as CSV (UTF-8)"
    )
    error = refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "C:\\Users\\ada\\people.XLSX")
    assert error.code == "wrong_magic"
    assert str(error).startswith("people.XLSX is an Excel 97-2003 or password-protected workbook")


def test_a_csv_name_on_a_zip_or_binary_is_refused() -> None:
    error = refused(write_xlsx(["Email"], [["a@x.example"]]), "people.csv")
    assert error.code == "wrong_magic"
    assert "is a zip archive" in str(error)
    error = refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "people.csv")
    assert error.code == "wrong_magic"
    assert "NUL bytes" in str(error)
    assert refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8), "people.txt").code == "wrong_magic"


def test_other_spreadsheet_formats_and_names_are_refused_and_unnamed_files_go_by_content() -> None:
    assert refused(b"Email\n", "people.xls").code == "not_a_spreadsheet"
    error = refused(b"%PDF-1.7", "people.pdf")
    assert (error.code, str(error)) == (
        "not_a_spreadsheet",
        "people.pdf is neither CSV nor XLSX; save it as .xlsx or as CSV (UTF-8)",
    )
    assert read_table(write_xlsx(["Email"], [["a@x"]]), "upload").kind == "xlsx"
    assert read_table(b"Email\na@x\n", "").kind == "csv"


# --- hostile workbooks ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zip_bomb(300 * 1024 * 1024)


def test_a_zip_bomb_is_refused_from_the_central_directory(bomb: bytes) -> None:
    assert len(bomb) < 1024 * 1024
    started = time.perf_counter()
    error = refused(bomb, "people.xlsx")
    assert time.perf_counter() - started < 0.5
    assert error.code == "zip_bomb"
    assert str(error).startswith(f"the part {SHEET} would inflate from ")
    assert "(more than 100:1); refusing a likely zip bomb" in str(error)


def test_a_workbook_declaring_too_much_data_in_total_is_refused() -> None:
    parts = workbook_parts(sheet_xml([row_xml(1, [inline_cell("A1", "Email")])]))
    parts["xl/media/a.bin"] = parts["xl/media/b.bin"] = b"x"
    data = declare_size(zip_parts(parts), "xl/media/a.bin", 110 * 1024 * 1024, compressed=110 * 1024 * 1024)
    data = declare_size(data, "xl/media/b.bin", 110 * 1024 * 1024, compressed=110 * 1024 * 1024)
    error = refused(data, "people.xlsx")
    assert error.code == "zip_bomb"
    assert str(error).startswith("the workbook would inflate to 230,")


def test_an_entry_inflating_beyond_its_declared_size_is_stopped() -> None:
    sheet = sheet_xml(
        [row_xml(1, [inline_cell("A1", "Email")])]
        + [row_xml(number, [inline_cell(f"A{number}", f"p{number}@x.example")]) for number in range(2, 20_000)]
    )
    data = declare_size(xlsx(sheet), SHEET, 50_000)
    error = refused(data, "people.xlsx")
    assert error.code == "zip_bomb"
    assert str(error) == f"the part {SHEET} inflates beyond its declared 50,000 bytes; refusing a likely zip bomb"


def test_a_workbook_with_too_many_entries_is_refused() -> None:
    parts = workbook_parts(sheet_xml([row_xml(1, [inline_cell("A1", "Email")])]))
    parts.update({f"xl/media/image{number}.png": b"" for number in range(MAX_ENTRIES)})
    error = refused(zip_parts(parts), "people.xlsx")
    assert error.code == "zip_bomb"
    assert str(error) == "the workbook has more than 1000 parts (zip entries)"


def test_billion_laughs_in_the_shared_strings_is_refused() -> None:
    sheet = sheet_xml([row_xml(1, [value_cell("A1", "0", "s")])])
    error = refused(xlsx(sheet, BILLION_LAUGHS), "people.xlsx")
    assert error.code == "xml_entities"
    assert str(error) == (
        f"the part {STRINGS} declares a DTD or entities (<!DOCTYPE>/<!ENTITY>); refusing it for safety"
    )


def test_an_external_entity_in_the_sheet_is_refused() -> None:
    error = refused(xlsx(EXTERNAL_ENTITY), "people.xlsx")
    assert error.code == "xml_entities"
    assert SHEET in str(error)


def test_a_doctype_split_across_two_read_chunks_is_still_found() -> None:
    head = f"{PROLOG}<!--"
    padding = "x" * (CHUNK - 4 - len(head) - len("-->"))
    sheet = f'{head}{padding}--><!DOCTYPE worksheet [<!ENTITY a "b">]><worksheet xmlns="{MAIN}"/>'
    assert sheet.encode().index(b"<!DOCTYPE") == CHUNK - 4
    data = zip_parts(workbook_parts(sheet), stored=[SHEET])
    assert refused(data, "people.xlsx").code == "xml_entities"


def test_a_doctype_the_byte_scan_cannot_see_is_refused_by_the_parser() -> None:
    """In UTF-16 "<!DOCTYPE" has NUL bytes between its letters; expat's DOCTYPE handler still refuses it."""
    sheet = EXTERNAL_ENTITY.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert b"<!DOCTYPE" not in sheet
    error = refused(xlsx(sheet), "people.xlsx")
    assert error.code == "xml_entities"
    assert SHEET in str(error)


def test_xml_parts_in_another_encoding_are_read() -> None:
    sheet = sheet_xml([row_xml(1, [inline_cell("A1", "Prénom")]), row_xml(2, [inline_cell("A2", "Zoë")])])
    table = read_table(xlsx(sheet.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")), "a.xlsx")
    assert table.rows == [Row(2, {"first_name": "Zoë"})]


def test_text_that_merely_looks_like_a_doctype_is_data() -> None:
    table = read_table(write_xlsx(["Email", "Notes"], [["<!DOCTYPE x>", "<!ENTITY y>"]]), "a.xlsx")
    assert table.rows == [Row(2, {"email": "<!DOCTYPE x>"})]


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        pytest.param(b"PK\x03\x04" + bytes(100), "corrupt", "the workbook is damaged", id="not-a-zip"),
        pytest.param(
            zip_parts({"mimetype": "application/vnd.oasis.opendocument.spreadsheet"}),
            "not_a_spreadsheet",
            "the file is a zip archive but not an Excel workbook",
            id="zip-without-sheet",
        ),
        pytest.param(
            xlsx(
                sheet_xml([row_xml(1, [value_cell("A1", "0", "s")]), row_xml(2, [value_cell("C2", "7", "s")])]),
                strings_xml(["<t>Email</t>"]),
            ),
            "corrupt",
            'row 2: cell C2 refers to shared string "7", which does not exist',
            id="missing-shared-string",
        ),
        pytest.param(
            xlsx(sheet_xml([row_xml(5, [inline_cell("A5", "Email")]), row_xml(3, [inline_cell("A3", "a@x")])])),
            "corrupt",
            "row 3: comes after row 5 in the worksheet (rows out of order)",
            id="rows-out-of-order",
        ),
        pytest.param(
            xlsx(sheet_xml([row_xml(1, [inline_cell("A1", "Email")]), row_xml(2, [inline_cell("ZZZZ2", "a@x")])])),
            "corrupt",
            'row 2: a cell has the impossible reference "ZZZZ2"',
            id="impossible-column",
        ),
        pytest.param(
            xlsx(f'{PROLOG}<worksheet xmlns="{MAIN}"><sheetData><row>'),
            "corrupt",
            f"the part {SHEET} is not well-formed XML (no element found",
            id="truncated-xml",
        ),
        pytest.param(
            xlsx(
                sheet_xml([row_xml(1, [inline_cell("A1", "Email")])]).replace("</worksheet>", "&undefined;</worksheet>")
            ),
            "corrupt",
            f"the part {SHEET} is not well-formed XML (undefined entity",
            id="undefined-entity",
        ),
    ],
)
def test_damaged_workbooks_are_refused(data: bytes, code: str, message: str) -> None:
    error = refused(data, "people.xlsx")
    assert error.code == code
    assert str(error).startswith(message)


def test_a_tampered_checksum_is_refused_after_the_rows() -> None:
    sheet = sheet_xml([row_xml(1, [inline_cell("A1", "Email")]), row_xml(2, [inline_cell("A2", "ada@x.example")])])
    data = bytearray(zip_parts(workbook_parts(sheet), stored=[SHEET]))
    at = data.index(b"ada@x.example")
    data[at : at + 3] = b"eve"
    error = refused(bytes(data), "people.xlsx")
    assert (error.code, str(error)) == ("corrupt", f"the part {SHEET} is damaged (size or checksum mismatch)")


# --- duplicates ----------------------------------------------------------------------------------------------


def test_duplicate_rows_name_the_earlier_row_and_the_column() -> None:
    data = csv_bytes(
        [
            ["E-Mail", "Benutzername", "Externe ID", "Vorname"],
            ["ada@x.example", "ada", "E1", "Ada"],  # 2
            ["", "", "", ""],  # 3
            ["bob@x.example", "", "e1", "Bob"],  # 4: external ids compare exactly
            ["ADA@X.example", "Ada", "E1", "Ada"],  # 5: repeats row 2 three times
            ["cy@x.example", "", "", "Cy"],  # 6
            ["", "BOB", "", ""],  # 7
            ["Cy@x.example", "", "", "Cy"],  # 8
        ]
    )
    table = read_table(data, "a.csv")
    found = table.find_duplicates()
    assert [(d.row, d.earlier_row, d.field, d.value) for d in found] == [
        (5, 2, "email", "ADA@X.example"),
        (5, 2, "username", "Ada"),
        (5, 2, "external_id", "E1"),
        (8, 6, "email", "Cy@x.example"),
    ]
    assert [d.message for d in found] == [
        "row 5 repeats row 2 (E-Mail)",
        "row 5 repeats row 2 (Benutzername)",
        "row 5 repeats row 2 (Externe ID)",
        "row 8 repeats row 6 (E-Mail)",
    ]
    assert [d.message for d in find_duplicates(table.rows, keys=("first_name",))] == [
        "row 5 repeats row 2 (first_name)",
        "row 8 repeats row 6 (first_name)",
    ]


# --- exports ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("", ""),
        ("Ada", "Ada"),
    ],
)
def test_neutralise_prefixes_cells_that_start_like_formulas(cell: str, expected: str) -> None:
    assert neutralise(cell) == expected


def test_write_csv_is_excel_friendly_and_neutralises_formulas() -> None:
    data = write_csv(["Email", "=Note"], [["a@x.example", "=1+1"], ["b@x.example", None], ["c", 'say "hi",\nok']])
    assert data.startswith(codecs.BOM_UTF8)
    assert data.decode("utf-8-sig") == (
        'Email,\'=Note\r\na@x.example,\'=1+1\r\nb@x.example,\r\nc,"say ""hi"",\nok"\r\n'
    )
    table = read_table(data, "errors.csv")
    assert table.encoding == "utf-8-sig"
    assert table.ignored_columns == ["'=Note"]
    assert [row.values["email"] for row in table] == ["a@x.example", "b@x.example", "c"]
    semicolons = write_csv(["Email", "Vorname"], [["a@x.example", "Ada"]], delimiter=";")
    assert read_table(semicolons, "a.csv").delimiter == ";"


def test_write_xlsx_is_a_minimal_valid_workbook_with_inline_strings_and_neutralised_formulas() -> None:
    data = write_xlsx(["Email", "Notes"], [["a@x.example", "=cmd|' /C calc'!A0"], ["b&c<d>", "\x01\r\n"]])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        sheet = archive.read(SHEET).decode()
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", SHEET} <= names
    assert "<f>" not in sheet
    assert "<t xml:space=\"preserve\">'=cmd|' /C calc'!A0</t>" in sheet
    assert 't="inlineStr"' in sheet
    assert "b&amp;c&lt;d&gt;" in sheet
    table = read_table(data, "errors.xlsx")
    assert table.rows == [Row(2, {"email": "a@x.example"}), Row(3, {"email": "b&c<d>"})]
    assert read_table(write_xlsx(["Email"], []), "a.xlsx").rows == []


def test_errors_locate_themselves_and_refuse_unknown_codes() -> None:
    error = ImportFileError("is not an email address", row=17, column="Email", code="malformed")
    assert str(error) == 'row 17, column "Email": is not an email address'
    assert (error.message, error.detail, error.field) == (str(error), "is not an email address", "Email")
    with pytest.raises(ValueError, match="unknown import error code"):
        ImportFileError("x", code="oops")


def test_cells_neutralised_on_export_read_back_as_they_were() -> None:
    data = write_csv(["Phone", "Email"], [["+4915112345678", "=cmd@example.com"]])
    assert data.count(b"'") == 2  # neutralised in the file
    [row] = read_table(data, "export.csv").rows
    assert row.values == {"phone": "+4915112345678", "email": "=cmd@example.com"}
