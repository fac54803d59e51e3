"""The typed records services receive are built positionally from database rows: their fields
must be the tables' columns, in the tables' order."""

from __future__ import annotations

import pytest
from sqlalchemy import Table

from admit.adapters.persistence import tables as t
from admit.domain.records import Member, Workspace


@pytest.mark.parametrize(("record", "table"), [(Workspace, t.workspaces), (Member, t.members)])
def test_a_records_fields_are_its_tables_columns_in_order(record: type, table: Table) -> None:
    assert record._fields == tuple(column.name for column in table.c)  # type: ignore[attr-defined]


def test_a_record_reads_like_a_row_by_attribute_index_and_mapping() -> None:
    member = Member._make(f"v{n}" for n in range(len(Member._fields)))
    assert member.email == member[8] == member._mapping["email"] == dict(member._mapping)["email"]
