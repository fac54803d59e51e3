"""`admit scim holds …` as an operator uses it, against both databases: the held changes listed,
one released, the rest dismissed with --all, refusals said on one line."""

from __future__ import annotations

import re

from support.processes import admit, field

from admit.adapters.persistence.database import make_engine
from admit.admin import members
from admit.admin.profiles import MemberInput
from admit.bootstrap import build_context
from admit.config import Settings
from admit.domain.roles import Role
from admit.shared.context import Actor, ActorKind


def test_operator_lists_releases_and_dismisses_held_deactivations(database_url: str) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Initech").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Initech Ops").stdout, "id")
    token_id = field(
        admit(database_url, "scim", "token", "create", org, "--workspace", ws, "--role", "admin").stdout, "id"
    )
    engine = make_engine(database_url)
    try:
        ctx = build_context(Settings(dev_mode=True, _env_file=None), engine)  # type: ignore[call-arg]
        operator = Actor.operator()
        ids = [
            members.provision(ctx, operator, ws, MemberInput(email=f"p{i}@initech.example"), invite=False)[0].id
            for i in range(12)
        ]
        scim = Actor(ActorKind.SCIM, id=token_id, organization_id=org, workspace_id=ws, role=Role.ADMIN)
        assert [members.suspend(ctx, scim, m).status for m in ids[:5]] == ["suspended"] * 2 + ["provisioned"] * 3
        listed = admit(database_url, "scim", "holds", "list", ws).stdout
        assert listed.count("deactivate") == 3 and "p2@initech.example" in listed
        hold = next(
            re.findall(r"[0-9a-f]{32}", line)[0] for line in listed.splitlines() if "p2@initech.example" in line
        )
        assert "1 held change(s) released." in admit(database_url, "scim", "holds", "release", ws, hold).stdout
        assert "2 held change(s) dismissed." in admit(database_url, "scim", "holds", "dismiss", ws, "--all").stdout
        assert [members.get(ctx, operator, m).status for m in ids[2:5]] == ["suspended", "provisioned", "provisioned"]
        assert "No held changes." in admit(database_url, "scim", "holds", "list", ws).stdout
        gone = admit(database_url, "scim", "holds", "release", ws, hold, check=False)
        assert gone.returncode == 1 and "not found" in gone.stdout + gone.stderr
        both = admit(database_url, "scim", "holds", "dismiss", ws, hold, "--all", check=False)
        assert both.returncode != 0 and "--all" in both.stdout + both.stderr
    finally:
        engine.dispose()
