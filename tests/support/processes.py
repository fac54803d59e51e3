"""Running the real ``admit`` command and server, as an operator would."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from support.postgres import free_port

ADMIT = str(Path(sys.executable).with_name("admit"))


def environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMIT_")}
    env.update(
        {
            "ADMIT_DEV_MODE": "true",
            "ADMIT_DATABASE_URL": database_url,
            "COLUMNS": "400",
            "NO_COLOR": "1",
            "ADMIT_LOG_LEVEL": "warning",
            **extra,
        }
    )
    return env


def admit(database_url: str, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
    """``admit *args`` run in this process, as the command line would run it: the same parsing,
    settings from the same environment, the same output and exit code, without the second of
    interpreter start-up each real command costs. :func:`admit_process` runs the real command."""
    if args[:1] == ("serve",) or (args[:1] == ("worker",) and "--once" not in args):
        raise AssertionError("long-running commands run in a process of their own: use server()")
    env = environment(database_url, **extra)
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ADMIT_") and k not in env}
    with _fresh_cli() as cli:
        outcome = CliRunner().invoke(cli.app, list(args), env={**unset, **env}, catch_exceptions=False)
    result = subprocess.CompletedProcess(["admit", *args], outcome.exit_code, outcome.stdout, outcome.stderr)
    return _checked(result, args, check)


def admit_process(database_url: str, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
    """The real ``admit`` command in a process of its own."""
    result = subprocess.run(
        [ADMIT, *args], env=environment(database_url, **extra), capture_output=True, text=True, timeout=120
    )
    return _checked(result, args, check)


def _checked(
    result: subprocess.CompletedProcess[str], args: tuple[str, ...], check: bool
) -> subprocess.CompletedProcess[str]:
    if check and result.returncode != 0:
        raise AssertionError(f"admit {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@contextlib.contextmanager
def _fresh_cli() -> Iterator[Any]:
    """The CLI module with its settings and context built anew for this call (a real process
    caches them for its life) and the database connections it opened closed afterwards."""
    from admit import bootstrap
    from admit.entrypoints.cli import common, main

    opened: list[Engine] = []

    def make_engine(url: str, **options: Any) -> Engine:
        opened.append(bootstrap_make_engine(url, **options))
        return opened[-1]

    bootstrap_make_engine = bootstrap.make_engine
    common.settings.cache_clear()
    common.context.cache_clear()
    for console in (common.console, common.errors):
        console.width = 400  # a real run reads COLUMNS when it starts
    try:
        with mock.patch.object(bootstrap, "make_engine", make_engine):
            yield main
    finally:
        common.settings.cache_clear()
        common.context.cache_clear()
        for engine in opened:
            engine.dispose()


def backend(database_url: str) -> str:
    """``sqlite`` or ``postgresql``: tells screenshots of the two runs apart."""
    return database_url.split(":")[0].split("+")[0]


def invitation_link(database_url: str, email: str, *, seconds: float = 20.0) -> str:
    """The newest invitation link in the outbox for ``email``, once it is there."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        listing = admit(database_url, "outbox", "list", "--reveal").stdout
        found = re.findall(rf"{re.escape(email)}\s.*?(http://\S+/i/adm_inv_[\w-]+)", listing)
        if found:
            return found[0]  # newest first
        time.sleep(0.2)
    raise AssertionError(f"no invitation for {email}")


def field(output: str, name: str) -> str:
    match = re.search(rf"^{name}: (\S+)", output, re.MULTILINE)
    assert match, f"no {name!r} in:\n{output}"
    return match.group(1)


def stop(process: Any, *, seconds: float) -> None:
    """SIGTERM, then SIGKILL if it has not ended within ``seconds``."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_answering(url: str, process: Any, what: str, output: Any, *, seconds: float = 60) -> None:
    """Until ``url`` answers 200; ``AssertionError`` with ``output()`` (what the process wrote) when
    ``process`` ends first or ``seconds`` pass (the process is then killed)."""
    deadline = time.monotonic() + seconds  # a loaded 2-core machine can take long to start a server
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(10)
            raise AssertionError(f"{what} did not start:\n{output()}")
        time.sleep(0.05)


@contextlib.contextmanager
def server(database_url: str, **extra: str) -> Iterator[str]:
    """``admit serve`` on a free loopback port, a process of its own started by the launcher
    (:mod:`support.launcher`); yields its base URL and stops it afterwards."""
    from support.launcher import LAUNCHER

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(database_url, ADMIT_BASE_URL=base, **extra)
    process = LAUNCHER.start(["serve", "--host", "127.0.0.1", "--port", str(port)], env)
    try:
        wait_answering(f"{base}/healthz", process, "admit serve", lambda: process.log.read_text(errors="replace"))
        yield base
    finally:
        stop(process, seconds=10)
        process.log.unlink(missing_ok=True)


@contextlib.contextmanager
def product_app(title: str) -> Iterator[str]:
    """A stand-in for the product's own app on another origin (a free loopback port): every GET
    answers a page headed ``title``. Yields its base URL."""
    body = f"<!doctype html><title>{title}</title><h1>{title}</h1>".encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=app.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{app.server_address[1]}"
    finally:
        app.shutdown()
        app.server_close()


@contextlib.contextmanager
def example_app(issuer: str, port: int, client_id: str, client_secret: str) -> Iterator[str]:
    """``examples/shop_app.py`` (Authlib's OpenID client) on loopback ``port``, signing people in
    through the Admit at ``issuer``; yields its base URL and stops it afterwards."""
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ADMIT_ISSUER": issuer,
        "EXAMPLE_URL": url,
        "EXAMPLE_CLIENT_ID": client_id,
        "EXAMPLE_CLIENT_SECRET": client_secret,
    }
    script = Path(__file__).resolve().parents[2] / "examples" / "shop_app.py"
    process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_answering(
            f"{url}/", process, "the example app", lambda: process.stdout.read().decode() if process.stdout else ""
        )
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
