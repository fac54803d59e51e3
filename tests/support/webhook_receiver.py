"""A webhook receiver in Node on 127.0.0.1 that verifies each delivery with the npm
``standardwebhooks`` library (tests/support/oidc/webhook_receiver.mjs), independent of Admit's
Python signing."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from support.oidc_providers import NPM_DIR, free_port


class Receiver:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def _post(self, path: str, value: Any) -> None:
        httpx.post(f"{self.url}{path}", content=json.dumps(value), timeout=5).raise_for_status()

    def secrets(self, *secrets: str) -> None:
        self._post("/_secrets", list(secrets))

    def mode(self, mode: str) -> None:
        self._post("/_mode", mode)

    def now(self, at: datetime) -> None:
        """The receiver's clock (the signature's timestamp tolerance), set to the test's."""
        self._post("/_now", int(at.timestamp()))

    def received(self) -> list[dict[str, Any]]:
        """Every delivery it answered 2xx, in arrival order, each with its parsed body."""
        rows: list[dict[str, Any]] = httpx.get(f"{self.url}/_received", timeout=5).json()
        return [{**row, "envelope": json.loads(row["body"])} for row in rows]

    def seen(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = httpx.get(f"{self.url}/_seen", timeout=5).json()
        return rows


@contextlib.contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    node = shutil.which("node")
    if node is None or not (NPM_DIR / "node_modules" / "standardwebhooks").exists():
        if os.environ.get("CI"):
            pytest.fail("the npm standardwebhooks is missing in CI: 'make test' should have installed it")
        pytest.skip("npm standardwebhooks not installed (make test installs it)")
    port = free_port()
    process = subprocess.Popen(
        [node, str(NPM_DIR / "webhook_receiver.mjs"), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening"), f"the webhook receiver did not start: {line!r}"
        yield Receiver(port)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
