"""Client secrets of identity providers are stored encrypted with a key derived from the
instance secret key (Fernet: AES-128-CBC with HMAC-SHA256), so a database dump alone does not
reveal them; webhook signing secrets likewise, with a key of their own. Changing ADMIT_SECRET_KEY
makes stored secrets unreadable: set them again."""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from admit.domain.errors import SecretUnreadable as SecretUnreadable

PROVIDER = "identity-provider-secret"
WEBHOOK = "webhook-secret"  # webhook endpoints' signing secrets (admin.webhooks)


@functools.lru_cache(maxsize=64)
def _fernet(secret_key: str, purpose: str = PROVIDER) -> Fernet:
    key = hashlib.sha256(f"admit.adapters.{purpose}:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, plaintext: str, purpose: str = PROVIDER) -> str:
    return _fernet(secret_key, purpose).encrypt(plaintext.encode()).decode()


def unseal(secret_key: str, sealed: str, purpose: str = PROVIDER) -> str:
    try:
        return _fernet(secret_key, purpose).decrypt(sealed.encode()).decode()
    except InvalidToken:
        what = "the provider's client secret" if purpose == PROVIDER else "the webhook's signing secret"
        raise SecretUnreadable(f"{what} cannot be read (was ADMIT_SECRET_KEY changed?); set it again") from None
