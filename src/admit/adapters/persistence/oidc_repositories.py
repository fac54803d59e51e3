"""Repositories for Admit as an OpenID provider.

Signing keys are the instance's (no organization). Clients, codes and tokens carry their
organization; the few lookups without one are by what the caller holds and cannot guess: a
client's public id as the app presents it (the organization comes from the row), an
authorization code's or refresh token's digest, an access token's ``jti`` from a token whose
signature was checked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Row, and_, bindparam, case, delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import DriverQuery, Repository


class SigningKeys(Repository):
    c = t.signing_keys.c

    def add(self, **values: Any) -> str:
        return self._insert(t.signing_keys, values)

    def list(self) -> Sequence[Row[Any]]:
        """Every stored key, the newest first."""
        return self.conn.execute(select(t.signing_keys).order_by(self.c.created_at.desc(), self.c.id.desc())).all()

    def update(self, key_id: str, **values: Any) -> None:
        self.conn.execute(update(t.signing_keys).where(self.c.id == key_id).values(**values))

    def remove_expired(self, now: datetime) -> int:
        done = self.conn.execute(delete(t.signing_keys).where(self.c.state == "retired", self.c.published_until <= now))
        return int(done.rowcount or 0)


class OidcClients(Repository):
    c = t.oidc_clients.c

    def add(self, **values: Any) -> str:
        return self._insert(t.oidc_clients, values)

    def get(self, organization_id: str, client_id: str) -> Row[Any] | None:
        return self._one(
            select(t.oidc_clients).where(self.c.id == client_id, self.c.organization_id == organization_id)
        )

    _by_id = DriverQuery(select(t.oidc_clients).where(t.oidc_clients.c.id == bindparam("id")))

    def by_client_id(self, client_id: str) -> Row[Any] | None:
        """The client an app names itself as (its organization is in the row); None for what
        cannot be a client id (too long, or a NUL, which PostgreSQL refuses in text)."""
        if len(client_id) > 32 or "\x00" in client_id:
            return None
        return self._by_id.first(self.conn, {"id": client_id})  # type: ignore[no-any-return]

    _of_organization = DriverQuery(
        select(t.oidc_clients)
        .where(t.oidc_clients.c.organization_id == bindparam("org"))
        .order_by(t.oidc_clients.c.created_at, t.oidc_clients.c.id)
    )

    def list(self, organization_id: str) -> Sequence[Row[Any]]:
        """The organization's apps, oldest first (read on every welcome page: at the driver)."""
        return self._of_organization.all(self.conn, {"org": organization_id})

    def update(self, organization_id: str, client_id: str, **values: Any) -> None:
        self.conn.execute(
            update(t.oidc_clients)
            .where(self.c.id == client_id, self.c.organization_id == organization_id)
            .values(**values)
        )

    def remove(self, organization_id: str, client_id: str) -> None:
        """The client, with its codes, the records of its tokens and of its assertions."""
        tables = (t.oidc_tokens, t.oidc_refresh_tokens, t.oidc_client_assertions, t.oidc_app_sessions, t.oidc_codes)
        for table in tables:
            self.conn.execute(
                delete(table).where(table.c.client_id == client_id, table.c.organization_id == organization_id)
            )
        self.conn.execute(
            delete(t.oidc_clients).where(self.c.id == client_id, self.c.organization_id == organization_id)
        )


class OidcCodes(Repository):
    c = t.oidc_codes.c

    def add(self, **values: Any) -> str:
        return self._insert(t.oidc_codes, values)

    _by_digest = DriverQuery(select(t.oidc_codes).where(t.oidc_codes.c.digest == bindparam("digest")))

    def by_digest(self, digest: str) -> Row[Any] | None:
        return self._by_digest.first(self.conn, {"digest": digest})  # type: ignore[no-any-return]

    _consume = (
        update(t.oidc_codes)
        .where(c.id == bindparam("code"), c.organization_id == bindparam("org"), c.consumed_at.is_(None))
        .values(consumed_at=bindparam("now"))
    )

    def consume(self, organization_id: str, code_id: str, now: datetime) -> bool:
        """Mark the code used; False if it already was (the first exchange wins a race)."""
        done = self.conn.execute(self._consume, {"code": code_id, "org": organization_id, "now": now})
        return bool(done.rowcount)

    def revoke_issued_in(self, session_ids: Sequence[str], now: datetime) -> int:
        """Revoke the refresh tokens and access tokens issued from codes of these Admit sessions."""
        if not session_ids:
            return 0
        return self._revoke_issued(self.c.session_id.in_(list(session_ids)), now)

    def revoke_issued_to(
        self, account_id: str, now: datetime, *, organization_id: str | None = None, workspace_id: str | None = None
    ) -> int:
        """Revoke the refresh tokens and access tokens issued to the account (in one workspace)."""
        where = [self.c.account_id == account_id]
        if organization_id is not None:
            where += [self.c.organization_id == organization_id, self.c.workspace_id == workspace_id]
        return self._revoke_issued(and_(*where), now)

    def _revoke_issued(self, codes: Any, now: datetime) -> int:
        """Every live refresh token and access token issued from the codes matching ``codes``
        (refreshed tokens carry their family's code); how many."""
        chosen = select(self.c.id).where(codes).scalar_subquery()
        revoked = 0
        for table in (t.oidc_refresh_tokens, t.oidc_tokens):
            done = self.conn.execute(
                update(table).where(table.c.code_id.in_(chosen), table.c.revoked_at.is_(None)).values(revoked_at=now)
            )
            revoked += int(done.rowcount or 0)
        return revoked

    def remove_expired(self, before: datetime) -> int:
        """Codes expired before ``before`` whose refresh token family is gone too (a replayed code
        must find the family to revoke while it lives)."""
        family = t.oidc_refresh_tokens.c
        live_family = exists().where(family.code_id == self.c.id)
        done = self.conn.execute(delete(t.oidc_codes).where(self.c.expires_at <= before, ~live_family))
        return int(done.rowcount or 0)


class OidcTokens(Repository):
    c = t.oidc_tokens.c

    def add(self, **values: Any) -> str:
        return self._insert(t.oidc_tokens, values)

    _by_jti = DriverQuery(select(t.oidc_tokens).where(t.oidc_tokens.c.id == bindparam("jti")))

    def by_jti(self, jti: str) -> Row[Any] | None:
        return self._by_jti.first(self.conn, {"jti": jti})  # type: ignore[no-any-return]

    def remove_expired(self, now: datetime) -> int:
        done = self.conn.execute(delete(t.oidc_tokens).where(self.c.expires_at <= now))
        return int(done.rowcount or 0)

    def revoke_for_code(self, organization_id: str, code_id: str, now: datetime) -> int:
        done = self.conn.execute(
            update(t.oidc_tokens)
            .where(self.c.code_id == code_id, self.c.organization_id == organization_id, self.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(done.rowcount or 0)

    def revoke(self, organization_id: str, jti: str, now: datetime) -> bool:
        done = self.conn.execute(
            update(t.oidc_tokens)
            .where(self.c.id == jti, self.c.organization_id == organization_id, self.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(done.rowcount)

    def revoke_family(self, organization_id: str, family_id: str, now: datetime) -> int:
        done = self.conn.execute(
            update(t.oidc_tokens)
            .where(
                self.c.family_id == family_id, self.c.organization_id == organization_id, self.c.revoked_at.is_(None)
            )
            .values(revoked_at=now)
        )
        return int(done.rowcount or 0)


class OidcRefreshTokens(Repository):
    c = t.oidc_refresh_tokens.c

    def add(self, **values: Any) -> str:
        return self._insert(t.oidc_refresh_tokens, values)

    def by_digest(self, digest: str) -> Row[Any] | None:
        return self._one(select(t.oidc_refresh_tokens).where(self.c.digest == digest))

    def use(self, organization_id: str, token_id: str, now: datetime) -> bool:
        """Mark the token exchanged; False if it already was or was revoked (the first exchange
        wins a race)."""
        done = self.conn.execute(
            update(t.oidc_refresh_tokens)
            .where(
                self.c.id == token_id,
                self.c.organization_id == organization_id,
                self.c.used_at.is_(None),
                self.c.revoked_at.is_(None),
            )
            .values(used_at=now)
        )
        return bool(done.rowcount)

    def family_revoked(self, organization_id: str, family_id: str) -> bool:
        revoked = (
            self.c.family_id == family_id,
            self.c.organization_id == organization_id,
            self.c.revoked_at.is_not(None),
        )
        return self._one(select(self.c.id).where(*revoked).limit(1)) is not None

    def revoke_family(self, organization_id: str, family_id: str, now: datetime) -> int:
        done = self.conn.execute(
            update(t.oidc_refresh_tokens)
            .where(
                self.c.family_id == family_id, self.c.organization_id == organization_id, self.c.revoked_at.is_(None)
            )
            .values(revoked_at=now)
        )
        return int(done.rowcount or 0)

    def revoke_for_client(self, organization_id: str, client_id: str, now: datetime) -> int:
        """Every live refresh token of the app (its people sign in again); how many."""
        done = self.conn.execute(
            update(t.oidc_refresh_tokens)
            .where(
                self.c.client_id == client_id,
                self.c.organization_id == organization_id,
                self.c.revoked_at.is_(None),
                self.c.used_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return int(done.rowcount or 0)

    def revoke_for_code(self, organization_id: str, code_id: str, now: datetime) -> int:
        """Every token of the families that began with this code."""
        done = self.conn.execute(
            update(t.oidc_refresh_tokens)
            .where(self.c.code_id == code_id, self.c.organization_id == organization_id, self.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(done.rowcount or 0)

    def remove_expired(self, now: datetime) -> int:
        done = self.conn.execute(delete(t.oidc_refresh_tokens).where(self.c.expires_at <= now))
        return int(done.rowcount or 0)


class OidcClientAssertions(Repository):
    """The ``jti`` (digests) of clients' signed assertions, until they expire: each works once."""

    c = t.oidc_client_assertions.c

    def use_once(self, organization_id: str, client_id: str, jti_digest: str, expires_at: datetime) -> bool:
        """Record the assertion; False if it was recorded before (a replay), also under a race."""
        upsert = postgresql_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        stmt = upsert(t.oidc_client_assertions).values(
            client_id=client_id, jti_digest=jti_digest, organization_id=organization_id, expires_at=expires_at
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=[self.c.client_id, self.c.jti_digest])
        return self.conn.execute(stmt.returning(self.c.jti_digest)).first() is not None  # rowcount: not on every driver

    def remove_expired(self, now: datetime) -> int:
        done = self.conn.execute(delete(t.oidc_client_assertions).where(self.c.expires_at <= now))
        return int(done.rowcount or 0)


class OidcAppSessions(Repository):
    """Apps' sessions: which app received tokens for which person through which Admit session
    and workspace (the id is the ``sid``). Looked up by what the caller holds: its session's id,
    or the account and (for a membership) the organization and workspace."""

    c = t.oidc_app_sessions.c

    _upserts: ClassVar[dict[str, Any]] = {}  # per dialect: built once (it is on every code exchange)

    def record(self, **values: Any) -> None:
        """Add the app's session, or keep the later expiry of the one recorded before (also under a race)."""
        name = self.conn.dialect.name
        if name not in self._upserts:
            stmt = (postgresql_insert if name == "postgresql" else sqlite_insert)(t.oidc_app_sessions)
            new = stmt.excluded.expires_at
            later = case((new > self.c.expires_at, new), else_=self.c.expires_at)
            self._upserts[name] = stmt.on_conflict_do_update(index_elements=[self.c.id], set_={"expires_at": later})
        self.conn.execute(self._upserts[name], values)

    def get(self, sid: str) -> Row[Any] | None:
        return self._one(select(t.oidc_app_sessions).where(self.c.id == sid))

    def _with_logout_uri(self) -> Any:
        clients = t.oidc_clients.c
        joined = t.oidc_app_sessions.join(t.oidc_clients, clients.id == self.c.client_id)
        return select(t.oidc_app_sessions, clients.backchannel_logout_uri).select_from(joined)

    def of_sessions(self, session_ids: Sequence[str]) -> Sequence[Row[Any]]:
        """The apps' sessions begun in these Admit sessions, each with its app's back-channel logout URI."""
        stmt = self._with_logout_uri().where(self.c.session_id.in_(list(session_ids)))
        return self.conn.execute(stmt.order_by(self.c.created_at, self.c.id)).all()

    def of_account(
        self, account_id: str, *, organization_id: str | None = None, workspace_id: str | None = None
    ) -> Sequence[Row[Any]]:
        """The account's apps' sessions (in one workspace, when an organization is given), each
        with its app's back-channel logout URI."""
        stmt = self._with_logout_uri().where(self.c.account_id == account_id)
        if organization_id is not None:
            stmt = stmt.where(self.c.organization_id == organization_id, self.c.workspace_id == workspace_id)
        return self.conn.execute(stmt.order_by(self.c.created_at, self.c.id)).all()

    def remove(self, sids: Sequence[str]) -> None:
        if sids:
            self.conn.execute(delete(t.oidc_app_sessions).where(self.c.id.in_(list(sids))))

    def remove_expired(self, now: datetime) -> int:
        done = self.conn.execute(delete(t.oidc_app_sessions).where(self.c.expires_at <= now))
        return int(done.rowcount or 0)
