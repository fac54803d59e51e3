"""A new workspace's defaults are written once (domain.workspaces) and every door reads them."""

from __future__ import annotations

from dataclasses import asdict

import typer.main

from admit.admin.tenancy import WorkspaceSettings
from admit.domain.workspaces import DEFAULTS
from admit.entrypoints.cli.main import workspace_create
from admit.entrypoints.web.api.schemas import WorkspaceIn


def test_the_api_the_cli_and_the_use_case_start_a_workspace_alike() -> None:
    expected = asdict(DEFAULTS)
    settings = asdict(WorkspaceSettings())
    assert {name: settings[name] for name in expected} == expected
    api = WorkspaceIn(name="x").model_dump()
    assert {name: api[name] for name in expected} == expected
    params = {
        p.name: p.default
        for p in typer.main.get_command_from_info(  # the CLI's option defaults
            typer.models.CommandInfo(callback=workspace_create), pretty_exceptions_short=True, rich_markup_mode=None
        ).params
    }
    cli = {
        "invitation_lifetime_days": params["lifetime_days"],
        "password_policy": params["password_policy"],
        "default_language": params["language"],
        "email_enabled": params["email"],
        "sms_enabled": params["sms"],
        "auto_invite": params["auto_invite"],
        "sms_daily_cap": params["sms_daily_cap"],
        "scim_identifier_changes": params["scim_identifier_changes"],
    }
    assert cli == expected
