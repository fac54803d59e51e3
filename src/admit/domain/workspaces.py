"""What a new workspace starts with, in one place: the REST API's schema, the CLI's options, the
settings use case and the database's column defaults all read these."""

from __future__ import annotations

from dataclasses import dataclass

from admit.domain.invitations import DEFAULT_LIFETIME_DAYS


@dataclass(frozen=True)
class WorkspaceDefaults:
    invitation_lifetime_days: int = DEFAULT_LIFETIME_DAYS  # 1-30
    password_policy: str = "length"  # NIST SP 800-63B-4: 15+ characters, no composition rules
    default_language: str = "en"
    email_enabled: bool = True
    sms_enabled: bool = False
    # Members created by integrations (SCIM, the REST API) are invited at once only when this is on.
    # Off in a new workspace, as in the Workplace article: people pushed before launch wait silently
    # until an administrator presses "Invite All", which turns it on.
    auto_invite: bool = False
    sms_daily_cap: int = 500
    # What a new email address, username or phone number from SCIM does to a claimed account
    # (issue 16): "verify" until the person confirms it, or "trust" (added at once).
    scim_identifier_changes: str = "verify"


DEFAULTS = WorkspaceDefaults()

# The values of ``scim_identifier_changes``: the person verifies a new identifier from SCIM
# before it signs in (the old address is told), or the directory is trusted and it signs in at once.
SCIM_VERIFY = "verify"
SCIM_TRUST = "trust"
SCIM_IDENTIFIER_CHANGES = (SCIM_VERIFY, SCIM_TRUST)
