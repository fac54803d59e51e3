"""Argon2id password hashing (OWASP parameters: m=19 MiB, t=2, p=1), with rehash on change."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2Hasher:
    def __init__(self, *, time_cost: int = 2, memory_cost: int = 19456, parallelism: int = 1) -> None:
        self._argon = _Argon2(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        self._dummy = self._argon.hash("admit-dummy-password-for-unknown-accounts")

    def hash(self, password: str) -> str:
        return self._argon.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        try:
            return bool(self._argon.verify(stored, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return bool(self._argon.check_needs_rehash(stored))

    def burn(self, password: str) -> None:
        self.verify(self._dummy, password)
