"""Typed secrets: invitation tokens, reset tokens, session ids, API tokens, ...

A secret is shown once as ``adm_<purpose>_<random>`` and stored only as its SHA-256 digest
together with its purpose. The prefix lets a token be recognised (and refused early) when it is
presented for the wrong purpose; the stored purpose makes that refusal authoritative.
Long secrets carry 256 bits from the injected random source, so an unsalted fast digest is
enough: nothing can be guessed from it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from admit.domain.errors import SecretAlreadyUsed, SecretRejected
from admit.domain.ports import RandomSource

TOKEN_BYTES = 32  # 256 bits
PREFIX = "adm"


class SecretPurpose(StrEnum):
    INVITATION = "inv"
    PASSWORD_RESET = "pwr"
    EMAIL_VERIFICATION = "evc"
    ACCESS_CODE = "acc"
    SIGNUP_LINK = "sul"
    SESSION = "ses"
    API_TOKEN = "api"
    SSO_STATE = "sso"  # an OpenID Connect flow's state, consumed by its callback
    FLOW = "flw"  # a self-service flow's handle, held by the browser or API client that started it
    CLIENT_SECRET = "cls"  # an OpenID client's (app's) secret, shown once
    AUTHORIZATION_CODE = "cod"  # an OpenID authorization code, exchanged once for tokens
    REFRESH_TOKEN = "rft"  # an OpenID refresh token, exchanged once for new tokens (and its successor)
    SCIM_TOKEN = "scm"  # an identity provider's bearer token at /scim/v2, until revoked
    ORG_INVITATION = "oin"  # an invitation to join an organization's account (issue 17), 7 days
    PHONE_VERIFICATION = "pvc"  # a code texted to a phone number being added to an account (issue 16)


# Lifetimes; ``None`` means "set by the owner" (an invitation follows its workspace; an API
# token lives until revoked).
LIFETIMES: dict[SecretPurpose, timedelta | None] = {
    SecretPurpose.INVITATION: None,
    SecretPurpose.PASSWORD_RESET: timedelta(hours=1),
    SecretPurpose.EMAIL_VERIFICATION: timedelta(minutes=15),
    SecretPurpose.ACCESS_CODE: timedelta(days=30),
    SecretPurpose.SIGNUP_LINK: timedelta(days=365),
    SecretPurpose.SESSION: timedelta(days=14),
    SecretPurpose.API_TOKEN: None,
    SecretPurpose.SSO_STATE: timedelta(minutes=10),
    SecretPurpose.FLOW: timedelta(hours=1),
    SecretPurpose.CLIENT_SECRET: None,
    SecretPurpose.AUTHORIZATION_CODE: timedelta(minutes=5),
    SecretPurpose.REFRESH_TOKEN: timedelta(days=30),  # the family's, from the code's exchange (not renewed)
    SecretPurpose.SCIM_TOKEN: None,
    SecretPurpose.ORG_INVITATION: timedelta(days=7),
    SecretPurpose.PHONE_VERIFICATION: timedelta(minutes=15),
}


def fixed_lifetime(purpose: SecretPurpose) -> timedelta:
    """The lifetime of a purpose whose secrets all live equally long (not an invitation's or API token's)."""
    lifetime = LIFETIMES[purpose]
    if lifetime is None:
        raise ValueError(f"{purpose.value} secrets have no fixed lifetime")
    return lifetime


# Purposes whose secret is consumed by its first successful use.
SINGLE_USE = frozenset(
    {
        SecretPurpose.INVITATION,
        SecretPurpose.PASSWORD_RESET,
        SecretPurpose.EMAIL_VERIFICATION,
        SecretPurpose.ACCESS_CODE,
        SecretPurpose.SSO_STATE,
        SecretPurpose.FLOW,
        SecretPurpose.AUTHORIZATION_CODE,
        SecretPurpose.REFRESH_TOKEN,
        SecretPurpose.ORG_INVITATION,
        SecretPurpose.PHONE_VERIFICATION,
    }
)


class FlowKind(StrEnum):
    """What a flow's server-side state is for; a handle works for its own kind only.

    - ``sign_up``: an invited address being verified by an emailed code, then verified (bound to
      the invitation; ended by the claim).
    - ``terms``: the terms documents downloaded with it (bound to the account; ended by the
      acceptance of the last one).
    - ``sso_profile``: an identity provider's profile awaiting the person's confirmation of their
      names (bound to the invitation; ended by the confirmation).
    - ``add_email``: an address a signed-in person adds to their account, awaiting the code sent
      to it (bound to the account; ended when the code is accepted).
    - ``add_phone``: a phone number a signed-in person adds to their account, awaiting the code
      texted to it (bound to the account; ended when the code is accepted).
    """

    SIGN_UP = "sign_up"
    TERMS = "terms"
    SSO_PROFILE = "sso_profile"
    ADD_EMAIL = "add_email"
    ADD_PHONE = "add_phone"


@dataclass(frozen=True)
class IssuedSecret:
    purpose: SecretPurpose
    plaintext: str  # shown once, never stored
    digest: str

    def __repr__(self) -> str:  # keep the plaintext out of logs and tracebacks
        return f"IssuedSecret(purpose={self.purpose.value!r}, digest={self.digest[:8]}…)"


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def issue(purpose: SecretPurpose, random: RandomSource) -> IssuedSecret:
    plaintext = f"{PREFIX}_{purpose.value}_{random.token(TOKEN_BYTES)}"
    return IssuedSecret(purpose, plaintext, digest(plaintext))


def digest_for(plaintext: str, purpose: SecretPurpose) -> str:
    """The digest to look up, or ``SecretRejected`` when the token is not of ``purpose``."""
    expected = f"{PREFIX}_{purpose.value}_"
    if not isinstance(plaintext, str) or not plaintext.startswith(expected) or len(plaintext) > 200:
        raise SecretRejected("this link or token is not valid")
    return digest(plaintext)


def same_digest(stored: str, presented: str) -> bool:
    return hmac.compare_digest(stored.encode(), presented.encode())


def expiry(purpose: SecretPurpose, now: datetime, lifetime: timedelta | None = None) -> datetime | None:
    chosen = lifetime if lifetime is not None else LIFETIMES[purpose]
    return None if chosen is None else now + chosen


def ensure_usable(
    *,
    purpose: SecretPurpose,
    expected: SecretPurpose,
    expires_at: datetime | None,
    consumed_at: datetime | None,
    revoked_at: datetime | None,
    now: datetime,
) -> None:
    """Refuse a secret of another purpose, or one that is revoked, used up or expired.

    All refusals carry the same code so that a caller cannot probe which case applies; the
    message alone is specific, for pages that may show it to the token's holder.
    """
    if purpose is not expected:
        raise SecretRejected("this link or token is not valid")
    if revoked_at is not None:
        raise SecretRejected("this link has been replaced or withdrawn")
    if consumed_at is not None and purpose in SINGLE_USE:
        raise SecretAlreadyUsed("this link has already been used")
    if expires_at is not None and now >= expires_at:
        raise SecretRejected("this link has expired")


# Short codes (email verification): six digits a person can type. They are guessable by
# design, so each is bound to the 256-bit handle of the sign-up flow that asked for it, which only
# the person's browser or API client holds (the stored digest covers handle, address and code),
# lives 15 minutes and allows CODE_ATTEMPTS wrong guesses before it is withdrawn; sending is
# throttled per address.
CODE_DIGITS = 6
CODE_ATTEMPTS = 5


def code_digest(flow: str, address: str, code: str) -> str:
    return hashlib.sha256(f"{flow}:{address}:{code.strip()}".encode()).hexdigest()
