"""Starting the real ``admit`` commands quickly: each is a process of its own, forked from a
server process that imported Admit once (multiprocessing's forkserver with the modules
preloaded). Used by :func:`support.processes.server` for every server the suite starts and by
the fault suite for the processes it kills."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

PRELOAD = ["admit.entrypoints.cli.main", "admit.entrypoints.web.main", "admit.entrypoints.workers.outbox_worker"]


def _run_admit(args: Sequence[str], env: dict[str, str], log: str) -> None:
    """In the child: ``admit *args`` with exactly ``env``, its output appended to ``log``."""
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.environ.clear()
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    from admit.entrypoints.cli.main import app

    sys.argv = ["admit", *args]
    try:
        app(args=list(args), prog_name="admit")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


class Launched:
    """A process started by :class:`Launcher`, with the part of ``subprocess.Popen``'s interface
    the fault suite uses (``poll``, ``wait``, ``terminate``, ``kill``, ``send_signal``)."""

    def __init__(self, process: multiprocessing.process.BaseProcess, args: Sequence[str], log: Path) -> None:
        self.process, self.args, self.log = process, ["admit", *args], log
        assert process.pid is not None
        self.pid: int = process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.exitcode

    def poll(self) -> int | None:
        return self.process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.process.exitcode

    def send_signal(self, sig: int) -> None:
        if self.process.exitcode is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Launcher:
    """Starts ``admit`` commands as real processes of their own, forked from a server process that
    imported Admit once (multiprocessing's forkserver with the modules preloaded): a process is
    serving within 1 to 3 seconds instead of the 5 to 15 seconds each interpreter takes to import the
    web app on a loaded 2-core machine. Each child is a separate process with its own
    environment, database connections and signals, as ``admit serve`` or ``admit worker`` started
    by an operator; ``kill -9`` kills it alone. ``admit serve --workers N`` (uvicorn spawns fresh
    interpreters) is not sped up."""

    def __init__(self) -> None:
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(PRELOAD)

    def warm(self) -> None:
        """Start the forkserver now (it imports Admit in the background)."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def start(self, args: Sequence[str], env: dict[str, str]) -> Launched:
        log = Path(tempfile.mkstemp(prefix="admit-faults-", suffix=".log")[1])
        process = self.context.Process(target=_run_admit, args=(list(args), env, str(log)), daemon=False)
        process.start()
        return Launched(process, args, log)


LAUNCHER = Launcher()
"""One per test process: its forkserver starts on the first launch and ends with the process."""
