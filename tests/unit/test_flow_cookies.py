"""The flow cookies' signature (``security.FlowSigner``) and the CSRF token the form guard hands
each page (``form_guard.FormGuard.with_token``)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer

from admit.config import Settings
from admit.entrypoints.web.form_guard import CSRF_NAMESPACE, FormGuard, cookie_token
from admit.entrypoints.web.security import BadSignature, FlowSigner

KEY = "k" * 40


def test_a_signed_value_reads_back_and_any_change_is_refused() -> None:
    signer = FlowSigner(KEY)
    raw = signer.dumps(["invitation", "adm_inv_abc"])
    assert signer.loads(raw, max_age=60) == ["invitation", "adm_inv_abc"]
    payload, issued, signature = raw.split(".")
    forged = base64.urlsafe_b64encode(json.dumps(["invitation", "adm_inv_other"]).encode()).rstrip(b"=").decode()
    for bad in (
        f"{forged}.{issued}.{signature}",  # another value under the old signature
        f"{payload}.{int(issued) + 1}.{signature}",  # a younger date
        f"{payload}.{issued}.{signature[:-1]}",
        raw + "x",
        "",
        "..",
        "é.1.x",
        f"{payload}.{issued}.é",  # a non-ASCII signature (compare_digest refuses such strings)
        f"{payload}.{issued}.{signature}\u00ff",
        "a.b.c",
        f"{payload}.{issued}",
    ):
        with pytest.raises(BadSignature):
            signer.loads(bad, max_age=60)


def test_another_key_or_purpose_does_not_verify() -> None:
    raw = FlowSigner(KEY).dumps({"flow": "x"})
    with pytest.raises(BadSignature):
        FlowSigner("z" * 40).loads(raw)
    with pytest.raises(BadSignature):
        FlowSigner(KEY, b"another purpose").loads(raw)


def test_an_old_value_is_refused_after_max_age(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = FlowSigner(KEY)
    raw = signer.dumps("v")
    later = time.time() + 3601
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(BadSignature, match="too old"):
        signer.loads(raw, max_age=3600)
    assert signer.loads(raw, max_age=7200) == "v"


def _settings() -> Settings:
    return Settings(secret_key=KEY, base_url="https://admit.example.com", dev_mode=False)


def _page(uses_token: bool) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        token = scope["csrftoken"]() if uses_token else ""
        headers = [(b"content-type", b"text/html"), (b"vary", b"Accept-Language")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": token.encode()})

    return app


def _get(app: Any, cookie: str | None = None) -> tuple[dict[bytes, list[bytes]], str]:
    headers = [(b"cookie", cookie.encode())] if cookie else []
    scope = {"type": "http", "method": "GET", "path": "/welcome", "headers": headers}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    answer: dict[bytes, list[bytes]] = {}
    for name, value in sent[0]["headers"]:
        answer.setdefault(name, []).append(value)
    return answer, sent[1]["body"].decode()


def test_a_page_that_uses_the_token_without_a_cookie_sets_a_new_signed_one() -> None:
    guard = FormGuard(_page(True), settings=_settings(), cookie_secure=True)
    headers, token = _get(guard)
    assert URLSafeSerializer(KEY).loads(token, CSRF_NAMESPACE)  # asgi-csrf's format: old cookies stay valid
    assert headers[b"set-cookie"] == [f"csrftoken={token}; Path=/; SameSite=Lax; Secure".encode()]
    assert headers[b"vary"] == [b"Accept-Language, Cookie"]


def test_a_browser_with_a_valid_cookie_keeps_its_token_and_gets_no_new_cookie() -> None:
    token = URLSafeSerializer(KEY).dumps("abc", CSRF_NAMESPACE)
    guard = FormGuard(_page(True), settings=_settings(), cookie_secure=False)
    headers, used = _get(guard, f"theme=dark; csrftoken={token}")
    assert used == token and b"set-cookie" not in headers


def test_a_forged_or_foreign_cookie_is_replaced() -> None:
    foreign = URLSafeSerializer("another key" * 4).dumps("abc", CSRF_NAMESPACE)
    guard = FormGuard(_page(True), settings=_settings(), cookie_secure=False)
    for cookie in (f"csrftoken={foreign}", "csrftoken=", "csrftoken=abc.def", 'csrftoken="x; y"'):
        headers, token = _get(guard, cookie)
        assert token not in (foreign, "") and headers[b"set-cookie"][0].startswith(f"csrftoken={token};".encode())


def test_a_page_that_does_not_use_the_token_sets_nothing_and_does_not_vary() -> None:
    headers, _ = _get(FormGuard(_page(False), settings=_settings(), cookie_secure=False))
    assert b"set-cookie" not in headers and headers[b"vary"] == [b"Accept-Language"]


def test_the_cookie_token_is_the_first_validly_signed_one() -> None:
    signer = URLSafeSerializer(KEY)
    good = signer.dumps("abc", CSRF_NAMESPACE)
    scope = {"headers": [(b"cookie", b"csrftoken=forged"), (b"Cookie", f"a=1; csrftoken={good}".encode())]}
    assert cookie_token(scope, signer) == good
    assert cookie_token({"headers": [(b"cookie", b"csrftoken=forged")]}, signer) is None
    assert cookie_token({"headers": []}, signer) is None
