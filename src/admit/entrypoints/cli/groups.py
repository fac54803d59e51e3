"""``admit group …``: an organization's groups (rules in ``admin.groups``)."""

from __future__ import annotations

import typer

from admit.admin import groups
from admit.entrypoints.cli.common import OPERATOR, console, context, friendly, show_record, show_table

group = typer.Typer(help="An organization's groups and their members.", no_args_is_help=True)
FIELDS = ("id", "organization_id", "display_name", "external_id", "source", "workspace_id", "role", "member_count")
LISTED = ("id", "display_name", "source", "role", "member_count")
MEMBERS = ("id", "workspace_id", "email", "first_name", "last_name", "status")


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="group")


@group.command("create")
@friendly
def create(
    organization_id: str,
    name: str,
    external_id: str | None = typer.Option(None, help="The ID of the group in another system."),
    workspace_id: str | None = typer.Option(None, help="Grant --role in this workspace to the group's members."),
    role: str | None = typer.Option(None, help="guest, member or admin (needs --workspace-id)."),
) -> None:
    """A new group in an organization (names are unique whatever their case)."""
    made = groups.create(
        context(), OPERATOR, organization_id, name, external_id=external_id, workspace_id=workspace_id, role=role
    )
    show_record("Group created", made, FIELDS)


@group.command("list")
@friendly
def list_groups(
    organization_id: str,
    prefix: str | None = typer.Option(None, help="Names starting so (any case)."),
    limit: int = typer.Option(100, min=1, max=groups.PAGE_LIMIT),
) -> None:
    """The organization's groups by name, with their member counts."""
    found = groups.list_groups(context(), OPERATOR, organization_id, prefix=prefix, limit=limit)
    show_table(LISTED, found.items, empty="No groups.")
    if found.next_cursor:
        console.print("More groups follow: narrow with --prefix or raise --limit.")


@group.command("show")
@friendly
def show(organization_id: str, group_id: str, limit: int = typer.Option(100, min=1, max=groups.PAGE_LIMIT)) -> None:
    """A group and (a page of) its members."""
    found = groups.get(context(), OPERATOR, organization_id, group_id, limit=limit)
    show_record("Group", found.group, FIELDS)
    show_table(MEMBERS, found.members, empty="Nobody is in this group.")


@group.command("add")
@friendly
def add(
    organization_id: str,
    group_id: str,
    member_ids: list[str] = typer.Argument(..., help="Members of the organization to add (up to 10,000)."),
) -> None:
    """Add members to a group (those in it already stay)."""
    change = groups.add_members(context(), OPERATOR, organization_id, group_id, member_ids)
    console.print(f"Added {change.added}; the group has {change.member_count} member(s).")


@group.command("remove")
@friendly
def remove(
    organization_id: str,
    group_id: str,
    member_ids: list[str] = typer.Argument(..., help="Members to take out of the group."),
) -> None:
    """Take members out of a group."""
    change = groups.remove_members(context(), OPERATOR, organization_id, group_id, member_ids)
    console.print(f"Removed {change.removed}; the group has {change.member_count} member(s).")


@group.command("delete")
@friendly
def delete(organization_id: str, group_id: str) -> None:
    """Delete a group (its members stay in the directory)."""
    groups.delete(context(), OPERATOR, organization_id, group_id)
    console.print("Group deleted.")
