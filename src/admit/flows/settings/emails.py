"""Adding an email address to one's own account (a username + phone person who later has an
address signs in with it too). The address is verified by a six-digit code sent to it, under the
rules of :mod:`admit.flows.settings.new_identifier` (secret purpose ``EMAIL_VERIFICATION``, flow
``add_email``). Asking never tells whether the address belongs to someone else (the code is sent
either way); only the person who received the code learns that it cannot be added."""

from __future__ import annotations

from typing import Any

from admit.domain import secrets
from admit.domain.errors import ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import IdentifierKind, normalise_email
from admit.domain.secrets import FlowKind
from admit.flows.settings import new_identifier
from admit.shared.context import Context

VERIFY = secrets.SecretPurpose.EMAIL_VERIFICATION
EMAIL = IdentifierKind.EMAIL.value
KIND = new_identifier.Kind(
    identifier=EMAIL,
    noun="address",
    flow=FlowKind.ADD_EMAIL,
    purpose=VERIFY,
    message="email_verification",
    channel="email",
    event=EventType.ACCOUNT_EMAIL_ADDED,
    throttle="add-email",
)


def start(ctx: Context, account_id: str, address: Any, *, replaces: str | None = None) -> str:
    """Send a code to ``address`` for the signed-in account and return the flow's handle (a flow
    this caller held before, ``replaces``, ends). Sending is throttled per address and account."""
    if not isinstance(address, str) or not address.strip():
        raise ValidationFailed("enter the email address to add", field="email", code="email_required")
    return new_identifier.start(ctx, KIND, account_id, normalise_email(address), replaces=replaces)


def pending(ctx: Context, account_id: str, handle: str | None) -> str | None:
    """The address this account's flow waits to confirm, or None (no live flow of this account)."""
    return new_identifier.pending(ctx, KIND, account_id, handle)


def confirm(ctx: Context, account_id: str, handle: str | None, code: Any) -> str:
    """Accept the code once: the address becomes one the account signs in with (returned); see
    :func:`admit.flows.settings.new_identifier.confirm` for the refusals."""
    return new_identifier.confirm(ctx, KIND, account_id, handle, code)


identifiers = new_identifier.identifiers  # what the account signs in with (the settings pages list it)
