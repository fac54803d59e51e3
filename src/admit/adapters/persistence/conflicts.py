"""Constraint violations in the domain's words: a unique-constraint race (two requests adding the
same email at once) becomes :class:`~admit.domain.errors.AlreadyExists` with a stable code, any
other integrity error a plain :class:`~admit.domain.errors.Conflict`. The unit of work raises
these at its boundary, so use cases never see a driver or SQLAlchemy exception.

Both dialects are read: PostgreSQL names the constraint, SQLite lists its columns."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from admit.domain.errors import AlreadyExists, Conflict

log = logging.getLogger("admit.adapters.persistence")

_ACCOUNT_EXISTS = ("account_exists", "an account with this identifier already exists")
_ALREADY_MEMBER = ("already_member", "this account is already a member of the workspace")
_EMAIL_TAKEN = ("member_exists", "a member with this email already exists in the workspace")
_USERNAME_TAKEN = ("member_exists", "a member with this username already exists")
_EXTERNAL_ID_TAKEN = ("member_exists", "a member with this external ID already exists")
_ALREADY_INVITED = ("already_invited", "this member already has a pending invitation")
_TERMS_VERSION = ("terms_changed", "another version was published at the same time; try again")
_TERMS_ACCEPTED = ("already_accepted", "these terms were already accepted")
_SCIM_USER_NAME = ("user_name_taken", "a user with this userName already exists")

# (what the database's message contains, (code, message)): PostgreSQL's constraint name, then
# SQLite's "UNIQUE constraint failed: table.column, ..." wording of the same constraint.
CONSTRAINTS: list[tuple[str, tuple[str, str]]] = [
    ("uq_identifiers_kind_value", _ACCOUNT_EXISTS),
    ("account_identifiers.kind, account_identifiers.value", _ACCOUNT_EXISTS),
    ("uq_members_account", _ALREADY_MEMBER),
    ("members.workspace_id, members.account_id", _ALREADY_MEMBER),
    ("uq_members_email", _EMAIL_TAKEN),
    ("members.workspace_id, members.email", _EMAIL_TAKEN),
    ("uq_members_username", _USERNAME_TAKEN),
    ("members.workspace_id, members.username", _USERNAME_TAKEN),
    ("uq_members_external_id", _EXTERNAL_ID_TAKEN),
    ("members.workspace_id, members.external_id", _EXTERNAL_ID_TAKEN),
    ("uq_invitations_pending_member", _ALREADY_INVITED),
    ("invitations.member_id", _ALREADY_INVITED),
    ("uq_scim_users_user_name", _SCIM_USER_NAME),
    ("scim_users.organization_id, scim_users.user_name_key", _SCIM_USER_NAME),
    ("uq_terms_version", _TERMS_VERSION),
    ("terms.workspace_id, terms.version", _TERMS_VERSION),
    ("uq_terms_acceptance", _TERMS_ACCEPTED),
    ("terms_acceptances.workspace_id, terms_acceptances.account_id, terms_acceptances.version", _TERMS_ACCEPTED),
]

UNKNOWN = ("conflict", "the change conflicts with the current state; try again")


def conflict_from(exc: IntegrityError) -> Conflict:
    """The domain error for a constraint violation: ``AlreadyExists`` (with the constraint's
    code) for a unique one, ``Conflict`` for any other."""
    text = str(exc.orig)
    unique = _is_unique_violation(exc)
    for marker, (code, message) in CONSTRAINTS:
        if marker in text:
            return AlreadyExists(message, code=code) if unique else Conflict(message, code=code)
    log.warning("integrity error without a known constraint: %s", type(exc.orig).__name__)
    code, message = UNKNOWN
    return AlreadyExists(message, code=code) if unique else Conflict(message, code=code)


def _is_unique_violation(exc: IntegrityError) -> bool:
    if getattr(exc.orig, "sqlstate", None) == "23505":  # psycopg: unique_violation
        return True
    return "UNIQUE constraint failed" in str(exc.orig)  # sqlite3
