"""SCIM list paging (RFC 7644 §3.4.2.4), signed cursors (RFC 9865) and ListResponse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from admit.scim.errors import ScimError
from admit.scim.lists import CursorKey, Page, decode_cursor, encode_cursor, list_response, parse_page

KEY = b"instance secret"
AT = datetime(2026, 11, 26, 8, 0, 0, 123456, tzinfo=UTC)


def _page(start: str | None, count: str | None, cursor: str | None = None) -> Page:
    return parse_page(start, count, cursor, key=KEY)


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (None, None, Page(count=100, start_index=1)),
        ("1", "10", Page(count=10, start_index=1)),
        ("0", "10", Page(count=10, start_index=1)),  # below 1 counts as 1
        ("-5", "10", Page(count=10, start_index=1)),
        ("21", "-1", Page(count=0, start_index=21)),  # negative count counts as 0
        ("1", "5000", Page(count=1000, start_index=1)),  # capped at the maximum
        (" 3 ", "+2", Page(count=2, start_index=3)),
        (3, 2, Page(count=2, start_index=3)),
    ],
)
def test_index_paging(start: str | None, count: str | None, expected: Page) -> None:
    page = _page(start, count)
    assert page == expected and page.offset == expected.start_index - 1


@pytest.mark.parametrize(("start", "count"), [("x", None), (None, "1.5"), ("", None), (None, "9" * 65), ("1e3", None)])
def test_non_integers(start: str | None, count: str | None) -> None:
    with pytest.raises(ScimError) as caught:
        _page(start, count)
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidValue")


def test_max_count_is_the_callers() -> None:
    assert parse_page(None, "80", key=KEY, max_count=50, default_count=20).count == 50
    assert parse_page(None, None, key=KEY, max_count=50, default_count=20).count == 20


def test_cursor_round_trip() -> None:
    first = _page(None, "2", "")
    assert first == Page(count=2, cursor=True, after=None)
    cursor = encode_cursor(CursorKey(AT, "row-7"), key=KEY, scope="Users")
    assert parse_page(None, "2", cursor, key=KEY, scope="Users").after == CursorKey(AT, "row-7")
    other_zone = datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    assert decode_cursor(encode_cursor(CursorKey(other_zone, "x"), key=KEY), key=KEY).created_at == other_zone


def test_cursor_is_opaque_url_safe() -> None:
    cursor = encode_cursor(CursorKey(AT, "row-7"), key=KEY)
    assert all(c.isalnum() or c in "-_." for c in cursor)
    assert "row-7" not in cursor


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: _flip(c, 3),  # payload tampered
        lambda c: _flip(c, len(c) - 3),  # signature tampered
        lambda c: c + "x",
        lambda c: c.replace(".", ""),
        lambda c: "garbage",
        lambda c: c + "." + c,
        lambda c: "é" + c,
        lambda c: c * 20,  # too long
        lambda c: ".",
    ],
)
def test_tampered_cursors(mangle: object) -> None:
    cursor = encode_cursor(CursorKey(AT, "row-7"), key=KEY)
    with pytest.raises(ScimError) as caught:
        decode_cursor(mangle(cursor), key=KEY)  # type: ignore[operator]
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidCursor")


def test_cursor_of_another_key_or_scope() -> None:
    cursor = encode_cursor(CursorKey(AT, "row-7"), key=KEY, scope="Users?filter=a")
    for key, scope in ((b"other", "Users?filter=a"), (KEY, "Users?filter=b"), (KEY, "")):
        with pytest.raises(ScimError) as caught:
            decode_cursor(cursor, key=key, scope=scope)
        assert caught.value.scim_type == "invalidCursor"


def test_cursor_and_start_index_together() -> None:
    with pytest.raises(ScimError) as caught:
        _page("1", "2", "")
    assert caught.value.scim_type == "invalidValue"


def test_encode_refuses_naive_times_and_empty_keys() -> None:
    with pytest.raises(ValueError):
        encode_cursor(CursorKey(datetime(2026, 1, 1), "x"), key=KEY)  # noqa: DTZ001
    with pytest.raises(ValueError):
        encode_cursor(CursorKey(AT, "x"), key=b"")


def test_list_response() -> None:
    resources = [{"id": "a"}, {"id": "b"}]
    assert list_response(resources, 10, Page(count=2, start_index=3)) == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 10,
        "itemsPerPage": 2,
        "startIndex": 3,
        "Resources": resources,
    }
    with_cursor = list_response(resources, 10, Page(count=2, cursor=True), next_cursor="abc.def")
    assert with_cursor["nextCursor"] == "abc.def" and "startIndex" not in with_cursor
    last = list_response([], 0, Page(count=2, cursor=True))
    assert "nextCursor" not in last and last["Resources"] == [] and last["itemsPerPage"] == 0
