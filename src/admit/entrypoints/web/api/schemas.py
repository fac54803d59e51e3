"""Request and response bodies of the REST API. No response model carries a secret."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from fastapi import Query
from pydantic import MISSING, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from admit.admin.members import Listed, make_cursor
from admit.admin.profiles import MemberInput
from admit.domain.workspaces import DEFAULTS

Status = Literal["provisioned", "invited", "active", "suspended", "removed"]
State = Literal["pending", "accepted", "declined", "expired", "revoked"]
RoleName = Literal["owner", "admin", "member", "guest"]
Language = Literal["en", "de", "fr"]
Name = Annotated[str, StringConstraints(max_length=200)]  # an item of a settings list
MAX_ITEMS = 500  # items in a settings list
MAX_COUNT = 2**31 - 1  # a count the databases store as INTEGER
MAX_ID = 2**63 - 1  # a numeric id (BIGINT)


LIMIT = Query(50, ge=1, le=500)  # the page size of a listing


def _kinds(annotation: Any) -> set[Any]:
    """The plain types a field's annotation allows (``int | None`` → {int, NoneType})."""
    args = get_args(annotation)
    if not args:
        return {annotation}
    if get_origin(annotation) is Annotated:
        return _kinds(args[0])
    return set().union(*(_kinds(arg) for arg in args)) if get_origin(annotation) in (Union, UnionType) else {annotation}


class In(BaseModel):
    """A request body: a true/false setting takes only ``true`` or ``false`` and a number only a
    number (pydantic would read ``"no"`` as false, ``true`` as 1 and ``"7"`` as 7: a typing slip
    changing a setting unsaid)."""

    @field_validator("*", mode="before")
    @classmethod
    def _exact_scalars(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None or value is None:
            return value
        kinds = _kinds(field.annotation)
        if bool in kinds and not isinstance(value, bool) and not kinds & {str, int, float}:
            raise ValueError("must be true or false")
        if int in kinds and isinstance(value, bool | str) and not kinds & {str, bool}:
            raise ValueError("must be a whole number")
        return value


def page(items: Sequence[Listed], limit: int) -> dict[str, Any]:
    """A listing page of views (members, invitations): a full page has a cursor to the next one."""
    return {"items": items, "next_cursor": make_cursor(items[-1]) if len(items) == limit else None}


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrganizationIn(In):
    name: str = Field(min_length=1, max_length=200)
    plan: Literal["free", "pro", "business", "enterprise"] = "free"
    seats: int = Field(10, ge=0, le=MAX_COUNT)
    parent_id: str | None = Field(None, max_length=32)


class OrganizationOut(Out):
    id: str
    name: str
    plan: str
    seats: int
    parent_id: str | None
    created_at: datetime


ScimIdentifierChanges = Literal["verify", "trust"]
SCIM_IDENTIFIER_HELP = (
    "What a new email address, username or phone number from SCIM does to a member who has claimed an "
    "account: 'verify' (default) keeps it out of sign-in until the person confirms it by a code sent to it, "
    "and tells the old address; 'trust' adds it as a sign-in identifier at once and tells the old address "
    "(another account's identifier is refused with SCIM 409 uniqueness)."
)
REMINDER_DAYS = (
    "Send one reminder this many days before an invitation expires (1 to the lifetime less one); null: none."
)
ACCENT_HELP = (
    "Buttons and links on invitee pages and in invitation emails: #rrggbb, dark enough for white text "
    "(contrast at least 4.5:1); null for the default."
)


class WorkspaceIn(In):
    name: str = Field(min_length=1, max_length=200)
    invitation_lifetime_days: int = Field(DEFAULTS.invitation_lifetime_days, ge=1, le=30)
    access_code_lifetime_days: int = Field(30, ge=1, le=90, description="How long an access code is valid.")
    reminder_days: int | None = Field(None, description=REMINDER_DAYS)
    password_policy: Literal["length", "composition"] = DEFAULTS.password_policy  # type: ignore[assignment]
    app_url: str | None = Field(None, max_length=500)
    default_language: Language = DEFAULTS.default_language  # type: ignore[assignment]
    email_enabled: bool = Field(DEFAULTS.email_enabled, description="Send invitations and notices by email.")
    sms_enabled: bool = Field(DEFAULTS.sms_enabled, description="Send them by SMS too (both when a member has both).")
    auto_invite: bool = Field(DEFAULTS.auto_invite, description="Invite members created through the API at once.")
    sms_daily_cap: int = Field(
        DEFAULTS.sms_daily_cap, ge=0, le=MAX_COUNT, description="SMS this workspace may send per day (UTC)."
    )
    departments: list[Name] = Field([], max_length=MAX_ITEMS)
    job_profiles: list[Name] = Field([], max_length=MAX_ITEMS)
    required_fields: list[Name] = Field([], max_length=MAX_ITEMS)
    login_methods: list[Name] = Field(
        ["password"],
        max_length=MAX_ITEMS,
        description="'password', 'sso:<provider id>' (the organization's), 'personal:<provider id>'.",
    )
    sso_required: bool = Field(False, description="Refuse every password path for the workspace's members.")
    jit_enabled: bool = Field(False, description="Create members at their first sign-in through the workspace's SSO.")
    jit_domains: list[Name] = Field(
        [], max_length=MAX_ITEMS, description="Email domains just-in-time members may have."
    )
    default_role: RoleName = "member"
    default_department: str | None = Field(None, max_length=200)
    default_job_profile: str | None = Field(None, max_length=200)
    accent_color: str | None = Field(None, max_length=7, description=ACCENT_HELP)
    scim_identifier_changes: ScimIdentifierChanges = Field(
        DEFAULTS.scim_identifier_changes,  # type: ignore[arg-type]
        description=SCIM_IDENTIFIER_HELP,
    )


class WorkspacePatch(In):
    """Only the fields sent change. A field may be ``null`` only where the setting can be empty
    (``app_url``, ``default_department``, ``default_job_profile``, ``reminder_days``: off,
    ``accent_color``: the default); elsewhere ``null`` is refused."""

    name: str | MISSING = Field(MISSING, min_length=1, max_length=200)
    invitation_lifetime_days: int | MISSING = Field(MISSING, ge=1, le=30)
    access_code_lifetime_days: int | MISSING = Field(MISSING, ge=1, le=90)
    reminder_days: int | MISSING | None = Field(MISSING, description=REMINDER_DAYS)
    password_policy: Literal["length", "composition"] | MISSING = MISSING
    app_url: str | MISSING | None = Field(MISSING, max_length=500)
    default_language: Language | MISSING = MISSING
    email_enabled: bool | MISSING = MISSING
    sms_enabled: bool | MISSING = MISSING
    auto_invite: bool | MISSING = MISSING
    sms_daily_cap: int | MISSING = Field(MISSING, ge=0, le=MAX_COUNT)
    departments: list[Name] | MISSING = Field(MISSING, max_length=MAX_ITEMS)
    job_profiles: list[Name] | MISSING = Field(MISSING, max_length=MAX_ITEMS)
    required_fields: list[Name] | MISSING = Field(MISSING, max_length=MAX_ITEMS)
    login_methods: list[Name] | MISSING = Field(MISSING, max_length=MAX_ITEMS)
    sso_required: bool | MISSING = MISSING
    jit_enabled: bool | MISSING = MISSING
    jit_domains: list[Name] | MISSING = Field(MISSING, max_length=MAX_ITEMS)
    default_role: RoleName | MISSING = MISSING
    default_department: str | MISSING | None = Field(MISSING, max_length=200)
    default_job_profile: str | MISSING | None = Field(MISSING, max_length=200)
    accent_color: str | MISSING | None = Field(MISSING, max_length=7, description=ACCENT_HELP)
    scim_identifier_changes: ScimIdentifierChanges | MISSING = Field(MISSING, description=SCIM_IDENTIFIER_HELP)


class WorkspaceOut(Out):
    id: str
    organization_id: str
    name: str
    invitation_lifetime_days: int
    access_code_lifetime_days: int
    reminder_days: int | None
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
    accent_color: str | None = None
    scim_identifier_changes: ScimIdentifierChanges = Field(description=SCIM_IDENTIFIER_HELP)
    created_at: datetime


class LogoOut(Out):
    content_type: str
    digest: str = Field(description="SHA-256 of the stored (sanitised) file.")
    url: str = Field(description="Where the logo is served, a path on this site (public, cached for good).")
    updated_at: datetime


class Person(In):
    email: str | None = Field(None, max_length=320)
    username: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=32)
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    external_id: str | None = Field(None, max_length=255)
    department: str | None = Field(None, max_length=200)
    job_profile: str | None = Field(None, max_length=200)
    language: Language | None = None
    role: RoleName = "member"

    def as_input(self) -> MemberInput:
        return MemberInput(**self.model_dump(exclude={"invite", "message"}))


class MemberIn(Person):
    invite: bool | None = Field(
        None,
        description="Invite at once (true), leave awaiting invitation (false); omitted: the workspace's "
        "auto_invite setting decides.",
    )
    message: str | None = Field(None, max_length=2000)


class MemberPatch(In):
    """Only the fields sent change; ``null`` clears a profile field. The role cannot be ``null``."""

    email: str | MISSING | None = Field(MISSING, max_length=320)
    username: str | MISSING | None = Field(MISSING, max_length=64)
    phone: str | MISSING | None = Field(MISSING, max_length=32)
    first_name: str | MISSING | None = Field(MISSING, max_length=100)
    last_name: str | MISSING | None = Field(MISSING, max_length=100)
    external_id: str | MISSING | None = Field(MISSING, max_length=255)
    department: str | MISSING | None = Field(MISSING, max_length=200)
    job_profile: str | MISSING | None = Field(MISSING, max_length=200)
    language: Language | MISSING | None = MISSING
    role: RoleName | MISSING = MISSING


class MemberOut(Out):
    id: str
    organization_id: str
    workspace_id: str
    account_id: str | None
    status: Status
    role: RoleName
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
    licence: Literal["licensed", "viewer"] = Field(
        "licensed", description="A licensed user takes one of the organization's seats; a resource viewer is free."
    )


class InvitationIn(Person):
    message: str | None = Field(None, max_length=2000)
    licence: Literal["licensed", "viewer"] | None = Field(
        None,
        description="licensed (the default for a new member): the invitee takes one of the organization's seats"
        " (reserved while the invitation is pending); viewer: a resource viewer, who takes none. Omitted, a member"
        " awaiting invitation keeps their licence.",
    )


class MessageIn(In):
    message: str | None = Field(None, max_length=2000)


class InvitationOut(Out):
    id: str
    organization_id: str
    workspace_id: str
    member_id: str
    email: str | None
    phone: str | None
    role: RoleName
    state: State
    message: str | None
    channels: list[str]
    inviter_type: str
    inviter_name: str | None
    expires_at: datetime
    send_count: int
    account_id: str | None
    created_at: datetime
    updated_at: datetime
    licence: Literal["licensed", "viewer"] = Field(
        "licensed", description="A licensed user takes one of the organization's seats; a resource viewer is free."
    )


class MyInvitationOut(InvitationOut):
    workspace_name: str | None


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None


class MemberCreated(BaseModel):
    member: MemberOut
    invitation: InvitationOut | None


class SignInIn(In):
    identifier: str = Field(min_length=1, max_length=320, description="Email, username or phone.")
    password: str = Field(min_length=1, max_length=1024)
    break_glass: bool = Field(
        False,
        description="An owner's emergency password sign-in to a workspace that requires single sign-on (audited).",
    )


class SessionOut(BaseModel):
    token: str = Field(description="Shown once; send as 'Authorization: Bearer …'.")
    account_id: str
    expires_in_days: int = 14
    password_change_required: bool = Field(
        False,
        description="The account signed in with an administrator's one-time password: until it is replaced "
        "(POST /me/password) every other call answers 403 password_change_required.",
    )


class PasswordChangeIn(In):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class TokenIn(In):
    token: str = Field(min_length=1, max_length=200, description="The token from the invitation link.")


class AcceptIn(TokenIn):
    password: str | None = Field(None, max_length=1024, description="Creates your account when you have none.")
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)


class Accepted(BaseModel):
    invitation_id: str
    member_id: str
    account_id: str
    workspace_id: str
    status: Status


FlowHandle = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    Field(description="The handle of a flow this client started (adm_flw_…), as it was given."),
]


class SignUpOut(BaseModel):
    flow: str = Field(
        description="The sign-up flow's handle (adm_flw_…, valid 1 hour): keep it, send it with the code and "
        "with the claim. The code emailed to the invited address works with this handle only."
    )


class SignUpVerifyIn(In):
    flow: FlowHandle
    code: str = Field(min_length=1, max_length=20, description="The six-digit code from the email.")


class SignUpVerified(BaseModel):
    verified: bool = True
    email: str = Field(description="The address now verified for this invitation, in this flow.")


class ClaimIn(TokenIn):
    password: str = Field(min_length=1, max_length=1024, description="The new account's password.")
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    flow: FlowHandle | None = Field(
        None, description="A verified sign-up flow of this invitation (required when it asks for a sign-up)."
    )


class Claimed(BaseModel):
    invitation_id: str
    member_id: str
    account_id: str
    workspace_id: str
    status: Status
    session_token: str = Field(description="The new account's session, shown once: send as 'Authorization: Bearer …'.")
    expires_in_days: int = 14


class TermsToAccept(BaseModel):
    workspace_id: str
    workspace_name: str
    version: int
    filename: str
    content_type: str
    sha256: str
    published_at: datetime


class MyTermsOut(BaseModel):
    workspace_id: str
    to_accept: TermsToAccept | None = Field(
        description="The newest version, while this account has not accepted it; null: nothing to accept."
    )


class TermsFlowIn(In):
    flow: FlowHandle | None = Field(
        None, description="The terms flow this client holds (from an earlier download's Admit-Flow header)."
    )


class TermsAccepted(BaseModel):
    workspace_id: str
    version: int
    accepted_at: datetime


class TermsOut(Out):
    workspace_id: str
    version: int
    filename: str
    content_type: str
    sha256: str
    published_by: str
    published_at: datetime
    acceptances: int | None = None
    members_notified: int | None = None


class IdentityProviderIn(In):
    name: str = Field(min_length=1, max_length=100)
    issuer: str = Field(
        min_length=1,
        max_length=500,
        description="The issuer; its discovery document is read from <issuer>/.well-known/openid-configuration.",
    )
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: str = Field(min_length=1, max_length=2000, description="Stored encrypted; never returned.")
    scopes: list[Name] = Field(["openid", "email", "profile"], max_length=50, description="Must include 'openid'.")
    claims: dict[Name, Name] = Field(
        {},
        max_length=50,
        description="Claim names for first_name, last_name, email and groups "
        "(defaults: given_name, family_name, email, groups).",
    )


class IdentityProviderOut(Out):
    id: str
    organization_id: str | None
    kind: Literal["sso", "personal"]
    name: str
    issuer: str
    client_id: str
    client_secret_set: bool
    scopes: list[str]
    claims: dict[str, str]
    created_at: datetime


class JobProblem(BaseModel):
    row: int | None
    column: str | None
    reason: str
    kind: str


class JobOut(Out):
    id: str
    organization_id: str
    workspace_id: str
    kind: Literal["import", "invite_all", "invite_listed"]
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    options: dict[str, object]
    filename: str | None
    total: int
    position: int
    percent: int
    counts: dict[str, int]
    report: list[JobProblem]
    error: str | None
    cancel_requested: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class BulkInviteIn(In):
    message: str | None = Field(None, max_length=2000)


class PreviewOut(BaseModel):
    subject: str
    text: str
    html: str


class EventOut(Out):
    id: int
    action: str
    actor_type: str
    actor_id: str | None
    actor_name: str | None
    subject_type: str
    subject_id: str
    subject_name: str | None
    data: dict[str, object]
    created_at: datetime


Uri = Annotated[str, StringConstraints(min_length=1, max_length=500)]


JwkMember = Annotated[str, StringConstraints(max_length=32)]
JwkText = Annotated[str, StringConstraints(max_length=2000)]  # an 8192-bit modulus is 1366 characters
Jwk = Annotated[
    dict[JwkMember, JwkText | bool | Annotated[list[JwkText], Field(max_length=10)]],
    Field(max_length=20, description="A public JWK: kty, kid, alg, use, n and e (RSA) or crv, x and y (EC)."),
]


class JwksIn(In):
    keys: list[Jwk] = Field(min_length=1, max_length=10)


class ClientIn(In):
    name: str = Field(min_length=1, max_length=100)
    redirect_uris: list[Uri] = Field(
        max_length=20, description="1 to 20 exact https URLs (http only on loopback in dev mode), no fragment."
    )
    client_type: Literal["confidential", "public"] = Field(
        "confidential", description="public: a single-page or native app without a secret (PKCE required)."
    )
    token_endpoint_auth_method: (
        Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] | None
    ) = Field(
        None,
        description="Default: client_secret_basic (confidential), none (public). private_key_jwt: "
        "the app signs assertions (RS256 or ES256) with a key whose public part is in `jwks`; no secret.",
    )
    workspace_ids: list[Name] = Field([], max_length=MAX_ITEMS, description="Empty: every workspace.")
    post_logout_redirect_uris: list[Uri] = Field(
        [],
        max_length=20,
        description="Where RP-initiated logout (/oauth2/logout) may send people back to; matched exactly.",
    )
    backchannel_logout_uri: Uri | None = Field(
        None,
        description="Where Admit POSTs a logout token (logout_token, a signed JWT) when a person's session with "
        "the app ends: sign-out, suspension, removal, role change. Public addresses only outside dev mode.",
    )
    initiate_login_uri: Uri | None = Field(
        None,
        description="The app's login URL (third-party initiated login): \"Let's go\" and /go/{workspace} send "
        "people there with iss, target_link_uri and workspace, and the app starts the code flow.",
    )
    allowed_scopes: list[Literal["openid", "profile", "email", "workspace"]] = Field(
        ["openid", "profile", "email", "workspace"], max_length=4, description="Must include openid."
    )
    grant_types: list[Literal["authorization_code", "refresh_token"]] = Field(
        ["authorization_code"],
        max_length=2,
        description="Must include authorization_code. refresh_token (confidential apps only): every code "
        "exchange also gives a refresh token, rotated at each use, valid 30 days.",
    )
    jwks: JwksIn | None = Field(
        None,
        description='With private_key_jwt only: the app\'s public keys, {"keys": [...]}: 1 to 10 RSA (2048 to 8192 '
        "bits, RS256) or EC P-256 (ES256) keys, without their private parts.",
    )
    jwks_uri: Uri | None = Field(
        None,
        description="With private_key_jwt, instead of jwks: where the app publishes its public keys (https; a "
        "public address outside dev mode). Read when an assertion needs them, kept as its Cache-Control says "
        "(1 minute to 1 hour), read again for a key id it lacks (at most every 30 seconds).",
    )


class InitialPasswordIn(In):
    password: str = Field(
        min_length=1,
        max_length=256,
        description="A one-time password to give the person by hand; the workspace's password policy applies. "
        "They choose their own at their first sign-in.",
    )


class ClientPatch(In):
    """Only the fields sent change; the type (confidential or public) cannot. ``null`` empties a
    URI that may be empty (``backchannel_logout_uri``, ``initiate_login_uri``)."""

    client_type: Literal["confidential", "public"] | MISSING = Field(
        MISSING, description="Cannot change (a secret or keys would appear or vanish): another value is refused."
    )
    name: str | MISSING = Field(MISSING, min_length=1, max_length=100)
    redirect_uris: list[Uri] | MISSING = Field(MISSING, max_length=20)
    token_endpoint_auth_method: (
        Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] | MISSING
    ) = Field(MISSING, description="Between client_secret_basic and client_secret_post only (keys stay keys).")
    workspace_ids: list[Name] | MISSING = Field(MISSING, max_length=MAX_ITEMS, description="Empty: every workspace.")
    post_logout_redirect_uris: list[Uri] | MISSING = Field(MISSING, max_length=20)
    backchannel_logout_uri: Uri | MISSING | None = MISSING
    initiate_login_uri: Uri | MISSING | None = MISSING
    allowed_scopes: list[Literal["openid", "profile", "email", "workspace"]] | MISSING = Field(MISSING, max_length=4)
    grant_types: list[Literal["authorization_code", "refresh_token"]] | MISSING = Field(MISSING, max_length=2)
    jwks: JwksIn | MISSING = Field(
        MISSING, description="A private_key_jwt app's new public keys (all of them); a jwks_uri is dropped."
    )
    jwks_uri: Uri | MISSING = Field(
        MISSING, description="Where a private_key_jwt app now publishes its keys; the registered jwks are dropped."
    )


class ClientSecretOut(BaseModel):
    client_secret: str = Field(description="Shown this once; the previous secret no longer works.")


class ClientOut(Out):
    client_id: str
    organization_id: str
    name: str
    client_type: str
    token_endpoint_auth_method: str
    workspace_ids: list[str]
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None
    allowed_scopes: list[str]
    grant_types: list[str]
    jwks: dict[str, Any] | None
    jwks_uri: str | None
    initiate_login_uri: str | None
    client_secret_set: bool
    created_at: datetime


class ClientCreated(ClientOut):
    client_secret: str | None = Field(description="Shown this once (confidential clients); store it now.")


class ScimTokenIn(In):
    name: str = Field(min_length=1, max_length=200, description="What the token is for, e.g. 'Entra ID'.")
    role: Literal["guest", "member", "admin"] = Field(
        "member", description="The highest role the token may grant (never owner, never above your own)."
    )
    workspace_id: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = Field(
        None, description="The workspace the token provisions into; none: every workspace of the organization."
    )


class ScimTokenOut(Out):
    id: str
    organization_id: str
    workspace_id: str | None
    name: str
    role: str
    created_at: datetime
    created_by: str | None
    created_by_name: str
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")
    revoked_at: datetime | None
    manageable: bool = Field(description="Whether the caller may revoke it.")


class ScimTokenCreated(ScimTokenOut):
    token: str = Field(description="The bearer token for /scim/v2, shown this once; store it in the provider now.")
