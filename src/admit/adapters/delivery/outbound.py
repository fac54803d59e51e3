"""Requests to addresses that others registered (an app's back-channel logout URI, the
``jwks_uri`` of its keys): never to this machine or a private network, unless in dev mode (SSRF).

The host is resolved once, every address it resolves to must be a public one (not loopback,
private, link-local, shared, reserved, multicast, or an IPv6 form of such an IPv4 address), and
the request goes to the address that was checked: the URL's host is replaced by it, the ``Host``
header and the TLS server name (certificate checked against it) stay the URL's host, so a DNS
answer that changes between the check and the connection (rebinding) cannot lead elsewhere.
Redirects are not followed, and no proxy from the environment is used."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

Resolver = Callable[[str, int], Sequence[str]]
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # IPv4 addresses through a NAT64 gateway


class TargetRefused(Exception):
    """The URL leads to an address Admit does not send to; ``permanent`` unless a lookup failed."""

    def __init__(self, reason: str, *, permanent: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Target:
    """Where to connect (the checked address in place of the host) and what to say there."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


RESOLVE_SECONDS = 3.0  # the longest a caller waits for a host's addresses
# Lookups run here so that a caller can stop waiting: getaddrinfo itself has no timeout (the
# system resolver's own can add up to tens of seconds). A lookup that outlives its caller ends in
# its own time; when every thread is busy with such lookups, new ones wait here, then time out.
_LOOKUPS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="admit-dns")


def resolve(
    host: str, port: int, *, timeout: float = RESOLVE_SECONDS, lookup: Callable[..., Any] = socket.getaddrinfo
) -> list[str]:
    """Every address ``host`` resolves to; ``TimeoutError`` (an ``OSError``) after ``timeout``
    seconds without an answer."""
    future = _LOOKUPS.submit(lookup, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout)
    except TimeoutError:
        future.cancel()
        raise TimeoutError(f"no address for {host} within {timeout:g} s") from None
    return sorted({str(info[4][0]) for info in infos})


def is_public(address: str) -> bool:
    """A globally routable unicast address (IPv4-mapped, 6to4 and NAT64 IPv6 addresses are judged
    by the IPv4 address they carry)."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None
        ip = ip.ipv4_mapped or ip.sixtofour or embedded or ip
    return ip.is_global and not ip.is_multicast


def checked(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> Target:
    """The target for ``url``; ``TargetRefused`` when it is not an http(s) URL or (outside dev
    mode, ``allow_private``) any address of its host is not public."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise TargetRefused("the URL is not valid") from None
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise TargetRefused("only http(s) URLs are called")
    if allow_private:
        return Target(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = list(resolver(parsed.host, port))
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"cannot resolve {parsed.host} ({type(exc).__name__})", permanent=False) from None
    refused = [address for address in addresses if not is_public(address)]
    if not addresses or refused:
        raise TargetRefused(f"{parsed.host} resolves to an address that is not public ({', '.join(refused)})")
    pinned = parsed.copy_with(host=addresses[0])
    extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    return Target(str(pinned), {"host": parsed.netloc.decode("ascii")}, extensions)


class FetchFailed(Exception):
    """A document could not be read from an address others registered; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def get_json(
    url: str,
    *,
    allow_private: bool,
    max_bytes: int,
    timeout: float,
    accept: str = "application/json",
    resolver: Resolver = resolve,
) -> tuple[Any, httpx.Headers]:
    """GET ``url`` (checked and pinned as :func:`checked` says, no redirects, no proxy) and the
    JSON it answers with its headers. ``FetchFailed`` when the address is refused or unreachable,
    the answer is not a 200, is larger than ``max_bytes``, takes longer than ``timeout`` seconds
    altogether (however slowly it trickles) or is not JSON."""
    try:
        target = checked(url, allow_private=allow_private, resolver=resolver)
    except TargetRefused as refused:
        raise FetchFailed(f"the address is refused: {refused.reason}") from None
    deadline = time.monotonic() + timeout
    body = bytearray()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as http:
            headers = {**target.headers, "accept": accept, "accept-encoding": "identity"}  # the size as sent
            with http.stream("GET", target.url, headers=headers, extensions=target.extensions) as response:
                if response.status_code != 200:
                    raise FetchFailed(f"it answered HTTP {response.status_code}")
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchFailed(f"the answer is larger than {max_bytes // 1024} KB")
                    if time.monotonic() > deadline:
                        raise FetchFailed(f"the answer took longer than {timeout:g} seconds")
                answered = response.headers
    except httpx.HTTPError as exc:
        raise FetchFailed(f"it cannot be reached ({type(exc).__name__})") from None
    try:
        return json.loads(body), answered
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
        raise FetchFailed("the answer is not JSON") from None
