"""The CSRF check for upload forms (``multipart/form-data``), done here because asgi-csrf 0.11 cannot
parse them with python-multipart >= 0.0.26 (it passes a removed ``FileClass`` argument and every
upload fails with a server error: simonw/asgi-csrf#38, fix proposed in #39, not released).

The rule is asgi-csrf's own: the form's first part must be the ``csrftoken`` field, equal to the
signed ``csrftoken`` cookie. Only that first part is read before deciding; the body is then
replayed to the application untouched. A checked request is marked in its scope so asgi-csrf
lets it through (``skip_if_scope``). Remove this module once asgi-csrf handles uploads again."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

from asgi_csrf import DEFAULT_COOKIE_NAME, DEFAULT_SIGNING_NAMESPACE  # type: ignore[import-untyped]
from itsdangerous import BadSignature, URLSafeSerializer
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import Message, Receive, Scope, Send

CHECKED = "admit.multipart_csrf_checked"
MAX_TOKEN = 1024


def is_multipart(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    return bool(headers.get(b"content-type", b"").split(b";", 1)[0].strip() == b"multipart/form-data")


def skip(scope: Scope) -> bool:
    """For asgi-csrf's ``skip_if_scope``: this upload's token was checked here already."""
    return scope.get(CHECKED) is True


class _Found(Exception):
    def __init__(self, token: bytes | None) -> None:
        self.token = token


def _first_field_parser(boundary: bytes) -> MultipartParser:
    """A parser that raises ``_Found`` with the first part's value if it is the csrftoken field
    (``None`` if the first part is anything else)."""
    header = {"field": b"", "value": b""}
    headers: dict[bytes, bytes] = {}
    value = bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def on_header_end() -> None:
        headers[header["field"].lower()] = header["value"]
        header["field"] = header["value"] = b""

    def on_headers_finished() -> None:
        _, params = parse_options_header(headers.get(b"content-disposition", b""))
        if params.get(b"name") != b"csrftoken" or b"filename" in params:
            raise _Found(None)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])
        if len(value) > MAX_TOKEN:
            raise _Found(None)

    def on_part_end() -> None:
        raise _Found(bytes(value))

    callbacks: Any = {
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    return MultipartParser(boundary, callbacks)


async def _form_token(scope: Scope, receive: Receive) -> tuple[bytes | None, list[Message]]:
    """The csrftoken field at the start of the body, and the messages read to find it."""
    headers = dict(scope.get("headers") or [])
    _, params = parse_options_header(headers.get(b"content-type", b""))
    boundary = params.get(b"boundary")
    seen: list[Message] = []
    if not boundary:
        return None, seen
    parser = _first_field_parser(boundary)
    more = True
    try:
        while more:
            message = await receive()
            seen.append(message)
            if message["type"] != "http.request":
                return None, seen
            parser.write(message.get("body", b""))
            more = message.get("more_body", False)
    except _Found as found:
        return found.token, seen
    except Exception:  # a malformed body: refused like a missing token
        return None, seen
    return None, seen


def _cookie_token(scope: Scope) -> str | None:
    headers = dict(scope.get("headers") or [])
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:
        return None
    morsel = jar.get(DEFAULT_COOKIE_NAME)
    return morsel.value if morsel is not None else None


async def check(
    scope: Scope, receive: Receive, send: Send, secret: str, app: Callable[[Scope, Receive, Send], Awaitable[None]]
) -> None:
    """Check an upload's token, then run ``app`` with the body replayed, or refuse with 403."""
    token, seen = await _form_token(scope, receive)
    expected = _cookie_token(scope)
    valid = False
    if token is not None and expected:
        try:
            URLSafeSerializer(secret).loads(expected, DEFAULT_SIGNING_NAMESPACE)
            valid = hmac.compare_digest(token, expected.encode())
        except BadSignature:
            valid = False
    if not valid:
        await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"CSRF check failed: the form is missing its token"})
        return

    async def replay() -> Message:
        return seen.pop(0) if seen else await receive()

    await app({**scope, CHECKED: True}, replay, send)
