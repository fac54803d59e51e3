"""XLSX without openpyxl: the zip is checked before anything is inflated, XML parts are streamed through
expat with guards, and only the first worksheet is read (no formulas evaluated, no styles, no tree).

Defences, in order: the entry count (on the raw bytes, before :mod:`zipfile` parses the central directory),
declared sizes and ratios from the central directory, our own inflater that stops as soon as an entry
produces more than it declared, a byte scan refusing ``<!DOCTYPE``/``<!ENTITY`` before the parser sees a
chunk, and expat handlers refusing any DTD or entity declaration the scan could not see (another encoding).
Parsing uses expat callbacks rather than ``iterparse``: nothing but the current row is held, and it is
about twice as fast (ElementTree builds a namespaced element for every tag).
"""

from __future__ import annotations

import io
import math
import posixpath
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from typing import NoReturn
from xml.parsers import expat

from admit.adapters.spreadsheets.errors import ImportFileError

ZIP_MAGIC = b"PK\x03\x04"
MAX_ENTRIES = 1000
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 100
RATIO_FROM = 1024 * 1024
MAX_RELATIONSHIPS = 10_000
MAX_ROW = 1_048_576
MAX_COLUMN = 16_384
CHUNK = 64 * 1024

_CENTRAL_ENTRY = b"PK\x01\x02"
_LOCAL_HEADER = struct.Struct("<4s22xHH")
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_FALLBACK_SHEET = "xl/worksheets/sheet1.xml"
_FALLBACK_STRINGS = "xl/sharedStrings.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"

Rows = Iterator[tuple[int, dict[int, str]]]


class Workbook:
    """An XLSX upload that passed the zip checks; :meth:`rows` streams its first worksheet."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        if data.count(_CENTRAL_ENTRY) > MAX_ENTRIES:
            raise ImportFileError(f"the workbook has more than {MAX_ENTRIES} parts (zip entries)", code="zip_bomb")
        try:
            infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
            raise ImportFileError(f"the workbook is damaged (not a readable zip: {exc})", code="corrupt") from exc
        self._entries: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise ImportFileError(
                    f"the part {info.filename} would inflate from {info.compress_size:,} to {info.file_size:,} bytes"
                    f" (more than {MAX_RATIO}:1); refusing a likely zip bomb",
                    code="zip_bomb",
                )
            key = info.filename.lower()
            if key in self._entries:
                raise ImportFileError(f"the workbook holds the part {info.filename} twice", code="corrupt")
            self._entries[key] = info
        if len(infos) > MAX_ENTRIES:
            raise ImportFileError(f"the workbook has more than {MAX_ENTRIES} parts (zip entries)", code="zip_bomb")
        if total > MAX_UNCOMPRESSED:
            raise ImportFileError(
                f"the workbook would inflate to {total:,} bytes (at most {MAX_UNCOMPRESSED:,} are allowed);"
                " refusing a likely zip bomb",
                code="zip_bomb",
            )

    def rows(self) -> Rows:
        """(row number, {column index: text}) for each row of the first worksheet; empty cells are left out."""
        sheet, strings_part = self._parts()
        strings = SharedStrings()
        if strings_part is not None:
            for _ in self._parse(strings_part, _StringsReader(strings)):
                pass
        return self._sheet_rows(sheet, _SheetReader(strings))

    # --- parts -------------------------------------------------------------------------------------------

    def _has(self, name: str) -> bool:
        return name.lower() in self._entries

    def _parts(self) -> tuple[str, str | None]:
        """The first worksheet and the shared strings, through the workbook and its relationships."""
        relationships = _RelationshipsReader(_WORKBOOK_RELS)
        if self._has(_WORKBOOK_RELS):
            for _ in self._parse(_WORKBOOK_RELS, relationships):
                pass
        sheet = None
        if self._has("xl/workbook.xml"):
            first = _FirstSheetReader()
            for _ in self._parse("xl/workbook.xml", first):
                if first.found:
                    break
            if first.relationship is not None and first.relationship in relationships.found:
                sheet = relationships.found[first.relationship][1]
        if sheet is None or not self._has(sheet):
            sheet = _FALLBACK_SHEET
        if not self._has(sheet):
            raise ImportFileError(
                "the file is a zip archive but not an Excel workbook (it has no worksheet); save it as .xlsx or CSV",
                code="not_a_spreadsheet",
            )
        kinds = relationships.found.values()
        strings = next((target for kind, target in kinds if kind.endswith("/sharedStrings")), None)
        if strings is None or not self._has(strings):
            strings = _FALLBACK_STRINGS if self._has(_FALLBACK_STRINGS) else None
        return sheet, strings

    def _sheet_rows(self, name: str, reader: _SheetReader) -> Rows:
        for _ in self._parse(name, reader):
            yield from reader.ready
            reader.ready.clear()

    # --- guarded inflating and parsing ------------------------------------------------------------------

    def _parse(self, name: str, reader: _Reader) -> Iterator[None]:
        """Feed a part to ``reader``'s expat callbacks, one chunk per step; DTDs and entities are refused."""
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = CHUNK
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

        def refuse(*_: object) -> NoReturn:
            raise ImportFileError(
                f"the part {name} declares a DTD or entities (<!DOCTYPE>/<!ENTITY>); refusing it for safety",
                code="xml_entities",
            )

        parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = parser.UnparsedEntityDeclHandler = refuse
        parser.ExternalEntityRefHandler = refuse
        reader.attach(parser)
        tail = b""
        try:
            for chunk in self._inflate(self._entries[name.lower()]):
                if any(marker in tail + chunk[:16] or marker in chunk for marker in _DTD_MARKERS):
                    refuse()
                tail = chunk[-16:]
                parser.Parse(chunk, False)
                yield
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise ImportFileError(f"the part {name} is not well-formed XML ({exc})", code="corrupt") from exc
        yield

    def _inflate(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The entry's bytes in chunks, from our own inflater: it stops as soon as the output exceeds the
        size declared in the central directory (zipfile would silently truncate), then checks the CRC."""
        if info.flag_bits & 0x1:
            raise ImportFileError(f"the part {info.filename} is encrypted", code="corrupt")
        offset = info.header_offset
        try:
            signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(self._data, offset)
        except struct.error:
            signature = b""
        if signature != ZIP_MAGIC:
            raise ImportFileError(f"the part {info.filename} is damaged (no local header)", code="corrupt")
        start = offset + _LOCAL_HEADER.size + name_length + extra_length
        raw = memoryview(self._data)[start : start + info.compress_size]
        if len(raw) != info.compress_size:
            raise ImportFileError(f"the part {info.filename} is truncated", code="corrupt")
        if info.compress_type == zipfile.ZIP_STORED:
            chunks: Iterable[bytes] = (bytes(raw[at : at + CHUNK]) for at in range(0, len(raw), CHUNK))
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            chunks = _inflated(raw, info.filename)
        else:
            raise ImportFileError(f"the part {info.filename} uses an unsupported compression method", code="corrupt")
        produced = crc = 0
        for chunk in chunks:
            produced += len(chunk)
            if produced > info.file_size:
                raise ImportFileError(
                    f"the part {info.filename} inflates beyond its declared {info.file_size:,} bytes;"
                    " refusing a likely zip bomb",
                    code="zip_bomb",
                )
            crc = zlib.crc32(chunk, crc)
            yield chunk
        if produced != info.file_size or crc != info.CRC:
            raise ImportFileError(f"the part {info.filename} is damaged (size or checksum mismatch)", code="corrupt")


def _inflated(raw: memoryview, name: str) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    position = 0
    pending: bytes | memoryview = b""
    try:
        while not inflater.eof:
            if not pending:
                if position >= len(raw):
                    drained = inflater.decompress(b"", CHUNK)  # output held back by the previous limit
                    if not drained:
                        break
                    yield drained
                    continue
                pending = raw[position : position + CHUNK]
                position += CHUNK
            out = inflater.decompress(pending, CHUNK)
            pending = inflater.unconsumed_tail
            if out:
                yield out
    except zlib.error as exc:
        raise ImportFileError(f"the part {name} is damaged ({exc})", code="corrupt") from exc
    if not inflater.eof:
        raise ImportFileError(f"the part {name} is truncated", code="corrupt")


# --- expat callbacks ------------------------------------------------------------------------------------------


def _local(name: str) -> str:
    return name.rpartition(":")[2]


class _Reader:
    """Callbacks for one XML part. Without namespace processing (faster), so element names carry the
    document's prefix: it is taken from the root element, and only names with that prefix count."""

    def attach(self, parser: expat.XMLParserType) -> None:
        self._parser = parser
        parser.StartElementHandler = self._root

    def _root(self, name: str, attrs: dict[str, str]) -> None:
        prefix = name[: name.index(":") + 1] if ":" in name else ""
        self._parser.StartElementHandler = self.start
        self._parser.EndElementHandler = self.end
        self._parser.CharacterDataHandler = self.text
        self.named(prefix)
        self.start(name, attrs)

    def named(self, prefix: str) -> None:
        """Learn the element names (``prefix`` + local name)."""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """An element starts."""

    def end(self, name: str) -> None:
        """An element ends."""

    def text(self, data: str) -> None:
        """Character data (coalesced by expat's buffer)."""


class _RelationshipsReader(_Reader):
    """Relationship id -> (type, part name) of the internal targets of a ``.rels`` part."""

    def __init__(self, name: str) -> None:
        self.found: dict[str, tuple[str, str]] = {}
        self._base = posixpath.dirname(posixpath.dirname(name))

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if _local(name) != "Relationship" or attrs.get("TargetMode") == "External":
            return
        if len(self.found) == MAX_RELATIONSHIPS:
            raise ImportFileError(f"the workbook has more than {MAX_RELATIONSHIPS:,} relationships", code="corrupt")
        target = attrs.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(self._base, target)
        self.found[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(path))


class _FirstSheetReader(_Reader):
    """The relationship id of the workbook's first ``<sheet>``."""

    found = False
    relationship: str | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if not self.found and _local(name) == "sheet":
            self.found = True
            self.relationship = next(
                (value for key, value in attrs.items() if _local(key) == "id" and key != "id"), None
            )


class _StringsReader(_Reader):
    """Shared strings: plain ``<t>`` and rich-text runs, without phonetic hints (``<rPh>``)."""

    def __init__(self, strings: SharedStrings) -> None:
        self._strings = strings
        self._parts: list[str] = []
        self._collecting = self._phonetic = False

    def named(self, prefix: str) -> None:
        self._item, self._text, self._phonetic_run = prefix + "si", prefix + "t", prefix + "rPh"

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == self._text:
            self._collecting = not self._phonetic
        elif name == self._item:
            self._parts = []
        elif name == self._phonetic_run:
            self._phonetic = True

    def end(self, name: str) -> None:
        if name == self._text:
            self._collecting = False
        elif name == self._item:
            self._strings.append("".join(self._parts))
        elif name == self._phonetic_run:
            self._phonetic = False

    def text(self, data: str) -> None:
        if self._collecting:
            self._parts.append(data)


class _SheetReader(_Reader):
    """Worksheet rows, appended to ``ready`` as they end: cells placed by their ``r`` reference (or after
    the previous cell), rows by theirs (or after the previous row)."""

    def __init__(self, strings: SharedStrings) -> None:
        self.ready: list[tuple[int, dict[int, str]]] = []
        self._strings = strings
        self._number = 0
        self._cells: dict[int, str] = {}
        self._column = -1
        self._kind: str | None = None
        self._ref = ""
        self._parts: list[str] = []
        self._collecting = self._phonetic = False

    def named(self, prefix: str) -> None:
        self._row, self._cell, self._value = prefix + "row", prefix + "c", prefix + "v"
        self._inline_text, self._phonetic_run = prefix + "t", prefix + "rPh"

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == self._cell:
            ref = attrs.get("r")
            self._column = _column_index(ref, self._number) if ref else self._column + 1
            if self._column >= MAX_COLUMN:
                raise ImportFileError(f"the row has more than {MAX_COLUMN:,} columns", row=self._number, code="corrupt")
            self._ref = ref or column_letter(self._column)
            self._kind = attrs.get("t")
            self._parts = []
        elif name == self._value or name == self._inline_text:
            self._collecting = not self._phonetic
        elif name == self._row:
            self._number = _row_number(attrs.get("r"), self._number)
            self._cells = {}
            self._column = -1
        elif name == self._phonetic_run:
            self._phonetic = True

    def end(self, name: str) -> None:
        if name == self._value or name == self._inline_text:
            self._collecting = False
        elif name == self._cell:
            raw = "".join(self._parts)
            if raw:
                value = raw if self._kind == "inlineStr" else self._shown(raw)
                if value:
                    self._cells[self._column] = value
        elif name == self._row:
            self.ready.append((self._number, self._cells))
        elif name == self._phonetic_run:
            self._phonetic = False

    def text(self, data: str) -> None:
        if self._collecting:
            self._parts.append(data)

    def _shown(self, raw: str) -> str:
        """The text a cell shows, from its type and ``<v>``: shared strings looked up, numbers as Excel's General
        format shows them, booleans as TRUE/FALSE, formula results, errors and ISO dates as written."""
        kind = self._kind
        if kind == "s":
            try:
                return self._strings[int(raw)]
            except (ValueError, IndexError):
                raise ImportFileError(
                    f'cell {self._ref} refers to shared string "{raw[:20]}", which does not exist',
                    row=self._number,
                    code="corrupt",
                ) from None
        if kind == "b":
            return {"1": "TRUE", "0": "FALSE"}.get(raw.strip(), raw)
        if kind in ("str", "e", "d"):
            return raw
        return _number(raw)


def _row_number(ref: str | None, previous: int) -> int:
    if ref is None:
        return previous + 1
    if not (ref.isdigit() and ref.isascii()):
        raise ImportFileError(f'a row has the impossible number "{ref[:20]}"', row=previous + 1, code="corrupt")
    number = int(ref)
    if number <= previous:
        raise ImportFileError(
            f"comes after row {previous} in the worksheet (rows out of order)", row=number, code="corrupt"
        )
    if number > MAX_ROW:
        raise ImportFileError(f"is beyond the last row a worksheet can have ({MAX_ROW:,})", row=number, code="corrupt")
    return number


_COLUMN_INDEX: dict[str, int] = {}


def _column_index(ref: str, row: int) -> int:
    """0-based column of a cell reference such as ``C5`` (the row part is not checked)."""
    letters = ref.rstrip("0123456789")
    index = _COLUMN_INDEX.get(letters)
    if index is None:
        index = 0
        for char in letters:
            if not "A" <= char <= "Z":
                index = MAX_COLUMN + 1
                break
            index = index * 26 + ord(char) - ord("A") + 1
        if not 1 <= index <= MAX_COLUMN:
            raise ImportFileError(f'a cell has the impossible reference "{ref[:20]}"', row=row, code="corrupt")
        index -= 1
        if len(_COLUMN_INDEX) < 4 * MAX_COLUMN:
            _COLUMN_INDEX[letters] = index
    return index


def column_letter(index: int) -> str:
    """``0 -> "A"``, ``27 -> "AB"``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _number(raw: str) -> str:
    """``3.0 -> "3"``, ``1E+3 -> "1000"``, ``0.1 -> "0.1"``, ``4915112345678`` as is."""
    text = raw.strip()
    if text.isdigit() and text.isascii():
        return text
    try:
        value = float(text)
    except ValueError:
        return raw
    if not math.isfinite(value):
        return raw
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class SharedStrings:
    """The workbook's shared strings, packed in blocks (one str and one offset array per 1024 strings) so a
    file with millions of tiny strings does not become millions of Python objects."""

    _BLOCK = 1024

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._offsets: list[array[int]] = []
        self._pending: list[str] = []

    def append(self, text: str) -> None:
        self._pending.append(text)
        if len(self._pending) == self._BLOCK:
            self._blocks.append("".join(self._pending))
            self._offsets.append(array("I", accumulate((len(part) for part in self._pending), initial=0)))
            self._pending = []

    def __len__(self) -> int:
        return len(self._blocks) * self._BLOCK + len(self._pending)

    def __getitem__(self, index: int) -> str:
        if index < 0:
            raise IndexError(index)
        block, slot = divmod(index, self._BLOCK)
        if block == len(self._blocks):
            return self._pending[slot]
        if block > len(self._blocks):
            raise IndexError(index)
        offsets = self._offsets[block]
        return self._blocks[block][offsets[slot] : offsets[slot + 1]]


# --- writing ------------------------------------------------------------------------------------------------

_PROLOG = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""
_ROOT_RELS_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PACKAGE_RELS}">\
<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>\
</Relationships>"""
_WORKBOOK_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">\
<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PACKAGE_RELS}">\
<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="{_RELS}/styles" Target="styles.xml"/>\
</Relationships>"""
_STYLES_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_MAIN}">\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font>\
</fonts><fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""
_NOT_XML = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _xml_text(text: str) -> str:
    """Escaped for an XML text node; characters XML 1.0 cannot carry are dropped, ``\\r`` kept as ``&#13;``."""
    return _NOT_XML.sub(lambda match: "&#13;" if match.group() == "\r" else "", text.translate(_ESCAPES))


def build_xlsx(rows: Iterable[Sequence[str]]) -> bytes:
    """A minimal valid workbook, one sheet, inline strings; the first row is set in bold (it is the header).

    The sheet is streamed into the zip, so a large export is never held as one XML string."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (
            ("[Content_Types].xml", _CONTENT_TYPES_XML),
            ("_rels/.rels", _ROOT_RELS_XML),
            ("xl/workbook.xml", _WORKBOOK_XML),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS_XML),
            ("xl/styles.xml", _STYLES_XML),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content, zipfile.ZIP_DEFLATED)
        sheet_info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=(1980, 1, 1, 0, 0, 0))
        sheet_info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(sheet_info, "w") as sheet:
            sheet.write(f'{_PROLOG}<worksheet xmlns="{_MAIN}"><sheetData>'.encode())
            for number, row in enumerate(rows, start=1):
                style = ' s="1"' if number == 1 else ""
                cells = "".join(
                    f'<c r="{column_letter(index)}{number}"{style} t="inlineStr"><is><t xml:space="preserve">'
                    f"{_xml_text(value)}</t></is></c>"
                    for index, value in enumerate(row)
                    if value
                )
                sheet.write(f'<row r="{number}">{cells}</row>'.encode("utf-8", "replace"))
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()
