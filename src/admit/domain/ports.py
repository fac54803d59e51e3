"""Ports the use cases depend on; adapters implement them and bootstrap wires them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol

from admit.domain.repositories import (
    AccessCodesRepository,
    AccountsRepository,
    ApiTokensRepository,
    EventsRepository,
    ExternalAccountsRepository,
    FlowStatesRepository,
    GroupsRepository,
    IdempotencyKeysRepository,
    IdentityProvidersRepository,
    InvitationsRepository,
    JobsRepository,
    LeasesRepository,
    MembersRepository,
    OidcAppSessionsRepository,
    OidcClientAssertionsRepository,
    OidcClientsRepository,
    OidcCodesRepository,
    OidcRefreshTokensRepository,
    OidcTokensRepository,
    OperationsRepository,
    OrganizationControlsRepository,
    OrganizationInvitationsRepository,
    OrganizationsRepository,
    OutboxRepository,
    ScimHoldsRepository,
    ScimRequestsRepository,
    ScimTokensRepository,
    ScimUsersRepository,
    SecretsRepository,
    SigningKeysRepository,
    SignUpsRepository,
    TermsRepository,
    ThrottlesRepository,
    WebhooksRepository,
    WorkspaceLogosRepository,
    WorkspacesRepository,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class RandomSource(Protocol):
    def token(self, nbytes: int) -> str:
        """A URL-safe random string carrying ``nbytes`` bytes of entropy."""
        ...

    def digits(self, count: int) -> str:
        """``count`` uniformly random decimal digits (a code a person types)."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, stored: str, password: str) -> bool: ...

    def needs_rehash(self, stored: str) -> bool: ...

    def burn(self, password: str) -> None:
        """Spend the time of a verification without an account (no timing oracle)."""
        ...


class UnitOfWork(Protocol):
    """One transaction and its repositories::

        with ctx.uow(write=True) as uow:
            uow.members.add(...)
            uow.commit()

    Leaving the block without ``commit()`` rolls back. A constraint violation anywhere in the
    block leaves it as :class:`~admit.domain.errors.AlreadyExists` (a unique identity is taken,
    with a code such as ``member_exists``) or :class:`~admit.domain.errors.Conflict`."""

    @property
    def organizations(self) -> OrganizationsRepository: ...
    @property
    def workspaces(self) -> WorkspacesRepository: ...
    @property
    def members(self) -> MembersRepository: ...
    @property
    def invitations(self) -> InvitationsRepository: ...
    @property
    def accounts(self) -> AccountsRepository: ...
    @property
    def secrets(self) -> SecretsRepository: ...
    @property
    def api_tokens(self) -> ApiTokensRepository: ...
    @property
    def events(self) -> EventsRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def jobs(self) -> JobsRepository: ...
    @property
    def throttles(self) -> ThrottlesRepository: ...
    @property
    def access_codes(self) -> AccessCodesRepository: ...
    @property
    def flows(self) -> FlowStatesRepository: ...
    @property
    def groups(self) -> GroupsRepository: ...
    @property
    def terms(self) -> TermsRepository: ...
    @property
    def workspace_logos(self) -> WorkspaceLogosRepository: ...
    @property
    def identity_providers(self) -> IdentityProvidersRepository: ...
    @property
    def external_accounts(self) -> ExternalAccountsRepository: ...
    @property
    def signups(self) -> SignUpsRepository: ...
    @property
    def signing_keys(self) -> SigningKeysRepository: ...
    @property
    def oidc_clients(self) -> OidcClientsRepository: ...
    @property
    def oidc_codes(self) -> OidcCodesRepository: ...
    @property
    def oidc_tokens(self) -> OidcTokensRepository: ...
    @property
    def oidc_refresh_tokens(self) -> OidcRefreshTokensRepository: ...
    @property
    def oidc_client_assertions(self) -> OidcClientAssertionsRepository: ...
    @property
    def oidc_app_sessions(self) -> OidcAppSessionsRepository: ...
    @property
    def scim_tokens(self) -> ScimTokensRepository: ...
    @property
    def scim_requests(self) -> ScimRequestsRepository: ...
    @property
    def scim_users(self) -> ScimUsersRepository: ...
    @property
    def scim_holds(self) -> ScimHoldsRepository: ...
    @property
    def webhooks(self) -> WebhooksRepository: ...
    @property
    def org_controls(self) -> OrganizationControlsRepository: ...
    @property
    def leases(self) -> LeasesRepository: ...
    @property
    def idempotency_keys(self) -> IdempotencyKeysRepository: ...
    @property
    def operations(self) -> OperationsRepository: ...
    @property
    def org_invitations(self) -> OrganizationInvitationsRepository: ...

    def flush(self) -> None:
        """Write held-back bulk inserts now (before reading them back)."""
        ...

    def commit(self) -> None: ...

    def afterwards(self, work: Callable[[UnitOfWork], None], *, key: str | None = None) -> None:
        """Run ``work`` in a write unit of work of its own once this one has ended (committed or
        rolled back); ``work`` commits. For what must be written even when the change is refused.
        Work given again with the same ``key`` runs once."""
        ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens a unit of work: read-only by default; ``bulk`` holds inserts back until the flush."""

    def __call__(self, *, write: bool = False, bulk: bool = False) -> UnitOfWork: ...
