"""Admit as an OpenID provider: apps (clients) sign people in through Admit's authorization code
flow and receive an ID token and a JWT access token with the person's workspace and role, and
(apps registered for it) a refresh token.

- :mod:`.keys`: the signing keys (RS256) and their rotation; the JWKS.
- :mod:`.clients`: registering an organization's apps.
- :mod:`.assertions`: apps' public keys and ``private_key_jwt`` client authentication.
- :mod:`.claims`: what the tokens and userinfo say about a person.
- :mod:`.authorize`: who may get a code (workspace, membership, gates).
- :mod:`.models`: the request, answer, app, person, code and refresh token in the shapes Authlib asks for.
- :mod:`.server`: Authlib's authorization server with Admit's storage (codes, tokens).
- :mod:`.refresh`: refresh tokens, rotated in families, reuse revoking the family.
- :mod:`.tokens`: revocation (RFC 7009) and introspection (RFC 7662).
- :mod:`.userinfo`: the userinfo answer for a bearer access token.
- :mod:`.discovery`: the provider's metadata and endpoint paths.
- :mod:`.housekeeping`: forgetting expired codes, token records and assertion ``jti``.

No SQLAlchemy here (use cases take the ``UnitOfWork`` port) and no web framework: Authlib's
server is driven through :class:`.models.HttpRequest` and :class:`.models.Answer`."""
