"""Spreadsheets for the import reader's tests, built in memory: CSV in any encoding, hand-made XLSX (shared
strings, gaps, odd parts) and hostile zips."""

from __future__ import annotations

import codecs
import csv
import io
import struct
import zipfile
from collections.abc import Iterable, Mapping, Sequence

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
PROLOG = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"

CONTENT_TYPES = (
    PROLOG + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
ROOT_RELS = (
    PROLOG + f'<Relationships xmlns="{PACKAGE}">'
    f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)

BILLION_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    + f']>\n<sst xmlns="{MAIN}"><si><t>&lol9;</t></si></sst>'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
)


def csv_bytes(
    rows: Iterable[Sequence[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    quoting: int = csv.QUOTE_MINIMAL,
    lineterminator: str = "\r\n",
) -> bytes:
    """``encoding`` is a Python codec, or ``utf-16-be-bom`` (big-endian with its byte-order mark)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=lineterminator).writerows(rows)
    if encoding == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + buffer.getvalue().encode("utf-16-be")
    return buffer.getvalue().encode(encoding)


def xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def inline_cell(ref: str | None, text: str) -> str:
    at = f' r="{ref}"' if ref else ""
    return f'<c{at} t="inlineStr"><is><t xml:space="preserve">{xml_text(text)}</t></is></c>'


def value_cell(ref: str | None, value: str, kind: str | None = None) -> str:
    at = f' r="{ref}"' if ref else ""
    typed = f' t="{kind}"' if kind else ""
    return f"<c{at}{typed}><v>{value}</v></c>"


def row_xml(number: int | None, cells: Iterable[str]) -> str:
    at = f' r="{number}"' if number is not None else ""
    return f"<row{at}>{''.join(cells)}</row>"


def sheet_xml(rows: Iterable[str], *, namespace: str = MAIN) -> str:
    return f'{PROLOG}<worksheet xmlns="{namespace}"><sheetData>{"".join(rows)}</sheetData></worksheet>'


def strings_xml(items: Iterable[str]) -> str:
    """Each item is the raw XML inside one ``<si>``."""
    return f'{PROLOG}<sst xmlns="{MAIN}">{"".join(f"<si>{item}</si>" for item in items)}</sst>'


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def workbook_parts(
    sheet: str | bytes, strings: str | bytes | None = None, *, sheet_path: str = SHEET
) -> dict[str, str | bytes]:
    """The parts of a workbook whose first sheet is ``sheet`` (stored at ``sheet_path``)."""
    target = sheet_path.removeprefix("xl/")
    relationships = f'<Relationship Id="rId7" Type="{RELS}/worksheet" Target="{target}"/>'
    if strings is not None:
        relationships += f'<Relationship Id="rId9" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
    parts: dict[str, str | bytes] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": f'{PROLOG}<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
        '<sheet name="People" sheetId="3" r:id="rId7"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'{PROLOG}<Relationships xmlns="{PACKAGE}">{relationships}</Relationships>',
        sheet_path: sheet,
    }
    if strings is not None:
        parts[STRINGS] = strings
    return parts


def zip_parts(parts: Mapping[str, str | bytes], *, stored: Iterable[str] = ()) -> bytes:
    """A zip of ``parts`` (deflated, except the names in ``stored``)."""
    stored = set(stored)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(name, content, compress_type=method)
    return buffer.getvalue()


def xlsx(sheet: str | bytes, strings: str | bytes | None = None, **options: str) -> bytes:
    return zip_parts(workbook_parts(sheet, strings, **options))


def shared_strings_xlsx(
    rows: Sequence[tuple[int, Sequence[tuple[int, str]]]], *, refs: bool = True, numbered: bool = True
) -> bytes:
    """A workbook in Excel's own style: every text in the shared strings table (deduplicated), cells as
    ``(column index, text)``; with ``refs`` off cells have no ``r`` (they must then be contiguous), with
    ``numbered`` off rows have no ``r`` (they must then be contiguous)."""
    table: dict[str, int] = {}
    xml_rows = []
    for number, cells in rows:
        xml_cells = []
        for column, text in cells:
            index = table.setdefault(text, len(table))
            xml_cells.append(value_cell(f"{column_letter(column)}{number}" if refs else None, str(index), "s"))
        xml_rows.append(row_xml(number if numbered else None, xml_cells))
    strings = strings_xml(f'<t xml:space="preserve">{xml_text(text)}</t>' for text in table)
    return xlsx(sheet_xml(xml_rows), strings)


def zip_bomb(size: int) -> bytes:
    """A workbook whose sheet inflates to ``size`` bytes of rows, written in streamed chunks (~0.3 MB of zip)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in workbook_parts("").items():
            if name != SHEET:
                archive.writestr(name, content)
        with archive.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write(f'{PROLOG}<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            chunk = b"<row/>" * (1 << 20)
            written = 0
            while written < size:
                sheet.write(chunk)
                written += len(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def declare_size(data: bytes, name: str, size: int, *, compressed: int | None = None) -> bytes:
    """The zip with the entry's declared uncompressed (and optionally compressed) size rewritten, in the
    central directory and the local header, as a forger would."""
    out = bytearray(data)
    encoded = name.encode()
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        (name_length,) = struct.unpack_from("<H", out, at + 28)
        if out[at + 46 : at + 46 + name_length] == encoded:
            (local,) = struct.unpack_from("<L", out, at + 42)
            struct.pack_into("<L", out, at + 24, size)
            struct.pack_into("<L", out, local + 22, size)
            if compressed is not None:
                struct.pack_into("<L", out, at + 20, compressed)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)
