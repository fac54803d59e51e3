"""What the fault suite breaks on purpose: a PostgreSQL cluster of its own to stop and start, a
server that accepts connections and never answers, and a small disk that fills up; and how it
starts the real ``admit serve`` and ``admit worker`` processes it kills (:class:`Launcher`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.postgres import binaries, free_port


def missing(tool: str) -> None:
    """Skip when a tool the test needs is missing; in CI that is a failure ('make test' installs them)."""
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is missing in CI: 'make test' should have provided it")
    pytest.skip(f"{tool} is not available here")


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class Cluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1 that a test may stop and start again (the
    suite's shared cluster must never go down under other tests)."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir, self.root, self.port = bindir, root, port
        self.data = root / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/admit"
        self.running = False

    def _run(self, *args: str) -> None:
        subprocess.run(_as_owner([str(self.bindir / args[0]), *args[1:]]), check=True, capture_output=True)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "-t", "60", "start"
        )
        self.running = True

    def stop(self) -> None:
        """A fast shutdown, as a restart by an operator or a failover does: every connection is cut."""
        self.running = False
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")


@contextlib.contextmanager
def restartable_cluster() -> Iterator[Cluster]:
    bindir = binaries()
    if bindir is None:
        missing("the PostgreSQL server binaries")
        raise AssertionError  # not reached
    root = Path(tempfile.mkdtemp(prefix="admit-faults-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = Cluster(bindir, root, free_port())
    try:
        cluster._run("initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        cluster.start()
        cluster._run("createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "admit")
        yield cluster
    finally:
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


class Stall:
    """A TCP server on loopback that accepts every connection and never says a word (an SMTP
    server or SMS gateway that hangs). ``connections`` counts the connections it took."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.held: list[socket.socket] = []
        self.connections = 0
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self.closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.held.append(connection)
            self.connections += 1

    def close(self) -> None:
        self.closed.set()
        self.thread.join()
        for connection in self.held:
            connection.close()
        self.listener.close()


@contextlib.contextmanager
def stalling_server() -> Iterator[Stall]:
    stall = Stall()
    try:
        yield stall
    finally:
        stall.close()


@contextlib.contextmanager
def small_disk(size: str = "8m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on a new folder (root only), unmounted afterwards."""
    if shutil.which("mount") is None:
        missing("mount")
    where = Path(tempfile.mkdtemp(prefix="admit-small-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        where.rmdir()
        missing(f"a tmpfs mount (mount said: {mounted.stderr.decode().strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)
        with contextlib.suppress(OSError):
            where.rmdir()


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill ``disk`` with one file until at most ``leave`` bytes are free; returns the file."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        block = b"\0" * 65536
        while True:
            free = shutil.disk_usage(disk).free
            if free <= leave:
                break
            try:
                out.write(block[: max(1, min(len(block), free - leave))])
                out.flush()
            except OSError:
                break
    return filler
