"""Domain errors, each with a stable machine ``code``.

The edge (web, CLI) maps these to one JSON envelope or a friendly message::

    DomainError
     ├── NotFound               not_found            the thing does not exist *for this caller*
     ├── Conflict               conflict             the request clashes with the current state
     │    ├── InvalidTransition invalid_transition   a state machine refused a move
     │    └── AlreadyExists     already_exists       a unique identity is taken
     ├── PermissionDenied       permission_denied    the caller lacks a permission or role
     │    └── PasswordChangeRequired                 the account must replace its initial password
     │                          password_change_required  before anything else (every door)
     ├── ValidationFailed       validation_failed    input is malformed (``field`` says where)
     │    ├── WeakPassword      weak_password        the password policy refused a password
     │    └── ImportFileError   (its own codes)      an uploaded spreadsheet that cannot be read
     │                                               safely (``admit.adapters.spreadsheets.errors`` lists them)
     ├── InvalidCredentials     invalid_credentials  sign-in or API token refused
     ├── InvalidCode            invalid_code         a wrong short code (attempts left said)
     ├── TooManyAttempts        too_many_attempts    back off: try again after ``retry_after`` s
     ├── ProviderUnavailable    provider_unavailable an identity provider cannot be reached
     ├── SsoRejected            sso_rejected         a provider's answer failed a check
     ├── SecretUnreadable       client_secret_unreadable  a stored client secret cannot be
     │                                               decrypted (ADMIT_SECRET_KEY changed)
     └── SecretRejected         invalid_token        a token is unknown, expired, withdrawn or
          │                                          of another purpose (one code: no oracle)
          └── LinkGone          invitation_expired,  a genuine invitation link that is over: the
               │                invitation_revoked,  holder of the token may learn why, as the
               │                invitation_declined, pages tell them (HTTP 410)
               │                invitation_replaced
               └── SecretAlreadyUsed                 a single-use token was used (by its holder)
                                token_already_used
"""

from __future__ import annotations

import math
from datetime import timedelta


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class AlreadyExists(Conflict):
    code = "already_exists"


class PermissionDenied(DomainError):
    code = "permission_denied"


class PasswordChangeRequired(PermissionDenied):
    """An account signed in with a one-time password an administrator chose: it may only change
    it (and sign out) until it has its own."""

    code = "password_change_required"

    def __init__(self) -> None:
        super().__init__("choose your own password first: this account still has its initial one-time password")


class ValidationFailed(DomainError):
    code = "validation_failed"


class WeakPassword(ValidationFailed):
    code = "weak_password"

    def __init__(self, failures: list[str]) -> None:
        super().__init__("; ".join(failures), field="password")
        self.failures = failures


class InvalidCredentials(DomainError):
    code = "invalid_credentials"


class SecretRejected(DomainError):
    code = "invalid_token"


class LinkGone(SecretRejected):
    """A real link whose invitation is over; ``code`` says how (expired, revoked, declined,
    replaced by a resend, already used). Only the token's holder can see it."""

    code = "link_gone"


class SecretAlreadyUsed(LinkGone):
    code = "token_already_used"


class InvalidCode(DomainError):
    """A wrong short code; ``attempts_left`` more guesses before the code is withdrawn."""

    code = "invalid_code"

    def __init__(self, attempts_left: int) -> None:
        super().__init__("this code is not correct", field="code")
        self.attempts_left = attempts_left


class TooManyAttempts(DomainError):
    code = "too_many_attempts"

    def __init__(self, retry_after: timedelta) -> None:
        seconds = max(1, math.ceil(retry_after.total_seconds()))
        super().__init__(f"too many attempts; try again in {seconds} seconds")
        self.retry_after = seconds


class ProviderUnavailable(DomainError):
    code = "provider_unavailable"


class SsoRejected(DomainError):
    code = "sso_rejected"


class SecretUnreadable(DomainError):
    code = "client_secret_unreadable"
