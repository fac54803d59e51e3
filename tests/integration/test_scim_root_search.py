"""The SCIM root search as a service (:mod:`admit.admin.scim_search`), on both databases: Users
then Groups in one list paged by startIndex across the two, a filter that fits one type only,
one that fits neither (invalidFilter), and sortBy and cursors refused."""

from __future__ import annotations

from typing import Any

import pytest

from admit.admin import scim_groups, scim_search, scim_users
from admit.domain.roles import Role
from admit.scim.auth import ScimCaller
from admit.scim.errors import ScimError
from admit.shared.context import Context

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def test_users_then_groups_in_one_list(ctx: Context, org: Any, workspace: Any) -> None:
    caller = ScimCaller(organization_id=org.id, workspace_id=None, token_id="t" * 32, role=Role.ADMIN, name="IdP")
    users = [scim_users.create(ctx, caller, {"schemas": [USER], "userName": f"u{n}@example.com"}) for n in range(3)]
    group = scim_groups.create(ctx, caller, {"schemas": [GROUP], "displayName": "Sales"})
    everything = scim_search.search(ctx, caller, {}, max_count=100)
    assert everything["totalResults"] == 4
    assert [r["id"] for r in everything["Resources"]] == [u.id for u in users] + [group["id"]]
    second = scim_search.search(ctx, caller, {"startIndex": 3, "count": 2}, max_count=100)
    assert second["startIndex"] == 3 and [r["id"] for r in second["Resources"]] == [users[2].id, group["id"]]
    assert scim_search.search(ctx, caller, {"count": 1}, max_count=100)["itemsPerPage"] == 1
    only_users = scim_search.search(ctx, caller, {"filter": 'userName sw "u1"'}, max_count=100)
    assert [r["id"] for r in only_users["Resources"]] == [users[1].id]
    only_groups = scim_search.search(ctx, caller, {"filter": 'displayName eq "Sales"'}, max_count=100)
    assert [r["id"] for r in only_groups["Resources"]] == [group["id"]]
    for refused in ({"filter": "nothing eq 1"}, {"sortBy": "userName"}, {"cursor": ""}, {"filter": 7}):
        with pytest.raises(ScimError) as error:
            scim_search.search(ctx, caller, refused, max_count=100)
        assert error.value.status == 400
