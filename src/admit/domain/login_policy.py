"""A workspace's login policy: which login methods it allows and whether single sign-on is
required; and which accounts may enter it.

Methods are strings: ``password``, ``sso:<provider id>`` (one of the organization's own OpenID
Connect providers) and ``personal:<provider id>`` (an instance-wide provider such as a personal
Microsoft account). When SSO is required, every password path of the workspace's *members* is
refused (sign-in, reset, claim with a password); an invited person is a member only once they
accept (the Smartsheet rule), so the organization's enforcement reaches them only then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from admit.domain.errors import PermissionDenied, ValidationFailed

PASSWORD = "password"
SSO = "sso"
PERSONAL = "personal"


@dataclass(frozen=True)
class Method:
    kind: str  # password, sso or personal
    provider_id: str | None = None

    def __str__(self) -> str:
        return self.kind if self.provider_id is None else f"{self.kind}:{self.provider_id}"


def parse(value: str) -> Method:
    kind, _, provider_id = value.partition(":")
    if kind == PASSWORD and not provider_id:
        return Method(PASSWORD)
    if kind in (SSO, PERSONAL) and provider_id:
        return Method(kind, provider_id)
    raise ValidationFailed(
        f"unknown login method {value!r}; use 'password', 'sso:<provider id>' or 'personal:<provider id>'",
        field="login_methods",
    )


@dataclass(frozen=True)
class LoginPolicy:
    methods: tuple[Method, ...]
    sso_required: bool

    @classmethod
    def of(cls, login_methods: Sequence[str], sso_required: bool) -> LoginPolicy:
        return cls(tuple(parse(m) for m in login_methods), bool(sso_required))

    def validate(self) -> None:
        if not self.methods:
            raise ValidationFailed("allow at least one login method", field="login_methods")
        if len({str(m) for m in self.methods}) != len(self.methods):
            raise ValidationFailed("a login method is listed twice", field="login_methods")
        if self.sso_required and not self.sso_providers:
            raise ValidationFailed(
                "single sign-on can only be required when one of the organization's providers is allowed",
                field="sso_required",
            )

    @property
    def password_allowed(self) -> bool:
        """Whether people may join or sign in to this workspace with a password."""
        return not self.sso_required and any(m.kind == PASSWORD for m in self.methods)

    @property
    def sso_providers(self) -> list[str]:
        return [m.provider_id for m in self.methods if m.kind == SSO and m.provider_id]

    @property
    def personal_providers(self) -> list[str]:
        return [m.provider_id for m in self.methods if m.kind == PERSONAL and m.provider_id]

    @property
    def providers(self) -> list[str]:
        """Every provider allowed, the organization's first."""
        return [*self.sso_providers, *(p for p in self.personal_providers if not self.sso_required)]


def ensure_account_allowed(
    policy: LoginPolicy, credential_kind: str, issuer: str | None, allowed_issuers: Iterable[str]
) -> None:
    """Refuse an account whose credential this workspace does not allow: a password account in
    a workspace that requires SSO (or allows no passwords), an external identity whose issuer is
    none of the workspace's allowed providers."""
    if credential_kind == "password":
        if not policy.password_allowed:
            raise PermissionDenied(
                "this workspace requires single sign-on: create an account through its identity provider",
                code="sso_required",
            )
        return
    if issuer is None or issuer not in set(allowed_issuers):
        raise PermissionDenied(
            "this workspace does not allow signing in with this identity provider",
            code="login_method_not_allowed",
        )


def ensure_email_domain(email: str, domains: Iterable[str]) -> None:
    """A just-in-time member's verified address must be in one of the workspace's domains."""
    local, at, domain = email.rpartition("@")
    domain = domain.casefold()
    if not (local and at and domain) or domain not in {d.casefold().lstrip("@") for d in domains}:
        raise PermissionDenied("this address's domain is not allowed in the workspace", code="domain_not_allowed")
