"""Adding a phone number to one's own account (issue 16: a number the directory now lists for the
person, which SCIM does not add by itself under the workspace's ``verify`` policy). The number
is verified by a six-digit code texted to it, under the rules of
:mod:`admit.flows.settings.new_identifier` (secret purpose ``PHONE_VERIFICATION``, flow
``add_phone``); every SMS counts against the SMS rate limits. The number is read as sign-in reads
one (``normalise_phone`` with the instance's phone region). Asking never tells whether the number
belongs to someone else (the code is sent either way); only the person who received the code
learns that it cannot be added."""

from __future__ import annotations

from typing import Any

from admit.domain import secrets
from admit.domain.errors import ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import IdentifierKind, normalise_phone
from admit.domain.secrets import FlowKind
from admit.flows.settings import new_identifier
from admit.shared.context import Context

VERIFY = secrets.SecretPurpose.PHONE_VERIFICATION
PHONE = IdentifierKind.PHONE.value
MAX_TYPED = 40  # characters of a typed number worth reading
KIND = new_identifier.Kind(
    identifier=PHONE,
    noun="number",
    flow=FlowKind.ADD_PHONE,
    purpose=VERIFY,
    message="phone_verification",
    channel="sms",
    event=EventType.ACCOUNT_PHONE_ADDED,
    throttle="add-phone",
)


def _number(ctx: Context, typed: Any) -> str:
    if not isinstance(typed, str) or not typed.strip():
        raise ValidationFailed("enter the phone number to add", field="phone", code="phone_required")
    if len(typed) > MAX_TYPED:
        raise ValidationFailed(f"a phone number is at most {MAX_TYPED} characters", field="phone")
    return normalise_phone(typed, region=ctx.phone_region)


def start(ctx: Context, account_id: str, number: Any, *, replaces: str | None = None) -> str:
    """Text a code to ``number`` for the signed-in account and return the flow's handle (a flow
    this caller held before, ``replaces``, ends). Sending is throttled per number and account
    (``TooManyAttempts``) and counted against the SMS rate limits (``RateLimited``)."""
    return new_identifier.start(ctx, KIND, account_id, _number(ctx, number), replaces=replaces)


def pending(ctx: Context, account_id: str, handle: str | None) -> str | None:
    """The number this account's flow waits to confirm, or None (no live flow of this account)."""
    return new_identifier.pending(ctx, KIND, account_id, handle)


def confirm(ctx: Context, account_id: str, handle: str | None, code: Any) -> str:
    """Accept the code once: the number becomes one the account signs in with (returned); see
    :func:`admit.flows.settings.new_identifier.confirm` for the refusals."""
    return new_identifier.confirm(ctx, KIND, account_id, handle, code)
