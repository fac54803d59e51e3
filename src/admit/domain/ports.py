"""Ports the services depend on; adapters implement them and bootstrap wires them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class RandomSource(Protocol):
    def token(self, nbytes: int) -> str:
        """A URL-safe random string carrying ``nbytes`` bytes of entropy."""
        ...

    def digits(self, count: int) -> str:
        """``count`` uniformly random decimal digits (a code a person types)."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, stored: str, password: str) -> bool: ...

    def needs_rehash(self, stored: str) -> bool: ...

    def burn(self, password: str) -> None:
        """Spend the time of a verification without an account (no timing oracle)."""
        ...
