"""Forgetting what no longer matters: access-token records past their expiry, refresh tokens past
their family's, the ``jti`` of expired client assertions, apps' sessions past their 30 days, and
codes once every token issued from them has expired too (until then a replayed code must still
find the tokens to revoke). Run by ``admit serve``'s periodic sweep."""

from __future__ import annotations

from admit.oidc_provider.keys import TOKEN_LIFETIME
from admit.shared.context import Context


def sweep(ctx: Context) -> int:
    """Delete expired token records and spent codes; how many rows went."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        removed = (
            uow.oidc_tokens.remove_expired(now)
            + uow.oidc_refresh_tokens.remove_expired(now)
            + uow.oidc_client_assertions.remove_expired(now)
            + uow.oidc_codes.remove_expired(now - TOKEN_LIFETIME)
            + uow.oidc_app_sessions.remove_expired(now)
        )
        uow.commit()
    return removed
