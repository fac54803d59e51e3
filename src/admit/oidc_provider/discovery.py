"""The provider's metadata (OpenID Connect Discovery 1.0, RFC 8414), built from the configured
base URL only (never from a request's headers)."""

from __future__ import annotations

from typing import Any

from admit.oidc_provider import assertions
from admit.oidc_provider.claims import WORKSPACE_CLAIMS
from admit.oidc_provider.clients import AUTH_METHODS, AUTHENTICATED_METHODS, GRANT_TYPES, SCOPES
from admit.oidc_provider.keys import ALGORITHM
from admit.shared.context import Context

AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = "/oauth2/token"
REVOKE_PATH = "/oauth2/revoke"
INTROSPECT_PATH = "/oauth2/introspect"
USERINFO_PATH = "/oauth2/userinfo"
JWKS_PATH = "/oauth2/jwks"
LOGOUT_PATH = "/oauth2/logout"  # RP-initiated logout (the end session endpoint)
DISCOVERY_PATH = "/.well-known/openid-configuration"
PERSON_CLAIMS = ("sub", "email", "email_verified", "given_name", "family_name", "name", "locale")


def _client_authentication() -> dict[str, Any]:
    """How apps authenticate: at the token endpoint (public apps with ``none``), and at the
    revocation and introspection endpoints (confidential apps only)."""
    signing = list(assertions.ALGORITHMS)
    methods = list(AUTHENTICATED_METHODS)
    return {
        "token_endpoint_auth_methods_supported": [*AUTH_METHODS["confidential"], *AUTH_METHODS["public"]],
        "token_endpoint_auth_signing_alg_values_supported": signing,
        "revocation_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_signing_alg_values_supported": signing,
        "introspection_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_signing_alg_values_supported": signing,
    }


def metadata(ctx: Context) -> dict[str, Any]:
    return {
        "issuer": ctx.base_url,
        "authorization_endpoint": ctx.link(AUTHORIZE_PATH),
        "token_endpoint": ctx.link(TOKEN_PATH),
        "userinfo_endpoint": ctx.link(USERINFO_PATH),
        "jwks_uri": ctx.link(JWKS_PATH),
        "revocation_endpoint": ctx.link(REVOKE_PATH),
        "introspection_endpoint": ctx.link(INTROSPECT_PATH),
        "end_session_endpoint": ctx.link(LOGOUT_PATH),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        **_client_authentication(),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [*PERSON_CLAIMS, "auth_time", "nonce", "sid", *WORKSPACE_CLAIMS],
        "prompt_values_supported": ["none", "login"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
