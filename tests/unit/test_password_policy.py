"""Password policies: the ``length`` preset (NIST/OWASP) and the ``composition`` preset."""

from __future__ import annotations

import random
import string
import unicodedata
from functools import cache
from importlib import resources

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from admit.domain.errors import ValidationFailed, WeakPassword
from admit.domain.passwords import MAX_LENGTH, PasswordPolicy, PolicyKind, without_patterns

LENGTH = PasswordPolicy.named("length")
COMPOSITION = PasswordPolicy.named("composition")

# Accented letters that NFC/NFKC compose into a single code point each (all distinct).
ACCENTED = "éàüöñçèìòùâêîôû"


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list, read independently of the code under test."""
    data = resources.files("admit.domain").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line for line in data.splitlines() if line and not line.startswith("#"))


def codes(policy: PasswordPolicy, password: str, context: tuple[str, ...] = ()) -> list[str]:
    return [rule.code for rule in policy.failures(password, context)]


def passphrase(length: int, seed: int) -> str:
    """A deterministic, random-looking passphrase of exactly ``length`` characters."""
    rng = random.Random(seed)
    words = []
    while sum(len(w) + 1 for w in words) < length:
        words.append("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9))))
    return " ".join(words)[:length]


# --- presets and rules -------------------------------------------------------------------------


def test_length_preset_needs_fifteen_characters() -> None:
    assert LENGTH.kind is PolicyKind.LENGTH
    assert LENGTH.min_length == 15
    assert LENGTH.max_length == 256


def test_composition_preset_needs_ten_characters() -> None:
    assert COMPOSITION.kind is PolicyKind.COMPOSITION
    assert COMPOSITION.min_length == 10
    assert COMPOSITION.max_length == 256


@pytest.mark.parametrize("name", ["", "strict", "LENGTH", "nist"])
def test_unknown_password_policy_name_is_refused(name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PasswordPolicy.named(name)
    assert caught.value.field == "password_policy"


def test_length_preset_rules_are_listed_in_words() -> None:
    rules = LENGTH.rules()
    assert [rule.code for rule in rules] == ["min_length", "max_length", "no_patterns", "not_common", "not_personal"]
    by_code = {rule.code: rule.text for rule in rules}
    assert "15" in by_code["min_length"]
    assert "256" in by_code["max_length"]
    assert all(rule.text for rule in rules)


def test_composition_preset_rules_add_the_character_classes() -> None:
    rules = COMPOSITION.rules()
    assert [rule.code for rule in rules] == [
        "min_length",
        "uppercase",
        "lowercase",
        "digit_or_symbol",
        "max_length",
        "no_patterns",
        "not_common",
        "not_personal",
    ]
    assert "10" in rules[0].text
    assert all(rule.text for rule in rules)


# --- length boundaries -------------------------------------------------------------------------


def test_length_preset_refuses_fourteen_characters() -> None:
    assert codes(LENGTH, "lanternquietbu") == ["min_length"]


@pytest.mark.parametrize("password", ["lanternquietbus", "lanternquietbusx"])
def test_length_preset_accepts_fifteen_and_sixteen_characters(password: str) -> None:
    assert codes(LENGTH, password) == []


def test_composition_preset_refuses_nine_characters() -> None:
    assert codes(COMPOSITION, "Tulip7rbx") == ["min_length"]


@pytest.mark.parametrize("password", ["Tulip7rbxq", "Tulip!rbxq", "Tulip rbx#"])
def test_composition_preset_accepts_ten_characters_with_upper_lower_and_digit_or_symbol(password: str) -> None:
    assert codes(COMPOSITION, password) == []


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("tulip7rbxqz", "uppercase"),
        ("TULIP7RBXQZ", "lowercase"),
        ("Tulipxrbxqz", "digit_or_symbol"),
        ("Tulip rbxqz", "digit_or_symbol"),  # a space is not a symbol
    ],
)
def test_composition_preset_refuses_a_missing_character_class_with_its_own_code(password: str, rule: str) -> None:
    assert codes(COMPOSITION, password) == [rule]


def test_length_preset_needs_no_composition() -> None:
    assert codes(LENGTH, "tomatoviolinglacier") == []
    assert codes(LENGTH, "correct horse battery staple") == []


@pytest.mark.parametrize("length", [64, 200, MAX_LENGTH])
def test_long_passphrases_up_to_the_maximum_are_accepted(length: int) -> None:
    password = passphrase(length, seed=length)
    assert len(password) == length
    assert codes(LENGTH, password) == []
    assert codes(COMPOSITION, password[0].upper() + password[1:-1] + "7") == []


def test_passphrase_longer_than_the_maximum_is_refused() -> None:
    password = passphrase(MAX_LENGTH + 1, seed=1)
    assert len(password) == 257
    assert codes(LENGTH, password) == ["max_length"]


# --- Unicode -----------------------------------------------------------------------------------


def test_decomposed_accents_count_as_one_character_each() -> None:
    """Fourteen accented letters typed decomposed are 28 code points but only 14 characters."""
    decomposed = unicodedata.normalize("NFD", ACCENTED[:14])
    assert len(decomposed) == 28  # would pass a naive length check
    assert codes(LENGTH, decomposed) == ["min_length"]


def test_fifteen_decomposed_accents_pass_the_length_preset() -> None:
    decomposed = unicodedata.normalize("NFD", ACCENTED)
    assert codes(LENGTH, decomposed) == []
    assert codes(LENGTH, ACCENTED) == []


def test_compatibility_characters_are_normalised_before_counting() -> None:
    """NFKC turns the ligature "ﬃ" into "ffi": nine letters and two ligatures are fifteen."""
    password = "ﬃbrownjumpﬃ"
    assert len(password) == 11  # would fail a naive length check
    assert len(unicodedata.normalize("NFKC", password)) == 15
    assert codes(LENGTH, password) == []


@pytest.mark.parametrize(
    "password",
    [
        "αβγδεζηθικλμνξο",  # Greek
        "日本語のパスワード長い文字列です",  # CJK
        "🐶🐱🐭🐹🐰🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵",  # emoji
    ],
    ids=["greek", "cjk", "emoji"],
)
def test_non_latin_passwords_are_counted_by_code_points(password: str) -> None:
    assert len(password) >= 15
    assert codes(LENGTH, password) == []
    assert codes(LENGTH, password[:14]) == ["min_length"]


def test_composition_preset_accepts_unicode_upper_and_lower_case_letters() -> None:
    assert codes(COMPOSITION, "Äpfelßüßö7") == []
    assert codes(COMPOSITION, "äpfelßüßö7") == ["uppercase"]
    assert codes(COMPOSITION, "ÄPFELÜÖ 7Ø") == ["lowercase"]


# --- common passwords and repetition -----------------------------------------------------------


@pytest.mark.parametrize("password", ["qazwsxedcrfvtgb", "momsanaladventure", "1qaz2wsx3edc4rfv"])
def test_listed_common_password_is_refused_even_when_long_enough(password: str) -> None:
    assert password in common_passwords()
    assert len(password) >= 15
    assert codes(LENGTH, password) == ["not_common"]


def test_common_password_is_refused_in_any_case() -> None:
    assert codes(LENGTH, "QazWsxEdcRfvTgb") == ["not_common"]


def test_short_common_password_breaks_both_rules() -> None:
    assert "password" in common_passwords()
    assert codes(LENGTH, "password") == ["min_length", "not_common"]


@pytest.mark.parametrize("password", ["aaaaaaaaaaaaaaaa", "abcabcabcabcabcabc", "abababababababab", "1234123412341234"])
def test_repetition_of_a_short_unit_is_refused(password: str) -> None:
    assert codes(LENGTH, password) == ["no_patterns", "not_common"]


@pytest.mark.parametrize("password", ["sunshine1234567", "Sunshine!!!2024", "qwertyuiop12345"])
def test_common_base_with_trailing_digits_or_symbols_is_refused(password: str) -> None:
    assert len(password) >= 15
    assert codes(LENGTH, password) == ["no_patterns", "not_common"]


def test_common_word_inside_a_long_passphrase_is_accepted() -> None:
    assert codes(LENGTH, "my sunshine is purple") == []
    assert codes(LENGTH, "password is not my horse") == []


def test_a_common_word_padded_with_a_sequence_is_refused() -> None:
    assert codes(LENGTH, "password1234567890") == ["no_patterns", "not_common"]  # "password" is all that counts


@pytest.mark.parametrize(
    "password",
    [
        "passwordpassword",  # a repeated word
        "passwortpasswort",  # the same in German
        "motdepassemotdepasse",  # and in French
        "123456789012345",  # a sequence through 9 → 0
        "qwertzuiopasdfgh",  # German keyboard rows
        "azertyuiopqsdfgh",  # French keyboard rows
        "qwertyuiopasdfgh",  # English ones
        "abcdefghijklmnop",  # the alphabet
        "9876543210zyxwvu",  # backwards
        "zxcvbnmasdfghjkl",  # bottom and middle rows
    ],
)
def test_keyboard_rows_sequences_and_repeats_do_not_count(password: str) -> None:
    assert "no_patterns" in codes(LENGTH, password)
    assert codes(COMPOSITION, password.capitalize() + "!")  # too short without the pattern, or common


@pytest.mark.parametrize(
    "password",
    [
        "correct-horse-battery-staple",
        "orchard-lantern-pebble-73",
        "mississippi-riverboat",  # letters that repeat inside a word still count
        "were there where they",  # "wer", "ert" are keyboard neighbours but not a run of four
        "bookkeeper committee",
        "Straße-Ölfass-Übel-9",
    ],
)
def test_passphrases_with_incidental_patterns_are_accepted(password: str) -> None:
    assert codes(LENGTH, password) == []


# --- personal context --------------------------------------------------------------------------

CONTEXT = ("ann.smith@example.com", "Ann Smith", "Acme Main")


@pytest.mark.parametrize(
    "password",
    [
        "ann.smithpurple",  # email local part + 6
        "purplesmithtable",  # family name + 11
        "acmetable42 main",  # workspace words + 7
        "ANN.SMITH@EXAMPLE.COM",  # the whole email, any case
    ],
)
def test_password_that_is_short_without_personal_context_is_refused(password: str) -> None:
    assert len(password) >= 15
    assert codes(LENGTH, password) == []
    assert codes(LENGTH, password, CONTEXT) == ["not_personal"]


def test_long_password_that_merely_contains_the_name_is_accepted() -> None:
    password = "smith" + "lanternquietbus"
    assert codes(LENGTH, password, CONTEXT) == []


def test_short_context_words_are_not_taken_out() -> None:
    """Words under four characters ("Ann") would strip too much from ordinary passwords."""
    assert codes(LENGTH, "annlanternquiet", ("Ann",)) == []


def test_context_is_compared_after_normalisation_and_case_folding() -> None:
    decomposed_name = unicodedata.normalize("NFD", "Zoë Müller")
    assert codes(LENGTH, "MÜLLERpurpletab", (decomposed_name,)) == ["not_personal"]


def test_remainder_without_context_is_counted_in_code_points_not_case_folded_letters() -> None:
    """Without the name, "ßaßeßißoßußyßq" is 14 characters: too short on its own, so too short
    beside the name. Case folding turns each "ß" into "ss" and must not lengthen it."""
    rest = "ßaßeßißoßußyßq"
    assert codes(LENGTH, rest) == ["min_length"]
    assert codes(LENGTH, "smith" + rest, CONTEXT) == ["not_personal"]


def test_empty_context_items_are_ignored() -> None:
    assert codes(LENGTH, "lanternquietbus", ("", "", "")) == []


# --- check() -----------------------------------------------------------------------------------


def test_check_raises_weak_password_on_the_password_field() -> None:
    with pytest.raises(WeakPassword) as caught:
        LENGTH.check("password")
    error = caught.value
    assert error.field == "password"
    assert error.code == "weak_password"
    assert isinstance(error, ValidationFailed)
    by_code = {rule.code: rule.text for rule in LENGTH.rules()}
    assert error.failures == [by_code["min_length"], by_code["not_common"]]


def test_check_passes_context_to_the_personal_rule() -> None:
    LENGTH.check("ann.smithpurple")
    with pytest.raises(WeakPassword):
        LENGTH.check("ann.smithpurple", CONTEXT)


def test_check_accepts_a_good_password() -> None:
    assert LENGTH.check("lanternquietbus") is None
    assert COMPOSITION.check("Tulip7rbxq") is None


# --- properties --------------------------------------------------------------------------------


@given(st.text(alphabet=string.ascii_letters, min_size=15, max_size=64))
def test_any_fifteen_to_sixty_four_letters_not_common_and_without_patterns_pass_the_length_preset(
    password: str,
) -> None:
    folded = password.casefold()
    assume(folded not in common_passwords())
    assume(len(set(folded)) > 4)  # a repeated unit of at most four letters has at most four distinct ones
    assume(len(without_patterns(password)) >= 15)  # runs like "abcd" or "qwer" do not count
    assert codes(LENGTH, password) == []


@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=15, max_size=64))
def test_a_password_is_refused_for_patterns_exactly_when_too_little_is_left_without_them(password: str) -> None:
    assert ("no_patterns" in codes(LENGTH, password)) == (len(without_patterns(password)) < 15)


@given(st.text(max_size=14))
def test_any_password_under_fifteen_code_points_after_normalisation_fails_the_length_preset(password: str) -> None:
    assume(len(unicodedata.normalize("NFKC", password)) < 15)
    assert "min_length" in codes(LENGTH, password)
    with pytest.raises(WeakPassword):
        LENGTH.check(password)


@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=0, max_size=9))
def test_any_password_under_ten_characters_fails_the_composition_preset(password: str) -> None:
    assert codes(COMPOSITION, password)[0] == "min_length"


def test_combining_mark_is_not_a_digit_or_symbol() -> None:
    policy = PasswordPolicy.named("composition")
    codes = [rule.code for rule in policy.failures("Abcdefghij\u0301")]
    assert "digit_or_symbol" in codes
