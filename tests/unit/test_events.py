"""The event catalogue: one vocabulary for the audit log (and webhooks); nothing outside it
can be recorded."""

from __future__ import annotations

from typing import Any

import pytest

from admit.domain.events import SUBJECTS, EventType
from admit.shared.context import SYSTEM, record


class _Events:
    def __init__(self) -> None:
        self.added: list[dict[str, Any]] = []

    def add(self, **values: Any) -> None:
        self.added.append(values)


class _Webhooks:
    """No endpoint: a published event is looked up and nothing else happens."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    def subscribers(self, organization_id: str, workspace_id: str | None) -> list[Any]:
        self.asked.append((organization_id, workspace_id))
        return []


class _Uow:
    def __init__(self) -> None:
        self.events = _Events()
        self.webhooks = _Webhooks()


def test_every_event_type_names_its_subject_first() -> None:
    for event in EventType:
        subject, _, what = event.value.partition(".")
        assert what and event.name.lower() == event.value.replace(".", "_")
        assert event.subject == (SUBJECTS.get(event) or subject)


def test_a_catalogued_event_is_recorded_with_its_subject() -> None:
    uow = _Uow()
    record(uow, SYSTEM, EventType.MEMBER_SUSPENDED, "member", "m1", None, organization_id="o1")  # type: ignore[arg-type]
    assert uow.events.added[0]["action"] == "member.suspended"
    assert uow.webhooks.asked == [("o1", None)]  # member.suspended is published (domain.webhooks)


@pytest.mark.parametrize(("action", "subject"), [("member.teleported", "member"), ("member.suspended", "invitation")])
def test_an_event_outside_the_catalogue_or_about_another_subject_is_refused(action: str, subject: str) -> None:
    uow = _Uow()
    with pytest.raises(ValueError):
        record(uow, SYSTEM, action, subject, "x", None, organization_id="o1")  # type: ignore[arg-type]
    assert uow.events.added == []
