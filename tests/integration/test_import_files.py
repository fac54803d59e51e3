"""Imports through the service with generated and hostile files, on both databases: every row is
accounted for exactly once, and a hostile file is refused before anything is written."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admit.adapters.spreadsheets import ImportFileError, write_csv, write_xlsx
from admit.admin import imports, jobs, members, tenancy
from admit.shared.context import Actor, Context

GOOD = st.builds(
    lambda n, first: [f"p{n}@example.com", first, "Lee", f"E{n}"],
    st.integers(0, 30),
    st.text(alphabet="AbcÄé ß-", min_size=1, max_size=12).filter(str.strip),
)
BAD = st.sampled_from(
    [["not-an-email", "X", "Y", "B1"], ["", "No", "Address", "B2"], ["z@example.com", "Z", "Z", "x" * 300]]
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(GOOD, BAD), max_size=25), kind=st.sampled_from(["csv", "xlsx"]))
def test_every_row_of_a_generated_file_is_accounted_for_once(
    ctx: Context, operator: Actor, org: Any, rows: list[list[str]], kind: str
) -> None:
    workspace = tenancy.create_workspace(ctx, operator, org.id, "Generated")
    headers = ["Email", "First name", "Last name", "External ID"]
    data = write_csv(headers, rows) if kind == "csv" else write_xlsx(headers, rows)
    if not rows:  # a header alone is refused before any job
        with pytest.raises(ImportFileError, match="no people"):
            imports.start(ctx, operator, workspace.id, data, f"people.{kind}", invite="later")
        return
    job = imports.start(ctx, operator, workspace.id, data, f"people.{kind}", invite="later")
    jobs.run_next(ctx, job.id)
    done = jobs.get(ctx, operator, job.id)
    counts = done.counts
    accounted = sum(counts.get(k, 0) for k in ("created", "skipped", "error", "duplicate"))
    assert done.state == "done" and accounted == len(rows)
    created = members.list_members(ctx, operator, workspace.id, limit=500)
    assert len(created) == counts.get("created", 0)
    assert len({m.email for m in created}) == len(created)  # nobody twice
    assert {e["row"] for e in done.report} <= set(range(2, len(rows) + 2))


def _bomb() -> bytes:
    from support.import_files import zip_bomb

    return zip_bomb(300 * 1024 * 1024)


def _laughs() -> bytes:
    from support.import_files import xlsx

    entities = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    sheet = (
        '<?xml version="1.0"?>'
        + entities
        + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>'
    )
    return xlsx(sheet)


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("bomb.xlsx", _bomb, "zip_bomb"),
        ("laughs.xlsx", _laughs, "xml_entities"),
        ("fake.xlsx", lambda: b"Email\na@example.com\n", "wrong_magic"),
        ("fake.csv", lambda: b"PK\x03\x04" + b"\x00" * 64, "wrong_magic"),
        ("huge.csv", lambda: b"Email\n" + b"a@example.com\n" * 1_000_001, "too_many_rows"),
    ],
)
def test_hostile_files_are_refused_before_anything_is_written(
    ctx: Context, operator: Actor, workspace: Any, name: str, make: Any, code: str
) -> None:
    with pytest.raises(ImportFileError) as refused:
        imports.start(ctx, operator, workspace.id, make(), name, invite="now")
    assert refused.value.code == code
    assert jobs.list_jobs(ctx, operator, workspace.id) == [] and members.list_members(ctx, operator, workspace.id) == []


def test_formula_cells_in_an_import_are_data_not_formulas(ctx: Context, operator: Actor, workspace: Any) -> None:
    data = write_csv(["Email", "First name", "Last name"], [["f@example.com", "=HYPERLINK(1)", "+SUM(A1)"]])
    job = imports.start(ctx, operator, workspace.id, data, "formulas.csv", invite="later")
    jobs.run_next(ctx, job.id)
    [member] = members.list_members(ctx, operator, workspace.id)
    assert (member.first_name, member.last_name) == ("=HYPERLINK(1)", "+SUM(A1)")  # stored as typed
    report = write_csv(["First name"], [[member.first_name]])  # and neutralised again on the way out
    assert b"'=HYPERLINK(1)" in report
