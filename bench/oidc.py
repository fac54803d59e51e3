"""Benchmark: OpenID Connect code flows through Admit, and the server CPU each one costs.

Starts ``admit serve`` on a fresh SQLite database in a temporary directory, registers an app
(a confidential client), invites a person and has them sign in once through the sign-in page.
Then N concurrent clients (threads, each with its own keep-alive connection) each run full code
flows with that browser session, as an app's users would:

1. ``GET /oauth2/authorize`` with the session cookie, PKCE S256, state and nonce: a redirect to
   the app with a code;
2. ``POST /oauth2/token`` with the client secret (HTTP Basic), the code and the PKCE verifier: an
   ID token and an access token, each signed with RS256;
3. ``GET /oauth2/userinfo`` with the access token.

It measures the wall time and the server process's CPU (user + system) over the timed flows,
and, in the same run, the CPU of as many ``GET /healthz`` requests: what the HTTP stack alone
costs (the flows and the bare requests in four rounds taking each in turn, so that a drift of the
shared machine's speed weighs on both). The person's password is checked once, before the timed
part; a password sign-in costs one Argon2id verification on top (its CPU at the server's default
parameters is printed too).

    .venv/bin/python bench/oidc.py [--flows 1000] [--clients 8]

The last line is ``code_flow_to_bare_ratio: X`` (server CPU per flow / per bare request).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).parent))

from api import admit_env, cli, free_port, record_field, server, server_cpu, verify_cpu_ms, wait_healthy

from admit.adapters.identity.hashing import Argon2Hasher
from admit.config import Settings

PASSWORD = "bench-lantern-orchard-42"
EMAIL = "flow@bench.example.com"
T = TypeVar("T")
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never called: the benchmark reads the redirect


class Session(http.client.HTTPConnection):
    """A keep-alive connection that returns (status, headers, body)."""

    def call(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        self.request(method, path, body=body, headers=headers or {})
        response = self.getresponse()
        return response.status, response.headers, response.read()


def cookie(headers: http.client.HTTPMessage, name: str) -> str:
    for header in headers.get_all("set-cookie") or []:
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise RuntimeError(f"no {name} cookie")


def set_up(env: dict[str, str], directory: Path) -> tuple[str, str, str, str]:
    """An organization, a workspace, an admin API token and an app; returns
    (workspace id, API token, client id, client secret)."""
    cli(env, directory, "db", "upgrade")
    org = record_field(cli(env, directory, "org", "create", "Bench", "--seats", "100000"), "id")
    workspace = record_field(cli(env, directory, "workspace", "create", org, "Bench"), "id")
    token = record_field(cli(env, directory, "token", "create", org, "--role", "admin", "--name", "bench"), "token")
    app = cli(env, directory, "clients", "create", org, "Bench app", "--redirect-uri", REDIRECT_URI)
    secret = re.search(r"^client_secret: (\S+)", app, re.MULTILINE)
    if secret is None:
        raise RuntimeError(f"no client secret in:\n{app}")
    return workspace, token, record_field(app, "client_id"), secret.group(1)


def signed_in(env: dict[str, str], directory: Path, conn: Session, workspace: str, token: str) -> str:
    """Invite a person, accept with a password, sign in through the page; the session cookie."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.call("POST", f"/api/v1/workspaces/{workspace}/invitations", json.dumps({"email": EMAIL}).encode(), auth)
    link = re.findall(rf"{re.escape(EMAIL)}\s.*?/i/(adm_inv_[\w-]+)", cli(env, directory, "outbox", "list", "--reveal"))
    accept = json.dumps({"token": link[0], "password": PASSWORD}).encode()
    if conn.call("POST", "/api/v1/invitations/accept", accept, {"Content-Type": "application/json"})[0] != 200:
        raise RuntimeError("could not accept the invitation")
    _, form_headers, _ = conn.call("GET", "/sign-in")
    csrf = cookie(form_headers, "csrftoken")
    body = urlencode({"identifier": EMAIL, "password": PASSWORD, "next": "/", "csrftoken": csrf}).encode()
    status, headers, _ = conn.call(
        "POST", "/sign-in", body, {"Cookie": f"csrftoken={csrf}", "Content-Type": "application/x-www-form-urlencoded"}
    )
    if status != 303:
        raise RuntimeError(f"sign-in answered {status}")
    return cookie(headers, "admit_session")


def authorize(conn: Session, session: str, client_id: str) -> tuple[str, str]:
    """Step 1: the authorization endpoint with the browser session; (code, PKCE verifier)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid email profile workspace",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    status, headers, _ = conn.call("GET", f"/oauth2/authorize?{query}", headers={"Cookie": f"admit_session={session}"})
    answer = parse_qs(urlsplit(headers.get("location", "")).query)
    if status not in (302, 303) or answer.get("state") != [state] or "code" not in answer:
        raise RuntimeError(f"authorize answered {status} {headers.get('location')}")
    return answer["code"][0], verifier


def exchange(conn: Session, client_id: str, secret: str, code: str, verifier: str) -> str:
    """Step 2: the token endpoint (client secret, code, PKCE verifier); the access token."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    form = urlencode(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    ).encode()
    status, _, body = conn.call(
        "POST",
        "/oauth2/token",
        form,
        {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 200:
        raise RuntimeError(f"token answered {status} {body[:200]!r}")
    access: str = json.loads(body)["access_token"]
    return access


def user_info(conn: Session, access: str) -> None:
    """Step 3: userinfo with the access token."""
    status, _, body = conn.call("GET", "/oauth2/userinfo", headers={"Authorization": f"Bearer {access}"})
    if status != 200 or json.loads(body).get("email") != EMAIL:
        raise RuntimeError(f"userinfo answered {status} {body[:200]!r}")


def code_flow(conn: Session, session: str, client_id: str, secret: str) -> None:
    """One authorization code flow; raises unless every step answers as an app expects."""
    code, verifier = authorize(conn, session, client_id)
    user_info(conn, exchange(conn, client_id, secret, code, verifier))


def concurrently(port: int, clients: int, total: int, work: Callable[[Session, int], T]) -> tuple[float, list[T]]:
    """Run ``work(conn, i)`` for i in 0..total-1 over ``clients`` threads; the wall time and the
    results, in order."""
    counter = iter(range(total))
    lock = threading.Lock()
    failures: list[BaseException] = []
    results: dict[int, T] = {}

    def run() -> None:
        conn = Session("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                results[index] = work(conn, index)
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} client(s) failed; first: {failures[0]}")
    return time.perf_counter() - started, [results[i] for i in range(total)]


def measured(
    proc: Any, port: int, clients: int, total: int, work: Callable[[Session, int], T]
) -> tuple[float, float, list[T]]:
    """``concurrently``, with the server's CPU seconds over it: (wall, cpu, results)."""
    before = server_cpu(proc.pid)
    wall, results = concurrently(port, clients, total, work)
    return wall, server_cpu(proc.pid) - before, results


TURNS = 4  # rounds of flows, each followed by as many bare requests


def bare(conn: Session, _: int) -> None:
    if conn.call("GET", "/healthz")[0] != 200:
        raise RuntimeError("healthz failed")


def argon2_verify_ms(rounds: int = 5) -> float:
    """One password verification at the server's default Argon2id parameters (CPU ms)."""
    defaults = Settings.model_fields
    hasher = Argon2Hasher(
        time_cost=defaults["argon2_time_cost"].default, memory_cost=defaults["argon2_memory_kib"].default
    )
    return verify_cpu_ms(hasher, PASSWORD, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=1000, help="timed code flows (and as many bare requests)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="admit-bench-oidc-"))
    try:
        env = {**admit_env(directory, worker=False), "COLUMNS": "400"}
        workspace, token, client_id, secret = set_up(env, directory)
        port = free_port()
        with server(env, port, directory / "server.log") as proc:
            wait_healthy(proc, port, directory / "server.log")
            setup = Session("127.0.0.1", port, timeout=60)
            session = signed_in(env, directory, setup, workspace, token)
            setup.close()
            n, clients = args.flows, args.clients
            flow = lambda conn, _: code_flow(conn, session, client_id, secret)  # noqa: E731
            concurrently(port, clients, min(100, n), flow)  # warm-up
            concurrently(port, clients, min(100, n), bare)
            flow_wall = flow_cpu = bare_wall = bare_cpu = 0.0
            for turn in range(TURNS):  # in turns: the machine's drift weighs on both alike
                k = n // TURNS + (1 if turn < n % TURNS else 0)
                wall, cpu, _ = measured(proc, port, clients, k, flow)
                flow_wall, flow_cpu = flow_wall + wall, flow_cpu + cpu
                wall, cpu, _ = measured(proc, port, clients, k, bare)
                bare_wall, bare_cpu = bare_wall + wall, bare_cpu + cpu
            # The same steps again, one endpoint at a time: where a flow's CPU goes.
            _, step_cpu, codes = measured(proc, port, clients, n, lambda conn, _: authorize(conn, session, client_id))
            steps = {"authorize": step_cpu}
            _, steps["token"], tokens = measured(
                proc, port, clients, n, lambda conn, i: exchange(conn, client_id, secret, *codes[i])
            )
            _, steps["userinfo"], _ = measured(proc, port, clients, n, lambda conn, i: user_info(conn, tokens[i]))
        per_flow, per_bare = 1000 * flow_cpu / n, 1000 * bare_cpu / n
        hashing = argon2_verify_ms()
        print(f"clients: {args.clients}, flows: {args.flows} (three requests each)")
        print(f"code_flows_per_second: {args.flows / flow_wall:.1f}")
        print(f"server_cpu_ms_per_flow: {per_flow:.3f}")
        print(f"bare_requests_per_second: {args.flows / bare_wall:.1f}")
        print(f"bare_endpoint_cpu_ms: {per_bare:.3f}")
        for name, cpu in steps.items():
            print(f"{name}_cpu_ms: {1000 * cpu / n:.3f} ({1000 * cpu / n / per_bare:.1f}x bare)")
        print(f"argon2id_verify_cpu_ms (default parameters): {hashing:.1f}")
        print(f"password_sign_in_flows_per_cpu_second (flow + one verification): {1000 / (per_flow + hashing):.1f}")
        print(f"code_flow_to_bare_ratio: {per_flow / per_bare:.2f}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
