"""Typed secrets: shown once as ``adm_<purpose>_<random>``, stored as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta

import pytest
from support.clock import FixedClock

from admit.bootstrap import SystemRandom
from admit.domain.errors import SecretAlreadyUsed, SecretRejected
from admit.domain.secrets import (
    LIFETIMES,
    SINGLE_USE,
    TOKEN_BYTES,
    IssuedSecret,
    SecretPurpose,
    digest,
    digest_for,
    ensure_usable,
    expiry,
    fixed_lifetime,
    issue,
    same_digest,
)

P = SecretPurpose


class CountingRandom:
    """A deterministic random source: records what it was asked for."""

    def __init__(self) -> None:
        self.requests: list[int] = []

    def token(self, nbytes: int) -> str:
        self.requests.append(nbytes)
        return f"fixed-random-{len(self.requests)}"

    def digits(self, count: int) -> str:
        self.requests.append(count)
        return "0" * count


@pytest.mark.parametrize("purpose", list(SecretPurpose), ids=str)
def test_issued_secret_is_prefixed_with_its_purpose(purpose: SecretPurpose) -> None:
    source = CountingRandom()
    secret = issue(purpose, source)
    assert secret.purpose is purpose
    assert secret.plaintext == f"adm_{purpose.value}_fixed-random-1"
    assert source.requests == [TOKEN_BYTES]
    assert TOKEN_BYTES == 32


def test_issued_secret_digest_is_sha256_of_the_plaintext() -> None:
    secret = issue(P.INVITATION, CountingRandom())
    assert secret.digest == hashlib.sha256(secret.plaintext.encode("utf-8")).hexdigest()
    assert secret.digest == digest(secret.plaintext)
    assert secret.plaintext not in secret.digest
    assert "fixed-random" not in secret.digest
    assert len(secret.digest) == 64


def test_issued_secret_carries_256_random_bits_from_the_system_source() -> None:
    first = issue(P.PASSWORD_RESET, SystemRandom())
    second = issue(P.PASSWORD_RESET, SystemRandom())
    random_part = first.plaintext.removeprefix("adm_pwr_")
    assert len(random_part) == 43  # token_urlsafe(32): 32 bytes = 256 bits
    assert set(random_part) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert first.plaintext != second.plaintext
    assert first.digest != second.digest


def test_issued_secret_repr_does_not_reveal_the_plaintext() -> None:
    secret = issue(P.SESSION, SystemRandom())
    random_part = secret.plaintext.removeprefix("adm_ses_")
    for shown in (repr(secret), str(secret), f"{secret!r}"):
        assert secret.plaintext not in shown
        assert random_part not in shown
    assert isinstance(secret, IssuedSecret)


@pytest.mark.parametrize("purpose", list(SecretPurpose), ids=str)
def test_digest_for_accepts_a_token_of_its_own_purpose(purpose: SecretPurpose) -> None:
    secret = issue(purpose, SystemRandom())
    assert digest_for(secret.plaintext, purpose) == secret.digest


def test_invitation_token_is_refused_as_a_password_reset_token() -> None:
    token = issue(P.INVITATION, SystemRandom()).plaintext
    with pytest.raises(SecretRejected) as caught:
        digest_for(token, P.PASSWORD_RESET)
    assert caught.value.code == "invalid_token"


def test_password_reset_token_is_refused_as_an_invitation_token() -> None:
    token = issue(P.PASSWORD_RESET, SystemRandom()).plaintext
    with pytest.raises(SecretRejected) as caught:
        digest_for(token, P.INVITATION)
    assert caught.value.code == "invalid_token"


@pytest.mark.parametrize(
    ("issued_as", "presented_as"),
    [
        pytest.param(a, b, id=f"{a.value}-as-{b.value}")
        for a, b in itertools.product(SecretPurpose, repeat=2)
        if a is not b
    ],
)
def test_token_of_any_other_purpose_is_refused(issued_as: SecretPurpose, presented_as: SecretPurpose) -> None:
    token = issue(issued_as, CountingRandom()).plaintext
    with pytest.raises(SecretRejected):
        digest_for(token, presented_as)


@pytest.mark.parametrize(
    "garbage",
    ["", "hello", "adm_", "adm_inv", "ADM_INV_abc", " adm_inv_abc", "inv_abc", "adm-inv-abc", "adm_pwr_abc"],
)
def test_garbage_is_refused_as_a_token(garbage: str) -> None:
    with pytest.raises(SecretRejected) as caught:
        digest_for(garbage, P.INVITATION)
    assert caught.value.code == "invalid_token"


@pytest.mark.parametrize("value", [None, 42, b"adm_inv_abc"])
def test_non_string_token_is_refused(value: object) -> None:
    with pytest.raises(SecretRejected):
        digest_for(value, P.INVITATION)  # type: ignore[arg-type]


def test_over_long_token_is_refused() -> None:
    longest = "adm_inv_" + "x" * (200 - len("adm_inv_"))
    assert len(longest) == 200
    assert digest_for(longest, P.INVITATION) == digest(longest)
    with pytest.raises(SecretRejected):
        digest_for(longest + "x", P.INVITATION)
    with pytest.raises(SecretRejected):
        digest_for("adm_inv_" + "x" * 10_000, P.INVITATION)


def test_same_digest_compares_digests() -> None:
    a = digest("adm_inv_one")
    b = digest("adm_inv_two")
    assert same_digest(a, a)
    assert same_digest(a, str(a))
    assert not same_digest(a, b)
    assert not same_digest(a, a[:-1])
    assert not same_digest(a, "")


# --- expiry and usability ----------------------------------------------------------------------


def test_expiry_follows_the_purpose_lifetime_or_an_explicit_one() -> None:
    now = FixedClock().now()
    assert expiry(P.PASSWORD_RESET, now) == now + timedelta(hours=1)
    assert expiry(P.EMAIL_VERIFICATION, now) == now + timedelta(minutes=15)
    assert expiry(P.SESSION, now) == now + timedelta(days=14)
    assert expiry(P.INVITATION, now) is None
    assert expiry(P.API_TOKEN, now) is None
    assert expiry(P.INVITATION, now, timedelta(days=7)) == now + timedelta(days=7)
    assert set(LIFETIMES) == set(SecretPurpose)


def _usable(
    purpose: SecretPurpose,
    *,
    now: datetime,
    expected: SecretPurpose | None = None,
    expires_at: datetime | None = None,
    consumed_at: datetime | None = None,
    revoked_at: datetime | None = None,
) -> None:
    ensure_usable(
        purpose=purpose,
        expected=expected or purpose,
        expires_at=expires_at,
        consumed_at=consumed_at,
        revoked_at=revoked_at,
        now=now,
    )


def test_fresh_secret_is_usable() -> None:
    clock = FixedClock()
    _usable(P.PASSWORD_RESET, now=clock.now(), expires_at=expiry(P.PASSWORD_RESET, clock.now()))


def test_secret_of_the_wrong_purpose_is_not_usable() -> None:
    now = FixedClock().now()
    with pytest.raises(SecretRejected) as caught:
        _usable(P.INVITATION, expected=P.PASSWORD_RESET, now=now)
    assert caught.value.code == "invalid_token"


@pytest.mark.parametrize("purpose", list(SecretPurpose), ids=str)
def test_revoked_secret_is_not_usable(purpose: SecretPurpose) -> None:
    now = FixedClock().now()
    with pytest.raises(SecretRejected) as caught:
        _usable(purpose, now=now, revoked_at=now - timedelta(seconds=1))
    assert caught.value.code == "invalid_token"


@pytest.mark.parametrize("purpose", sorted(SINGLE_USE), ids=str)
def test_consumed_single_use_secret_is_not_usable(purpose: SecretPurpose) -> None:
    now = FixedClock().now()
    with pytest.raises(SecretAlreadyUsed) as caught:
        _usable(purpose, now=now, consumed_at=now - timedelta(seconds=1))
    assert caught.value.code == "token_already_used"
    assert isinstance(caught.value, SecretRejected)


def test_consumed_secret_presented_for_another_purpose_does_not_reveal_its_use() -> None:
    now = FixedClock().now()
    with pytest.raises(SecretRejected) as caught:
        _usable(P.INVITATION, expected=P.PASSWORD_RESET, now=now, consumed_at=now)
    assert caught.value.code == "invalid_token"
    assert not isinstance(caught.value, SecretAlreadyUsed)


def test_withdrawn_secret_reads_as_withdrawn_even_when_used() -> None:
    now = FixedClock().now()
    with pytest.raises(SecretRejected) as caught:
        _usable(P.INVITATION, now=now, consumed_at=now, revoked_at=now)
    assert caught.value.code == "invalid_token"


def test_single_use_purposes_are_the_one_time_links_and_codes() -> None:
    one_time = {P.INVITATION, P.PASSWORD_RESET, P.EMAIL_VERIFICATION, P.ACCESS_CODE, P.SSO_STATE, P.FLOW}
    one_time |= {P.ORG_INVITATION}  # issue 17: an invitation to join an organization's account
    one_time |= {P.PHONE_VERIFICATION}  # issue 16: a code texted to a number being added to an account
    assert {*one_time, P.AUTHORIZATION_CODE, P.REFRESH_TOKEN} == SINGLE_USE


@pytest.mark.parametrize("purpose", [P.SESSION, P.API_TOKEN, P.SIGNUP_LINK], ids=str)
def test_reusable_secret_stays_usable_after_use(purpose: SecretPurpose) -> None:
    now = FixedClock().now()
    expires_at = expiry(purpose, now, timedelta(days=1))
    _usable(purpose, now=now, consumed_at=now - timedelta(minutes=5), expires_at=expires_at)


@pytest.mark.parametrize("purpose", [p for p in SecretPurpose if LIFETIMES[p] is not None], ids=str)
def test_secret_is_refused_exactly_at_its_expiry(purpose: SecretPurpose) -> None:
    clock = FixedClock()
    expires_at = expiry(purpose, clock.now())
    assert expires_at is not None
    lifetime = LIFETIMES[purpose]
    assert lifetime is not None
    clock.advance(seconds=lifetime.total_seconds() - 0.000001)
    _usable(purpose, now=clock.now(), expires_at=expires_at)
    clock.advance(microseconds=1)
    assert clock.now() == expires_at
    with pytest.raises(SecretRejected) as caught:
        _usable(purpose, now=clock.now(), expires_at=expires_at)
    assert caught.value.code == "invalid_token"
    clock.advance(days=1)
    with pytest.raises(SecretRejected):
        _usable(purpose, now=clock.now(), expires_at=expires_at)


def test_password_reset_link_expires_after_an_hour() -> None:
    clock = FixedClock()
    expires_at = expiry(P.PASSWORD_RESET, clock.now())
    clock.advance(minutes=59)
    _usable(P.PASSWORD_RESET, now=clock.now(), expires_at=expires_at)
    clock.advance(minutes=1)
    with pytest.raises(SecretRejected):
        _usable(P.PASSWORD_RESET, now=clock.now(), expires_at=expires_at)


def test_secret_without_expiry_never_expires() -> None:
    clock = FixedClock()
    clock.advance(days=3650)
    _usable(P.API_TOKEN, now=clock.now(), expires_at=None)


def test_unknown_withdrawn_expired_and_wrong_purpose_refusals_share_one_code() -> None:
    """Apart from reuse (told to the holder), a caller cannot tell which refusal applies."""
    now = FixedClock().now()
    refusals = [
        {"purpose": P.INVITATION, "expected": P.PASSWORD_RESET},
        {"purpose": P.INVITATION, "revoked_at": now},
        {"purpose": P.INVITATION, "expires_at": now},
    ]
    seen = set()
    for fields in refusals:
        kwargs = {"expected": fields["purpose"], "expires_at": None, "consumed_at": None, "revoked_at": None}
        kwargs.update(fields)
        with pytest.raises(SecretRejected) as caught:
            ensure_usable(now=now, **kwargs)  # type: ignore[arg-type]
        seen.add(caught.value.code)
    assert seen == {"invalid_token"}


def test_a_purpose_without_a_fixed_lifetime_has_none_to_give() -> None:
    assert fixed_lifetime(SecretPurpose.PASSWORD_RESET) == timedelta(hours=1)
    with pytest.raises(ValueError, match="no fixed lifetime"):
        fixed_lifetime(SecretPurpose.INVITATION)
