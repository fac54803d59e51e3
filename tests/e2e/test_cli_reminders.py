"""Invitation reminders from the shell, on both databases: ``admit workspace update
--reminder-days N`` (or ``off``) and ``admit invitations remind``, which queues the reminders now
due and says how many."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from support.processes import admit, admit_process, field

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.database import make_engine


def test_operator_sets_reminders_and_runs_the_sweep(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    assert re.search(r"│ remind\s", admit(database_url, "invitations", "--help").stdout)
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Vandelay Imports").stdout, "id")
    assert field(admit(database_url, "workspace", "update", ws, "--reminder-days", "2").stdout, "reminder_days") == "2"
    invitation = field(admit(database_url, "invite", ws, "art@vandelay.example").stdout, "id")
    assert "Queued 0 reminder(s)." in admit(database_url, "invitations", "remind").stdout  # 7 days left
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:  # the invitation now ends within two days
            soon = datetime.now(UTC) + timedelta(days=1)
            conn.execute(update(t.invitations).where(t.invitations.c.id == invitation).values(expires_at=soon))
    finally:
        engine.dispose()
    assert "Queued 1 reminder(s)." in admit(database_url, "invitations", "remind").stdout
    assert "Queued 0 reminder(s)." in admit(database_url, "invitations", "remind").stdout
    assert "invitation_reminder" in admit(database_url, "outbox", "list").stdout
    off = admit(database_url, "workspace", "update", ws, "--reminder-days", "off").stdout
    assert field(off, "reminder_days") == "off"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # messages, not storage: one database
def test_a_reminder_outside_the_lifetime_is_one_clear_line(database_url: str) -> None:
    org = field(admit_process(database_url, "org", "create", "Kramerica").stdout, "id")
    ws = field(admit_process(database_url, "workspace", "create", org, "Kramerica HQ").stdout, "id")
    for typed in ("7", "soon"):
        result = admit_process(database_url, "workspace", "update", ws, "--reminder-days", typed, check=False)
        assert result.returncode == 1, result
        assert "validation_failed (reminder_days)" in result.stderr and "Traceback" not in result.stderr
