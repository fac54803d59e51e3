"""The rules of an app's registration: redirect URIs, types and authentication methods, scopes."""

from __future__ import annotations

import pytest

from admit.domain.errors import ValidationFailed
from admit.oidc_provider.clients import ClientInput, check_uri


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
