"""The catalogue of events: every state change Admit records in the audit log has one of these
types, named ``<subject>.<what happened>``. The same names are what webhooks publish.

An event's subject is the kind of thing it is about (``member``, ``invitation``, ``job`` …): the
part of its name before the first dot, except where ``SUBJECTS`` says otherwise (terms are
published for a workspace and accepted by a member). A use case can record only a type listed here, so the
audit log, its filters and (later) webhook subscriptions speak one vocabulary.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    ORGANIZATION_CREATED = "organization.created"
    ORGANIZATION_ADMIN_GRANTED = "organization.admin_granted"
    ORGANIZATION_ADMIN_REVOKED = "organization.admin_revoked"
    ORGANIZATION_SECURITY_CHANGED = "organization.security_changed"
    ORGANIZATION_LICENCES_CHANGED = "organization.licences_changed"
    # Issue 17: organization invitations and merges (admin.organization_invitations).
    ORG_INVITATION_CREATED = "org_invitation.created"
    ORG_INVITATION_DECLINED = "org_invitation.declined"
    ORG_INVITATION_ACCEPTED = "org_invitation.accepted"
    ORG_INVITATION_REFUSED = "org_invitation.refused"
    ORG_INVITATION_WITHDRAWN = "org_invitation.withdrawn"
    ORGANIZATION_MEMBER_JOINED = "organization.member_joined"
    ORGANIZATION_WORKSPACE_MOVED = "organization.workspace_moved"
    ORGANIZATION_GROUP_MOVED = "organization.group_moved"
    ORGANIZATION_CLOSED = "organization.closed"
    ORGANIZATION_ACCESS_REVOKED = "organization.access_revoked"  # a token, webhook or app's tokens, by a merge
    ORGANIZATION_MERGED = "organization.merged"
    MEMBER_LICENCE_CHANGED = "member.licence_changed"
    WORKSPACE_CREATED = "workspace.created"
    WORKSPACE_UPDATED = "workspace.updated"
    WORKSPACE_LOGO_CHANGED = "workspace.logo_changed"
    WORKSPACE_LOGO_REMOVED = "workspace.logo_removed"
    API_TOKEN_CREATED = "api_token.created"
    IDENTITY_PROVIDER_CREATED = "identity_provider.created"
    IDENTITY_PROVIDER_REMOVED = "identity_provider.removed"
    CLIENT_CREATED = "client.created"
    CLIENT_UPDATED = "client.updated"
    CLIENT_SECRET_ROTATED = "client.secret_rotated"
    CLIENT_REMOVED = "client.removed"
    SIGNING_KEY_ROTATED = "signing_key.rotated"
    SCIM_TOKEN_CREATED = "scim_token.created"
    SCIM_TOKEN_REVOKED = "scim_token.revoked"
    CLIENT_CODE_REPLAYED = "client.code_replayed"
    CLIENT_REFRESH_TOKEN_REPLAYED = "client.refresh_token_replayed"

    MEMBER_PROVISIONED = "member.provisioned"
    MEMBER_CREATED_JUST_IN_TIME = "member.created_just_in_time"
    MEMBER_ACTIVATED = "member.activated"
    MEMBER_UPDATED = "member.updated"
    MEMBER_SUSPENDED = "member.suspended"
    MEMBER_REACTIVATED = "member.reactivated"
    MEMBER_REMOVED = "member.removed"
    MEMBER_CHANGE_HELD = "member.change_held"  # the SCIM deprovisioning brake held a deactivation/removal
    MEMBER_HOLD_RELEASED = "member.hold_released"
    MEMBER_HOLD_DISMISSED = "member.hold_dismissed"

    INVITATION_CREATED = "invitation.created"
    INVITATION_RESENT = "invitation.resent"
    INVITATION_REMINDED = "invitation.reminded"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_DECLINED = "invitation.declined"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_EXPIRED = "invitation.expired"
    INVITATION_REINVITE_REQUESTED = "invitation.reinvite_requested"

    ACCESS_CODE_ISSUED = "access_code.issued"
    ACCESS_CODE_WITHDRAWN = "access_code.withdrawn"
    ACCESS_CODE_REDEEMED = "access_code.redeemed"
    ACCESS_CODE_LOCKED = "access_code.locked"  # withdrawn after 10 wrong tries against it
    ACCESS_CODE_SENT = "access_code.sent"  # by SMS
    ACCESS_CODE_EXPORTED = "access_code.exported"  # a CSV of fresh codes

    ACCOUNT_CREATED = "account.created"
    ACCOUNT_SIGNED_IN = "account.signed_in"
    ACCOUNT_SIGNED_OUT = "account.signed_out"
    ACCOUNT_BREAK_GLASS_SIGN_IN = "account.break_glass_sign_in"
    ACCOUNT_PASSWORD_CHANGED = "account.password_changed"
    ACCOUNT_PASSWORD_RESET = "account.password_reset"
    ACCOUNT_EMAIL_ADDED = "account.email_added"
    ACCOUNT_PHONE_ADDED = "account.phone_added"

    TERMS_PUBLISHED = "terms.published"
    TERMS_ACCEPTED = "terms.accepted"

    SIGNUP_SETTINGS_UPDATED = "signup.settings_updated"
    SIGNUP_REQUESTED = "signup.requested"
    SIGNUP_COMPLETED = "signup.completed"
    SIGNUP_APPROVED = "signup.approved"
    SIGNUP_REJECTED = "signup.rejected"
    SIGNUP_LINK_CREATED = "signup_link.created"
    SIGNUP_LINK_PAUSED = "signup_link.paused"
    SIGNUP_LINK_RESUMED = "signup_link.resumed"
    SIGNUP_LINK_ROTATED = "signup_link.rotated"
    SIGNUP_LINK_DELETED = "signup_link.deleted"

    GROUP_CREATED = "group.created"
    GROUP_UPDATED = "group.updated"
    GROUP_DELETED = "group.deleted"
    GROUP_MEMBERS_ADDED = "group.members_added"
    GROUP_MEMBERS_REMOVED = "group.members_removed"

    MESSAGE_ABANDONED = "message.abandoned"  # an outbox message, or a webhook (channel "webhook")
    MESSAGE_RETRIED = "message.retried"

    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_ENABLED = "webhook.enabled"
    WEBHOOK_DISABLED = "webhook.disabled"  # by an administrator, or after 5 days of failures
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"
    WEBHOOK_TEST_SENT = "webhook.test_sent"
    WEBHOOK_REDELIVERED = "webhook.redelivered"  # one message, or every one since a time

    JOB_IMPORT_QUEUED = "job.import.queued"
    JOB_IMPORT_DONE = "job.import.done"
    JOB_IMPORT_FAILED = "job.import.failed"
    JOB_IMPORT_CANCELLED = "job.import.cancelled"
    JOB_INVITE_ALL_QUEUED = "job.invite_all.queued"
    JOB_INVITE_ALL_DONE = "job.invite_all.done"
    JOB_INVITE_ALL_FAILED = "job.invite_all.failed"
    JOB_INVITE_ALL_CANCELLED = "job.invite_all.cancelled"
    JOB_INVITE_LISTED_QUEUED = "job.invite_listed.queued"
    JOB_INVITE_LISTED_DONE = "job.invite_listed.done"
    JOB_INVITE_LISTED_FAILED = "job.invite_listed.failed"
    JOB_INVITE_LISTED_CANCELLED = "job.invite_listed.cancelled"

    @property
    def subject(self) -> str:
        """What the event is about: ``member``, ``invitation``, ``job`` …"""
        return SUBJECTS.get(self, self.value.split(".", 1)[0])


SUBJECTS = {
    EventType.TERMS_PUBLISHED: "workspace",
    EventType.TERMS_ACCEPTED: "member",
    EventType.ACCESS_CODE_EXPORTED: "workspace",
    # An access code's events are about its member (their trail shows them); ``code_id`` names it.
    **dict.fromkeys(
        (
            EventType.ACCESS_CODE_ISSUED,
            EventType.ACCESS_CODE_WITHDRAWN,
            EventType.ACCESS_CODE_REDEEMED,
            EventType.ACCESS_CODE_LOCKED,
            EventType.ACCESS_CODE_SENT,
        ),
        "member",
    ),
}


def event_type(name: str) -> EventType:
    """The catalogued type of this name (``ValueError`` for a name that is not catalogued)."""
    return EventType(name)
