"""Admit as an OpenID provider: apps (clients) sign people in through Admit's authorization code
flow and receive an ID token and a JWT access token with the person's workspace and role.

- :mod:`.keys`: the signing keys (RS256) and their rotation; the JWKS.
- :mod:`.clients`: registering an organization's apps.
- :mod:`.claims`: what the tokens and userinfo say about a person.
- :mod:`.authorize`: who may get a code (workspace, membership, gates).
- :mod:`.models`: the request, answer, app, person and code in the shapes Authlib asks for.
- :mod:`.server`: Authlib's authorization server with Admit's storage (codes, tokens).
- :mod:`.userinfo`: the userinfo answer for a bearer access token.
- :mod:`.discovery`: the provider's metadata and endpoint paths.
- :mod:`.housekeeping`: forgetting expired codes and token records.

No SQLAlchemy here (use cases take the ``UnitOfWork`` port) and no web framework: Authlib's
server is driven through :class:`.models.HttpRequest` and :class:`.models.Answer`."""
