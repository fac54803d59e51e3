"""Access codes: what a person without email types to join (``K7QM-3XPA-9TRD-W2HF``).

Sixteen characters from an alphabet of 30 that cannot be confused when read aloud or typed on a
phone (no 0/O, 1/I/L, U/V), in four groups: 16 × log2(30) ≈ 78.5 bits. The first group is the
code's public *lookup key* (30⁴ = 810,000 keys, unique among live codes), which finds the code;
the other twelve characters (≈ 58.9 bits) are its secret, checked against an HMAC of the whole
normalised code in constant time. A wrong secret given with a live lookup key counts against that
code, and its 10th withdraws it: whatever the number of client addresses, a guesser gets at most
10 tries per live code, each winning with probability 30⁻¹² ≈ 1.9 × 10⁻¹⁸ (README, "Access codes").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as system_random

from admit.domain.errors import ValidationFailed

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # 30 symbols: no 0 O 1 I L U
LENGTH = 16
GROUP = 4
LOOKUP_LENGTH = GROUP
MAX_FAILURES = 10  # wrong secrets against one code before it is withdrawn
DEFAULT_LIFETIME_DAYS = 30
MAX_LIFETIME_DAYS = 90
BITS = LENGTH * 4.906890595608519  # log2(30) per character
SECRET_BITS = (LENGTH - LOOKUP_LENGTH) * 4.906890595608519

# Typed separators that are ignored (spaces, dashes of every kind).
_IGNORED = str.maketrans("", "", " -\t\u00a0\u2010\u2011\u2012\u2013\u2014")


def generate() -> str:
    """A fresh code, grouped for display (``K7QM-3XPA-9TRD-W2HF``), from the system's CSPRNG."""
    raw = "".join(system_random.choice(ALPHABET) for _ in range(LENGTH))
    return grouped(raw)


def grouped(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalise(typed: object) -> str:
    """The sixteen symbols of a typed code: case, spaces and dashes ignored; ``ValidationFailed``
    for anything that cannot be a code (wrong length, other characters)."""
    if not isinstance(typed, str) or len(typed) > 64:
        raise ValidationFailed("enter the 16 characters of your access code", field="code", code="code_format")
    raw = typed.upper().translate(_IGNORED)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        raise ValidationFailed("enter the 16 characters of your access code", field="code", code="code_format")
    return raw


def lookup_key(raw: str) -> str:
    return raw[:LOOKUP_LENGTH]


def digest(key: str, raw: str) -> str:
    """HMAC-SHA-256 of the normalised code under the instance's secret key: a stolen table does
    not allow the 58.9-bit secrets to be searched offline without the key."""
    return hmac.new(f"admit.access-code:{key}".encode(), raw.encode(), hashlib.sha256).hexdigest()


def same(stored: str, presented: str) -> bool:
    return hmac.compare_digest(stored.encode(), presented.encode())
