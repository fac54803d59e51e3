"""Sending one webhook: the body signed per the Standard Webhooks specification (the PyPI
``standardwebhooks`` package: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``, with
two signatures while a rotated secret overlaps), POSTed with ``httpx`` to an address checked and
pinned by :mod:`.outbound` (outside dev mode never this machine or a private network, no DNS
rebinding), redirects not followed, no proxy from the environment, at most ``RESPONSE_CAP``
bytes of the answer read. 2xx within the time limit is success; 410 Gone or a
``webhook-stop-retries`` header in the answer stops retries."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx
from standardwebhooks import Webhook

from admit.adapters.delivery import outbound
from admit.domain.webhooks import RESPONSE_CAP, STOP_HEADER, SUCCESS_WITHIN_SECONDS


@dataclass(frozen=True)
class Result:
    ok: bool
    status: int | None
    latency_ms: int
    response: str | None
    error: str | None
    stop: bool = False  # the receiver asked for no more retries (410, or the stop header)
    retry: bool = True  # a refusal of the address that a later attempt would not change is False


def sign(msg_id: str, timestamp: datetime, body: str, secrets: Sequence[str]) -> str:
    """The ``webhook-signature`` header: one ``v1,…`` signature per secret, space-separated."""
    return " ".join(_webhook(secret).sign(msg_id, timestamp, body) for secret in secrets)


@functools.lru_cache(maxsize=256)
def _webhook(secret: str) -> Webhook:
    return Webhook(secret)


def headers(msg_id: str, timestamp: datetime, body: str, secrets: Sequence[str]) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "Admit-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": sign(msg_id, timestamp, body, secrets),
    }


class Sender:
    def __init__(
        self,
        *,
        allow_private: bool,
        timeout: float = SUCCESS_WITHIN_SECONDS,
        resolver: outbound.Resolver = outbound.resolve,
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.resolver = resolver
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False, headers={"accept": "*/*"}
        )

    def close(self) -> None:
        self.client.close()

    def send(self, url: str, msg_id: str, timestamp: datetime, body: str, secrets: Sequence[str]) -> Result:
        try:
            target = outbound.checked(url, allow_private=self.allow_private, resolver=self.resolver)
        except outbound.TargetRefused as refused:
            return Result(False, None, 0, None, f"not sent: {refused.reason}", retry=not refused.permanent)
        sent = headers(msg_id, timestamp, body, secrets)
        started = time.perf_counter()
        try:
            with self.client.stream(
                "POST", target.url, content=body.encode(), headers={**target.headers, **sent},
                extensions=target.extensions,
            ) as answer:  # fmt: skip
                status = answer.status_code
                excerpt = _read_capped(answer)
                location = answer.headers.get("location")
                stop = status == 410 or STOP_HEADER in answer.headers
        except httpx.HTTPError as exc:
            latency = _ms(started)
            return Result(False, None, latency, None, f"{type(exc).__name__}: {exc}"[:300])
        latency = _ms(started)
        if 200 <= status < 300 and latency <= self.timeout * 1000:
            return Result(True, status, latency, excerpt, None)
        if 300 <= status < 400:
            error = f"answered {status}; redirects are not followed ({(location or '')[:200]})"
        elif 200 <= status < 300:
            error = f"answered {status} after {latency} ms (more than {self.timeout:g} s)"
        else:
            error = f"answered {status}"
        return Result(False, status, latency, excerpt, error, stop=stop)


def _read_capped(answer: httpx.Response) -> str:
    kept = bytearray()
    for chunk in answer.iter_raw():
        kept.extend(chunk[: RESPONSE_CAP - len(kept)])
        if len(kept) >= RESPONSE_CAP:
            break
    return kept.decode("utf-8", "replace")


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
