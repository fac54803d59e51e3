"""A workspace's logo: uploaded by someone who may manage its settings (the console's settings
page, ``PUT /api/v1/workspaces/{id}/logo``), shown on the invitee pages and in invitation emails.

Only two kinds are stored, each checked here and nowhere else:

* PNG, at most 100 KB and 1024×1024 pixels: its signature, every chunk's length and checksum
  and its header are read (no image library is needed); chunks that carry text or metadata are
  dropped.
* SVG, at most 100 KB: parsed without any document type (a DOCTYPE or entity declaration is
  refused, so no entity expansion or external fetch can happen), then rebuilt from an allow-list
  of drawing elements and presentation attributes. Scripts, event handlers, foreign objects,
  embedded images, style sheets and every reference to anything outside the file are dropped.

The accent colour is a workspace setting (:func:`admit.admin.tenancy.update_workspace`)."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from admit.domain.branding import EXTENSIONS, is_color, logo_path
from admit.domain.errors import ValidationFailed
from admit.domain.events import EventType
from admit.domain.roles import Permission
from admit.shared.access import workspace_for
from admit.shared.context import Actor, Context, record

MAX_BYTES = 100 * 1024
MAX_SIDE = 1024  # pixels, each way (PNG)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_DEPTH = 64
MAX_ELEMENTS = 5000

# Chunks a logo needs to be drawn as intended; any other (text, EXIF, time...) is dropped.
PNG_CHUNKS = frozenset(
    {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"bKGD"}
)
SVG_ELEMENTS = frozenset(
    {
        "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan",
        "defs", "linearGradient", "radialGradient", "stop", "title", "desc", "use",
    }
)  # fmt: skip
SVG_ATTRIBUTES = frozenset(
    {
        "id", "class", "version", "viewBox", "preserveAspectRatio", "width", "height", "x", "y",
        "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "dx", "dy", "d", "points",
        "transform", "fill", "fill-opacity", "fill-rule", "clip-rule", "stroke", "stroke-width",
        "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset",
        "stroke-opacity", "opacity", "color", "display", "visibility", "font-family", "font-size",
        "font-weight", "font-style", "text-anchor", "dominant-baseline", "letter-spacing", "word-spacing",
        "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod",
        "style", "href", "role", "aria-label", "aria-hidden", "lang",
    }
)  # fmt: skip
_LOCAL_URL = re.compile(r"""url\(\s*(['"]?)#[A-Za-z_][\w.-]*\1\s*\)""")
_LOCAL_HREF = re.compile(r"#[A-Za-z_][\w.-]*")
_DANGEROUS = re.compile(r"url\(|expression|javascript:|@import|\\|<", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LogoView:
    """A stored logo without its data: its type, digest and where it is served (a path)."""

    content_type: str
    digest: str
    url: str
    updated_at: datetime


def _refused(message: str, code: str = "unsupported_logo") -> ValidationFailed:
    return ValidationFailed(message, field="logo", code=code)


def set_logo(
    ctx: Context,
    actor: Actor,
    workspace_id: str,
    filename: str | None,
    content_type: str | None,
    data: bytes,
) -> LogoView:
    """Store ``data`` as the workspace's logo (replacing any), once it passed the checks above."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
        kind, clean = sanitise(filename, content_type, data)
        digest = hashlib.sha256(clean).hexdigest()
        uow.workspace_logos.put(
            workspace.organization_id, workspace.id, content_type=kind, data=clean, digest=digest, updated_at=now
        )
        record(
            uow, actor, EventType.WORKSPACE_LOGO_CHANGED, "workspace", workspace.id, now,
            organization_id=workspace.organization_id, workspace_id=workspace.id,
            content_type=kind, digest=digest, size=len(clean),
        )  # fmt: skip
        uow.commit()
    return LogoView(kind, digest, logo_path(workspace.id, digest, kind), now)


def remove_logo(ctx: Context, actor: Actor, workspace_id: str) -> bool:
    """Remove the workspace's logo (the invitee pages show the name alone); False if it had none."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
        removed = uow.workspace_logos.remove(workspace.organization_id, workspace.id)
        if removed:
            record(
                uow, actor, EventType.WORKSPACE_LOGO_REMOVED, "workspace", workspace.id, now,
                organization_id=workspace.organization_id, workspace_id=workspace.id,
            )  # fmt: skip
        uow.commit()
    return removed


def current_logo(ctx: Context, actor: Actor, workspace_id: str) -> LogoView | None:
    """The workspace's logo as its settings page previews it (manage settings)."""
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_SETTINGS)
        found = uow.workspace_logos.digest(workspace.organization_id, workspace.id)
    if found is None:
        return None
    return LogoView(
        found.content_type, found.digest, logo_path(workspace.id, found.digest, found.content_type), found.updated_at
    )


def logo(ctx: Context, workspace_id: str) -> Any | None:
    """The stored logo (content type, data, digest) for anyone: invitee pages are seen before
    signing in. Only what :func:`set_logo` stored, which is already sanitised."""
    with ctx.uow() as uow:
        return uow.workspace_logos.get(None, workspace_id)


def sanitise(filename: str | None, content_type: str | None, data: bytes) -> tuple[str, bytes]:
    """(content type, bytes to store) for an uploaded logo, or ``ValidationFailed`` on ``logo``."""
    if not isinstance(data, bytes) or not data:
        raise _refused("the logo file is empty", "empty_logo")
    if len(data) > MAX_BYTES:
        raise _refused(f"the logo is larger than {MAX_BYTES // 1024} KB", "too_large")
    declared = _declared(filename, content_type)
    found = "image/png" if data.startswith(PNG_SIGNATURE) else "image/svg+xml"
    if declared is not None and declared != found:
        raise _refused(f"this file is not a {'PNG' if declared == 'image/png' else 'SVG'} image", "not_an_image")
    return found, (_png(data) if found == "image/png" else _svg(data))


def _declared(filename: str | None, content_type: str | None) -> str | None:
    """The type the upload claims: its content type, else its name's extension; None if neither says."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind in EXTENSIONS:
        return kind
    if kind not in ("", "application/octet-stream"):
        raise _refused("the logo must be a PNG or SVG image")
    name = (filename or "").lower()
    if name.endswith(".png"):
        return "image/png"
    if name.endswith(".svg"):
        return "image/svg+xml"
    return None


def _png(data: bytes) -> bytes:
    """The PNG with only the chunks in :data:`PNG_CHUNKS`, after reading every chunk."""
    broken = _refused("this file is not a valid PNG image", "not_an_image")
    position, kept, seen = len(PNG_SIGNATURE), [PNG_SIGNATURE], list[bytes]()
    while position < len(data):
        if position + 12 > len(data):
            raise broken
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data) or not kind.isalpha():
            raise broken
        body = data[position + 8 : end - 4]
        if struct.unpack(">I", data[end - 4 : end])[0] != zlib.crc32(kind + body):
            raise broken
        if not seen and kind != b"IHDR":
            raise broken
        seen.append(kind)
        if kind == b"IHDR":
            if len(body) != 13 or len(seen) > 1:
                raise broken
            width, height = struct.unpack(">II", body[:8])
            if not width or not height:
                raise broken
            if width > MAX_SIDE or height > MAX_SIDE:
                raise _refused(
                    f"the logo is {width}×{height} pixels; at most {MAX_SIDE}×{MAX_SIDE} are allowed", "too_large"
                )
        if kind in PNG_CHUNKS:
            kept.append(data[position:end])
        position = end
        if kind == b"IEND":
            break
    if position != len(data) or not seen or seen[-1] != b"IEND" or b"IDAT" not in seen:
        raise broken
    return b"".join(kept)


def _svg(data: bytes) -> bytes:
    """The SVG rebuilt from the allow-lists, or refused."""
    not_svg = _refused("the logo must be a PNG or SVG image", "not_an_image")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise not_svg from None
    if re.search(r"<!\s*(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise _refused("SVG files with a DOCTYPE or entity declarations are not accepted", "svg_doctype")
    if not text.lstrip().startswith("<"):
        raise not_svg
    try:
        root = ET.fromstring(text)  # noqa: S314 - no DTD can reach the parser (refused above)
    except ET.ParseError:
        raise not_svg from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise not_svg
    count = [0]
    clean = _element(root, 0, count)
    assert clean is not None
    out = ET.tostring(clean, encoding="unicode").encode()
    if len(out) > MAX_BYTES:
        raise _refused(f"the logo is larger than {MAX_BYTES // 1024} KB", "too_large")
    return out


def _element(source: ET.Element, depth: int, count: list[int]) -> ET.Element | None:
    """A copy of ``source`` with its allowed attributes and children; None if it is not allowed."""
    if depth > MAX_DEPTH:
        raise _refused("the SVG is nested too deeply", "not_an_image")
    count[0] += 1
    if count[0] > MAX_ELEMENTS:
        raise _refused(f"the SVG has more than {MAX_ELEMENTS} elements", "too_large")
    namespace, _, name = source.tag.rpartition("}")
    if namespace != "{" + SVG_NS or name not in SVG_ELEMENTS:
        return None
    attributes = {}
    for key, value in source.attrib.items():
        allowed = _attribute(key, value)
        if allowed is not None:
            attributes[allowed] = value
    if name == "use" and "href" not in attributes:
        return None  # a <use> of anything but this file's own shapes
    if depth == 0:
        attributes["xmlns"] = SVG_NS  # written as a plain attribute: every element is in it
    copy = ET.Element(name, attributes)
    copy.text = source.text
    for child in source:
        kept = _element(child, depth + 1, count)
        if kept is not None:
            copy.append(kept)
            kept.tail = child.tail
    return copy


def _attribute(key: str, value: str) -> str | None:
    """The name ``key`` is kept under, or None when it is dropped."""
    if key == f"{{{XLINK_NS}}}href":
        key = "href"
    if key not in SVG_ATTRIBUTES or key.lower().startswith("on"):
        return None
    if key == "href":
        return key if _LOCAL_HREF.fullmatch(value.strip()) else None
    if key == "style" and "url(" in value.lower():
        return None
    if _DANGEROUS.search(_LOCAL_URL.sub("", value)):
        return None  # only url(#local) references; nothing a style could run or fetch
    return key


def accent(ctx: Context, workspace_id: str) -> str | None:
    """The workspace's accent colour for its theme stylesheet (anyone: invitee pages), if it has
    one of the stored shape; None otherwise or for an unknown workspace."""
    with ctx.uow() as uow:
        workspace = uow.workspaces.get(None, workspace_id)
    color = workspace.accent_color if workspace is not None else None
    return color if is_color(color) else None
