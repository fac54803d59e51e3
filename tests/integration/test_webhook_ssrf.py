"""Webhook targets outside dev mode: never this machine, a private network, link-local, multicast
or reserved addresses (IPv4 and IPv6, IPv4-mapped too), nor a name that resolves to one; checked
when an endpoint is added and again, pinned, at every send; redirects are not followed."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from support.webhook_receiver import webhook_receiver

from admit.adapters.delivery import webhooks as sending
from admit.admin import webhooks
from admit.domain import webhooks as catalogue
from admit.domain.errors import ValidationFailed
from admit.shared.context import Actor, Context

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REFUSED = [
    "https://10.0.0.5/hooks",
    "https://172.16.3.4/hooks",
    "https://192.168.1.1/hooks",
    "https://127.0.0.1/hooks",
    "https://[::1]/hooks",
    "https://169.254.169.254/latest/meta-data",
    "https://[fe80::1]/hooks",
    "https://224.0.0.1/hooks",
    "https://240.0.0.1/hooks",
    "https://[::ffff:10.0.0.5]/hooks",
    "https://[::ffff:127.0.0.1]/hooks",
    "https://100.64.0.1/hooks",
    "https://0.0.0.0/hooks",
]


def resolver(table: dict[str, list[str]]) -> Any:
    def resolve(host: str, port: int) -> Sequence[str]:
        if host in table:
            return table[host]
        return [host.strip("[]")]

    return resolve


@pytest.mark.parametrize("url", REFUSED)
def test_the_sender_refuses_every_non_public_address_without_connecting(url: str) -> None:
    sender = sending.Sender(allow_private=False, resolver=resolver({}))
    try:
        result = sender.send(url, "msg_1", datetime.now(UTC), "{}", [SECRET])
    finally:
        sender.close()
    assert not result.ok and result.status is None and result.error and "not public" in result.error
    assert result.retry is False  # a refused address is abandoned, not retried for 37 hours


def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    sender = sending.Sender(
        allow_private=False, resolver=resolver({"hooks.example.com": ["93.184.216.34", "10.1.2.3"]})
    )
    try:
        result = sender.send("https://hooks.example.com/x", "msg_1", datetime.now(UTC), "{}", [SECRET])
    finally:
        sender.close()
    assert not result.ok and "hooks.example.com resolves to an address that is not public (10.1.2.3)" in str(
        result.error
    )


def test_a_redirect_is_not_followed_even_to_a_metadata_address() -> None:
    with webhook_receiver() as receiver:
        receiver.mode("redirect http://169.254.169.254/latest/meta-data")
        sender = sending.Sender(allow_private=True)
        try:
            result = sender.send(f"{receiver.url}/hooks", "msg_1", datetime.now(UTC), "{}", [SECRET])
        finally:
            sender.close()
        assert len(receiver.seen()) == 1
    assert not result.ok and result.status == 302
    assert result.error == "answered 302; redirects are not followed (http://169.254.169.254/latest/meta-data)"


def test_an_answer_is_read_at_most_4_kib() -> None:
    with webhook_receiver() as receiver:
        receiver.mode("big")
        sender = sending.Sender(allow_private=True)
        try:
            result = sender.send(f"{receiver.url}/hooks", "msg_1", datetime.now(UTC), "{}", [SECRET])
        finally:
            sender.close()
    assert result.ok and result.response == "x" * catalogue.RESPONSE_CAP


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://10.0.0.5/hooks", "this address is refused"),
        ("https://localhost/hooks", "this address is refused"),  # a name that resolves to loopback
        ("https://[::ffff:169.254.169.254]/", "this address is refused"),
        ("http://hooks.example.com/x", "must be https://"),
        ("http://127.0.0.1:9/x", "must be https://"),  # http on loopback is for dev mode only
        ("https://user:pw@hooks.example.com/x", "user name, password"),
        ("ftp://hooks.example.com/x", "must be https://"),
        ("https://hooks.example.com/\x00", "on one line"),
        ("https://hooks.example.com/" + "a" * 2000, "at most 2000"),
        ("", "required"),
    ],
)
def test_adding_an_endpoint_refuses_what_would_not_be_sent(
    ctx: Context, operator: Actor, org: Any, url: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        webhooks.create(ctx, operator, org.id, url=url)
    assert message in str(refused.value) and refused.value.field == "url"


def test_dev_mode_allows_http_on_loopback_only(ctx: Context, operator: Actor, org: Any) -> None:
    dev = dataclasses.replace(ctx, dev_mode=True)
    created, secret = webhooks.create(dev, operator, org.id, url="http://127.0.0.1:9/hooks")
    assert created["url"] == "http://127.0.0.1:9/hooks" and secret.startswith("whsec_")
    with pytest.raises(ValidationFailed, match="must be https://"):
        webhooks.create(dev, operator, org.id, url="http://hooks.example.com/x")


@pytest.mark.parametrize("value", [123, ["nope"], [], ["member.suspended", 3], "member.suspended", ["webhook.test"]])
def test_event_types_must_come_from_the_catalogue(ctx: Context, operator: Actor, org: Any, value: Any) -> None:
    dev = dataclasses.replace(ctx, dev_mode=True)
    with pytest.raises(ValidationFailed) as refused:
        webhooks.create(dev, operator, org.id, url="http://127.0.0.1:9/h", event_types=value)
    assert refused.value.field == "event_types"


def test_payload_data_never_carries_a_secret_sounding_key() -> None:
    envelope = catalogue.envelope(
        type="member.updated", id="msg_1", timestamp=datetime(2026, 1, 1, tzinfo=UTC), organization_id="o",
        workspace_id=None, sequence=1,
        data={"member_id": "m", "token": "adm_inv_x", "nested": {"client_secret": "s", "ok": 1},
              "link": "https://x/i/adm_inv_y", "password_hash": "h", "fields": ["role"]},
    )  # fmt: skip
    assert envelope["data"] == {"member_id": "m", "nested": {"ok": 1}, "fields": ["role"]}
    assert envelope["timestamp"] == "2026-01-01T00:00:00Z"


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name is resolved once, checked, and the request goes to that address
    (the Host header keeps the name). Loopback stands in for a public address here."""
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])  # a second lookup would rebind to a private address
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> Sequence[str]:
        lookups.append(host)
        return next(answers)

    monkeypatch.setattr(sending.outbound, "is_public", lambda address: address == "127.0.0.1")
    with webhook_receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        receiver.secrets(SECRET)
        receiver.now(datetime.now(UTC))
        sender = sending.Sender(allow_private=False, resolver=rebinding)
        try:
            result = sender.send(f"http://hooks.example.test:{port}/in", "msg_1", datetime.now(UTC), "{}", [SECRET])
        finally:
            sender.close()
        [seen] = receiver.seen()
    assert result.ok and lookups == ["hooks.example.test"]
    assert seen["host"] == f"hooks.example.test:{port}" and seen["verified"] == [True]
