"""``admit group …`` from the shell, on both databases: a group is created, listed, filled,
shown with its members, emptied and deleted; refusals are one clear line."""

from __future__ import annotations

from support.processes import admit, field


def test_operator_manages_a_group_from_the_shell(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Vandelay Imports").stdout, "id")
    people = [
        field(
            admit(database_url, "member", "add", ws, "--email", f"{name}@vandelay.example", "--no-invite").stdout, "id"
        )
        for name in ("ana", "ben")
    ]
    group = field(admit(database_url, "group", "create", org, "Latex Sales").stdout, "id")
    assert "Latex Sales" in admit(database_url, "group", "list", org, "--prefix", "latex").stdout
    assert "Added 2" in admit(database_url, "group", "add", org, group, *people).stdout
    shown = admit(database_url, "group", "show", org, group).stdout
    assert field(shown, "member_count") == "2" and "ana@vandelay.example" in shown
    assert "Removed 1" in admit(database_url, "group", "remove", org, group, people[0]).stdout
    clash = admit(database_url, "group", "create", org, "LATEX SALES", check=False)
    assert clash.returncode == 1 and "group_exists" in clash.stderr and "Traceback" not in clash.stderr
    owner = admit(database_url, "group", "create", org, "Owners", "--workspace-id", ws, "--role", "owner", check=False)
    assert owner.returncode == 1 and "permission_denied" in owner.stderr
    assert "Group deleted" in admit(database_url, "group", "delete", org, group).stdout
    gone = admit(database_url, "group", "show", org, group, check=False)
    assert gone.returncode == 1 and "not_found" in gone.stderr
