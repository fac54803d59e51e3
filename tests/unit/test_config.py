"""Settings: refuse insecure defaults outside dev mode, and a base URL that is not http(s)."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from admit.config import DEV_SECRET_KEY, Settings

GOOD_KEY = "k" * 32


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("ADMIT_"):
            monkeypatch.delenv(name)


def test_default_secret_key_is_refused_outside_dev_mode() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert "ADMIT_SECRET_KEY" in str(caught.value)
    with pytest.raises(ValidationError):
        Settings(dev_mode=False, secret_key=DEV_SECRET_KEY, _env_file=None)


@pytest.mark.parametrize("key", ["", "short", "k" * 31])
def test_secret_key_shorter_than_32_characters_is_refused_outside_dev_mode(key: str) -> None:
    with pytest.raises(ValidationError):
        Settings(secret_key=key, _env_file=None)


@pytest.mark.parametrize("key", ["k" * 32, "k" * 64])
def test_secret_key_of_32_or_more_characters_is_accepted(key: str) -> None:
    assert Settings(secret_key=key, _env_file=None).secret_key == key


def test_dev_mode_accepts_the_default_secret_key() -> None:
    settings = Settings(dev_mode=True, _env_file=None)
    assert settings.secret_key == DEV_SECRET_KEY


def test_dev_mode_accepts_a_short_secret_key() -> None:
    assert Settings(dev_mode=True, secret_key="short", _env_file=None).secret_key == "short"


def test_settings_are_read_from_admit_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIT_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("ADMIT_BASE_URL", "https://admit.example.test/")
    settings = Settings(_env_file=None)
    assert settings.secret_key == GOOD_KEY
    assert settings.base_url == "https://admit.example.test"


def test_default_secret_key_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIT_SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
    monkeypatch.setenv("ADMIT_DEV_MODE", "true")
    assert Settings(_env_file=None).dev_mode is True


@pytest.mark.parametrize("url", ["admit.example.test", "ftp://admit.example.test", "//admit.example.test", ""])
def test_base_url_without_http_or_https_is_refused(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(secret_key=GOOD_KEY, base_url=url, _env_file=None)
    assert "base_url" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://admit.example.test/", "https://admit.example.test"),
        ("https://admit.example.test//", "https://admit.example.test"),
        ("http://127.0.0.1:8000/admit/", "http://127.0.0.1:8000/admit"),
        ("https://admit.example.test", "https://admit.example.test"),
    ],
)
def test_base_url_trailing_slash_is_stripped(url: str, stored: str) -> None:
    assert Settings(secret_key=GOOD_KEY, base_url=url, _env_file=None).base_url == stored


def test_json_logs_default_on_outside_dev_mode_and_off_in_it() -> None:
    assert Settings(secret_key=GOOD_KEY, _env_file=None).json_logs is True
    assert Settings(dev_mode=True, _env_file=None).json_logs is False
    assert Settings(dev_mode=True, log_json=True, _env_file=None).json_logs is True


def test_weaker_than_owasp_argon2_is_refused_outside_dev_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ADMIT_"):
            monkeypatch.delenv(name)
    with pytest.raises(ValidationError, match="OWASP"):
        Settings(_env_file=None, secret_key="k" * 40, argon2_memory_kib=1024, argon2_time_cost=1)  # type: ignore[call-arg]
    assert Settings(_env_file=None, secret_key="k" * 40, argon2_memory_kib=12288, argon2_time_cost=4)  # type: ignore[call-arg]
    assert Settings(_env_file=None, dev_mode=True, argon2_memory_kib=1024, argon2_time_cost=1)  # type: ignore[call-arg]
