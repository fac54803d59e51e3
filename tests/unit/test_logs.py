"""Tokens never reach the logs, even when code logs them by mistake."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from admit.config import Settings
from admit.logs import configure_logging, redact

TOKEN = "adm_inv_" + "Q" * 43


def test_redact_masks_every_kind_of_token() -> None:
    for purpose in ("inv", "pwr", "ses", "api", "evc"):
        token = f"adm_{purpose}_AbC-dEf_123"
        assert redact(f"link https://x/i/{token} end") == f"link https://x/i/{token[:8]}… end"


def test_redact_masks_signed_jwts() -> None:
    hint = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl-_x"
    assert redact(f"/oauth2/logout?id_token_hint={hint}&state=s") == "/oauth2/logout?id_token_hint=eyJ…&state=s"
    unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0."
    assert redact(f"logout_token={unsigned} end") == "logout_token=eyJ… end"


def test_log_lines_never_carry_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(Settings(_env_file=None, dev_mode=False, secret_key="k" * 40, log_json=True))  # type: ignore[call-arg]
        logging.getLogger("admit.test").warning("accepting %s for %s", TOKEN, "ann@example.com")
        structlog.get_logger("admit.test").warning("resend", link=f"https://x/i/{TOKEN}")
        output = capsys.readouterr().err
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        structlog.reset_defaults()
    assert TOKEN not in output and "Q" * 10 not in output and output.count("adm_inv_") == 2
    assert "ann@example.com" in output and '"event": "resend"' in output


def test_authlib_never_logs_the_tokens_it_issues_even_at_debug(capsys: pytest.CaptureFixture[str]) -> None:
    root, authlib = logging.getLogger(), logging.getLogger("authlib")
    saved = (root.handlers[:], root.level, authlib.level)
    access_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl"  # a JWT: nothing to redact by shape
    try:
        configure_logging(Settings(_env_file=None, dev_mode=True, log_level="debug"))  # type: ignore[call-arg]
        logging.getLogger("authlib.oauth2.rfc6749.grants.refresh_token").debug("Issue token %r", access_token)
        logging.getLogger("admit.test").debug("admit's own debug lines still show")
        output = capsys.readouterr().err
    finally:
        root.handlers[:], level, authlib_level = saved
        root.setLevel(level)
        authlib.setLevel(authlib_level)
        structlog.reset_defaults()
    assert access_token not in output and "admit's own debug lines still show" in output


def _log_failure(settings: Settings, capsys: pytest.CaptureFixture[str]) -> str:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(settings)

        def fail(password: str) -> None:
            raise RuntimeError(f"could not use {TOKEN}")

        secret = "-".join(("hunter2", "local", "secret"))  # only a local variable holds it
        try:
            fail(secret)
        except RuntimeError as exc:
            logging.getLogger("admit.entrypoints.web").error("unhandled error abc123: RuntimeError", exc_info=exc)
        return capsys.readouterr().err
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        structlog.reset_defaults()


def test_a_failure_is_one_json_line_with_its_frames_and_no_locals_or_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(_env_file=None, dev_mode=False, secret_key="k" * 40, log_json=True)  # type: ignore[call-arg]
    output = _log_failure(settings, capsys)
    [line] = output.strip().splitlines()
    event = json.loads(line)
    [exception] = event["exception"]
    assert exception["exc_type"] == "RuntimeError" and "traceback object" not in line
    assert [frame["name"] for frame in exception["frames"]][-1] == "fail"
    assert "hunter2-local-secret" not in output and TOKEN not in output and "adm_inv_" in exception["exc_value"]


def test_a_failure_in_dev_mode_is_a_plain_traceback_without_locals(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(_env_file=None, dev_mode=True, log_json=False)  # type: ignore[call-arg]
    output = _log_failure(settings, capsys)
    assert "Traceback (most recent call last)" in output and 'raise RuntimeError(f"could not use {TOKEN}")' in output
    assert "hunter2-local-secret" not in output and TOKEN not in output
    assert len(output.splitlines()) < 30  # one traceback, not a dump of every frame's variables
