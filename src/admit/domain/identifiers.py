"""Normalising the identifiers a person signs in with: email, username, phone (E.164)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeGuard

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from admit.domain.errors import ValidationFailed

_PHONE_CHARACTERS = re.compile(r"^\+?[\d\s().\-/]+$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class IdentifierKind(StrEnum):
    EMAIL = "email"
    USERNAME = "username"
    PHONE = "phone"


# Plain ASCII addresses (nearly all of them) are checked by this pattern; anything else (quoted
# local parts, international or punycode domains, odd lengths) goes to email-validator, which
# takes ~20 times longer. A property test holds the two to the same answers.
_PLAIN_EMAIL = re.compile(
    r"(?i)[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]*[a-z][a-z0-9]*"
)
_SPECIAL_USE = tuple(SPECIAL_USE_DOMAIN_NAMES)


def _plain_email(value: str) -> str | None:
    if len(value) > 254 or not _PLAIN_EMAIL.fullmatch(value):
        return None
    local, _, domain = value.lower().rpartition("@")
    if len(local) > 64 or "--" in domain or len(domain) > 253:
        return None
    if any(domain == name or domain.endswith("." + name) for name in _SPECIAL_USE):
        return None
    return f"{local}@{domain}"


_ROW_ID = re.compile(r"[0-9a-f]{32}")


def plausible_id(value: Any) -> TypeGuard[str]:
    """Whether ``value`` can be a row id at all (32 hex digits): anything else finds nothing
    before reaching the database (PostgreSQL refuses a NUL), and is no page cursor."""
    return isinstance(value, str) and _ROW_ID.fullmatch(value) is not None


def normalise_email(value: str, *, field: str = "email") -> str:
    plain = _plain_email(value.strip())
    if plain is not None:
        return plain
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"{value!r} is not a valid email address: {exc}", field=field) from None
    return result.normalized.lower()


def normalise_username(value: str, *, field: str = "username") -> str:
    username = value.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationFailed(
            "a username has 2 to 64 letters, digits, dots, dashes or underscores and starts with a letter or digit",
            field=field,
        )
    return username


def normalise_phone(value: str, *, region: str | None = None, field: str = "phone") -> str:
    number = None
    if _PHONE_CHARACTERS.match(value.strip()):
        with contextlib.suppress(phonenumbers.NumberParseException):
            number = phonenumbers.parse(value.strip(), region)
    if number is None or not phonenumbers.is_valid_number(number):
        hint = "" if region else " in international form, starting with + and the country code"
        raise ValidationFailed(f"{value!r} is not a valid phone number{hint}", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def candidates(identifier: str, *, region: str | None = None) -> list[tuple[str, str]]:
    """Every (kind, normalised value) an identifier typed at sign-in could stand for."""
    text = identifier.strip()
    readers: list[tuple[IdentifierKind, Callable[[str], str]]]
    if "@" in text:
        readers = [(IdentifierKind.EMAIL, normalise_email)]
    else:
        readers = [(IdentifierKind.USERNAME, normalise_username)]
        if re.fullmatch(r"[+\d][\d\s().-]{5,}", text):
            readers.insert(0, (IdentifierKind.PHONE, lambda value: normalise_phone(value, region=region)))
    found: list[tuple[str, str]] = []
    for kind, read in readers:
        with contextlib.suppress(ValidationFailed):
            found.append((kind.value, read(text)))
    return found
