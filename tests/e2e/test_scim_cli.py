"""`admit scim token …` as an operator uses it, against both databases: the token printed once,
listed without its secret, refused values said on one line, revoked."""

from __future__ import annotations

from support.processes import admit, field


def test_operator_creates_lists_and_revokes_a_scim_token(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Initech").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Initech Ops").stdout, "id")
    created = admit(
        database_url, "scim", "token", "create", org, "--workspace", ws, "--name", "Entra", "--role", "admin"
    )
    token = field(created.stdout, "token")
    token_id = field(created.stdout, "id")
    assert token.startswith("adm_scm_") and field(created.stdout, "workspace_id") == ws
    assert "/scim/v2" in created.stdout
    listed = admit(database_url, "scim", "token", "list", org).stdout
    assert token_id in listed and "Entra" in listed and token not in listed
    owner = admit(database_url, "scim", "token", "create", org, "--role", "owner", check=False)
    assert owner.returncode == 1 and "role" in owner.stdout + owner.stderr and "adm_scm_" not in owner.stdout
    elsewhere = admit(database_url, "scim", "token", "create", org, "--workspace", "nope", check=False)
    assert elsewhere.returncode == 1 and "not found" in elsewhere.stdout + elsewhere.stderr
    assert "revoked" in admit(database_url, "scim", "token", "revoke", org, token_id).stdout
    gone = admit(database_url, "scim", "token", "revoke", org, "0" * 32, check=False)
    assert gone.returncode == 1 and "not found" in gone.stdout + gone.stderr
