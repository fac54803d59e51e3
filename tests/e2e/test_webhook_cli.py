"""`admit webhook …` as an operator uses it, against both databases: an endpoint added with its
secret printed once, a test event delivered by `admit worker --once` to a receiver that verifies
it with the npm standardwebhooks library, the delivery log, replay, redeliver, rotate, disable."""

from __future__ import annotations

from datetime import UTC, datetime

from support.processes import admit, field
from support.webhook_receiver import webhook_receiver


def test_operator_adds_tests_and_operates_a_webhook(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Initech").stdout, "id")
    with webhook_receiver() as receiver:
        receiver.now(datetime.now(UTC))
        added = admit(database_url, "webhook", "add", org, f"{receiver.url}/in", "--event", "member.suspended")
        hook = field(added.stdout, "id")
        secret = added.stdout.split("secret: ", 1)[1].split()[0]
        assert secret.startswith("whsec_")
        receiver.secrets(secret)
        listed = admit(database_url, "webhook", "list", org).stdout
        assert hook in listed and secret not in listed
        assert "queued" in admit(database_url, "webhook", "test", org, hook).stdout
        assert "Delivered 1 webhook message(s)." in admit(database_url, "worker", "--once").stdout
        [got] = receiver.received()
        assert got["verified"] == [True] and got["envelope"]["type"] == "webhook.test"
        log = admit(database_url, "webhook", "deliveries", org, hook).stdout
        assert got["id"] in log and "200" in log
        message_id = log.split("│ sent")[0].rsplit("│", 2)[0].split("\n")[-1].strip("│ ").split()[0]
        assert "queued again" in admit(database_url, "webhook", "replay", org, hook, message_id).stdout
        since = admit(database_url, "webhook", "redeliver", org, hook, "--since", "2020-01-01T00:00:00").stdout
        assert "1 message(s) queued again" in since
        admit(database_url, "worker", "--once")
        assert [r["id"] for r in receiver.received()] == [got["id"]] * 2  # replay and redeliver: one message
        rotated = admit(database_url, "webhook", "rotate", org, hook).stdout
        assert "secret: whsec_" in rotated and secret not in rotated
        assert "disabled" in admit(database_url, "webhook", "disable", org, hook).stdout
        assert "enabled" in admit(database_url, "webhook", "enable", org, hook).stdout
    production = {"ADMIT_DEV_MODE": "false", "ADMIT_SECRET_KEY": "k" * 40}
    refused = admit(database_url, "webhook", "add", org, "https://10.0.0.1/x", check=False, **production)
    assert refused.returncode == 1 and "this address is refused" in refused.stdout + refused.stderr
    wrong = admit(database_url, "webhook", "add", org, "http://hooks.example.test/x", check=False)
    assert wrong.returncode == 1 and "https://" in wrong.stdout + wrong.stderr
