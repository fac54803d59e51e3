"""The schema. Every tenant-owned table carries ``organization_id`` (and ``workspace_id`` where
it belongs to one) and every repository query filters on it.

Races are settled by constraints, not by process memory: one active membership per account
and workspace, one live member per email/username/external ID and workspace, one pending
invitation per member, unique secret digests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from admit.domain.workspaces import DEFAULTS

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every dialect (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC) if dialect.name != "sqlite" else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id(name: str = "id", **kw: Any) -> Column[str]:
    return Column(name, String(32), primary_key=True, **kw)


def _ref(name: str, target: str, nullable: bool = False) -> Column[str]:
    return Column(name, String(32), ForeignKey(target), nullable=nullable)


def _sql(value: bool | int) -> Any:
    """A column's server default for a Python value (booleans as SQL's true/false)."""
    return text(str(value).lower() if isinstance(value, bool) else str(value))


def _created() -> Column[datetime]:
    return Column("created_at", UTCDateTime, nullable=False)


LIVE = "status <> 'removed'"


def _live_unique(name: str, column: str) -> Index:
    """Unique among the workspace's members who are not removed; rows without a value are not
    indexed at all (a removed person can come back; most members have no username)."""
    where = text(f"{LIVE} AND {column} IS NOT NULL")
    return Index(name, "workspace_id", column, unique=True, sqlite_where=where, postgresql_where=where)


organizations = Table(
    "organizations",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("plan", String(20), nullable=False),
    Column("seats", Integer, nullable=False),
    _ref("parent_id", "organizations.id", nullable=True),
    _created(),
    # Issue 17: licences are enforced only once the operator turns it on (rows from before, and new
    # organizations, count seats without refusing); an invitation reserves a seat while pending;
    # security controls (enterprise plan): allowed email domains ([] = any) and who may invite.
    Column("licences_enforced", Boolean, nullable=False, server_default=text("false")),
    Column("reserve_seats_for_invitations", Boolean, nullable=False, server_default=text("true")),
    Column("allowed_email_domains", JSON, nullable=False, server_default=text("'[]'")),
    Column("who_may_invite", String(16), nullable=False, server_default=text("'workspace_admins'")),
    # Issue 17 (sellers, admit.admin.sellers): direct | seller | customer (a customer's parent_id is its seller).
    Column("kind", String(10), nullable=False, server_default=text("'direct'")),
    CheckConstraint("plan in ('free','pro','business','enterprise')", name="plan"),
    CheckConstraint("seats >= 0", name="seats"),
)

workspaces = Table(
    "workspaces",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    Column("name", String(200), nullable=False),
    Column("invitation_lifetime_days", Integer, nullable=False),
    Column("password_policy", String(20), nullable=False),
    Column("login_methods", JSON, nullable=False),
    Column("sso_required", Boolean, nullable=False),
    Column("app_url", String(500)),
    Column("default_language", String(8), nullable=False),
    # Database defaults for rows that predate these columns; new workspaces get DEFAULTS from the
    # settings use case.
    Column("email_enabled", Boolean, nullable=False, server_default=_sql(DEFAULTS.email_enabled)),
    Column("sms_enabled", Boolean, nullable=False, server_default=_sql(DEFAULTS.sms_enabled)),
    # Rows from before the column invited at once (the old behaviour); new workspaces get DEFAULTS (off).
    Column("auto_invite", Boolean, nullable=False, server_default=text("true")),
    Column("sms_daily_cap", Integer, nullable=False, server_default=_sql(DEFAULTS.sms_daily_cap)),
    Column("departments", JSON, nullable=False),
    Column("job_profiles", JSON, nullable=False),
    Column("required_fields", JSON, nullable=False),
    # Just-in-time members: the first sign-in through the workspace's provider creates the member.
    Column("jit_enabled", Boolean, nullable=False, server_default=text("false")),
    Column("jit_domains", JSON, nullable=False, server_default=text("'[]'")),
    Column("default_role", String(10), nullable=False, server_default=text("'member'")),
    Column("default_department", String(200)),
    Column("default_job_profile", String(200)),
    # One reminder this many days before an invitation expires (none when null).
    Column("reminder_days", Integer),
    Column("accent_color", String(7)),  # "#rrggbb" on the invitee pages and in emails
    # How long an access code stays redeemable (the "at most 90 days").
    Column("access_code_lifetime_days", Integer, nullable=False, server_default=text("30")),
    # What a new email address, username or phone number from SCIM does to a claimed account:
    # "verify" (the person confirms it first) or "trust" (added at once); admit.admin.members.
    Column("scim_identifier_changes", String(8), nullable=False, server_default=text("'verify'")),
    _created(),
    CheckConstraint("invitation_lifetime_days between 1 and 30", name="lifetime"),
    CheckConstraint("access_code_lifetime_days between 1 and 90", name="access_code_lifetime"),
    Index("ix_workspaces_org", "organization_id"),
)

accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("credential_kind", String(10), nullable=False),
    Column("password_hash", String(200)),
    Column("external_issuer", String(500)),
    Column("external_subject", String(255)),
    Column("external_email", String(320)),  # the provider's verified address: shown, never a key
    Column("first_name", String(100)),
    Column("last_name", String(100)),
    Column("language", String(8)),
    Column("status", String(12), nullable=False, server_default=text("'active'")),
    Column("must_change_password", Boolean, nullable=False, server_default=text("false")),
    _created(),
    CheckConstraint(
        "(credential_kind = 'password' AND external_issuer IS NULL AND external_subject IS NULL)"
        " OR (credential_kind = 'external' AND password_hash IS NULL"
        " AND external_issuer IS NOT NULL AND external_subject IS NOT NULL)",
        name="one_credential",
    ),
    Index("uq_accounts_external", "external_issuer", "external_subject", unique=True),
    Index("ix_accounts_external_email", "external_email"),
)

# OpenID Connect providers: an organization's own ("sso", an enterprise feature) or the
# instance's "personal" ones (organization_id NULL) that any workspace may allow.
identity_providers = Table(
    "identity_providers",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id", nullable=True),
    Column("kind", String(10), nullable=False),
    Column("name", String(100), nullable=False),
    Column("issuer", String(500), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("client_secret", Text, nullable=False),  # encrypted with the instance secret key
    Column("scopes", JSON, nullable=False),
    Column("claims", JSON, nullable=False),
    _created(),
    CheckConstraint(
        "(kind = 'sso' AND organization_id IS NOT NULL) OR (kind = 'personal' AND organization_id IS NULL)",
        name="kind",
    ),
    Index("ix_identity_providers_org", "organization_id"),
)

account_identifiers = Table(
    "account_identifiers",
    metadata,
    _id(),
    _ref("account_id", "accounts.id"),
    Column("kind", String(10), nullable=False),
    Column("value", String(320), nullable=False),
    _created(),
    Index("uq_identifiers_kind_value", "kind", "value", unique=True),
    Index("ix_identifiers_account", "account_id"),
)

MEMBER_CONTACT = "email IS NOT NULL OR (username IS NOT NULL AND phone IS NOT NULL) OR external_id IS NOT NULL"

members = Table(
    "members",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id"),
    _ref("account_id", "accounts.id", nullable=True),
    Column("status", String(12), nullable=False),
    Column("role", String(10), nullable=False),
    Column("first_name", String(100)),
    Column("last_name", String(100)),
    Column("email", String(320)),
    Column("username", String(64)),
    Column("phone", String(20)),
    Column("external_id", String(255)),
    Column("department", String(200)),
    Column("job_profile", String(200)),
    Column("language", String(8)),
    _created(),
    Column("updated_at", UTCDateTime, nullable=False),
    # Issue 17: a licensed user takes a seat of the organization, a resource viewer is free.
    Column("licence", String(8), nullable=False, server_default=text("'licensed'")),
    # Reachable or identifiable: an email, a username + phone, or (a member without email who gets
    # an access code) an external ID.
    CheckConstraint(MEMBER_CONTACT, name="contact"),
    Index("ix_members_listing", "workspace_id", "status", "created_at", "id"),
    Index("ix_members_directory", "workspace_id", "created_at", "id"),
    *(
        _live_unique(f"uq_members_{name}", column)
        for name, column in (
            ("email", "email"),
            ("username", "username"),
            ("external_id", "external_id"),
            ("account", "account_id"),
        )
    ),
    Index("ix_members_account", "account_id"),
)

PENDING = "state = 'pending'"

invitations = Table(
    "invitations",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id"),
    _ref("member_id", "members.id"),
    Column("email", String(320)),
    Column("phone", String(20)),
    Column("role", String(10), nullable=False),
    Column("state", String(10), nullable=False),
    Column("message", Text),
    Column("channels", JSON, nullable=False),
    Column("inviter_type", String(12), nullable=False),
    Column("inviter_id", String(32)),
    Column("inviter_name", String(200)),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("send_count", Integer, nullable=False),
    Column("reminded_at", UTCDateTime),  # when the reminder before expiry was queued
    _ref("account_id", "accounts.id", nullable=True),
    _created(),
    Column("updated_at", UTCDateTime, nullable=False),
    # Issue 17 (sellers): the one login method the invitee must join with ("password" or "sso:<provider id>").
    Column("login_method", String(40)),
    # Issue 17: the licence the invitee joins with; a resource viewer's invitation reserves no seat.
    Column("licence", String(8), nullable=False, server_default=text("'licensed'")),
    Index("ix_invitations_listing", "workspace_id", "state", "created_at", "id"),
    Index(
        "uq_invitations_pending_member",
        "member_id",
        unique=True,
        sqlite_where=text(PENDING),
        postgresql_where=text(PENDING),
    ),
    Index("ix_invitations_email", "email", "state"),
    Index("ix_invitations_expiry", "state", "expires_at"),
)

secrets = Table(
    "secrets",
    metadata,
    _id(),
    Column("purpose", String(4), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("organization_id", String(32)),
    Column("subject_id", String(32), nullable=False),
    _created(),
    Column("expires_at", UTCDateTime),
    Column("consumed_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Index("uq_secrets_digest", "digest", unique=True),
    Index("ix_secrets_subject", "subject_id", "purpose"),
)

LIVE_CODE = "redeemed_at IS NULL AND withdrawn_at IS NULL"

# Access codes (``admin.access_codes``): a short code an administrator hands to a member without
# email. Its first group is a public lookup key (plain, unique among live codes); the rest is the
# secret, stored as an HMAC of the whole normalised code. One live code per member; single use;
# ``failures`` counts wrong secrets given with its lookup key (10 withdraw it).
access_codes = Table(
    "access_codes",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id"),
    _ref("member_id", "members.id"),
    _ref("invitation_id", "invitations.id"),
    Column("lookup", String(8), nullable=False),
    Column("digest", String(64), nullable=False),
    _created(),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("redeemed_at", UTCDateTime),
    Column("withdrawn_at", UTCDateTime),
    Column("withdrawn_reason", String(12)),  # withdrawn, replaced, locked (10 wrong tries)
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("created_by", String(200), nullable=False),
    Index("uq_access_codes_digest", "digest", unique=True),
    Index(
        "uq_access_codes_live_member",
        "member_id",
        unique=True,
        sqlite_where=text(LIVE_CODE),
        postgresql_where=text(LIVE_CODE),
    ),
    Index(
        "uq_access_codes_live_lookup",
        "lookup",
        unique=True,
        sqlite_where=text(LIVE_CODE),
        postgresql_where=text(LIVE_CODE),
    ),
    Index("ix_access_codes_workspace", "workspace_id", "created_at"),
)

# Server-side state of a self-service flow (sign-up verification, terms downloads, a single
# sign-on profile awaiting confirmation), bound to the browser or API client that holds its
# handle (stored as a digest, like every secret), to one kind, and to its account or invitation.
flow_states = Table(
    "flow_states",
    metadata,
    _id(),
    Column("kind", String(16), nullable=False),
    Column("digest", String(64), nullable=False),
    _ref("organization_id", "organizations.id", nullable=True),
    _ref("account_id", "accounts.id", nullable=True),
    _ref("invitation_id", "invitations.id", nullable=True),
    Column("data", JSON, nullable=False),
    _created(),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("consumed_at", UTCDateTime),
    Index("uq_flow_states_digest", "digest", unique=True),
    Index("ix_flow_states_expiry", "expires_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id", nullable=True),
    _ref("workspace_id", "workspaces.id", nullable=True),
    Column("name", String(200), nullable=False),
    Column("role", String(10), nullable=False),
    Column("digest", String(64), nullable=False),
    _created(),
    Column("revoked_at", UTCDateTime),
    Index("uq_api_tokens_digest", "digest", unique=True),
)

terms = Table(
    "terms",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id"),
    Column("version", Integer, nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("document", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("published_by", String(200), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "version", name="uq_terms_version"),
)

terms_acceptances = Table(
    "terms_acceptances",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id"),
    _ref("account_id", "accounts.id"),
    Column("version", Integer, nullable=False),
    Column("accepted_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "account_id", "version", name="uq_terms_acceptance"),
)

jobs = Table(
    "jobs",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id"),
    Column("kind", String(20), nullable=False),  # import, invite_all, invite_selected
    Column("state", String(10), nullable=False),  # queued, running, done, failed, cancelled
    Column("options", JSON, nullable=False),
    Column("filename", String(200)),
    Column("upload", LargeBinary),  # the file, kept so any process can run (and resume) the job
    Column("total", Integer, nullable=False, server_default=text("0")),
    Column("position", Integer, nullable=False, server_default=text("0")),  # rows done, committed with them
    Column("counts", JSON, nullable=False),
    Column("report", JSON, nullable=False),
    Column("error", Text),
    Column("cancel_requested", Boolean, nullable=False, server_default=text("false")),
    Column("created_by", String(200), nullable=False),
    Column("actor", JSON, nullable=False),
    _created(),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
    CheckConstraint("state in ('queued','running','done','failed','cancelled')", name="job_state"),
    Index("ix_jobs_due", "state", "locked_until"),
    Index("ix_jobs_workspace", "workspace_id", "created_at"),
)

SEQUENCE = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only

events = Table(
    "events",
    metadata,
    Column("id", SEQUENCE, primary_key=True, autoincrement=True),
    Column("organization_id", String(32)),
    Column("workspace_id", String(32)),
    Column("actor_type", String(12), nullable=False),
    Column("actor_id", String(32)),
    Column("action", String(40), nullable=False),
    Column("subject_type", String(20), nullable=False),
    Column("subject_id", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    _created(),
    Index("ix_events_org_time", "organization_id", "created_at"),
    Index("ix_events_subject", "subject_id"),
    Index("ix_events_workspace", "workspace_id", "id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", SEQUENCE, primary_key=True, autoincrement=True),
    Column("organization_id", String(32)),
    Column("workspace_id", String(32)),
    Column("kind", String(40), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("language", String(8), nullable=False),
    Column("subject_id", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("key", String(32), nullable=False),  # idempotency key and Message-ID, fixed at enqueue
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    _created(),
    Index("ix_outbox_due", "state", "next_attempt_at"),
    Index("ix_outbox_org", "organization_id", "created_at"),
    Index("uq_outbox_key", "key", unique=True),
    Index("ix_outbox_sms_usage", "workspace_id", "channel", "sent_at"),
)

# Admit as an OpenID provider: its signing keys (instance-wide), the organizations' clients (apps),
# the authorization codes they are handed (stored as digests, single use), the access tokens
# issued (by their ``jti``: so userinfo and introspection can refuse a revoked one), the refresh
# tokens (digests, single use, in families that are revoked together) and the ``jti`` of the
# clients' signed assertions (``private_key_jwt``: each works once).
signing_keys = Table(
    "signing_keys",
    metadata,
    _id(),  # the key id (``kid``)
    Column("state", String(8), nullable=False),  # next (published), current (signs), retired
    Column("private_key", Text, nullable=False),  # PEM, encrypted with the instance secret key
    Column("public_jwk", JSON, nullable=False),
    _created(),
    Column("activated_at", UTCDateTime),
    Column("retired_at", UTCDateTime),
    Column("published_until", UTCDateTime),  # a retired key: until the tokens it signed expire
    CheckConstraint("state in ('next','current','retired')", name="key_state"),
    Index("ix_signing_keys_state", "state"),
)

oidc_clients = Table(
    "oidc_clients",
    metadata,
    _id(),  # the client_id
    _ref("organization_id", "organizations.id"),
    Column("name", String(100), nullable=False),
    Column("workspace_ids", JSON, nullable=False),  # empty: every workspace of the organization
    Column("redirect_uris", JSON, nullable=False),
    Column("post_logout_redirect_uris", JSON, nullable=False),
    Column("backchannel_logout_uri", String(500)),
    Column("client_type", String(12), nullable=False),  # confidential, public
    Column("token_endpoint_auth_method", String(24), nullable=False),
    Column("allowed_scopes", JSON, nullable=False),
    Column("secret_digest", String(64)),  # confidential clients: SHA-256 of the secret shown once
    _created(),
    Column("grant_types", JSON, nullable=False, server_default=text("'[\"authorization_code\"]'")),
    Column("jwks", JSON),  # private_key_jwt: the client's public keys ({"keys": [...]})
    Column("initiate_login_uri", String(500)),  # the app's login URL: "Let's go" starts its sign-in there
    Column("jwks_uri", String(500)),  # private_key_jwt: where the app publishes its keys (instead of jwks)
    CheckConstraint("client_type in ('confidential','public')", name="client_type"),
    Index("ix_oidc_clients_org", "organization_id"),
)

oidc_codes = Table(
    "oidc_codes",
    metadata,
    _id(),
    Column("digest", String(64), nullable=False),
    _ref("organization_id", "organizations.id"),
    _ref("client_id", "oidc_clients.id"),
    _ref("account_id", "accounts.id"),
    _ref("workspace_id", "workspaces.id", nullable=True),
    Column("redirect_uri", String(500), nullable=False),
    Column("scope", String(500), nullable=False),
    Column("nonce", String(500)),
    Column("code_challenge", String(128)),
    Column("code_challenge_method", String(8)),
    Column("auth_time", UTCDateTime, nullable=False),
    _created(),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("consumed_at", UTCDateTime),
    Column("session_id", String(32)),  # the browser's Admit session (a ``secrets`` row) it was issued in
    Index("uq_oidc_codes_digest", "digest", unique=True),
    Index("ix_oidc_codes_expiry", "expires_at"),
    Index("ix_oidc_codes_session", "session_id"),
    Index("ix_oidc_codes_account", "account_id", "workspace_id"),
)

oidc_tokens = Table(
    "oidc_tokens",
    metadata,
    _id(),  # the access token's jti
    _ref("organization_id", "organizations.id"),
    _ref("client_id", "oidc_clients.id"),
    _ref("account_id", "accounts.id"),
    Column("code_id", String(32)),
    _created(),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("family_id", String(32)),  # the refresh token family it was issued with, if any
    Index("ix_oidc_tokens_code", "code_id"),
    Index("ix_oidc_tokens_family", "family_id"),
)

oidc_refresh_tokens = Table(
    "oidc_refresh_tokens",
    metadata,
    _id(),
    Column("digest", String(64), nullable=False),
    Column("family_id", String(32), nullable=False),  # every token rotated from one code's exchange
    _ref("organization_id", "organizations.id"),
    _ref("client_id", "oidc_clients.id"),
    _ref("account_id", "accounts.id"),
    _ref("workspace_id", "workspaces.id", nullable=True),
    Column("code_id", String(32)),  # the code the family began with (a replay of it revokes the family)
    Column("scope", String(500), nullable=False),
    Column("auth_time", UTCDateTime, nullable=False),
    _created(),
    Column("expires_at", UTCDateTime, nullable=False),  # the family's: absolute, not extended by rotation
    Column("used_at", UTCDateTime),  # exchanged for its successor: presented again, the family goes
    Column("revoked_at", UTCDateTime),
    Column("session_id", String(32)),  # the Admit session the family began in (its ID tokens' sid)
    Index("uq_oidc_refresh_tokens_digest", "digest", unique=True),
    Index("ix_oidc_refresh_tokens_family", "family_id"),
    Index("ix_oidc_refresh_tokens_code", "code_id"),
    Index("ix_oidc_refresh_tokens_expiry", "expires_at"),
)

oidc_client_assertions = Table(
    "oidc_client_assertions",
    metadata,
    Column("client_id", String(32), ForeignKey("oidc_clients.id"), primary_key=True),
    Column("jti_digest", String(64), primary_key=True),  # SHA-256 of the assertion's jti
    _ref("organization_id", "organizations.id"),
    Column("expires_at", UTCDateTime, nullable=False),  # the assertion's exp: forgotten after it
    Index("ix_oidc_client_assertions_expiry", "expires_at"),
)

# An app's session as Admit knows it, for logout: an app that received tokens for a person through
# one Admit session (a ``secrets`` row) and one workspace. Its id is the ``sid`` of the ID token
# and of the back-channel logout token; it lives as long as that session or a refresh token family
# begun in it might (30 days).
oidc_app_sessions = Table(
    "oidc_app_sessions",
    metadata,
    _id(),  # the sid
    _ref("organization_id", "organizations.id"),
    _ref("client_id", "oidc_clients.id"),
    _ref("account_id", "accounts.id"),
    _ref("workspace_id", "workspaces.id", nullable=True),
    Column("session_id", String(32), nullable=False),
    _created(),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_oidc_app_sessions_session", "session_id"),
    Index("ix_oidc_app_sessions_account", "account_id", "workspace_id"),
    Index("ix_oidc_app_sessions_expiry", "expires_at"),
)

workspace_logos = Table(
    "workspace_logos",
    metadata,
    Column("workspace_id", String(32), ForeignKey("workspaces.id"), primary_key=True),
    Column("content_type", String(40), nullable=False),  # image/png or image/svg+xml
    Column("data", LargeBinary, nullable=False),  # sanitised before it is stored
    Column("digest", String(64), nullable=False),  # sha256 of data: the logo URL's version
    Column("updated_at", UTCDateTime, nullable=False),
)

throttles = Table(
    "throttles",
    metadata,
    Column("key", String(80), primary_key=True),  # purpose and a digest of what is guessed at
    Column("failures", Integer, nullable=False),
    Column("blocked_until", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Self-sign-up (issue 15): a workspace's sign-up form on its sign-in page, with the defaults a new
# member gets; department links (their secret stored as a digest, purpose SIGNUP_LINK); and the
# requests, from the code sent to the person to the administrator's decision.
signup_settings = Table(
    "signup_settings",
    metadata,
    Column("workspace_id", String(32), ForeignKey("workspaces.id"), primary_key=True),
    _ref("organization_id", "organizations.id"),
    Column("enabled", Boolean, nullable=False),
    Column("default_role", String(10), nullable=False),
    Column("default_department", String(200)),
    Column("default_job_profile", String(200)),
    Column("departments_pickable", JSON, nullable=False),  # [] = the default department only
    Column("allowed_domains", JSON, nullable=False),  # [] = any email domain
    Column("approval_required", Boolean, nullable=False),
    Column("daily_cap", Integer),  # None = no cap
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("default_role in ('member','guest')", name="role"),
)

signup_links = Table(
    "signup_links",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id"),
    Column("digest", String(64), nullable=False),
    Column("sealed_token", Text, nullable=False),  # the link's token encrypted, to show its URL and QR again
    Column("department", String(200), nullable=False),
    Column("job_profile", String(200)),
    Column("role", String(10), nullable=False),
    Column("expires_at", UTCDateTime),
    Column("max_uses", Integer),
    Column("uses", Integer, nullable=False, server_default=text("0")),
    Column("paused_at", UTCDateTime),
    _created(),
    Column("created_by", String(32)),
    CheckConstraint("role in ('member','guest')", name="role"),
    Index("uq_signup_links_digest", "digest", unique=True),
    Index("ix_signup_links_workspace", "workspace_id", "created_at"),
)

signup_requests = Table(
    "signup_requests",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id"),
    Column("link_id", String(32)),  # no foreign key: a deleted link leaves its requests
    Column("handle_digest", String(64), nullable=False),  # the flow handle only the person's browser holds
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(320)),
    Column("username", String(64)),
    Column("phone", String(20)),
    Column("language", String(8)),
    Column("department", String(200)),
    Column("job_profile", String(200)),
    Column("role", String(10), nullable=False),
    Column("state", String(24), nullable=False),
    Column("code_digest", String(64)),
    Column("code_expires_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("password_hash", String(200)),  # held while an administrator decides; cleared after
    _ref("member_id", "members.id", nullable=True),
    _created(),
    Column("verified_at", UTCDateTime),
    Column("decided_at", UTCDateTime),
    Column("decided_by", String(32)),
    CheckConstraint(
        "state in ('pending_verification','verified','existing','pending_approval','approved','rejected')",
        name="state",
    ),
    CheckConstraint("role in ('member','guest')", name="role"),
    Index("uq_signup_requests_handle", "handle_digest", unique=True),
    Index("ix_signup_requests_queue", "workspace_id", "state", "created_at"),
)

# SCIM 2.0 (issue 16): bearer tokens an identity provider presents at /scim/v2 (their secret as a
# digest, purpose SCIM_TOKEN), limited to an organization and optionally one workspace, and to the
# highest role they may grant; the userName and externalId an identity provider gave a member; the
# log of what each token did; and deactivations held by the deprovisioning brake.
scim_tokens = Table(
    "scim_tokens",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id", nullable=True),  # None: every workspace of the organization
    Column("name", String(200), nullable=False),
    Column("role", String(10), nullable=False),  # the highest role the token may grant
    Column("digest", String(64), nullable=False),
    _created(),
    Column("created_by", String(32)),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    CheckConstraint("role in ('guest','member','admin')", name="role"),
    Index("uq_scim_tokens_digest", "digest", unique=True),
    Index("ix_scim_tokens_org", "organization_id", "created_at"),
)

scim_users = Table(
    "scim_users",
    metadata,
    Column("member_id", String(32), ForeignKey("members.id"), primary_key=True),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id"),
    Column("user_name", String(255), nullable=False),
    Column("user_name_key", String(255), nullable=False),  # casefolded: unique in the organization
    Column("external_id", String(255)),
    # The SCIM attributes Admit has no column for (nickName, addresses, ...), kept as the identity
    # provider sent them and returned as they are.
    Column("attributes", JSON, nullable=False, server_default=text("'{}'")),
    Column("token_id", String(32)),  # the token that created it (no foreign key: tokens are kept, not deleted)
    _created(),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("uq_scim_users_user_name", "organization_id", "user_name_key", unique=True),
    Index("ix_scim_users_external", "organization_id", "external_id"),
)

scim_requests = Table(
    "scim_requests",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    Column("token_id", String(32), ForeignKey("scim_tokens.id"), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(500), nullable=False),
    Column("status", Integer, nullable=False),
    Column("resource_id", String(64)),
    Column("change", JSON),  # what changed (attribute names and safe values), never a secret
    _created(),
    Index("ix_scim_requests_token", "token_id", "created_at"),
)

HELD = "state = 'held'"

scim_holds = Table(
    "scim_holds",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id"),
    _ref("member_id", "members.id"),
    Column("token_id", String(32), ForeignKey("scim_tokens.id"), nullable=False),
    Column("action", String(10), nullable=False),
    Column("state", String(10), nullable=False),
    _created(),
    Column("decided_at", UTCDateTime),
    Column("decided_by", String(32)),
    CheckConstraint("action in ('deactivate','delete')", name="action"),
    CheckConstraint("state in ('held','released','dismissed')", name="state"),
    Index("uq_scim_holds_member", "member_id", unique=True, sqlite_where=text(HELD), postgresql_where=text(HELD)),
    Index("ix_scim_holds_workspace", "workspace_id", "state", "created_at"),
)

# Groups (issue 16): an organization's groups, from the console, the REST API, SCIM or a single
# sign-on groups claim; membership may grant a role in one workspace.
groups = Table(
    "groups",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    Column("display_name", String(256), nullable=False),
    Column("name_key", String(256), nullable=False),  # casefolded display name: unique in the organization
    Column("external_id", String(255)),
    Column("source", String(8), nullable=False),
    _ref("workspace_id", "workspaces.id", nullable=True),
    Column("role", String(10)),  # granted in workspace_id to the group's members there
    _created(),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("source in ('console','api','scim','sso')", name="source"),
    CheckConstraint("role IS NULL OR (role in ('guest','member','admin') AND workspace_id IS NOT NULL)", name="role"),
    Index("uq_groups_name", "organization_id", "name_key", unique=True),
    Index("ix_groups_external", "organization_id", "external_id"),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", String(32), ForeignKey("groups.id"), primary_key=True),
    Column("member_id", String(32), ForeignKey("members.id"), primary_key=True),
    _ref("organization_id", "organizations.id"),
    _created(),
    Index("ix_group_members_member", "member_id"),
)

# Webhooks (admin.webhooks): an organization's endpoints (optionally for one workspace), each with
# its signing secret sealed with the instance key (and, for 24 hours after a rotation, the one
# before it); every published event once (``sequence`` increases per organization, assigned under
# the counter row's lock in the transaction of the change); one message per event and endpoint,
# claimed by the webhook worker like the outbox's messages; and every attempt (the delivery log).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    _ref("workspace_id", "workspaces.id", nullable=True),  # None: every workspace of the organization
    Column("url", String(2000), nullable=False),
    Column("event_types", JSON),  # a list of catalogue names; None: every type
    Column("secret", Text, nullable=False),  # sealed whsec_…
    Column("previous_secret", Text),  # sealed; also signs until previous_until
    Column("previous_until", UTCDateTime),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(300)),
    Column("failing_since", UTCDateTime),  # the first failure after the last success
    _created(),
    Column("created_by", String(32)),
    Index("ix_webhook_endpoints_org", "organization_id", "created_at"),
)

webhook_sequences = Table(
    "webhook_sequences",
    metadata,
    Column("organization_id", String(32), ForeignKey("organizations.id"), primary_key=True),
    Column("last", BigInteger, nullable=False),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(40), primary_key=True),  # msg_…: the webhook-id of every delivery of it
    _ref("organization_id", "organizations.id"),
    Column("workspace_id", String(32)),
    Column("type", String(60), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("payload", JSON, nullable=False),  # the envelope, exactly as signed
    _created(),
    UniqueConstraint("organization_id", "sequence", name="uq_webhook_events_org_sequence"),
)

webhook_messages = Table(
    "webhook_messages",
    metadata,
    Column("id", SEQUENCE, primary_key=True, autoincrement=True),
    _ref("organization_id", "organizations.id"),
    Column("endpoint_id", String(32), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("event_id", String(40), ForeignKey("webhook_events.id"), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("state", String(10), nullable=False),  # queued, sending, sent, failed, abandoned
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    _created(),
    UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_messages_endpoint_event"),
    Index("ix_webhook_messages_due", "state", "next_attempt_at"),
    Index("ix_webhook_messages_endpoint", "endpoint_id", "sequence"),
    Index("ix_webhook_messages_pending", "endpoint_id", "state", "sequence"),  # what waits before a message
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", SEQUENCE, primary_key=True, autoincrement=True),
    _ref("organization_id", "organizations.id"),
    Column("endpoint_id", String(32), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column(
        "message_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("webhook_messages.id"), nullable=False
    ),
    Column("attempt", Integer, nullable=False),
    Column("status", Integer),  # the HTTP status; None: no answer
    Column("latency_ms", Integer, nullable=False),
    Column("response", Text),  # at most 4 KiB of the answer's body
    Column("error", Text),
    _created(),
    Index("ix_webhook_attempts_endpoint", "endpoint_id", "created_at"),
)

# Issue 17: organization roles held by an account: system administrators (owner rights in every
# workspace of the organization) and group administrators (the organization's groups).
organization_admins = Table(
    "organization_admins",
    metadata,
    Column("organization_id", String(32), ForeignKey("organizations.id"), primary_key=True),
    Column("account_id", String(32), ForeignKey("accounts.id"), primary_key=True),
    Column("role", String(12), nullable=False),
    _created(),
    CheckConstraint("role in ('system_admin','group_admin')", name="role"),
    Index("ix_organization_admins_account", "account_id"),
)

# Scale-out (issue 19): one row per periodic task, held by the process that runs it until
# expires_at (taken with an atomic UPDATE … WHERE expires_at < now, or the INSERT of a missing
# row), and the API's idempotency keys, scoped to the caller, kept 24 hours. A key's row is
# inserted "in flight" in a transaction of its own before the request runs (the primary key
# decides across processes), and finished with the first answer after it.
leases = Table(
    "leases",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("holder", String(120), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("caller", String(80), primary_key=True),  # the token's id (API token or session)
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),  # sha256 of method, path and body
    Column("state", String(12), nullable=False),  # in_flight, done
    Column("status", Integer),
    Column("content_type", String(120)),
    Column("body", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# Issue 17 (Smartsheet): a system administrator's invitation for a person (by email) to join the
# organization's account; its link is a secret (purpose ORG_INVITATION, subject this row, 7 days).
# Accepting may acquire the invitee's own account (``acquired_organization_id``: closed by the
# merge); a refused acceptance keeps the reason for both sides (``refusal``). A system administrator
# may withdraw a pending one (state ``withdrawn``, ``answered_at`` when it ended; its link is revoked).
organization_invitations = Table(
    "organization_invitations",
    metadata,
    _id(),
    _ref("organization_id", "organizations.id"),
    Column("email", String(320), nullable=False),
    Column("state", String(10), nullable=False),
    Column("language", String(8), nullable=False),
    Column("inviter_type", String(12), nullable=False),
    Column("inviter_id", String(32)),
    Column("inviter_name", String(200)),
    Column("expires_at", UTCDateTime, nullable=False),
    _created(),
    Column("answered_at", UTCDateTime),
    _ref("account_id", "accounts.id", nullable=True),  # who answered
    _ref("acquired_organization_id", "organizations.id", nullable=True),
    Column("refusal", String(500)),
    CheckConstraint("state in ('pending','accepted','declined','withdrawn')", name="state"),
    Index("ix_organization_invitations_org", "organization_id", "created_at"),
    Index("ix_organization_invitations_email", "email", "state"),
)
