"""A member as the administrator's tools see it: what the member use cases hand to an
entrypoint (the API's ``MemberOut``, the people pages, the CLI).

Its own module, below :mod:`admit.admin.invitations` (whose ``invite`` returns the member it
invited) and :mod:`admit.admin.members` (which imports from invitations)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from admit.domain.records import Member


@dataclass(frozen=True, slots=True)
class MemberView:
    """A member's directory entry (the API's ``MemberOut``): every column of the member, which
    holds no secret, in the table's order, so that a :class:`Member` record converts
    positionally, without a copy per field."""

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
    licence: str = "licensed"


def member_view(member: Member, **changes: Any) -> MemberView:
    """``member`` as the edge sees it; ``changes``: columns just written (a new status, the
    update's time) that the record read before the write does not carry yet."""
    return MemberView(*(member._replace(**changes) if changes else member))
