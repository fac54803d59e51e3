"""Reading what Admit would send, as a test (or an operator with `admit outbox list`) can."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from admit.adapters.persistence.database import make_engine
from admit.bootstrap import make_uow_factory
from admit.shared.context import Context
from admit.shared.messages import enqueue


def messages(ctx: Context, *, recipient: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        rows = [dict(r._mapping) for r in uow.outbox.list(limit=10_000)]
    rows.reverse()  # oldest first
    return [
        r for r in rows if (recipient is None or r["recipient"] == recipient) and (kind is None or r["kind"] == kind)
    ]


def token_for(ctx: Context, recipient: str) -> str:
    """The token in the newest invitation link sent to ``recipient``."""
    links = [str(m["payload"].get("link")) for m in messages(ctx, recipient=recipient)]
    return [link for link in links if "/i/" in link][-1].rsplit("/", 1)[1]


def code_for(ctx: Context, recipient: str) -> str:
    """The newest email verification code sent to ``recipient``."""
    return str(messages(ctx, recipient=recipient, kind="email_verification")[-1]["payload"]["code"])


def enqueue_emails(database_url: str, count: int, workspace_name: str = "Load") -> None:
    """``count`` invitation emails queued straight into the outbox of ``database_url`` (for the
    workers' tests: what a busy day leaves to deliver), in one transaction."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    try:
        with make_uow_factory(engine)(write=True) as uow:
            for i in range(count):
                enqueue(
                    uow,
                    kind="invitation",
                    channel="email",
                    recipient=f"p{i}@example.com",
                    language="en",
                    subject_id=f"s{i}",
                    organization_id=None,
                    workspace_id=None,
                    now=now,
                    payload={
                        "workspace_name": workspace_name,
                        "link": f"https://admit.example.test/i/adm_inv_{i}",
                        "expires_at": now.isoformat(),
                    },
                )
            uow.commit()
    finally:
        engine.dispose()
