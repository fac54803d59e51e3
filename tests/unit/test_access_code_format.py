"""The access code's format: 30 symbols that cannot be confused aloud or on a phone, 16 of them
in four groups (≈ 78.5 bits, a 4-symbol public lookup key and a 58.9-bit secret), typed in any
case with spaces or dashes; anything else is refused before it reaches the database."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from admit.domain import access_codes as codes
from admit.domain.errors import ValidationFailed


def test_the_alphabet_has_no_look_alikes_and_the_code_about_80_bits() -> None:
    assert len(set(codes.ALPHABET)) == len(codes.ALPHABET) == 30
    assert not set("01ILOU") & set(codes.ALPHABET)
    assert codes.ALPHABET.upper() == codes.ALPHABET
    assert math.isclose(codes.BITS, 16 * math.log2(30)) and 78 < codes.BITS < 79
    assert math.isclose(codes.SECRET_BITS, 12 * math.log2(30)) and codes.SECRET_BITS > 58


def test_generated_codes_are_grouped_fresh_and_spread_over_the_alphabet() -> None:
    made = [codes.generate() for _ in range(2000)]
    assert all(re.fullmatch(r"([2-9A-HJKMNP-TV-Z]{4}-){3}[2-9A-HJKMNP-TV-Z]{4}", c) for c in made)
    assert len(set(made)) == len(made)
    counts = Counter("".join(made).replace("-", ""))
    assert set(counts) == set(codes.ALPHABET)
    expected = 2000 * 16 / 30
    assert all(abs(n - expected) < expected * 0.25 for n in counts.values())  # no symbol favoured


def test_typing_ignores_case_spaces_and_dashes() -> None:
    assert codes.normalise(" k7qm 3xpa–9trd-w2hf ") == "K7QM3XPA9TRDW2HF"
    assert codes.lookup_key("K7QM3XPA9TRDW2HF") == "K7QM"
    key = "secret"
    assert codes.digest(key, "K7QM3XPA9TRDW2HF") != codes.digest("other", "K7QM3XPA9TRDW2HF")
    assert codes.same(codes.digest(key, "K7QM3XPA9TRDW2HF"), codes.digest(key, codes.normalise("k7qm-3xpa-9trd-w2hf")))


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "K7QM-3XPA-9TRD",
        "K7QM-3XPA-9TRD-W2HF-A",
        "O7QM-3XPA-9TRD-W2HF",
        "K7QM-3XPA-9TRD-W2H\x00",
        "x" * 65,
        12,
        None,
    ],
)
def test_what_cannot_be_a_code_is_refused(typed: object) -> None:
    with pytest.raises(ValidationFailed) as refused:
        codes.normalise(typed)
    assert refused.value.field == "code"
