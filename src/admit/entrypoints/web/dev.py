"""The development mailbox: every email and SMS Admit would send, readable in the browser.

Mounted only in dev mode. Messages are rendered from the outbox with the same templates the
worker uses, so what you read here is what a person would receive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from admit.adapters.delivery.render import Rendered, render
from admit.domain.errors import NotFound
from admit.entrypoints.web.deps import Ctx
from admit.entrypoints.web.routing import Router
from admit.entrypoints.workers.outbox_worker import RENDERED

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = Router(include_in_schema=False)


@router.get("/dev/mailbox", response_class=HTMLResponse)
def mailbox(request: Request, ctx: Ctx) -> Any:
    with ctx.uow() as uow:
        rows = uow.outbox.list(limit=200)
    messages = [{**row._mapping, "subject": _subject(row)} for row in rows]
    response = templates.TemplateResponse(request, "mailbox.html", {"messages": messages})
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/dev/mailbox/{message_id}", response_class=HTMLResponse)
def message(request: Request, message_id: int, ctx: Ctx) -> Any:
    with ctx.uow() as uow:
        row = uow.outbox.get(None, message_id)
    if row is None:
        raise NotFound("no such message in the mailbox")
    rendered = _rendered(row)
    response = templates.TemplateResponse(request, "mailbox_message.html", {"message": row, "rendered": rendered})
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _rendered(row: Any) -> Rendered:
    """What the person reads; for a back-channel logout (to an app, not a person), where it goes."""
    if row.channel not in RENDERED:
        about = f"{row.kind} to {row.payload.get('uri', '')} (sid {row.payload.get('sid', '')})"
        return Rendered(subject=about, text=about, html="", sms=about)
    return render(row.kind, row.language, dict(row.payload))


def _subject(row: Any) -> str:
    try:
        rendered = _rendered(row)
    except Exception:
        return f"({row.kind})"
    return rendered.subject if row.channel == "email" else rendered.sms
