"""``admit db upgrade`` runs while the old processes still serve (README, "Upgrading while
serving"): every migration only expands the schema. This reads each revision's ``upgrade()`` and
fails on a step that would break the code already running (dropping or renaming a table or
column, narrowing a column to ``NOT NULL``, changing its type, dropping a constraint), unless the
step is listed below with the reason it is safe or the contract step it completes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[2] / "src/admit/adapters/persistence/migrations/versions"

# (revision file, operation, its first argument) → why the old code is not broken by it
ALLOWED = {
    ("0002_delivery_settings_and_outbox_leases.py", "alter_column", "key"): (
        "outbox.key, added in the same revision and filled for every row before it is made NOT NULL: "
        "no code before 0002 knew the column (the installs of that time ran one process)"
    ),
    ("0015_access_codes.py", "drop_constraint", "ck_members_contact"): (
        "the check is recreated looser in the same transaction (a member may also have no contact "
        "but an access code): every row the old code writes still passes"
    ),
    ("0023_org_invitation_withdrawal.py", "drop_constraint", "ck_organization_invitations_state"): (
        "the check is recreated with one more state in the same transaction: every row the old code writes still passes"
    ),
}

BREAKING_CALLS = {"drop_column", "drop_table", "rename_table", "drop_constraint"}
NARROWING_KEYWORDS = {"new_column_name", "type_", "nullable"}
BREAKING_SQL = re.compile(r"\b(DROP\s+(COLUMN|TABLE|CONSTRAINT)|RENAME\s+(COLUMN|TO)|ALTER\s+COLUMN)\b", re.I)


def _first_argument(call: ast.Call) -> str:
    if not call.args:
        return ""
    first = call.args[0]
    if isinstance(first, ast.Call) and first.args:  # op.f("name")
        first = first.args[0]
    return str(first.value) if isinstance(first, ast.Constant) else ast.unparse(first)


def _contracting_steps(path: Path) -> list[tuple[str, str, str, int]]:
    tree = ast.parse(path.read_text())
    upgrade = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
    found = []
    for node in ast.walk(upgrade):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        keywords = {k.arg for k in node.keywords if k.arg}
        if name in BREAKING_CALLS or (name == "alter_column" and keywords & NARROWING_KEYWORDS):
            found.append((path.name, name, _first_argument(node), node.lineno))
        elif (
            name == "execute"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and BREAKING_SQL.search(str(node.args[0].value))
        ):
            found.append((path.name, "execute", str(node.args[0].value)[:60], node.lineno))
    return sorted(found, key=lambda step: step[3])


def test_every_migration_only_expands_the_schema_unless_its_step_is_explained() -> None:
    revisions = sorted(VERSIONS.glob("[0-9]*.py"))
    assert len(revisions) > 20
    steps = [step for path in revisions if not path.name.startswith("0001_") for step in _contracting_steps(path)]
    unexplained = [f"{name}:{line} {op}({arg!r})" for name, op, arg, line in steps if (name, op, arg) not in ALLOWED]
    assert not unexplained, (
        "these upgrade steps break the processes still serving during 'admit db upgrade': split them into "
        "expand (this release) and contract (a later one), or list them in ALLOWED with the reason:\n"
        + "\n".join(unexplained)
    )
    stale = set(ALLOWED) - {(name, op, arg) for name, op, arg, _ in steps}
    assert not stale, f"ALLOWED lists steps no migration has: {stale}"


def test_the_scan_finds_a_dropped_column(tmp_path: Path) -> None:
    migration = tmp_path / "0099_contract.py"
    migration.write_text(
        "def upgrade():\n"
        "    with op.batch_alter_table('members') as batch:\n"
        "        batch.drop_column('nickname')\n"
        "        batch.alter_column('name', new_column_name='full_name')\n"
        "    op.execute('ALTER TABLE members DROP COLUMN x')\n"
        "def downgrade():\n"
        "    op.drop_table('members')\n"
    )
    assert [(op, arg) for _, op, arg, _ in _contracting_steps(migration)] == [
        ("drop_column", "nickname"),
        ("alter_column", "name"),
        ("execute", "ALTER TABLE members DROP COLUMN x"),
    ]
