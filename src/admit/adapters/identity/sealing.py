"""Client secrets of identity providers are stored encrypted with a key derived from the
instance secret key (Fernet: AES-128-CBC with HMAC-SHA256), so a database dump alone does not
reveal them. Changing ADMIT_SECRET_KEY makes stored client secrets unreadable: set them again."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from admit.domain.errors import SecretUnreadable as SecretUnreadable


def _fernet(secret_key: str) -> Fernet:
    key = hashlib.sha256(f"admit.adapters.identity-provider-secret:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, plaintext: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def unseal(secret_key: str, sealed: str) -> str:
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "the provider's client secret cannot be read (was ADMIT_SECRET_KEY changed?); set it again"
        ) from None
