"""Tokens never reach the logs, even when code logs them by mistake."""

from __future__ import annotations

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
