"""What use cases read from storage, without the storage's types.

``Account``, ``Workspace``, ``Member``, ``Invitation``, ``Job`` and ``Message`` (the outbox) are
typed records: immutable named tuples whose fields are the tables' columns in order, so the
persistence layer builds them straight from a database row (on the hot lookups with no copy at
all: the driver's tuple becomes the record). Other rows (organizations, secrets, API tokens,
events, terms, identity providers, throttles, flow states) still come as a :class:`Record`:
anything with the columns as attributes (SQLAlchemy's rows satisfy it), typed ``Any`` field by
field until they get records of their own.

Records are what use cases work with, not what they hand to an entrypoint, which gets a frozen
view made for it: ``admin.member_view.MemberView`` (every column: a member holds no secret),
``admin.invitations.InvitationView`` (no inviter id, the state as of now),
``admin.jobs.JobView`` (no file, no actor, the progress in percent),
``admin.outbox.MessageView`` (no payload, the link's secret masked),
``admin.identity_providers.ProviderView`` (no client secret), ``admin.terms.TermsView`` (no
document) and
``flows.signin.sessions.PublicAccount`` (no password hash: ``Account`` carries it only for the
use cases that check or replace it).

Records keep ``_mapping`` (the columns as a dict), which callers written against SQLAlchemy rows
use; new code should prefer ``_asdict()``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, Protocol


class Record(Protocol):
    """A stored row: its columns as attributes (each ``Any``)."""

    def __getattr__(self, name: str) -> Any: ...

    @property
    def _mapping(self) -> Any: ...


class Account(NamedTuple):
    """A person's account. It carries the password hash for the use cases that check or replace
    it; what leaves them is ``flows.signin.sessions.PublicAccount``, which has no hash."""

    id: str
    credential_kind: str
    password_hash: str | None
    external_issuer: str | None
    external_subject: str | None
    external_email: str | None
    first_name: str | None
    last_name: str | None
    language: str | None
    status: str
    must_change_password: bool
    created_at: datetime

    @property
    def _mapping(self) -> dict[str, Any]:
        return self._asdict()


class Workspace(NamedTuple):
    id: str
    organization_id: str
    name: str
    invitation_lifetime_days: int
    password_policy: str
    login_methods: list[str]
    sso_required: bool
    app_url: str | None
    default_language: str
    email_enabled: bool
    sms_enabled: bool
    auto_invite: bool
    sms_daily_cap: int
    departments: list[str]
    job_profiles: list[str]
    required_fields: list[str]
    jit_enabled: bool
    jit_domains: list[str]
    default_role: str
    default_department: str | None
    default_job_profile: str | None
    reminder_days: int | None  # one reminder this many days before expiry; none when None
    accent_color: str | None  # "#rrggbb"
    access_code_lifetime_days: int
    scim_identifier_changes: str  # "verify" or "trust" (admit.domain.workspaces.SCIM_IDENTIFIER_CHANGES)
    created_at: datetime

    @property
    def _mapping(self) -> dict[str, Any]:
        return self._asdict()


class Member(NamedTuple):
    id: str
    organization_id: str
    workspace_id: str
    account_id: str | None
    status: str
    role: str
    first_name: str | None
    last_name: str | None
    email: str | None
    username: str | None
    phone: str | None
    external_id: str | None
    department: str | None
    job_profile: str | None
    language: str | None
    created_at: datetime
    updated_at: datetime
    licence: str = "licensed"  # issue 17: "licensed" (takes a seat) or "viewer" (free)

    @property
    def _mapping(self) -> dict[str, Any]:
        return self._asdict()


class Invitation(NamedTuple):
    id: str
    organization_id: str
    workspace_id: str
    member_id: str
    email: str | None
    phone: str | None
    role: str
    state: str
    message: str | None
    channels: list[str]
    inviter_type: str
    inviter_id: str | None
    inviter_name: str | None
    expires_at: datetime
    send_count: int
    reminded_at: datetime | None
    account_id: str | None
    created_at: datetime
    updated_at: datetime
    login_method: str | None = None  # issue 17 (sellers): the only way this invitee may join
    licence: str = "licensed"  # issue 17: licensed, or viewer (takes no seat)

    @property
    def _mapping(self) -> dict[str, Any]:
        return self._asdict()


class Job(NamedTuple):
    """A background job; ``upload`` (the file it works through) is None unless asked for."""

    id: str
    organization_id: str
    workspace_id: str
    kind: str
    state: str
    options: dict[str, Any]
    filename: str | None
    upload: bytes | None
    total: int
    position: int
    counts: dict[str, int]
    report: list[dict[str, Any]]
    error: str | None
    cancel_requested: bool
    created_by: str
    actor: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    locked_until: datetime | None

    @property
    def _mapping(self) -> dict[str, Any]:
        return self._asdict()


class Message(NamedTuple):
    """A message in the outbox; ``payload`` is what it is rendered from (a link in it carries a
    secret until the message is sent)."""

    id: int
    organization_id: str | None
    workspace_id: str | None
    kind: str
    channel: str
    recipient: str
    language: str
    subject_id: str
    payload: dict[str, Any]
    key: str
    state: str
    attempts: int
    next_attempt_at: datetime
    locked_until: datetime | None
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime

    @property
    def _mapping(self) -> dict[str, Any]:
        return self._asdict()
