"""``admit org customers ORG [list|create NAME]`` and ``admit org seller-invite`` from the shell,
on both databases: the operator's first customer makes a seller, the list searches by name, a
customer cannot have customers, and an invitation into a customer lasts 7 days with the chosen
identity provider; refusals are one line."""

from __future__ import annotations

from support.processes import admit, field


def test_operator_manages_a_sellers_customers_from_the_shell(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    seller = field(admit(database_url, "org", "create", "Northwind", "--plan", "enterprise").stdout, "id")
    acme = field(admit(database_url, "org", "customers", seller, "create", "Acme Foods").stdout, "id")
    admit(database_url, "org", "customers", seller, "create", "Bolt Motors")
    listed = admit(database_url, "org", "customers", seller, "list", "--search", "acme").stdout
    assert "Acme Foods" in listed and "Bolt Motors" not in listed
    nested = admit(database_url, "org", "customers", acme, "create", "Sub", check=False)
    assert nested.returncode == 1 and "customer_of_customer" in nested.stderr and "Traceback" not in nested.stderr
    kitchen = field(admit(database_url, "workspace", "create", acme, "Acme Kitchen").stdout, "id")
    sent = admit(database_url, "org", "seller-invite", seller, acme, kitchen, "ada@acme.example", "--role", "admin")
    assert field(sent.stdout, "state") == "pending" and field(sent.stdout, "role") == "admin"
    wrong = admit(
        database_url, "org", "seller-invite", seller, acme, kitchen, "bo@acme.example", "--identity-provider", "nope",
        check=False,
    )  # fmt: skip
    assert wrong.returncode == 1 and "validation_failed" in wrong.stderr
    stranger = admit(database_url, "org", "seller-invite", acme, acme, kitchen, "cy@acme.example", check=False)
    assert stranger.returncode == 1 and "not_a_seller" in stranger.stderr
