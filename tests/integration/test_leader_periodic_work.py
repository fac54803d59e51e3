"""Leader-only periodic work: however many processes run ``admit serve`` or ``admit worker``, each
periodic task runs once per period (a lease row per task, taken atomically), on both databases."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from support.clock import FixedClock

from admit.entrypoints.workers.periodic import LEASE_PREFIX, TASKS, Periodic, Task
from admit.shared.context import Context

EVERY = 60.0


def counting_tasks(ran: Counter[str], lock: threading.Lock) -> list[Task]:
    def task(name: str) -> Task:
        def run(_: Context) -> int:
            with lock:
                ran[name] += 1
            return 0

        return Task(name, run, "%d")

    return [task("first"), task("second")]


def test_two_runners_run_each_task_once_per_period(ctx: Context, clock: FixedClock) -> None:
    ran: Counter[str] = Counter()
    lock = threading.Lock()
    one = Periodic(ctx, EVERY, tasks=counting_tasks(ran, lock), holder="one")
    two = Periodic(ctx, EVERY, tasks=counting_tasks(ran, lock), holder="two")
    assert one.run_due() == ["first", "second"]
    assert two.run_due() == []  # the same period: held by "one"
    assert one.run_due() == []  # nor again by its holder
    clock.advance(seconds=EVERY / 2)
    assert two.run_due() == [] and one.run_due() == []
    clock.advance(seconds=EVERY / 2)
    assert two.run_due() == ["first", "second"]  # the next period: whoever comes first
    assert one.run_due() == []
    assert ran == {"first": 2, "second": 2}


def tick(runner: Periodic, start: threading.Barrier) -> None:
    start.wait()
    runner.run_due()


def test_runners_racing_in_threads_run_each_period_once(ctx: Context, clock: FixedClock) -> None:
    ran: Counter[str] = Counter()
    lock = threading.Lock()
    runners = [Periodic(ctx, EVERY, tasks=counting_tasks(ran, lock), holder=f"r{i}") for i in range(4)]
    for period in range(1, 4):
        start = threading.Barrier(len(runners))

        threads = [threading.Thread(target=tick, args=(runner, start)) for runner in runners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert ran == {"first": period, "second": period}
        clock.advance(seconds=EVERY)


def test_a_stopping_runner_releases_its_leases(ctx: Context, clock: FixedClock) -> None:
    ran: Counter[str] = Counter()
    lock = threading.Lock()
    one = Periodic(ctx, EVERY, tasks=counting_tasks(ran, lock), holder="one")
    two = Periodic(ctx, EVERY, tasks=counting_tasks(ran, lock), holder="two")
    one.run_due()
    two.release()  # releasing what another holds changes nothing
    assert two.run_due() == []
    stop = threading.Event()
    stop.set()
    one.run_forever(stop)  # stopped at once: it only releases
    with ctx.uow() as uow:
        assert uow.leases.get(LEASE_PREFIX + "first") is None
    assert two.run_due() == ["first", "second"]


def test_a_failing_task_does_not_stop_the_others(ctx: Context, clock: FixedClock) -> None:
    def broken(_: Context) -> int:
        raise RuntimeError("boom")

    ran: Counter[str] = Counter()
    tasks = [Task("broken", broken, "%d"), *counting_tasks(ran, threading.Lock())]
    assert Periodic(ctx, EVERY, tasks=tasks, holder="one").run_due() == ["first", "second"]


def test_the_real_tasks_run_once_across_two_runners(ctx: Context, clock: FixedClock, workspace: Any) -> None:
    names = [task.name for task in TASKS]
    assert "idempotency_keys" in names and "expire_invitations" in names
    assert Periodic(ctx, EVERY, holder="one").run_due() == names
    assert Periodic(ctx, EVERY, holder="two").run_due() == []
