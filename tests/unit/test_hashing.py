"""Argon2id password hashing with rehash on parameter change."""

from __future__ import annotations

import pytest

from admit.adapters.identity.hashing import Argon2Hasher

CHEAP = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


@pytest.fixture(scope="module")
def default_hasher() -> Argon2Hasher:
    """Production parameters (each hash costs tens of milliseconds: use sparingly)."""
    return Argon2Hasher()


@pytest.fixture(scope="module")
def default_hash(default_hasher: Argon2Hasher) -> str:
    return default_hasher.hash("lantern quiet bus")


@pytest.fixture(scope="module")
def cheap_hasher() -> Argon2Hasher:
    return Argon2Hasher(**CHEAP)


def test_default_hash_is_argon2id_with_owasp_parameters(default_hash: str) -> None:
    assert default_hash.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in default_hash


def test_hash_does_not_contain_the_password(default_hash: str) -> None:
    assert "lantern" not in default_hash


def test_right_password_verifies(default_hasher: Argon2Hasher, default_hash: str) -> None:
    assert default_hasher.verify(default_hash, "lantern quiet bus") is True


def test_wrong_password_does_not_verify(default_hasher: Argon2Hasher, default_hash: str) -> None:
    assert default_hasher.verify(default_hash, "lantern quiet bun") is False
    assert default_hasher.verify(default_hash, "") is False


@pytest.mark.parametrize("stored", ["", "not-a-hash", "$argon2id$v=19$broken"])
def test_malformed_stored_hash_does_not_verify(cheap_hasher: Argon2Hasher, stored: str) -> None:
    assert cheap_hasher.verify(stored, "lantern quiet bus") is False


def test_same_password_hashes_differently_each_time(cheap_hasher: Argon2Hasher) -> None:
    first = cheap_hasher.hash("lantern quiet bus")
    second = cheap_hasher.hash("lantern quiet bus")
    assert first != second
    assert first.startswith("$argon2id$")
    assert cheap_hasher.verify(first, "lantern quiet bus")
    assert cheap_hasher.verify(second, "lantern quiet bus")


def test_hash_made_with_other_parameters_needs_rehash(default_hasher: Argon2Hasher, cheap_hasher: Argon2Hasher) -> None:
    old = cheap_hasher.hash("lantern quiet bus")
    assert default_hasher.needs_rehash(old) is True
    assert default_hasher.verify(old, "lantern quiet bus") is True  # still accepted, then upgraded


def test_hash_made_with_current_parameters_needs_no_rehash(default_hasher: Argon2Hasher, default_hash: str) -> None:
    assert default_hasher.needs_rehash(default_hash) is False


def test_stronger_hash_needs_rehash_for_a_cheaper_hasher(cheap_hasher: Argon2Hasher, default_hash: str) -> None:
    assert cheap_hasher.needs_rehash(default_hash) is True
    assert cheap_hasher.needs_rehash(cheap_hasher.hash("x")) is False


def test_burn_spends_a_verification_without_raising(cheap_hasher: Argon2Hasher) -> None:
    assert cheap_hasher.burn("lantern quiet bus") is None
    assert cheap_hasher.burn("") is None
