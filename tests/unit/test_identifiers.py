"""Identifiers a person signs in with: email (lower-cased), username, phone (E.164)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admit.domain.errors import ValidationFailed
from admit.domain.identifiers import (
    IdentifierKind,
    candidates,
    normalise_email,
    normalise_phone,
    normalise_username,
)

# --- email -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ann@example.com", "ann@example.com"),
        ("Ann@Example.COM", "ann@example.com"),
        ("  ANN.SMITH@EXAMPLE.COM  ", "ann.smith@example.com"),
    ],
)
def test_email_is_normalised_to_lower_case(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored


@pytest.mark.parametrize("typed", ["", "ann", "ann@", "@example.com", "ann@@example.com", "ann smith@example.com"])
def test_invalid_email_is_refused_on_the_email_field(typed: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalise_email(typed)
    assert caught.value.field == "email"
    assert caught.value.code == "validation_failed"


def test_invalid_email_names_the_field_it_was_given() -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalise_email("nope", field="invitee_email")
    assert caught.value.field == "invitee_email"


# --- phone -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+49 30 901820", "+4930901820"),
        ("+4930901820", "+4930901820"),
        ("+49 (30) 901-820", "+4930901820"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 202 555 0123", "+12025550123"),
    ],
)
def test_valid_phone_number_is_normalised_to_e164(typed: str, e164: str) -> None:
    assert normalise_phone(typed) == e164


def test_national_phone_number_needs_a_region() -> None:
    assert normalise_phone("030 901820", region="DE") == "+4930901820"
    with pytest.raises(ValidationFailed):
        normalise_phone("030 901820")


@pytest.mark.parametrize("typed", ["", "12345", "+49 123", "+999 1234567", "phone", "+49 30 1", "+1 555"])
def test_invalid_phone_number_is_refused_on_the_phone_field(typed: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalise_phone(typed)
    assert caught.value.field == "phone"


# --- username ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ab", "ab"),
        ("Ann.Smith", "ann.smith"),
        ("  ann_smith-2 ", "ann_smith-2"),
        ("7up", "7up"),
        ("a" * 64, "a" * 64),
    ],
)
def test_username_is_lower_cased_and_accepted_within_the_rules(typed: str, stored: str) -> None:
    assert normalise_username(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["", "a", "a" * 65, ".ann", "-ann", "_ann", "ann smith", "ann@smith", "anné", "ann+1"],
)
def test_username_outside_the_rules_is_refused(typed: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalise_username(typed)
    assert caught.value.field == "username"


# --- sign-in candidates ------------------------------------------------------------------------


def test_identifier_with_at_sign_is_read_as_email_only() -> None:
    assert candidates("Ann@Example.com") == [("email", "ann@example.com")]


def test_invalid_email_identifier_has_no_candidates() -> None:
    assert candidates("ann@") == []


def test_international_phone_identifier_is_read_as_phone_only() -> None:
    assert candidates("+4930901820") == [("phone", "+4930901820")]
    assert candidates(" +49 30 901820 ") == [("phone", "+4930901820")]


def test_digits_only_identifier_may_be_a_phone_number_or_a_username() -> None:
    assert candidates("030901820", region="DE") == [("phone", "+4930901820"), ("username", "030901820")]
    assert candidates("030901820") == [("username", "030901820")]  # no region: not a phone number


def test_plain_name_identifier_is_read_as_username_only() -> None:
    assert candidates("Ann.Smith") == [("username", "ann.smith")]


def test_unreadable_identifier_has_no_candidates() -> None:
    assert candidates("!") == []
    assert candidates("") == []


def test_candidate_kinds_are_identifier_kinds() -> None:
    kinds = {kind for kind, _ in candidates("030901820", region="DE") + candidates("a@example.com")}
    assert kinds == {IdentifierKind.PHONE.value, IdentifierKind.USERNAME.value, IdentifierKind.EMAIL.value}


def test_phone_with_letters_is_refused_rather_than_truncated() -> None:
    with pytest.raises(ValidationFailed):
        normalise_phone("+49 30 90182O")


ATOM = "abcxyzABCXYZ0129!#$%&'*+/=?^_`{|}~-"


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=ATOM + ".", min_size=1, max_size=70),
    st.lists(st.text(alphabet="abcxyz0129-", min_size=1, max_size=66), min_size=1, max_size=4),
    st.sampled_from(["com", "de", "c0m", "123", "test", "local", "example", "io", "x"]),
)
def test_the_fast_path_for_plain_addresses_agrees_with_email_validator(local: str, labels: list[str], tld: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    from admit.domain.identifiers import _plain_email

    address = f"{local}@{'.'.join(labels)}.{tld}"
    fast = _plain_email(address)
    try:
        slow: str | None = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        slow = None
    assert fast is None or fast == slow, (address, fast, slow)


def test_common_addresses_take_the_fast_path_and_odd_ones_do_not() -> None:
    from admit.domain.identifiers import _plain_email

    assert _plain_email("Ann.Lee+work@Mail.Example.COM") == "ann.lee+work@mail.example.com"
    for odd in ('"quoted"@example.com', "x@xn--bcher-kva.com", "x@bücher.de", "a..b@x.com", "x@host.test", "x@a.123"):
        assert _plain_email(odd) is None
