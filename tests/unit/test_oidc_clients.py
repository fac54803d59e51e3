"""The rules of an app's registration: redirect URIs, types and authentication methods, scopes,
grant types, and the public keys of an app that authenticates with private_key_jwt."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import ECKey, RSAKey
from joserfc.util import int_to_base64

from admit.domain.errors import ValidationFailed
from admit.oidc_provider.assertions import client_keys
from admit.oidc_provider.clients import ClientInput, check_uri

RSA = RSAKey.generate_key(2048, auto_kid=False)
BOTH = ["authorization_code", "refresh_token"]


@pytest.mark.parametrize(
    "uri",
    [
        "http://shop.example.com/cb",
        "https://shop.example.com/cb#done",
        "https://shop.example.com/c b",
        "shop.example.com/cb",
        "javascript:alert(1)",
        "https:///cb",
        "http://127.0.0.1:8080/cb",  # loopback, but not in dev mode
    ],
)
def test_a_redirect_uri_must_be_https_without_a_fragment(uri: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_uri(uri, "redirect_uris", dev_mode=False)
    assert caught.value.field == "redirect_uris"


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8080/cb", "http://localhost/cb", "http://[::1]:9/cb"])
def test_http_on_loopback_is_allowed_in_dev_mode_only(uri: str) -> None:
    check_uri(uri, "redirect_uris", dev_mode=True)
    check_uri("https://shop.example.com/cb?x=1", "redirect_uris", dev_mode=False)


def _valid(**kw: object) -> ClientInput:
    given = ClientInput(name="Shop", redirect_uris=["https://shop.example.com/cb"], **kw)  # type: ignore[arg-type]
    given.normalise()
    return given


def test_each_type_has_its_own_authentication_methods() -> None:
    assert _valid().token_endpoint_auth_method == "client_secret_basic"
    assert _valid(client_type="public").token_endpoint_auth_method == "none"
    _valid(token_endpoint_auth_method="client_secret_post").validate(dev_mode=False)
    for kw in ({"client_type": "public", "token_endpoint_auth_method": "client_secret_basic"},
               {"token_endpoint_auth_method": "none"}, {"client_type": "spa"}):  # fmt: skip
        with pytest.raises(ValidationFailed):
            _valid(**kw).validate(dev_mode=False)


def test_scopes_include_openid_and_only_known_ones() -> None:
    _valid(allowed_scopes=["openid", "workspace"]).validate(dev_mode=False)
    for scopes in (["profile"], ["openid", "offline_access"]):
        with pytest.raises(ValidationFailed) as caught:
            _valid(allowed_scopes=scopes).validate(dev_mode=False)
        assert caught.value.field == "allowed_scopes"


def test_a_name_and_one_to_twenty_redirect_uris_are_required() -> None:
    with pytest.raises(ValidationFailed) as caught:
        ClientInput(name=" ", redirect_uris=["https://a.example/cb"]).validate(dev_mode=False)
    assert caught.value.field == "name"
    with pytest.raises(ValidationFailed) as caught:
        ClientInput(name="Shop", redirect_uris=[], token_endpoint_auth_method="client_secret_basic").validate(False)
    assert caught.value.field == "redirect_uris"


def test_refresh_tokens_are_for_confidential_apps_that_also_use_codes() -> None:
    _valid(grant_types=["refresh_token", "authorization_code", "refresh_token"]).validate(dev_mode=False)
    assert _valid(grant_types=["refresh_token", "authorization_code"]).grant_types == BOTH
    for kw in ({"grant_types": ["refresh_token"]}, {"grant_types": []}, {"grant_types": ["password"]},
               {"client_type": "public", "grant_types": BOTH}):  # fmt: skip
        with pytest.raises(ValidationFailed) as caught:
            _valid(**kw).validate(dev_mode=False)
        assert caught.value.field == "grant_types", kw


def test_keys_are_stored_public_with_a_kid_and_nothing_else() -> None:
    ec = ECKey.generate_key("P-256", auto_kid=False)
    stored = client_keys({"keys": [{**ec.as_dict(private=False), "x5c": ["junk"], "use": "sig"}]})
    (key,) = stored["keys"]
    assert set(key) == {"kty", "crv", "x", "y", "kid", "use"} and key["kid"]  # the thumbprint names it
    given = _valid(token_endpoint_auth_method="private_key_jwt", jwks={"keys": [RSA.as_dict(private=False)]})
    given.validate(dev_mode=False)
    assert given.jwks is not None and "d" not in given.jwks["keys"][0]


@pytest.mark.parametrize(
    "keys",
    [
        {"keys": [{"kty": "RSA", "n": int_to_base64(2**9000 - 1), "e": "AQAB"}]},  # too big to check cheaply
        {"keys": [RSA.as_dict(private=False)] * 11},
        {"keys": []},
        [RSA.as_dict(private=False)],
        {"keys": [{**RSA.as_dict(private=False), "use": "enc"}]},
        {"keys": [{**ECKey.generate_key("P-256").as_dict(private=False), "alg": "RS256"}]},
        {"keys": [{**RSA.as_dict(private=False), "kid": ""}]},
    ],
)
def test_unusable_keys_are_refused_naming_jwks(keys: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        client_keys(keys)
    assert caught.value.field == "jwks"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
KEYISH = st.fixed_dictionaries(
    {"kty": st.sampled_from(["RSA", "EC", "oct", "OKP"])},
    optional={name: JSON | st.text(max_size=60) for name in ("n", "e", "crv", "x", "y", "kid", "alg", "use")},
)


@given(JSON | st.fixed_dictionaries({"keys": st.lists(KEYISH | JSON, max_size=3)}))
def test_any_json_is_either_stored_keys_or_refused_naming_jwks(value: Any) -> None:
    try:
        stored = client_keys(value)
    except ValidationFailed as refused:
        assert refused.field == "jwks"
    else:
        assert all(key["kty"] in ("RSA", "EC") for key in stored["keys"])
