"""The login policy's rules: methods, SSO required, which accounts a workspace lets in."""

from __future__ import annotations

import pytest

from admit.domain.errors import PermissionDenied, ValidationFailed
from admit.domain.login_policy import LoginPolicy, ensure_account_allowed, ensure_email_domain, parse


@pytest.mark.parametrize("bad", ["", "sso", "sso:", "personal:", "password:x", "saml:1", "Password"])
def test_unknown_methods_are_refused(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        parse(bad)


def test_sso_can_be_required_only_with_an_organization_provider() -> None:
    with pytest.raises(ValidationFailed):
        LoginPolicy.of(["password", "personal:p"], True).validate()
    with pytest.raises(ValidationFailed):
        LoginPolicy.of([], False).validate()
    with pytest.raises(ValidationFailed):
        LoginPolicy.of(["password", "password"], False).validate()
    LoginPolicy.of(["sso:a"], True).validate()


def test_required_sso_turns_off_passwords_and_personal_providers() -> None:
    open_policy = LoginPolicy.of(["password", "sso:a", "personal:p"], False)
    assert open_policy.password_allowed and open_policy.providers == ["a", "p"]
    strict = LoginPolicy.of(["password", "sso:a", "personal:p"], True)
    assert not strict.password_allowed and strict.providers == ["a"]
    assert not LoginPolicy.of(["sso:a"], False).password_allowed


def test_accounts_are_let_in_by_their_credential() -> None:
    policy = LoginPolicy.of(["sso:a"], True)
    with pytest.raises(PermissionDenied) as refused:
        ensure_account_allowed(policy, "password", None, ["https://a.example"])
    assert refused.value.code == "sso_required"
    with pytest.raises(PermissionDenied) as other:
        ensure_account_allowed(policy, "external", "https://b.example", ["https://a.example"])
    assert other.value.code == "login_method_not_allowed"
    ensure_account_allowed(policy, "external", "https://a.example", ["https://a.example"])
    ensure_account_allowed(LoginPolicy.of(["password"], False), "password", None, [])


def test_just_in_time_domains_match_exactly_and_ignore_case() -> None:
    ensure_email_domain("dee@Floor.Example", ["floor.example"])
    for address in ("dee@sub.floor.example", "dee@floor.example.evil", "dee@", "floor.example"):
        with pytest.raises(PermissionDenied):
            ensure_email_domain(address, ["floor.example"])
