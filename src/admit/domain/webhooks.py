"""The webhook catalogue, envelope and delivery schedule.

One mapping table (``PUBLISHED``) says which audit events (:mod:`admit.domain.events`) are
published and under which webhook type; an audit event may publish two (``member.updated`` with a
role in its changed fields is also ``member.role_changed``). ``organization.merged`` is recorded
by an accepted organization invitation that merged accounts (``admin.organization_invitations``).
``webhook.test`` is sent only by the test-event operation, to one endpoint.

The envelope is ``{type, id, timestamp, organization_id, workspace_id, sequence, data}``; ``data``
is the audit event's data with the subject's id, never a value under a secret-sounding key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from admit.domain.events import EventType

CATALOGUE = (
    "invitation.created",
    "invitation.resent",
    "invitation.accepted",
    "invitation.declined",
    "invitation.revoked",
    "invitation.expired",
    "member.provisioned",
    "member.activated",
    "member.updated",
    "member.role_changed",
    "member.suspended",
    "member.reactivated",
    "member.removed",
    "terms.accepted",
    "organization.merged",  # recorded by organization merges (admin.organization_invitations)
    "scim.deprovisioning_held",
    "message.abandoned",
    "webhook.test",
)

PUBLISHED: dict[EventType, str] = {
    EventType.INVITATION_CREATED: "invitation.created",
    EventType.INVITATION_RESENT: "invitation.resent",
    EventType.INVITATION_ACCEPTED: "invitation.accepted",
    EventType.INVITATION_DECLINED: "invitation.declined",
    EventType.INVITATION_REVOKED: "invitation.revoked",
    EventType.INVITATION_EXPIRED: "invitation.expired",
    EventType.MEMBER_PROVISIONED: "member.provisioned",
    EventType.MEMBER_CREATED_JUST_IN_TIME: "member.provisioned",
    EventType.MEMBER_ACTIVATED: "member.activated",
    EventType.MEMBER_UPDATED: "member.updated",
    EventType.MEMBER_SUSPENDED: "member.suspended",
    EventType.MEMBER_REACTIVATED: "member.reactivated",
    EventType.MEMBER_REMOVED: "member.removed",
    EventType.TERMS_ACCEPTED: "terms.accepted",
    EventType.MEMBER_CHANGE_HELD: "scim.deprovisioning_held",
    EventType.MESSAGE_ABANDONED: "message.abandoned",
    EventType.ORGANIZATION_MERGED: "organization.merged",
}

# Svix's schedule: the first attempt at once, then these waits after each failure.
SCHEDULE = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(SCHEDULE)
FAILING_LIMIT = timedelta(days=5)  # an endpoint failing this long is disabled
ROTATION_OVERLAP = timedelta(hours=24)  # the previous secret also signs this long after a rotation
SUCCESS_WITHIN_SECONDS = 15.0
RESPONSE_CAP = 4096  # bytes of an answer kept in the delivery log
STOP_HEADER = "webhook-stop-retries"  # an answer with this header (any value), or 410 Gone, stops retries
SECRET_WORDS = ("password", "secret", "token", "credential", "apikey", "api_key", "private", "link", "digest", "code")


def published_types(action: EventType, data: dict[str, Any]) -> list[str]:
    """The webhook types an audit event publishes (none for most)."""
    name = PUBLISHED.get(action)
    if name is None:
        return []
    if action is EventType.MESSAGE_ABANDONED and data.get("channel") == "webhook":
        return []  # an abandoned webhook is not announced by webhook (a loop); its owners get an email
    if action is EventType.MEMBER_UPDATED and "role" in data:
        return [name, "member.role_changed"]
    return [name]


def secretish(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_WORDS)


def clean(value: Any) -> Any:
    """A payload value without anything under a secret-sounding key (at any depth)."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items() if not secretish(str(k))}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def envelope(
    *,
    type: str,
    id: str,
    timestamp: datetime,
    organization_id: str,
    workspace_id: str | None,
    sequence: int,
    data: dict[str, Any],
) -> dict[str, Any]:
    return {
        "type": type,
        "id": id,
        "timestamp": timestamp.isoformat().replace("+00:00", "Z"),
        "organization_id": organization_id,
        "workspace_id": workspace_id,
        "sequence": sequence,
        "data": clean(data),
    }


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When a message that failed its ``attempts``-th attempt is tried again (None: abandoned)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + SCHEDULE[attempts]


def wants(event_types: list[str] | None, type: str) -> bool:
    return type == "webhook.test" or event_types is None or type in event_types
