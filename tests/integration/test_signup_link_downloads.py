"""A department sign-up link's QR code (PNG, SVG) and poster (PDF), on both databases, through
the service, the console, the REST API and the command line: each decodes to the link's URL;
after a rotation the download holds the new URL and the old one answers the friendly page; the
downloads are attachments, never cached or sniffed; a paused link may be downloaded, a deleted one
not; a member is refused and another organization's link is not found."""

from __future__ import annotations

import stat
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from support.api import api_token, client
from support.outbox import token_for
from support.pages import browser_signed_in
from support.pdfs import decode_png, qr_codes, read
from support.processes import admit

from admit.admin import members, signup_links, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import NotFound, PermissionDenied, ValidationFailed
from admit.domain.roles import Role
from admit.flows.invitation import claims
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "lantern-orchard-pebble-58"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def shop(ctx: Context, operator: Actor, workspace: Any) -> Any:
    return tenancy.update_workspace(ctx, operator, workspace.id, {"departments": ["Nachtschicht Bäckerei", "Tills"]})


@pytest.fixture
def link(ctx: Context, operator: Actor, shop: Any) -> signup_links.SignUpLink:
    return signup_links.create(ctx, operator, shop.id, {"department": "Nachtschicht Bäckerei"})


def svg_root(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 (Admit's own output)


def person(ctx: Context, shop: Any, email: str, role: str) -> Any:
    members.provision(ctx, Actor.operator("test"), shop.id, MemberInput(email=email, role=role), invite=True)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    return browser_signed_in(ctx, email, PASSWORD)


def test_the_service_renders_the_links_url_and_refuses_what_it_must(
    ctx: Context, operator: Actor, shop: Any, link: signup_links.SignUpLink
) -> None:
    png = signup_links.qr_png(ctx, operator, shop.id, link.id)
    assert png.media_type == "image/png" and png.filename == "signup-qr-nachtschicht-backerei.png"
    assert png.url == link.url and decode_png(png.content) == [link.url]
    svg = signup_links.qr_svg(ctx, operator, shop.id, link.id)
    assert svg.media_type == "image/svg+xml" and svg_root(svg.content).tag == f"{SVG}svg"
    poster = signup_links.poster(ctx, operator, shop.id, link.id, "de")
    page = read(poster.content).pages[0]
    assert qr_codes(page) == [link.url] and poster.filename == "signup-poster-nachtschicht-backerei.pdf"
    assert "Scannen und beitreten" in page.extract_text() and "Nachtschicht Bäckerei" in page.extract_text()
    for language in ("xx", "", "<script>", "en\x00"):
        with pytest.raises(ValidationFailed) as refused:
            signup_links.poster(ctx, operator, shop.id, link.id, language)
        assert refused.value.field == "language"
    # A paused link may still be printed (its code answers the friendly page until resumed).
    signup_links.pause(ctx, operator, shop.id, link.id)
    assert decode_png(signup_links.qr_png(ctx, operator, shop.id, link.id).content) == [link.url]
    rotated = signup_links.rotate(ctx, operator, shop.id, link.id)
    assert decode_png(signup_links.qr_png(ctx, operator, shop.id, link.id).content) == [rotated.url] != [link.url]
    viewer = Actor(ActorKind.API_TOKEN, id="v", organization_id=shop.organization_id, role=Role.MEMBER, name="v")
    with pytest.raises(PermissionDenied):
        signup_links.poster(ctx, viewer, shop.id, rotated.id, "en")
    signup_links.delete(ctx, operator, shop.id, link.id)
    with pytest.raises(NotFound):
        signup_links.qr_svg(ctx, operator, shop.id, link.id)
    for hostile in ("0" * 32, "x\x00y", "<b>", "9" * 5000):
        with pytest.raises(NotFound):
            signup_links.qr_png(ctx, operator, shop.id, hostile)


def test_a_file_name_is_plain_ascii() -> None:
    assert signup_links.file_stem("Über-Straße & Co.") == "uber-strae-co"
    assert signup_links.file_stem('"; filename=evil.exe') == "filename-evil-exe"
    assert signup_links.file_stem("夜勤") == "link"
    assert len(signup_links.file_stem("a" * 500)) == 40


def test_the_api_serves_attachments_and_the_rotated_url(
    ctx: Context, operator: Actor, shop: Any, link: signup_links.SignUpLink
) -> None:
    api = client(ctx, api_token(ctx, shop.organization_id, role="admin"))
    base = f"/api/v1/workspaces/{shop.id}/signup-links/{link.id}"
    png = api.get(f"{base}/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"] == 'attachment; filename="signup-qr-nachtschicht-backerei.png"'
    assert png.headers["cache-control"] == "no-store" and png.headers["x-content-type-options"] == "nosniff"
    assert decode_png(png.content) == [link.url]
    svg = api.get(f"{base}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.headers["content-disposition"].startswith("attachment;") and svg.headers["cache-control"] == "no-store"
    assert svg_root(svg.content).find(f"{SVG}path") is not None
    poster = api.get(f"{base}/poster.pdf", params={"language": "fr"})
    assert poster.status_code == 200 and poster.headers["content-type"] == "application/pdf"
    page = read(poster.content).pages[0]
    assert qr_codes(page) == [link.url] and "Scannez pour rejoindre" in page.extract_text()
    assert api.get(f"{base}/poster.pdf", params={"language": "xx"}).status_code == 422
    rotated = api.post(f"{base}/rotate").json()
    assert decode_png(api.get(f"{base}/qr.png").content) == [rotated["url"]]
    assert qr_codes(read(api.get(f"{base}/poster.pdf").content).pages[0]) == [rotated["url"]]
    old = client(ctx).get(link.url.removeprefix("https://admit.example.test"))
    assert old.status_code == 410 and "not valid" in old.text
    assert client(ctx).get(rotated["url"].removeprefix("https://admit.example.test")).status_code == 200
    assert api.get(f"/api/v1/workspaces/{shop.id}/signup-links/{'0' * 32}/qr.png").status_code == 404
    assert api.delete(base).status_code == 204
    assert api.get(f"{base}/poster.pdf").status_code == 404


def test_the_api_refuses_members_and_other_organizations(
    ctx: Context, operator: Actor, shop: Any, link: signup_links.SignUpLink
) -> None:
    base = f"/api/v1/workspaces/{shop.id}/signup-links/{link.id}"
    member = client(ctx, api_token(ctx, shop.organization_id, role="member"))
    for file in ("qr.png", "qr.svg", "poster.pdf"):
        refused = member.get(f"{base}/{file}")
        assert refused.status_code == 403 and "/join/" not in refused.text
    other = tenancy.create_organization(ctx, operator, "Other", plan="business", seats=5)
    stranger = client(ctx, api_token(ctx, other.id, role="owner"))
    theirs = tenancy.create_workspace(ctx, operator, other.id, "Theirs")
    for file in ("qr.png", "qr.svg", "poster.pdf"):
        assert stranger.get(f"{base}/{file}").status_code == 404
        assert stranger.get(f"/api/v1/workspaces/{theirs.id}/signup-links/{link.id}/{file}").status_code == 404
    assert client(ctx).get(f"{base}/qr.png").status_code == 401


def test_the_console_offers_the_downloads(
    ctx: Context, operator: Actor, shop: Any, link: signup_links.SignUpLink
) -> None:
    admin = person(ctx, shop, "boss@example.com", "admin")
    base = f"/admin/{shop.id}/signup"
    page = admin.get(base).text
    for file in ("qr.png", "qr.svg", "poster.pdf"):
        assert f'href="{base}/links/{link.id}/{file}" download' in page
    assert "QR (PNG)" in page and "Poster (PDF)" in page
    png = admin.get(f"{base}/links/{link.id}/qr.png")
    assert png.status_code == 200 and decode_png(png.content) == [link.url]
    svg = admin.get(f"{base}/links/{link.id}/qr.svg")
    assert svg.status_code == 200 and svg_root(svg.content).tag == f"{SVG}svg"
    for answer in (png, svg):
        assert answer.headers["content-disposition"].startswith('attachment; filename="signup-qr-nachtschicht')
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
    poster = admin.get(f"{base}/links/{link.id}/poster.pdf")  # in the console's language
    assert poster.status_code == 200 and poster.headers["content-type"] == "application/pdf"
    page_one = read(poster.content).pages[0]
    assert qr_codes(page_one) == [link.url] and "Scan to join" in page_one.extract_text()
    rotated = signup_links.rotate(ctx, operator, shop.id, link.id)
    assert decode_png(admin.get(f"{base}/links/{link.id}/qr.png").content) == [rotated.url]
    unknown = admin.get(f"{base}/links/{link.id}/qr.gif")
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
    missing = admin.get(f"{base}/links/{'0' * 32}/qr.png")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    other = tenancy.create_organization(ctx, operator, "Other", plan="business", seats=5)
    theirs = tenancy.create_workspace(ctx, operator, other.id, "Theirs")
    foreign = signup_links.create(
        ctx,
        operator,
        tenancy.update_workspace(ctx, operator, theirs.id, {"departments": ["Tills"]}).id,
        {"department": "Tills"},
    )
    assert admin.get(f"{base}/links/{foreign.id}/qr.png").status_code == 404
    assert admin.get(f"/admin/{theirs.id}/signup/links/{foreign.id}/qr.png").status_code in (403, 404)


def test_a_member_gets_no_download_in_the_console(
    ctx: Context, operator: Actor, shop: Any, link: signup_links.SignUpLink
) -> None:
    member = person(ctx, shop, "crew@example.com", "member")
    answer = member.get(f"/admin/{shop.id}/signup/links/{link.id}/qr.png", follow_redirects=False)
    assert answer.status_code == 403 and link.url not in answer.text
    assert "image/png" not in answer.headers.get("content-type", "")


def test_the_cli_writes_the_qr_codes_and_the_poster(
    database_url: str, ctx: Context, operator: Actor, shop: Any, link: signup_links.SignUpLink, tmp_path: Path
) -> None:
    def cli(*args: str, check: bool = True) -> Any:
        return admit(database_url, *args, check=check, ADMIT_BASE_URL="https://admit.example.test")

    png, svg, pdf = tmp_path / "code.png", tmp_path / "code.svg", tmp_path / "poster.pdf"
    wrote = cli("signup-link", "qr", shop.id, link.id, "--output", str(png))
    assert "Wrote" in wrote.stdout
    assert decode_png(png.read_bytes()) == [link.url]
    assert stat.S_IMODE(png.stat().st_mode) == 0o600
    cli("signup-link", "qr", shop.id, link.id, "-o", str(svg))
    assert svg_root(svg.read_bytes()).tag == f"{SVG}svg"
    cli("signup-link", "poster", shop.id, link.id, "--output", str(pdf), "--language", "de")
    assert qr_codes(read(pdf.read_bytes()).pages[0]) == [link.url]
    again = cli("signup-link", "qr", shop.id, link.id, "--output", str(png), check=False)
    assert again.returncode != 0 and "exists" in again.stdout + again.stderr
    wrong = cli("signup-link", "qr", shop.id, link.id, "--output", str(tmp_path / "a.gif"), check=False)
    assert wrong.returncode != 0 and ".png or .svg" in wrong.stdout + wrong.stderr
    wrong = cli(
        "signup-link",
        "poster",
        shop.id,
        link.id,
        "-o",
        str(tmp_path / "b.pdf"),
        "--language",
        "xx",
        check=False,
    )
    assert wrong.returncode == 1 and "language" in wrong.stdout + wrong.stderr and not (tmp_path / "b.pdf").exists()
    cli("signup-link", "rotate", shop.id, link.id)
    rotated = signup_links.get(ctx, operator, shop.id, link.id)
    cli("signup-link", "qr", shop.id, link.id, "--output", str(tmp_path / "new.png"))
    assert decode_png((tmp_path / "new.png").read_bytes()) == [rotated.url] != [link.url]
    cli("signup-link", "delete", shop.id, link.id)
    gone = cli("signup-link", "qr", shop.id, link.id, "-o", str(tmp_path / "gone.png"), check=False)
    assert gone.returncode == 1 and "not found" in gone.stdout + gone.stderr and not (tmp_path / "gone.png").exists()
