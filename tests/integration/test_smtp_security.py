"""SMTP with STARTTLS, implicit TLS and authentication, against aiosmtpd with a test CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword
from support.clock import FixedClock
from support.delivery import drain, worker
from support.outbox import messages
from support.smtp import smtp_server

from admit.admin import invitations
from admit.admin.profiles import MemberInput
from admit.shared.context import Actor, Context


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[trustme.CA, Path]]:
    authority = trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    yield authority, bundle


def _server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"admit", b"s3cret-pass")
    return AuthResult(success=ok)


def _starttls_with_login(authority: trustme.CA) -> dict[str, Any]:
    return {
        "tls_context": _server_context(authority),
        "require_starttls": True,
        "auth_required": True,
        "authenticator": _authenticator,
    }


def _starttls_worker(ctx: Context, port: int, bundle: Path, *, password: str, **extra: Any) -> Any:
    return worker(
        ctx,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="starttls",
        smtp_username="admit",
        smtp_password=password,
        smtp_ca_file=str(bundle),
        **extra,
    )


def test_starttls_with_authentication(ctx: Context, operator: Actor, workspace: Any, ca: Any) -> None:
    authority, bundle = ca
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    with smtp_server(**_starttls_with_login(authority)) as smtp:
        drain(_starttls_worker(ctx, smtp.port, bundle, password="s3cret-pass"))
        assert len(smtp.inbox.to("ann@example.com")) == 1


def test_implicit_tls(ctx: Context, operator: Actor, workspace: Any, ca: Any) -> None:
    authority, bundle = ca
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    with smtp_server(ssl_context=_server_context(authority)) as smtp:
        drain(worker(ctx, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="tls", smtp_ca_file=str(bundle)))
        assert len(smtp.inbox.to("ann@example.com")) == 1


def test_wrong_password_or_untrusted_certificate_is_not_sent(
    ctx: Context, operator: Actor, workspace: Any, ca: Any, clock: FixedClock
) -> None:
    authority, bundle = ca
    invitations.invite(ctx, operator, workspace.id, MemberInput(email="ann@example.com"))
    with smtp_server(**_starttls_with_login(authority)) as smtp:
        drain(_starttls_worker(ctx, smtp.port, bundle, password="wrong", smtp_timeout=3))
        assert messages(ctx)[0]["state"] == "failed" and "SMTP" in messages(ctx)[0]["last_error"]
        assert smtp.inbox.messages == []
    clock.advance(minutes=5)
    with smtp_server(ssl_context=_server_context(trustme.CA())) as smtp:  # signed by a CA we do not trust
        drain(
            worker(
                ctx,
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_security="tls",
                smtp_ca_file=str(bundle),
                smtp_timeout=3,
            )
        )
        assert smtp.inbox.messages == []
    assert "CERTIFICATE_VERIFY_FAILED" in messages(ctx)[0]["last_error"]
