"""Periodic work of ``admit serve``: invitations whose time ran out are marked expired now and then
(lapsed ones already read as expired, so a late sweep changes nothing anyone sees), the reminders
workspaces send before invitations expire are queued, and the OpenID provider's expired codes and
token records are deleted, and so are SCIM request log rows older than 30 days."""

from __future__ import annotations

import asyncio
import logging

from admit.admin import invitations, scim_log
from admit.oidc_provider import housekeeping
from admit.shared import endings
from admit.shared.context import Context

log = logging.getLogger("admit.entrypoints.web")


async def expire_forever(context: Context, every: float) -> None:
    """Mark lapsed invitations expired now and then; lapsed ones already read as expired."""
    while True:
        try:
            count = await asyncio.to_thread(endings.expire_due, context)
            if count:
                log.info("expired %d invitation(s)", count)
            reminded = await asyncio.to_thread(invitations.remind_due, context)
            if reminded:
                log.info("queued %d invitation reminder(s)", reminded)
            await asyncio.to_thread(housekeeping.sweep, context)
            await asyncio.to_thread(scim_log.prune, context)
        except Exception:
            log.exception("expiring invitations failed; will try again")
        await asyncio.sleep(every)
