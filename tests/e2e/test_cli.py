"""The `admit` command as an operator uses it, against both databases.

Most commands run in the test's process (the same parsing, settings, output and exit codes, a
second faster each); the errors test runs the real command, as a shell would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from joserfc.jwk import RSAKey
from support.processes import admit, admit_process, field

COMMANDS = [
    "serve",
    "worker",
    "db",
    "org",
    "workspace",
    "member",
    "invite",
    "invitations",
    "token",
    "outbox",
    "demo",
    "clients",
    "keys",
    "scim",
]


def test_help_lists_every_command(sqlite_url: str) -> None:
    """Help reads no database: once is enough."""
    database_url = sqlite_url
    output = admit(database_url, "--help").stdout
    for command in COMMANDS:
        assert re.search(rf"│ {command}\s", output), command
    for group, subcommands in {
        "db": ["upgrade"],
        "org": ["create", "list"],
        "workspace": ["create", "list", "update"],
        "member": ["add", "set-password", "list"],
        "invitations": ["list", "expire"],
        "token": ["create"],
        "outbox": ["list", "retry"],
        "clients": ["create", "list", "update", "rotate-secret", "delete"],
        "keys": ["rotate", "list"],
        "scim": ["token"],
    }.items():
        output = admit(database_url, group, "--help").stdout
        for sub in subcommands:
            assert re.search(rf"│ {sub}\s", output), (group, sub)


def test_operator_onboards_people_from_the_shell(database_url: str) -> None:
    assert "Database at revision" in admit(database_url, "db", "upgrade").stdout
    org = field(admit(database_url, "org", "create", "Initech", "--plan", "pro", "--seats", "3").stdout, "id")
    ws = field(
        admit(database_url, "workspace", "create", org, "Initech Ops", "--lifetime-days", "14", "--sms").stdout, "id"
    )
    later = admit(database_url, "member", "add", ws, "--email", "milton@initech.example", "--no-invite").stdout
    assert field(later, "status") == "provisioned" and "invitation_id" not in later
    now = admit(
        database_url, "member", "add", ws, "--username", "peter.g", "--phone", "+49 30 901820", "--first-name", "Peter"
    ).stdout
    assert field(now, "status") == "invited"
    invited = admit(database_url, "invite", ws, "samir@initech.example", "--message", "Welcome aboard").stdout
    assert field(invited, "state") == "pending"
    listing = admit(database_url, "invitations", "list", ws).stdout
    assert "samir@initech.example" in listing and "+4930901820" in listing
    assert "milton@initech.example" in admit(database_url, "member", "list", ws, "--status", "provisioned").stdout
    weak = admit(database_url, "member", "set-password", field(later, "id"), check=False, ADMIT_ONE_TIME_PASSWORD="abc")
    assert weak.returncode == 1 and "password" in weak.stdout + weak.stderr
    given = admit(
        database_url, "member", "set-password", field(later, "id"), ADMIT_ONE_TIME_PASSWORD="tulip-granite-lantern-47"
    ).stdout
    assert field(given, "status") == "active" and "tulip-granite" not in given
    outbox = admit(database_url, "outbox", "list").stdout
    assert "samir@initech.example" in outbox and "adm_inv_" not in outbox
    assert "adm_inv_" in admit(database_url, "outbox", "list", "--reveal").stdout
    token = admit(database_url, "token", "create", org, "--role", "admin", "--name", "hr").stdout
    assert field(token, "token").startswith("adm_api_")
    assert "Expired 0 invitation(s)" in admit(database_url, "invitations", "expire").stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # messages, not storage: one database
def test_errors_are_one_clear_line_without_a_traceback(database_url: str) -> None:
    org = field(admit_process(database_url, "org", "create", "Umbrella").stdout, "id")
    result = admit_process(database_url, "workspace", "create", org, "X", "--lifetime-days", "45", check=False)
    assert result.returncode == 1
    assert "validation_failed (invitation_lifetime_days)" in result.stderr and "Traceback" not in result.stderr
    missing = admit_process(database_url, "invite", "0" * 32, "a@example.com", check=False)
    assert missing.returncode == 1 and "not_found" in missing.stderr
    insecure = admit_process(database_url, "org", "list", check=False, ADMIT_DEV_MODE="false")
    assert insecure.returncode == 2 and "ADMIT_SECRET_KEY" in insecure.stderr


def test_demo_seeds_once_and_prints_how_to_sign_in(database_url: str) -> None:
    first = admit(database_url, "demo").stdout
    assert "owner@demo.example" in first and "adm_api_" in first
    second = admit(database_url, "demo").stdout
    org_id = re.search(r"organization\s+(\w+)", first)
    assert org_id and org_id.group(1) in second
    assert admit(database_url, "org", "list").stdout.count("Demo Organization") == 1


def test_operator_changes_settings_delivers_and_retries_from_the_shell(database_url: str) -> None:
    org = field(admit(database_url, "org", "create", "Hooli").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Hooli XYZ").stdout, "id")
    updated = admit(database_url, "workspace", "update", ws, "--sms", "--sms-daily-cap", "10").stdout
    assert field(updated, "sms_enabled") == "True" and field(updated, "sms_daily_cap") == "10"
    admit(database_url, "member", "add", ws, "--username", "gavin", "--phone", "+49 30 901820")
    assert (
        "Processed 1 message(s) and 0 job(s)." in admit(database_url, "worker", "--once").stdout
    )  # dev mode: captured
    sent = re.search(r"│ (\d+) .*sms.*\+4930901820.*sent", admit(database_url, "outbox", "list").stdout)
    assert sent
    refused = admit(database_url, "outbox", "retry", sent.group(1), check=False)
    assert refused.returncode == 1 and "not_retryable" in refused.stderr
    assert "Queued 0 message(s) again." in admit(database_url, "outbox", "retry", "--all-abandoned").stdout


def test_worker_without_smtp_or_sms_runs_and_says_why_messages_wait(database_url: str) -> None:
    production = {"ADMIT_DEV_MODE": "false", "ADMIT_SECRET_KEY": "k" * 40}
    org = field(admit(database_url, "org", "create", "Initech").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Initech Main").stdout, "id")
    admit(database_url, "member", "add", ws, "--email", "peter@initech.example", **production)
    run = admit(database_url, "worker", "--once", **production)
    assert "Processed 0 message(s) and 0 job(s)." in run.stdout
    assert "ADMIT_SMTP_HOST" in run.stderr and "ADMIT_SMS_URL" in run.stderr  # said, not refused
    listed = admit(database_url, "outbox", "list", **production).stdout
    assert re.search(r"peter@initech\.example.*queued.*no SMTP server is configured", listed), listed


def test_operator_registers_an_app_and_rotates_the_signing_keys(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Initech", "--plan", "pro").stdout, "id")
    created = admit(
        database_url, "clients", "create", org, "Shop", "--redirect-uri", "https://shop.initech.example/cb"
    ).stdout
    client_id = field(created, "client_id")
    assert field(created, "client_secret").startswith("adm_cls_")
    assert client_id in admit(database_url, "clients", "list", org).stdout
    refused = admit(database_url, "clients", "create", org, "Bad", "--redirect-uri", "http://x.example/cb", check=False)
    assert refused.returncode == 1 and "redirect_uris" in refused.stdout + refused.stderr
    updated = admit(
        database_url, "clients", "update", org, client_id, "--name", "Shop 2",
        "--redirect-uri", "https://shop.initech.example/cb2", "--grant-type", "authorization_code",
        "--grant-type", "refresh_token",
    ).stdout  # fmt: skip
    assert "Shop 2" in updated and "refresh_token" in updated
    nothing = admit(database_url, "clients", "update", org, client_id, check=False)
    assert nothing.returncode == 1 and "nothing to change" in nothing.stdout + nothing.stderr
    rotated = admit(database_url, "clients", "rotate-secret", org, client_id).stdout
    assert field(rotated, "client_secret").startswith("adm_cls_")
    assert field(rotated, "client_secret") != field(created, "client_secret")
    first = admit(database_url, "keys", "rotate").stdout
    assert "Signing with" in first
    assert admit(database_url, "keys", "list").stdout.count("retired") == 1
    assert "removed" in admit(database_url, "clients", "delete", org, client_id).stdout
    assert client_id not in admit(database_url, "clients", "list", org).stdout


def test_operator_registers_an_app_with_keys_and_refresh_tokens(database_url: str, tmp_path: Path) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Initech", "--plan", "pro").stdout, "id")
    key = RSAKey.generate_key(2048, auto_kid=False)
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps({"keys": [{**key.as_dict(private=False), "kid": "initech-1"}]}))
    base = ("clients", "create", org, "Ledger", "--redirect-uri", "https://ledger.initech.example/cb")
    created = admit(
        database_url, *base, "--auth-method", "private_key_jwt", "--jwks", f"@{keys}",
        "--grant-type", "authorization_code", "--grant-type", "refresh_token",
    ).stdout  # fmt: skip
    assert field(created, "token_endpoint_auth_method") == "private_key_jwt" and "client_secret:" not in created
    assert "grant_types: ['authorization_code', 'refresh_token']" in created
    private = json.dumps({"keys": [key.as_dict(private=True)]})
    for extra, named in (
        (("--auth-method", "private_key_jwt", "--jwks", private), "jwks"),
        (("--auth-method", "private_key_jwt", "--jwks", "{not json"), "jwks"),
        (("--public", "--grant-type", "authorization_code", "--grant-type", "refresh_token"), "grant_types"),
    ):
        refused = admit(database_url, *base, *extra, check=False)
        assert refused.returncode == 1 and f"({named})" in refused.stdout + refused.stderr, extra
    app_id = field(created, "client_id")
    published = admit(
        database_url, "clients", "update", org, app_id, "--jwks-uri", "https://ledger.initech.example/jwks.json"
    ).stdout
    assert "App updated" in published
    listed = admit(
        database_url, *base[:3], "Ledger 2", "--redirect-uri", "https://ledger.initech.example/cb",
        "--auth-method", "private_key_jwt", "--jwks-uri", "https://ledger.initech.example/jwks.json",
    ).stdout  # fmt: skip
    assert field(listed, "token_endpoint_auth_method") == "private_key_jwt"
    both = admit(
        database_url, *base, "--auth-method", "private_key_jwt", "--jwks", f"@{keys}",
        "--jwks-uri", "https://ledger.initech.example/jwks.json", check=False,
    )  # fmt: skip
    assert both.returncode == 1 and "(jwks_uri)" in both.stdout + both.stderr
