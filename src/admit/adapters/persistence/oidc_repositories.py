"""Repositories for Admit as an OpenID provider.

Signing keys are the instance's (no organization). Clients, codes and tokens carry their
organization; the few lookups without one are by what the caller holds and cannot guess: a
client's public id as the app presents it (the organization comes from the row), an
authorization code's or refresh token's digest, an access token's ``jti`` from a token whose
signature was checked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from admit.adapters.persistence import tables as t
from admit.adapters.persistence.repositories import Repository


class SigningKeys(Repository):
    c = t.signing_keys.c

    def add(self, **values: Any) -> str:
        return self._insert(t.signing_keys, values)

    def list(self) -> Sequence[Row[Any]]:
        """Every stored key, the newest first."""
        return self.conn.execute(select(t.signing_keys).order_by(self.c.created_at.desc(), self.c.id.desc())).all()

    def published(self, now: datetime) -> Sequence[Row[Any]]:
        """The keys in the JWKS: next, current, and retired ones whose tokens may still be live."""
        live = or_(self.c.state != "retired", self.c.published_until > now)
        return self.conn.execute(select(t.signing_keys).where(live).order_by(self.c.created_at, self.c.id)).all()

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

    def by_client_id(self, client_id: str) -> Row[Any] | None:
        """The client an app names itself as (its organization is in the row)."""
        return self._one(select(t.oidc_clients).where(self.c.id == client_id))

    def list(self, organization_id: str) -> Sequence[Row[Any]]:
        stmt = select(t.oidc_clients).where(self.c.organization_id == organization_id)
        return self.conn.execute(stmt.order_by(self.c.created_at, self.c.id)).all()

    def remove(self, organization_id: str, client_id: str) -> None:
        """The client, with its codes, the records of its tokens and of its assertions."""
        for table in (t.oidc_tokens, t.oidc_refresh_tokens, t.oidc_client_assertions, t.oidc_codes):
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

    def by_digest(self, digest: str) -> Row[Any] | None:
        return self._one(select(t.oidc_codes).where(self.c.digest == digest))

    def consume(self, organization_id: str, code_id: str, now: datetime) -> bool:
        """Mark the code used; False if it already was (the first exchange wins a race)."""
        done = self.conn.execute(
            update(t.oidc_codes)
            .where(self.c.id == code_id, self.c.organization_id == organization_id, self.c.consumed_at.is_(None))
            .values(consumed_at=now)
        )
        return bool(done.rowcount)

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

    def by_jti(self, jti: str) -> Row[Any] | None:
        return self._one(select(t.oidc_tokens).where(self.c.id == jti))

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
