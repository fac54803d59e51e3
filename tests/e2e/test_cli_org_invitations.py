"""``admit org invite``, ``invitations``, ``withdraw-invitation`` and ``merge-plan`` from the shell,
on both databases: an invitation from a business organization, its plan for a person without an
account of their own, one-line refusals (a pro organization cannot invite; an unknown invitation), and a withdrawal."""

from __future__ import annotations

from support.processes import admit, field


def test_operator_invites_into_an_organization_and_reads_the_merge_plan(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Globex", "--plan", "business").stdout, "id")
    admit(database_url, "workspace", "create", org, "Globex Main")
    sent = admit(database_url, "org", "invite", org, "Hank@Example.com", "--language", "de").stdout
    assert field(sent, "email") == "hank@example.com" and field(sent, "state") == "pending"
    assert field(sent, "language") == "de"
    plan = " ".join(admit(database_url, "org", "merge-plan", field(sent, "id")).stdout.split())
    assert "free user joining Globex" in plan and "Becomes a member of Globex Main as a licensed user" in plan
    again = admit(database_url, "org", "invite", org, "hank@example.com", check=False)
    assert again.returncode == 1 and "already_invited" in again.stderr and "Traceback" not in again.stderr
    pro = field(admit(database_url, "org", "create", "Tiny", "--plan", "pro").stdout, "id")
    gated = admit(database_url, "org", "invite", pro, "x@example.com", check=False)
    assert gated.returncode == 1 and "plan_required" in gated.stderr
    unknown = admit(database_url, "org", "merge-plan", "nope", check=False)
    assert unknown.returncode == 1 and "not_found" in unknown.stderr


def test_operator_lists_and_withdraws_an_invitation(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Initech", "--plan", "business").stdout, "id")
    admit(database_url, "workspace", "create", org, "Initech Main")
    sent = field(admit(database_url, "org", "invite", org, "milton@example.com").stdout, "id")
    listed = admit(database_url, "org", "invitations", org).stdout
    assert sent in listed and "pending" in listed and "milton@example.com" in listed
    withdrawn = admit(database_url, "org", "withdraw-invitation", sent).stdout
    assert field(withdrawn, "state") == "withdrawn"
    assert "withdrawn" in admit(database_url, "org", "invitations", org).stdout
    again = admit(database_url, "org", "withdraw-invitation", sent, check=False)
    assert again.returncode == 1 and "not_pending" in again.stderr and "Traceback" not in again.stderr
