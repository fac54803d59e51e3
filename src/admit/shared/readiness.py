"""Whether this process should get traffic (``/readyz``): the database answers and its schema is
at the migration this code ships, or newer. ``/healthz`` only says the process is alive.

A newer schema is ready: ``admit db upgrade`` runs while the old release still serves, and
migrations only expand the schema (README, "Upgrading while serving";
``tests/unit/test_migrations_expand_contract.py``), so the old code works on it. Revisions are
numbered in order ("0024"), which is how a process tells a newer schema from one it never knew."""

from __future__ import annotations

import logging

from admit.shared.context import Context

log = logging.getLogger("admit.shared")


def not_ready(ctx: Context, head: str) -> tuple[str, str] | None:
    """None when ready, else a (code, message) saying why not."""
    try:
        with ctx.uow() as uow:
            revision = uow.operations.schema_revision()
    except Exception as exc:  # any driver error: unreachable, refused, timed out
        log.warning("readiness: database unreachable (%s)", type(exc).__name__)
        return "database_unreachable", "the database does not answer"
    if revision is None:
        return "migrations_pending", f"the database has no schema; run 'admit db upgrade' (to {head})"
    if revision != head and not newer(revision, head):
        return (
            "migrations_pending",
            f"the database is at migration {revision}, this code needs {head}: run 'admit db upgrade'",
        )
    return None


def newer(revision: str, head: str) -> bool:
    """Whether ``revision`` comes after ``head`` (both numbered, as every revision here is)."""
    return revision.isdigit() and head.isdigit() and int(revision) > int(head)
