"""Two independent SCIM clients against a real ``admit serve``, on both databases: scim2-tester (the
``scim2 test`` command of scim2-cli) and ``scim-sanity probe --compat``. Each must report no failure.
Every check of both tools counts: discovery, Users and Groups."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.processes import admit, environment, field, server

pytestmark = pytest.mark.slow


CHECK = re.compile(r"^(SUCCESS|ERROR|CRITICAL|WARNING|INFO|SKIPPED)\s+(\S+)", re.MULTILINE)


def _tool(name: str) -> str:
    """A command of the test extra: next to this interpreter (the project's virtualenv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run `make install` (it is in the test extra)")
    return found


def scim2_failures(output: str) -> tuple[list[str], int]:
    """The failed checks of ``scim2 test -v`` (name and detail) and how many checks passed.
    scim2-tester checks the discovery endpoints, then each resource type in turn starting with
    ``object_creation``: both a User and a Group block must be there."""
    checks = list(CHECK.finditer(output))
    assert checks, f"scim2 printed no check:\n{output[-3000:]}"
    starts = [i for i, m in enumerate(checks) if m.group(2) == "object_creation"]
    assert len(starts) == 2, f"expected a User and a Group block:\n{output[-3000:]}"
    failed = []
    for index, match in enumerate(checks):
        if match.group(1) in ("ERROR", "CRITICAL"):
            following = checks[index + 1].start() if index + 1 < len(checks) else len(output)
            failed.append(output[match.start() : following].strip()[:500])
    passed = sum(1 for m in checks if m.group(1) == "SUCCESS")
    return failed, passed


def sanity_failures(report: dict[str, object]) -> list[str]:
    """The failed tests of ``scim-sanity probe --json-output``."""
    results = report["results"]
    assert isinstance(results, list) and results
    return [json.dumps(r) for r in results if str(r.get("status", "")).lower() in ("fail", "failed", "error")]


def test_scim2_tester_and_scim_sanity_find_no_failure(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Initech").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Initech Ops").stdout, "id")
    created = admit(
        database_url, "scim", "token", "create", org, "--workspace", ws, "--name", "Tester", "--role", "admin"
    )
    token = field(created.stdout, "token")
    with server(database_url, ADMIT_SCIM_BRAKE_PERCENT="100") as base:  # its users come and go by design
        env = {**environment(database_url), "SCIM_CLI_HEADERS": f"Authorization: Bearer {token}"}
        tester = subprocess.run(
            [_tool("scim2"), "--url", f"{base}/scim/v2", "test", "-v"],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        failed, passed = scim2_failures(tester.stdout + tester.stderr)
        assert not failed, "scim2-tester failed:\n" + "\n".join(failed)
        assert passed >= 90, tester.stdout[-3000:]  # discovery and every User check ran (about 100)

        probe = subprocess.run(
            [_tool("scim-sanity"), "probe", f"{base}/scim/v2", "--token", token, "--compat",
             "--i-accept-side-effects", "--json-output"],
            env={k: v for k, v in os.environ.items() if k != "SCIM_CLI_HEADERS"},
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        report = json.loads(probe.stdout[probe.stdout.index("{") :])
        failures = sanity_failures(report)
        assert not failures, "scim-sanity failed:\n" + "\n".join(failures)
        names = [str(r.get("name")) for r in report["results"]]  # type: ignore[union-attr]
        assert any("PATCH /Users" in n for n in names) and any("DELETE /Users" in n for n in names), names
