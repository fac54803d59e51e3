"""Page benchmark: server CPU time of the invitee's welcome page and of the sign-in POST
(without its Argon2 verification), against a bare endpoint of the same app in the same run.
The server runs with the cheapest Argon2 parameters (dev mode allows them) and the CPU of one such
verification, measured in this process, is subtracted.

    .venv/bin/python bench/pages.py [--count 2000] [--sign-ins 200]

Runs `admit serve` on SQLite in a temporary directory, creates an invitation through the API, opens
its link once (as a browser would) and then requests `/welcome` with the cookies a browser holds by
then (the invitation's, and the CSRF token the first view set: without it every view would mint
and set a new one, which a browser does only once); signs in
through the page form (with its CSRF token) repeatedly; and requests `GET /healthz`. The server's
CPU time (psutil) around each series is divided by the requests. The welcome page and the bare
endpoint are requested in turns of 250, so that the machine's drift within a run weighs on both.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from api import admit_env, cli, free_port, server, server_cpu, set_up_tenant, verify_cpu_ms, wait_healthy

from admit.adapters.identity.hashing import Argon2Hasher

PASSWORD = "bench-lantern-orchard-42"
CHEAP_MEMORY_KIB = 1024
Call = Callable[[http.client.HTTPConnection], int]


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> http.client.HTTPResponse:
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
        # The server closed the idle keep-alive connection (a slow CLI step in between): once more.
        conn.close()
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
    response.read()
    return response


def cookie(response: http.client.HTTPResponse, name: str) -> str:
    for header in response.headers.get_all("set-cookie") or []:
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise RuntimeError(f"no {name} cookie in {response.status} response")


def series(conn: http.client.HTTPConnection, pid: int, count: int, call: Call, expected: int) -> float:
    """Server CPU milliseconds per request over ``count`` calls."""
    return interleaved(conn, pid, count, {"only": (call, expected)})["only"]


def interleaved(
    conn: http.client.HTTPConnection, pid: int, count: int, calls: dict[str, tuple[Call, int]], block: int = 250
) -> dict[str, float]:
    """Server CPU milliseconds per request of each of ``calls``, ``count`` requests each, sent in
    turns of ``block``: this shared machine's speed drifts within a run, and a drift then weighs
    on every series alike instead of on whichever ran during it."""
    for call, _ in calls.values():  # warm-up
        for _ in range(min(50, count)):
            call(conn)
    spent = dict.fromkeys(calls, 0.0)
    done = dict.fromkeys(calls, 0)
    while any(n < count for n in done.values()):
        for name, (call, expected) in calls.items():
            n = min(block, count - done[name])
            before = server_cpu(pid)
            for _ in range(n):
                status = call(conn)
                if status != expected:
                    raise RuntimeError(f"unexpected status {status}")
            spent[name] += server_cpu(pid) - before
            done[name] += n
    return {name: 1000 * spent[name] / count for name in calls}


def argon2_verify_ms(rounds: int = 20) -> float:
    return verify_cpu_ms(Argon2Hasher(time_cost=1, memory_cost=CHEAP_MEMORY_KIB), PASSWORD, rounds)


def prepare(env: dict[str, str], directory: Path, conn: http.client.HTTPConnection, ws: str, token: str) -> str:
    """An invitation to browse, and an account to sign in with; returns the invitation's link path."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for email in ("browse@bench.example.com", "signin@bench.example.com"):
        request(conn, "POST", f"/api/v1/workspaces/{ws}/invitations", json.dumps({"email": email}).encode(), auth)
    outbox = cli(env, directory, "outbox", "list", "--reveal")
    links = dict(re.findall(r"(\S+@bench\.example\.com)\s.*?http://[^/\s]+(/i/adm_inv_[\w-]+)", outbox))
    claim = json.dumps({"token": links["signin@bench.example.com"].rsplit("/", 1)[1], "password": PASSWORD})
    if (
        request(conn, "POST", "/api/v1/invitations/accept", claim.encode(), {"Content-Type": "application/json"}).status
        != 200
    ):
        raise RuntimeError("could not create the sign-in account")
    return links["browse@bench.example.com"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="welcome and bare requests")
    parser.add_argument("--sign-ins", type=int, default=200, help="sign-in POSTs (each hashes a password)")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="admit-bench-pages-"))
    try:
        env = {
            **admit_env(directory, worker=False),
            "COLUMNS": "400",
            # cheap hashing (dev mode only), so that the rest of the sign-in shows above the noise
            "ADMIT_ARGON2_MEMORY_KIB": str(CHEAP_MEMORY_KIB),
            "ADMIT_ARGON2_TIME_COST": "1",
        }
        ws, token = set_up_tenant(env, directory)
        port = free_port()
        with server(env, port, directory / "server.log") as proc:
            wait_healthy(proc, port, directory / "server.log")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            link = prepare(env, directory, conn, ws, token)
            flow = cookie(request(conn, "GET", link), "admit_invitation")
            first_view = request(conn, "GET", "/welcome", headers={"Cookie": f"admit_invitation={flow}"})
            held = {"Cookie": f"admit_invitation={flow}; csrftoken={cookie(first_view, 'csrftoken')}"}
            form = request(conn, "GET", "/sign-in")
            csrf = cookie(form, "csrftoken")
            pages = interleaved(
                conn,
                proc.pid,
                args.count,
                {
                    "welcome": (lambda c: request(c, "GET", "/welcome", headers=held).status, 200),
                    "bare": (lambda c: request(c, "GET", "/healthz").status, 200),
                },
            )
            welcome, bare = pages["welcome"], pages["bare"]
            body = f"identifier=signin%40bench.example.com&password={PASSWORD}&next=%2F&csrftoken={csrf}".encode()
            headers = {"Cookie": f"csrftoken={csrf}", "Content-Type": "application/x-www-form-urlencoded"}
            sign_in = series(
                conn, proc.pid, args.sign_ins, lambda c: request(c, "POST", "/sign-in", body, headers).status, 303
            )
            conn.close()
        hashing = argon2_verify_ms()
        print(f"bare_endpoint_cpu_ms: {bare:.3f}")
        print(f"welcome_page_cpu_ms: {welcome:.3f}")
        print(f"sign_in_post_cpu_ms_total: {sign_in:.3f}")
        print(f"argon2id_verify_cpu_ms: {hashing:.3f}")
        print(f"sign_in_post_cpu_ms_excluding_hash: {sign_in - hashing:.3f}")
        print(f"sign_in_to_bare_ratio: {(sign_in - hashing) / bare:.2f}")
        print(f"welcome_to_bare_ratio: {welcome / bare:.2f}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
