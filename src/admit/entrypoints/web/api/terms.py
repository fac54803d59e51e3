"""A signed-in member's side of a workspace's terms of service: what to accept, the download
(a POST: it is recorded, in a terms flow whose handle the client keeps), and the acceptance,
which the server allows only for a version downloaded in that flow — the page's rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Response

from admit.entrypoints.web.api import schemas as s
from admit.entrypoints.web.api.routing import api_router
from admit.entrypoints.web.deps import Bearer, Ctx, as_account
from admit.flows.terms import acceptance

router = api_router(tags=["terms"])
FLOW_HEADER = "Admit-Flow"
DOCUMENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document; the download is recorded in the terms flow named by the Admit-Flow header.",
        "content": {"application/pdf": {}, "text/plain": {}, "text/markdown": {}},
        "headers": {
            FLOW_HEADER: {
                "description": "The terms flow's handle (adm_flw_…, valid 1 hour): send it back as `flow`.",
                "schema": {"type": "string"},
            }
        },
    }
}


@router.get("/me/terms/{workspace_id}", response_model=s.MyTermsOut)
async def mine(workspace_id: str, ctx: Ctx, token: Bearer) -> Any:
    """The newest terms of a workspace the account is an active member of, if not accepted yet."""
    pending = await as_account(ctx, token, lambda account: acceptance.to_accept(ctx, account, workspace_id), quick=True)
    return {"workspace_id": workspace_id, "to_accept": pending}


@router.post("/me/terms/{workspace_id}/{version}/download", response_class=Response, responses=DOCUMENT)
async def download(workspace_id: str, version: int, ctx: Ctx, token: Bearer, body: s.TermsFlowIn) -> Response:
    """Download a version and record it in the client's terms flow (``flow``; a new flow when
    none is given or it is over). Accepting needs the handle this answers with."""
    held = body.flow
    doc = await as_account(
        ctx, token, lambda account_id: acceptance.record_download(ctx, account_id, workspace_id, version, held)
    )
    media = doc["content_type"] + ("; charset=utf-8" if doc["content_type"].startswith("text/") else "")
    return Response(
        doc["document"],
        media_type=media,
        headers={
            "content-disposition": f"attachment; filename*=UTF-8''{quote(doc['filename'])}",
            FLOW_HEADER: doc["flow"],
        },
    )


@router.post("/me/terms/{workspace_id}/{version}/accept", response_model=s.TermsAccepted)
async def accept(workspace_id: str, version: int, ctx: Ctx, token: Bearer, body: s.TermsFlowIn) -> Any:
    """Accept a version downloaded in the terms flow ``flow``: 409 ``terms_not_downloaded``
    without it, 409 ``terms_changed`` when a newer version was published since."""
    held = body.flow
    return await as_account(
        ctx, token, lambda account_id: acceptance.accept(ctx, account_id, workspace_id, version, held)
    )
