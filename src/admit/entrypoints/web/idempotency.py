"""``Idempotency-Key`` on the REST API's POST, PUT, PATCH and DELETE requests: this middleware
carries out the rules of :mod:`admit.shared.idempotency` for ``/api/v1`` (the pages have their
own one-time form tokens; SCIM has its own semantics)."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admit.entrypoints.web.errors import envelope
from admit.shared import idempotency
from admit.shared.context import Context

HEADER = b"idempotency-key"
PREFIX = "/api/v1/"


class IdempotencyKeys:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in idempotency.METHODS
            or not scope["path"].startswith(PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(HEADER)
        token = _bearer(headers.get(b"authorization", b""))
        if raw_key is None or token is None:  # no key, or nobody to keep it for
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not idempotency.valid_key(key):
            await envelope(
                400,
                "invalid_idempotency_key",
                f"Idempotency-Key must be 1 to {idempotency.MAX_KEY} printable ASCII characters",
                "Idempotency-Key",
            )(scope, receive, send)
            return
        body = await _read_body(receive)
        ctx: Context = scope["app"].state.context
        caller = idempotency.caller_of(token)
        hashed = idempotency.request_hash(scope["method"], scope["path"], body)
        outcome = await to_thread.run_sync(idempotency.begin, ctx, caller, key, hashed)
        if outcome.decision is idempotency.Decision.REUSED:
            message = "this Idempotency-Key was used with another request; use a new key"
            await envelope(422, "idempotency_key_reused", message, "Idempotency-Key")(scope, receive, send)
            return
        if outcome.decision is idempotency.Decision.IN_FLIGHT:
            message = "a request with this Idempotency-Key is still running; retry later"
            await envelope(409, "idempotency_in_flight", message, "Idempotency-Key", {"Retry-After": "1"})(
                scope, receive, send
            )
            return
        if outcome.decision is idempotency.Decision.REPLAY:
            await _replay(outcome, send)
            return
        await self._run(scope, body, send, ctx, caller, key)

    async def _run(self, scope: Scope, body: bytes, send: Send, ctx: Context, caller: str, key: str) -> None:
        sent = False

        async def replay_body() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        status = 500
        content_type: str | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")[:120]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            await to_thread.run_sync(idempotency.forget, ctx, caller, key)
            raise
        await to_thread.run_sync(idempotency.finish, ctx, caller, key, status, content_type, b"".join(chunks))


def _bearer(header: bytes) -> str | None:
    scheme, _, token = header.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _replay(outcome: idempotency.Outcome, send: Send) -> None:
    headers: list[tuple[bytes, bytes]] = [
        (b"content-length", str(len(outcome.body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    if outcome.content_type:
        headers.append((b"content-type", outcome.content_type.encode("latin-1")))
    start: dict[str, Any] = {"type": "http.response.start", "status": outcome.status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": outcome.body, "more_body": False})
