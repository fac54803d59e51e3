"""The logo checks (admit.admin.branding.sanitise): what an SVG keeps of itself after the
allow-list, what is refused outright, PNG files read chunk by chunk; and the accent colour's
shape and contrast rule (admit.domain.branding)."""

from __future__ import annotations

import pytest
from support.images import chunk, png, svg

from admit.admin.branding import MAX_BYTES, sanitise
from admit.domain.branding import accent_color, contrast_with_white
from admit.domain.errors import ValidationFailed


def clean(data: bytes, content_type: str | None = "image/svg+xml") -> str:
    kind, out = sanitise("logo.svg", content_type, data)
    assert kind == "image/svg+xml"
    return out.decode()


def refused(data: bytes, content_type: str | None = None, filename: str | None = None) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        sanitise(filename, content_type, data)
    assert caught.value.field == "logo"
    return caught.value


def test_a_plain_svg_keeps_its_drawing() -> None:
    out = clean(
        svg('<g transform="scale(2)"><circle cx="5" cy="5" r="4" fill="#abc"/><text x="1">Acme &amp; Co</text></g>')
    )
    assert out.startswith('<svg viewBox="0 0 10 10" xmlns="http://www.w3.org/2000/svg">')
    assert '<circle cx="5" cy="5" r="4" fill="#abc" />' in out and "Acme &amp; Co" in out


def test_scripts_and_event_handlers_are_removed() -> None:
    out = clean(
        svg('<script>alert(1)</script><rect width="1" onclick="alert(2)" ONMOUSEOVER="x()"/>', 'onload="alert(3)"')
    )
    assert "script" not in out and "alert" not in out
    assert not any(handler in out.lower() for handler in ("onclick", "onmouseover", "onload"))
    assert '<rect width="1" />' in out


@pytest.mark.parametrize(
    "inner",
    [
        '<foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>',
        '<image href="https://tracker.example/pixel.png" width="1" height="1"/>',
        '<use xlink:href="https://evil.example/sprite.svg#icon"/>',
        '<use href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="/>',
        "<style>rect{fill:url(https://evil.example/x)}</style>",
        '<a href="javascript:alert(1)"><rect width="1"/></a>',
        '<animate attributeName="href" to="javascript:alert(1)"/>',
        '<?xml-stylesheet href="https://evil.example/x.css"?><rect width="1"/>',
    ],
)
def test_elements_that_reach_outside_or_run_code_are_dropped(inner: str) -> None:
    out = clean(svg(inner))
    for word in ("foreignObject", "image", "use", "style", "javascript", "evil", "tracker", "animate", "data:"):
        assert word not in out
    assert out.endswith("</svg>") or out.endswith("/>")


def test_local_references_stay_and_outside_ones_go() -> None:
    out = clean(
        svg(
            '<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>'
            '<rect id="r" width="5" fill="url(#g)" stroke="url(https://evil.example/p)"/><use xlink:href="#r"/>'
            '<rect width="5" style="fill:red;background:url(#g)"/><rect width="5" style="width:expression(alert(1))"/>'
        )
    )
    assert 'fill="url(#g)"' in out and '<use href="#r" />' in out
    assert "evil" not in out and "style" not in out and "expression" not in out


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>',
        b'<!DOCTYPE svg SYSTEM "http://evil.example/x.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><!doctype x></svg>',
    ],
)
def test_a_doctype_or_entities_are_refused(document: bytes) -> None:
    assert refused(document, "image/svg+xml").code == "svg_doctype"


@pytest.mark.parametrize(
    "document",
    [
        b"GIF89a\x01\x00\x01\x00",
        b"hello, I am text",
        b"<html><body>not svg</body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>',  # not well-formed
        b"<svg><rect/></svg>",  # no SVG namespace: not an SVG image
        b"<svg xmlns='http://www.w3.org/2000/svg'>\x00</svg>",
        b"\xff\xfe<\x00s\x00",  # not UTF-8
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&undefined;</text></svg>',
    ],
)
def test_what_is_not_an_svg_or_png_is_refused(document: bytes) -> None:
    assert refused(document).code == "not_an_image"


def test_a_file_over_the_limit_is_refused_before_it_is_read() -> None:
    big = svg("<!-- " + "x" * MAX_BYTES + " -->")
    error = refused(big, "image/svg+xml")
    assert error.code == "too_large" and "100 KB" in error.message


def test_an_empty_file_and_other_image_types_are_refused() -> None:
    assert refused(b"").code == "empty_logo"
    assert "PNG or SVG" in refused(png(), "image/jpeg").message


def test_a_declared_type_must_match_the_content() -> None:
    assert refused(svg(), "image/png").message == "this file is not a PNG image"
    assert refused(png(), "image/svg+xml").message == "this file is not a SVG image"
    assert refused(svg(), None, "logo.png").code == "not_an_image"


def test_deep_nesting_is_refused() -> None:
    assert "nested" in refused(svg("<g>" * 100 + "</g>" * 100), "image/svg+xml").message


def test_a_png_is_kept_without_its_text_chunks() -> None:
    data = png(16, 16, text=b"secret author")
    kind, out = sanitise("logo.png", "image/png", data)
    assert kind == "image/png" and b"secret author" not in out and b"tEXt" not in out
    assert out == png(16, 16)


@pytest.mark.parametrize(("width", "height"), [(1025, 10), (10, 1025), (4000, 4000)])
def test_a_png_larger_than_1024_pixels_is_refused(width: int, height: int) -> None:
    error = refused(png(width, height), "image/png")
    assert error.code == "too_large" and f"{width}×{height}" in error.message


def test_a_broken_png_is_refused() -> None:
    good = png()
    for broken in (
        good[:-4],  # cut short
        good[:23] + b"\x09" + good[24:],  # a header that does not match its checksum
        good + chunk(b"IDAT", b"after the end"),
        good[:8] + chunk(b"IEND", b""),  # no header, no data
    ):
        assert refused(broken, "image/png").code == "not_an_image"


@pytest.mark.parametrize(
    ("given", "stored"), [(None, None), ("#1F6FEB", "#1f6feb"), (" #000000 ", "#000000"), ("#7a1f00", "#7a1f00")]
)
def test_accent_colours_are_stored_lower_case(given: str | None, stored: str | None) -> None:
    assert accent_color(given) == stored


@pytest.mark.parametrize("given", ["1f6feb", "#1f6fe", "#1f6febb", "red", "#gggggg", "", 123, "#1f6\x00eb"])
def test_other_shapes_are_refused_on_the_field(given: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        accent_color(given)
    assert caught.value.field == "accent_color" and "six hexadecimal digits" in caught.value.message


@pytest.mark.parametrize("light", ["#ffffff", "#ffff00", "#7fb3ff", "#888888"])
def test_colours_too_light_for_white_text_are_refused(light: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        accent_color(light)
    assert caught.value.code == "low_contrast" and "4.5:1" in caught.value.message


def test_the_contrast_ratio_is_wcag_s() -> None:
    assert contrast_with_white("#000000") == pytest.approx(21.0)
    assert contrast_with_white("#ffffff") == pytest.approx(1.0)
    assert contrast_with_white("#767676") == pytest.approx(4.54, abs=0.01)  # the lightest grey that passes
    assert accent_color("#767676") == "#767676"
    with pytest.raises(ValidationFailed):
        accent_color("#777777")
