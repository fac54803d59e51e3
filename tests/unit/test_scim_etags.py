"""SCIM weak ETags and If-Match / If-None-Match (RFC 7644 §3.14)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from admit.scim.errors import ScimError
from admit.scim.etags import Outcome, evaluate, make_etag, parse_tags

TAG = make_etag(3, datetime(2026, 1, 1, tzinfo=UTC))
OPAQUE = TAG[3:-1]


def test_make_etag_is_weak_and_stable() -> None:
    assert TAG.startswith('W/"') and TAG.endswith('"')
    assert make_etag(3, datetime(2026, 1, 1, tzinfo=UTC)) == TAG
    assert make_etag(4, datetime(2026, 1, 1, tzinfo=UTC)) != TAG
    assert make_etag("a", "b") != make_etag("ab", "")


@pytest.mark.parametrize(
    "header", [TAG, f'"{OPAQUE}"', f'w/"{OPAQUE}"', f'"other", {TAG}', "*", f' W/"x" ,  "{OPAQUE}" ']
)
def test_if_match_that_matches_proceeds(header: str) -> None:
    assert evaluate(TAG, if_match=header, safe=False) is Outcome.PROCEED


@pytest.mark.parametrize("header", ['W/"other"', '"a", "b"'])
def test_if_match_that_does_not_match_is_412(header: str) -> None:
    with pytest.raises(ScimError) as caught:
        evaluate(TAG, if_match=header, safe=False)
    assert caught.value.status == 412
    assert caught.value.body()["status"] == "412"


def test_if_match_star_on_a_missing_resource_is_412() -> None:
    with pytest.raises(ScimError):
        evaluate(None, if_match="*", safe=False)


def test_if_none_match() -> None:
    assert evaluate(TAG, if_none_match=TAG, safe=True) is Outcome.NOT_MODIFIED
    assert evaluate(TAG, if_none_match="*", safe=True) is Outcome.NOT_MODIFIED
    assert evaluate(TAG, if_none_match='W/"old"', safe=True) is Outcome.PROCEED
    assert evaluate(None, if_none_match="*", safe=False) is Outcome.PROCEED  # create only if absent
    with pytest.raises(ScimError) as caught:
        evaluate(TAG, if_none_match="*", safe=False)
    assert caught.value.status == 412


def test_no_headers_proceed() -> None:
    assert evaluate(TAG, safe=False) is Outcome.PROCEED
    assert evaluate(None, safe=True) is Outcome.PROCEED


@pytest.mark.parametrize("header", ["abc", 'W/"a"b"', '"a', ",", "", '"' + "a" * 5000 + '"'])
def test_malformed_headers_are_400(header: str) -> None:
    with pytest.raises(ScimError) as caught:
        evaluate(TAG, if_match=header, safe=False)
    assert caught.value.status == 400


def test_commas_inside_quotes() -> None:
    assert parse_tags('"a,b", W/"c"') == ["a,b", "c"]
    assert parse_tags(" * ") is None
