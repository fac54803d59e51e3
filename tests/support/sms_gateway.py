"""A tiny HTTP SMS gateway on loopback: records every request and answers with a scripted status."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class Gateway:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[int] = []  # statuses to answer first; 200 after that
        self.lock = threading.Lock()
        self.url = ""
        self.stall = threading.Event()  # while set, a request gets no answer (a hanging gateway)
        self.stalled = 0  # requests left hanging

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def delivered(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["status"] < 300]


@contextlib.contextmanager
def sms_gateway() -> Iterator[Gateway]:
    gateway = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if gateway.stall.is_set():
                with gateway.lock:
                    gateway.stalled += 1
                deadline = time.monotonic() + 60
                while gateway.stall.is_set() and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.close_connection = True
                return  # nothing answered: the caller has given up by now
            raw = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            if self.headers.get("content-type", "").startswith("application/json"):
                body: dict[str, Any] = json.loads(raw)
            else:
                body = {k: v[0] for k, v in parse_qs(raw).items()}
            status = gateway.answer()
            with gateway.lock:
                gateway.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body, "status": status}
                )
            payload = json.dumps({"status": "queued" if status < 300 else "error"}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
