"""Changes held by the SCIM deprovisioning brake in a workspace (:mod:`admit.admin.scim_brake`):
listed, released (applied) or dismissed by whoever may manage its people."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from admit.admin import scim_brake
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.api.schemas import In
from admit.entrypoints.web.deps import Bearer, Ctx, as_caller

router = api_router(tags=["SCIM holds"])
PATH = "/workspaces/{workspace_id}/scim-holds"
HoldId = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class ScimHoldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    member_id: str
    action: Literal["deactivate", "delete"]
    created_at: datetime
    name: str
    address: str | None = Field(description="The member's email address or username.")
    member_status: str
    token_name: str = Field(description="The SCIM token that asked for the change.")


class ScimHoldsDecision(In):
    ids: list[HoldId] | None = Field(None, max_length=scim_brake.MAX_IDS, description="The holds to decide.")
    all: StrictBool = Field(False, description="Every held change of the workspace instead of `ids`.")

    @model_validator(mode="after")
    def _one_of(self) -> ScimHoldsDecision:
        if (self.ids is None) == (not self.all):
            raise ValueError("give either ids or all: true")
        return self


class ScimHoldsDecided(BaseModel):
    done: list[str]
    refused: list[dict[str, str]] = Field(description="Holds left held, each with the reason.")


def _answer(outcome: scim_brake.Decided) -> dict[str, Any]:
    return {"done": outcome.done, "refused": [{"id": i, "reason": why} for i, why in outcome.refused]}


@router.get(PATH, response_model=list[ScimHoldOut])
async def list_scim_holds(workspace_id: str, ctx: Ctx, token: Bearer) -> Any:
    """The deactivations and removals the brake holds, the oldest first."""
    return await as_caller(ctx, token, lambda actor: scim_brake.list_holds(ctx, actor, workspace_id), quick=True)


@router.post(f"{PATH}/release", response_model=ScimHoldsDecided)
async def release_scim_holds(workspace_id: str, body: ScimHoldsDecision, ctx: Ctx, token: Bearer) -> Any:
    """Apply the held changes (`ids`, or `all: true`): the members are suspended or removed."""
    ids = None if body.all else body.ids
    outcome = await as_caller(ctx, token, lambda actor: scim_brake.release(ctx, actor, workspace_id, ids))
    return _answer(outcome)


@router.post(f"{PATH}/dismiss", response_model=ScimHoldsDecided)
async def dismiss_scim_holds(workspace_id: str, body: ScimHoldsDecision, ctx: Ctx, token: Bearer) -> Any:
    """Drop the held changes (`ids`, or `all: true`): the members stay as they are."""
    ids = None if body.all else body.ids
    outcome = await as_caller(ctx, token, lambda actor: scim_brake.dismiss(ctx, actor, workspace_id, ids))
    return _answer(outcome)
