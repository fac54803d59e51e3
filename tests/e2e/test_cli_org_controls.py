"""``admit org seats|licences|licence|security|admin …`` from the shell, on both databases: seats
enforced, a reservation and the refusal with its counts, the licence report, security controls
refusing an address outside the allowed domains, and one-line refusals."""

from __future__ import annotations

from support.processes import admit, field


def test_operator_manages_licences_and_security_controls_from_the_shell(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Initrode", "--plan", "enterprise").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Initrode Main").stdout, "id")
    assert field(admit(database_url, "org", "seats", org, "--seats", "1", "--enforce").stdout, "enforced") == "True"
    first = admit(database_url, "member", "add", ws, "--email", "ana@initrode.example", "--invite").stdout
    member = field(first, "id")
    refused = admit(database_url, "member", "add", ws, "--email", "ben@initrode.example", "--invite", check=False)
    assert refused.returncode == 1 and "no_seats" in refused.stderr and "Traceback" not in refused.stderr
    assert "1 seats, 0 in use and 1 reserved" in " ".join(refused.stderr.split())
    report = admit(database_url, "org", "licences", org).stdout
    assert field(report, "reserved") == "1" and field(report, "free") == "0" and "Initrode Main" in report
    assert field(admit(database_url, "org", "licence", member, "viewer").stdout, "licence") == "viewer"
    assert field(admit(database_url, "org", "licences", org).stdout, "free") == "1"
    controls = admit(database_url, "org", "security", org, "--allowed-domains", "initrode.example,  INITECH.example")
    assert "allowed_email_domains: initrode.example, initech.example" in controls.stdout
    outside = admit(database_url, "member", "add", ws, "--email", "eve@evil.example", "--invite", check=False)
    assert outside.returncode == 1 and "domain_not_allowed" in outside.stderr
    bad = admit(database_url, "org", "security", org, "--who-may-invite", "everyone", check=False)
    assert bad.returncode == 1 and "validation_failed" in bad.stderr
    stranger = admit(database_url, "org", "admin", "add", org, "nobody@initrode.example", check=False)
    assert stranger.returncode == 1 and "not_found" in stranger.stderr
    assert "No administrators." in admit(database_url, "org", "admin", "list", org).stdout
    free_org = field(admit(database_url, "org", "create", "Small", "--plan", "pro").stdout, "id")
    gated = admit(database_url, "org", "security", free_org, "--allowed-domains", "a.com", check=False)
    assert gated.returncode == 1 and "enterprise_plan_required" in gated.stderr
