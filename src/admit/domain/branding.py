"""A workspace's branding as every reader sees it: its accent colour (``#rrggbb``, readable as the
background of white button text) and where its logo is served. The rules for changing them are
in :mod:`admit.admin.branding` and :mod:`admit.admin.tenancy`; these are the shared facts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from admit.domain.errors import ValidationFailed
from admit.domain.ports import UnitOfWork

DEFAULT_ACCENT = "#1f6feb"
MIN_CONTRAST = 4.5  # WCAG AA for normal text: white button text on the accent colour
_HEX = re.compile(r"#[0-9a-f]{6}")
EXTENSIONS = {"image/png": "png", "image/svg+xml": "svg"}


def is_color(value: object) -> bool:
    """``value`` is a stored-shape colour: ``#`` and six lower-case hex digits."""
    return isinstance(value, str) and _HEX.fullmatch(value) is not None


def contrast_with_white(color: str) -> float:
    """The WCAG 2 contrast ratio of white against ``color`` (``#rrggbb``): 1 to 21."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def accent_color(value: object) -> str | None:
    """An accent colour as it is stored: ``#rrggbb`` in lower case, or None for the default.
    Refused (on the field ``accent_color``): any other shape, and a colour white button text
    cannot be read on (contrast below 4.5:1)."""
    if value is None:
        return None
    if not isinstance(value, str) or not _HEX.fullmatch(value.strip().lower()):
        raise ValidationFailed(
            "the accent colour must be # and six hexadecimal digits, such as #1f6feb", field="accent_color"
        )
    color = value.strip().lower()
    ratio = contrast_with_white(color)
    if ratio < MIN_CONTRAST:
        raise ValidationFailed(
            f"the accent colour {color} is too light: white text on it has a contrast of {ratio:.1f}:1, "
            f"at least {MIN_CONTRAST}:1 is needed; choose a darker colour",
            field="accent_color",
            code="low_contrast",
        )
    return color


def logo_path(workspace_id: str, digest: str, content_type: str) -> str:
    """Where a stored logo is served: its digest in the name, so the URL changes with the logo."""
    return f"/brand/{quote(workspace_id, safe='')}/logo-{digest}.{EXTENSIONS[content_type]}"


def theme_path(workspace_id: str, color: str) -> str:
    """The tiny stylesheet that sets ``--accent`` for a workspace's pages (inline styles are not
    allowed by the pages' content security policy)."""
    return f"/brand/{quote(workspace_id, safe='')}/theme-{color.removeprefix('#')}.css"


def page_brand(uow: UnitOfWork, workspace: Any) -> dict[str, Any]:
    """What an invitee page of ``workspace`` (a record or a mapping with ``id``, ``name`` and
    ``accent_color``) shows: the logo's path (alt text: the workspace's name) and the theme's."""
    values = workspace if isinstance(workspace, Mapping) else workspace._asdict()
    workspace_id: str = values["id"]
    color = values.get("accent_color")
    logo = uow.workspace_logos.digest(None, workspace_id)
    return {
        "name": values["name"],
        "logo_url": logo_path(workspace_id, logo.digest, logo.content_type) if logo is not None else None,
        "theme_url": theme_path(workspace_id, color) if isinstance(color, str) and is_color(color) else None,
    }


def email_brand(uow: UnitOfWork, workspace: Any, base_url: str) -> dict[str, Any]:
    """What an invitation email shows: the accent colour of its button and the logo's absolute
    URL (from the configured base URL), only for a PNG logo (many mail clients block SVG)."""
    logo = uow.workspace_logos.digest(None, workspace.id)
    url = None
    if logo is not None and logo.content_type == "image/png":
        url = f"{base_url}{logo_path(workspace.id, logo.digest, logo.content_type)}"
    return {"accent_color": workspace.accent_color if is_color(workspace.accent_color) else None, "logo_url": url}
