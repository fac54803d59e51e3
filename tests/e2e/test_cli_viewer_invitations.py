"""``admit invite WORKSPACE EMAIL --licence viewer`` from the shell, on both databases: a resource
viewer is invited into an organization whose enforced seats are all taken, a licensed invitation
is refused with the counts, and an unknown licence is a one-line error naming the field."""

from __future__ import annotations

from support.processes import admit, field


def test_the_operator_invites_a_resource_viewer_when_no_seat_is_free(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Globex", "--plan", "business").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Globex Main").stdout, "id")
    admit(database_url, "org", "seats", org, "--seats", "0", "--enforce")
    sent = admit(database_url, "invite", ws, "vic@example.com", "--licence", "viewer").stdout
    assert field(sent, "licence") == "viewer" and field(sent, "state") == "pending"
    full = admit(database_url, "invite", ws, "lou@example.com", check=False)
    assert full.returncode == 1 and "no_seats" in full.stderr and "Traceback" not in full.stderr
    bad = admit(database_url, "invite", ws, "x@example.com", "--licence", "guest", check=False)
    assert bad.returncode == 1 and "licence" in bad.stderr and "Traceback" not in bad.stderr
    listed = admit(database_url, "invitations", "list", ws).stdout
    assert "vic@example.com" in listed and "viewer" in listed and "lou@example.com" not in listed
