"""A workspace's branding as files, for its invitee pages (seen before anyone signs in, so no
sign-in is asked): the logo as stored by :mod:`admit.admin.branding` (already sanitised) and a
tiny stylesheet setting the accent colour (the pages' content security policy allows no inline
styles). Both URLs carry what they serve (the logo's digest, the colour), so they are cached
for good; any other name is the not-found page."""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import Response

from admit.admin import branding
from admit.domain.branding import EXTENSIONS, is_color
from admit.entrypoints.web.deps import Ctx, blocking
from admit.entrypoints.web.errors import not_found_page
from admit.entrypoints.web.routing import Router

router = Router(include_in_schema=False)
IMMUTABLE = "public, max-age=31536000, immutable"
LOGO = re.compile(r"logo-([0-9a-f]{64})\.(png|svg)")
THEME = re.compile(r"theme-([0-9a-f]{6})\.css")
# An SVG opened on its own runs nothing and fetches nothing, even if something slipped through.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
FILE_POLICY = "default-src 'none'; sandbox"


@router.get("/brand/{workspace_id}/{name}")
async def brand_file(workspace_id: str, name: str, request: Request, ctx: Ctx) -> Response:
    if len(workspace_id) <= 64 and (found := LOGO.fullmatch(name)):
        digest, extension = found.groups()
        stored = await blocking(lambda: branding.logo(ctx, workspace_id))
        if stored is not None and stored.digest == digest and EXTENSIONS.get(stored.content_type) == extension:
            policy = SVG_POLICY if extension == "svg" else FILE_POLICY
            return Response(bytes(stored.data), media_type=stored.content_type, headers=_headers(policy))
    elif len(workspace_id) <= 64 and (found := THEME.fullmatch(name)):
        color = "#" + found.group(1)
        stored_color = await blocking(lambda: branding.accent(ctx, workspace_id))
        if stored_color == color and is_color(color):  # checked again on the way out
            css = f":root{{--accent:{color}}}\n"
            return Response(css, media_type="text/css", headers=_headers(FILE_POLICY))
    return not_found_page(request)


def _headers(policy: str) -> dict[str, str]:
    """Cached for good (the name changes with the content); ``nosniff`` is added to every page."""
    return {"cache-control": IMMUTABLE, "content-security-policy": policy}
