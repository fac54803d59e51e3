"""The old release's code serving a database the new release has upgraded (README, "Upgrading
while serving"), on SQLite and PostgreSQL: ``admit db upgrade`` runs while the old processes
still serve, so they must keep working on the schema at the new head.

The old release is the commit before the one that added the newest migration, taken from git
(``git archive``) into a temporary directory and run from there (``PYTHONPATH``) with this
environment's packages. Its ``admit serve`` and its CLI then go through the journeys that write to
the tables migrations change: an organization, a workspace, people provisioned and invited, an
invitation accepted, a sign-in, an app registered, SCIM users and the outbox delivered by its
worker. A migration that breaks the old code (a new ``NOT NULL`` column without a default, a
dropped or renamed column) fails here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from support.postgres import free_port
from support.processes import environment, stop, wait_answering

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = "src/admit/adapters/persistence/migrations/versions"
PASSWORD = "juniper-lighthouse-pebble-27"


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def _old_release() -> str:
    """The commit before the newest migration was added (its code knows every migration but that one)."""
    newest = sorted(p.name for p in (ROOT / VERSIONS).glob("[0-9]*.py"))[-1]
    added = _git("log", "--diff-filter=A", "--format=%H", "-n", "1", "--", f"{VERSIONS}/{newest}").strip()
    assert added, f"{newest} is not committed: commit it before running this test"
    return _git("rev-parse", f"{added}^").strip()


@pytest.fixture(scope="module")
def old_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the old release cannot be taken from the history")
    if _git("rev-parse", "--is-shallow-repository").strip() == "true":
        fetched = subprocess.run(["git", "-C", str(ROOT), "fetch", "--unshallow", "--quiet"], timeout=300)
        if fetched.returncode != 0:
            pytest.skip("a shallow clone whose history cannot be fetched: the old release is not in it")
    old = _old_release()
    lock_then = _git("show", f"{old}:requirements.lock")
    if lock_then != (ROOT / "requirements.lock").read_text():
        pytest.skip(f"the old release {old[:8]} was locked to other packages than this environment has")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", old, "src"], capture_output=True, timeout=120)
    assert archive.returncode == 0, archive.stderr
    target = tmp_path_factory.mktemp("old-release")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


def _env(old_src: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {**environment(database_url, **extra), "PYTHONPATH": str(old_src)}


def _old_admit(old_src: Path, database_url: str, *args: str, **extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "admit", *args], env=_env(old_src, database_url, **extra),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"old admit {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _field(output: str, name: str) -> str:
    found = re.search(rf"^{name}: (\S+)", output, re.MULTILINE)
    assert found, f"no {name!r} in:\n{output}"
    return found.group(1)


@pytest.fixture
def old_server(old_code: Path, database_url: str) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = old_code.parent / f"serve-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "admit", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=_env(old_code, database_url, ADMIT_BASE_URL=base), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_answering(f"{base}/healthz", process, "the old release's server", log.read_text)
        yield base
        assert "Traceback" not in log.read_text(), log.read_text()
    finally:
        stop(process, seconds=15)


def test_the_old_release_serves_a_database_at_the_new_head(old_code: Path, old_server: str, database_url: str) -> None:
    assert old_code.joinpath("admit", "__init__.py").exists()
    imported = subprocess.run(
        [sys.executable, "-c", "import admit, sys; print(admit.__file__)"],
        env={**os.environ, "PYTHONPATH": str(old_code)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert imported.stdout.strip().startswith(str(old_code)), imported  # the old code runs, not this one
    base = old_server
    assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200  # a newer schema keeps it in service
    operator = _field(_old_admit(old_code, database_url, "token", "create", "--instance", "--name", "old"), "token")
    headers = {"authorization": f"Bearer {operator}"}
    with (
        httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=30) as api,
        httpx.Client(base_url=f"{base}/api/v1", timeout=30) as public,
    ):
        org = api.post("/organizations", json={"name": "Globex", "plan": "business", "seats": 10})
        assert org.status_code == 201, org.text
        org_id = org.json()["id"]
        ws = api.post(f"/organizations/{org_id}/workspaces", json={"name": "Globex HQ"})
        assert ws.status_code == 201, ws.text
        ws_id = ws.json()["id"]
        made = api.post(f"/workspaces/{ws_id}/members", json={"email": "ann@globex.example", "invite": True})
        assert made.status_code == 201, made.text
        silent = api.post(f"/workspaces/{ws_id}/members", json={"email": "bob@globex.example", "invite": False})
        assert silent.status_code == 201, silent.text
        outbox = _old_admit(old_code, database_url, "outbox", "list", "--reveal")
        link = re.search(r"ann@globex\.example\s.*?(http://\S+/i/adm_inv_[\w-]+)", outbox)
        assert link, outbox
        accepted = public.post(
            "/invitations/accept", json={"token": link.group(1).rsplit("/", 1)[1], "password": PASSWORD}
        )
        assert accepted.status_code == 200, accepted.text
        session = public.post("/sessions", json={"identifier": "ann@globex.example", "password": PASSWORD})
        assert session.status_code == 201, session.text
        app = api.post(
            f"/organizations/{org_id}/clients",
            json={"name": "Shop", "redirect_uris": ["https://shop.globex.example/cb"]},
        )
        assert app.status_code == 201, app.text
        assert api.get(f"/organizations/{org_id}/clients/{app.json()['client_id']}").status_code == 200
        listed = api.get(f"/workspaces/{ws_id}/members").json()["items"]
        assert {m["email"]: m["status"] for m in listed} == {
            "ann@globex.example": "active",
            "bob@globex.example": "provisioned",
        }
    scim_token = _field(_old_admit(old_code, database_url, "scim", "token", "create", org_id, "--name", "idp"), "token")
    with httpx.Client(
        base_url=f"{base}/scim/v2",
        headers={"authorization": f"Bearer {scim_token}", "content-type": "application/scim+json"},
        timeout=30,
    ) as scim:
        user = scim.post("/Users", json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "cy@globex.example",
        })  # fmt: skip
        assert user.status_code == 201, user.text
        found = scim.get("/Users", params={"filter": 'userName eq "cy@globex.example"'})
        assert found.status_code == 200 and found.json()["totalResults"] == 1
        deactivated = scim.patch(f"/Users/{user.json()['id']}", json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        })  # fmt: skip
        assert deactivated.status_code == 200, deactivated.text
    delivered = _old_admit(old_code, database_url, "worker", "--once")
    assert "Traceback" not in delivered
