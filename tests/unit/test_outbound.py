"""The guard on requests to URLs others registered (apps' back-channel logout URIs): outside dev
mode only public addresses, every address a name resolves to checked, and the request pinned to
the address that was checked (Host and TLS server name kept)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from admit.adapters.delivery.outbound import Resolver, TargetRefused, checked, is_public, resolve

NOT_PUBLIC = [
    "127.0.0.1",
    "127.8.9.10",
    "0.0.0.0",  # noqa: S104 - an address refused, not bound
    "10.0.0.8",
    "172.16.4.2",
    "192.168.1.20",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # shared address space (carrier NAT)
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "224.0.0.251",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "::",
    "::1",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2001:db8::1",  # documentation
    "not an address",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.4.4", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_addresses_that_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert is_public(address)


def _resolving(*addresses: str) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


def test_a_public_host_is_pinned_to_the_address_that_was_checked() -> None:
    target = checked(
        "https://app.example.com:8443/logout?x=1", allow_private=False, resolver=_resolving("93.184.216.34")
    )
    assert target.url == "https://93.184.216.34:8443/logout?x=1"
    assert target.headers == {"host": "app.example.com:8443"}
    assert target.extensions == {"sni_hostname": "app.example.com"}  # the certificate is checked for the name
    v6 = checked("https://app.example.com/bc", allow_private=False, resolver=_resolving("2606:4700:4700::1111"))
    assert v6.url == "https://[2606:4700:4700::1111]/bc"


@pytest.mark.parametrize(
    "addresses",
    [("127.0.0.1",), ("10.1.2.3",), ("93.184.216.34", "169.254.169.254"), ("::1", "93.184.216.34"), ()],
)
def test_a_host_with_any_address_that_is_not_public_is_refused(addresses: tuple[str, ...]) -> None:
    with pytest.raises(TargetRefused) as refused:
        checked("https://app.example.com/bc", allow_private=False, resolver=_resolving(*addresses))
    assert refused.value.permanent


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/bc", "http://localhost:8080/bc", "https://[::1]/bc", "https://169.254.169.254/x"]
)
def test_loopback_and_private_literals_are_refused_with_the_real_resolver(url: str) -> None:
    with pytest.raises(TargetRefused):
        checked(url, allow_private=False)


def test_dev_mode_sends_anywhere_as_given() -> None:
    target = checked("http://127.0.0.1:9000/bc", allow_private=True)
    assert (target.url, target.headers, target.extensions) == ("http://127.0.0.1:9000/bc", {}, {})


@pytest.mark.parametrize("url", ["ftp://app.example.com/x", "file:///etc/passwd", "https:///nohost", "not a url"])
def test_only_http_urls_with_a_host(url: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        checked(url, allow_private=True)
    assert refused.value.permanent


def test_a_failed_lookup_is_tried_again_later() -> None:
    def failing(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_AGAIN, "temporary failure")

    with pytest.raises(TargetRefused) as refused:
        checked("https://app.example.com/bc", allow_private=False, resolver=failing)
    assert not refused.value.permanent


def test_a_lookup_that_hangs_is_given_up_after_its_timeout() -> None:
    release = threading.Event()

    def hanging(host: str, port: int, **_: Any) -> list[Any]:
        release.wait(10)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    def slow_resolver(host: str, port: int) -> list[str]:
        return resolve(host, port, timeout=0.2, lookup=hanging)

    started = time.monotonic()
    try:
        with pytest.raises(TargetRefused) as refused:
            checked("https://app.example.com/bc", allow_private=False, resolver=slow_resolver)
    finally:
        release.set()
    assert time.monotonic() - started < 5  # not the lookup's 10 s
    assert not refused.value.permanent and "TimeoutError" in refused.value.reason
    answered = resolve("app.example.com", 443, lookup=lambda *a, **k: hanging(*a, **k))
    assert answered == ["93.184.216.34"]  # an answer in time is used
