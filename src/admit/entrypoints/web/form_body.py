"""Reading a page form's body before the handler runs: capped in size, each field name at most
once, the ``csrftoken`` field picked out. The body is kept (in memory, in a temporary file past
1 MiB) and replayed to the application byte for byte.

Field names are decoded as Starlette decodes them when a handler reads the form, so
``email=a&%65mail=b`` is ``email`` twice. A file field counts like any other field."""

from __future__ import annotations

from tempfile import SpooledTemporaryFile
from typing import IO, Any
from urllib.parse import unquote_plus

from python_multipart.multipart import MultipartParser, QuerystringParser, parse_options_header
from starlette.types import Message, Receive, Scope

TOKEN_FIELD = "csrftoken"
MAX_TOKEN = 1024
SPOOL = 1024 * 1024  # kept in memory up to this size, then in a temporary file
CHUNK = 64 * 1024


class FormRefused(Exception):
    """Why a form is not handed on: ``too_large`` (413), ``repeated`` (400, naming the field),
    ``unreadable`` (400)."""

    def __init__(self, reason: str, status: int, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status, self.field = reason, status, field


class ClientGone(Exception):
    """The browser went away before sending the whole form."""


class Fields:
    """The field names seen so far, and the token field's raw value."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.token = bytearray()

    def named(self, name: str) -> None:
        if name in self.seen:
            raise FormRefused("repeated", 400, name)
        self.seen.add(name)

    def data(self, name: str, data: bytes) -> None:
        if name == TOKEN_FIELD and len(self.token) <= MAX_TOKEN * 3:  # a longer value matches nothing
            self.token.extend(data)


def header(scope: Scope, name: bytes) -> bytes:
    return next((value for key, value in scope.get("headers") or [] if key.lower() == name), b"")


def kind(scope: Scope) -> str:
    """``urlencoded``, ``multipart`` or ``other`` (not a form: no token in it)."""
    media = header(scope, b"content-type").split(b";", 1)[0].strip().lower()
    kinds = {b"application/x-www-form-urlencoded": "urlencoded", b"multipart/form-data": "multipart"}
    return kinds.get(media, "other")


def _urlencoded(fields: Fields) -> QuerystringParser:
    name = bytearray()

    def start() -> None:
        name.clear()

    def value(data: bytes, start: int, end: int) -> None:  # the name is complete when its value starts
        fields.data(unquote_plus(name.decode("latin-1")), data[start:end])

    callbacks: Any = {
        "on_field_start": start,
        "on_field_name": lambda data, start, end: name.extend(data[start:end]),
        "on_field_data": value,
        "on_field_end": lambda: fields.named(unquote_plus(name.decode("latin-1"))),
    }
    return QuerystringParser(callbacks)


def _part_name(disposition: bytes) -> str:
    raw = parse_options_header(disposition)[1].get(b"name", b"")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _multipart(fields: Fields, boundary: bytes) -> MultipartParser:
    field_name, field_value = bytearray(), bytearray()
    part = {"disposition": b"", "name": b""}

    def header_end() -> None:
        if field_name.lower() == b"content-disposition":
            part["disposition"] = bytes(field_value)
        field_name.clear()
        field_value.clear()

    def headers_finished() -> None:
        name = _part_name(part["disposition"])
        fields.named(name)
        part["name"], part["disposition"] = name.encode(), b""

    callbacks: Any = {
        "on_header_field": lambda data, start, end: field_name.extend(data[start:end]),
        "on_header_value": lambda data, start, end: field_value.extend(data[start:end]),
        "on_header_end": header_end,
        "on_headers_finished": headers_finished,
        "on_part_data": lambda data, start, end: fields.data(part["name"].decode(), data[start:end]),
    }
    return MultipartParser(boundary, callbacks)


def _parser(scope: Scope, fields: Fields) -> QuerystringParser | MultipartParser:
    if kind(scope) == "urlencoded":
        return _urlencoded(fields)
    boundary = parse_options_header(header(scope, b"content-type"))[1].get(b"boundary")
    if not boundary:
        raise FormRefused("unreadable", 400)
    return _multipart(fields, boundary)


class Form:
    """A form read to its end: its token, and a ``receive`` that replays its body."""

    def __init__(self, token: str | None, body: IO[bytes], size: int, rest: Receive) -> None:
        self.token, self.body, self.left, self.rest, self.done = token, body, size, rest, False

    async def replay(self) -> Message:
        if self.done:
            return await self.rest()  # after the body: the disconnect, when it comes
        chunk = self.body.read(min(CHUNK, self.left))
        self.left -= len(chunk)
        self.done = self.left <= 0
        return {"type": "http.request", "body": chunk, "more_body": not self.done}

    def close(self) -> None:
        self.body.close()


async def read(scope: Scope, receive: Receive, limit: int) -> Form:
    """The whole form of a urlencoded or multipart request, or ``FormRefused``/``ClientGone``."""
    declared = header(scope, b"content-length")
    if declared.isdigit() and int(declared) > limit:
        raise FormRefused("too_large", 413)
    fields = Fields()
    parser = _parser(scope, fields)
    body: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - closed by Form.close or below
    try:
        size = await _consume(receive, body, parser, limit)
    except (FormRefused, ClientGone):
        body.close()
        raise
    except Exception:  # a malformed body
        body.close()
        raise FormRefused("unreadable", 400) from None
    body.seek(0)
    raw = fields.token
    token = unquote_plus(raw.decode("latin-1")) if kind(scope) == "urlencoded" else raw.decode("utf-8", "replace")
    return Form(token if TOKEN_FIELD in fields.seen else None, body, size, receive)


async def _consume(receive: Receive, body: IO[bytes], parser: QuerystringParser | MultipartParser, limit: int) -> int:
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise FormRefused("too_large", 413)
        body.write(chunk)
        parser.write(chunk)
        more = message.get("more_body", False)
    parser.finalize()
    return size
