"""Row ids: a millisecond timestamp then random bits, sorting in the order one process made them."""

from __future__ import annotations

import threading
import time

import pytest

from admit.adapters.persistence import repositories
from admit.adapters.persistence.repositories import new_id


def test_ids_made_in_one_millisecond_sort_in_the_order_they_were_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repositories, "_last_id", [0, 0])  # as in a new process
    monkeypatch.setattr(time, "time_ns", lambda: 1_790_000_000_123_456_789)
    ids = [new_id() for _ in range(2_000)]
    assert ids == sorted(ids) and len(set(ids)) == 2_000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert {i[:12] for i in ids} == {f"{1_790_000_000_123:012x}"}


def test_a_clock_stepping_back_does_not_break_the_order(monkeypatch: pytest.MonkeyPatch) -> None:
    first = new_id()
    monkeypatch.setattr(time, "time_ns", lambda: 1_000_000_000_000_000)  # 1970s
    later = [new_id() for _ in range(10)]
    assert [first, *later] == sorted([first, *later])


def test_the_random_part_running_out_moves_to_the_next_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: 1_790_000_000_000_000_000)
    monkeypatch.setattr(repositories, "_last_id", [1_790_000_000_000, (1 << 80) - 1])
    following = new_id()
    assert following[:12] == f"{1_790_000_000_001:012x}" and following > f"{1_790_000_000_000:012x}" + "f" * 20


def test_threads_never_make_the_same_id() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def make(into: list[str]) -> None:
        into.extend(new_id() for _ in range(5_000))

    threads = [threading.Thread(target=make, args=(m,)) for m in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for m in made for i in m]
    assert len(set(everything)) == 20_000 and all(m == sorted(m) for m in made)
