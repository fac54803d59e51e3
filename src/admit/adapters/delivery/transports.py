"""Where messages leave Admit: SMTP for email, an HTTP gateway for SMS, and apps' back-channel
logout URIs for logout tokens.

Every transport reports a failure as :class:`DeliveryFailed`, saying whether trying again can
help (a server down, a 4xx SMTP reply, HTTP 429/5xx) or not (a refused recipient, HTTP 4xx).
"""

from __future__ import annotations

import binascii
import contextlib
import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import Any, Protocol

import httpx

from admit.adapters.delivery import outbound
from admit.adapters.delivery.render import Rendered
from admit.config import Settings

LOGOUT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)  # apps answer a logout at once


class DeliveryFailed(Exception):
    """``unreachable``: the server timed out or went away (not this message's fault): the worker
    stops the batch there, and the channel's other messages wait for the retry too, rather than
    each waiting out its own timeout."""

    def __init__(self, reason: str, *, permanent: bool, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.unreachable = unreachable


@dataclass(frozen=True)
class Outgoing:
    key: str  # stable per message: the Message-ID and the gateway's idempotency key
    recipient: str
    rendered: Rendered | None = None  # email and SMS: the message as the person reads it
    payload: Mapping[str, Any] = field(default_factory=dict)  # a logout: what the token says and where it goes

    @property
    def content(self) -> Rendered:
        if self.rendered is None:
            raise DeliveryFailed("nothing rendered to send", permanent=True)
        return self.rendered


Send = Callable[[Outgoing], None]
Sign = Callable[[Mapping[str, Any]], str]  # a logout token for a message's payload


class Transport(Protocol):
    def session(self) -> contextlib.AbstractContextManager[Send]:
        """Open one connection for a batch; the callable sends one message over it."""
        ...


class CaptureTransport:
    """Dev mode without a server: nothing leaves; the dev mailbox shows the outbox itself."""

    def session(self) -> contextlib.AbstractContextManager[Send]:
        return contextlib.nullcontext(lambda _: None)


class SmtpTransport:
    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host is not None
        self.settings = settings
        self.domain = settings.mail_from.rsplit("@", 1)[-1].strip(" >") or "admit.invalid"

    @contextlib.contextmanager
    def session(self) -> Iterator[Send]:
        try:
            connection = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"cannot reach the SMTP server: {_describe(exc)}", permanent=False) from None
        try:
            yield lambda message: self._send(connection, message)
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.quit()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host is not None
        context = ssl.create_default_context(cafile=s.smtp_ca_file)
        if s.smtp_security == "tls":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
            )
        else:
            connection = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            if s.smtp_security == "starttls":
                connection.starttls(context=context)
        if s.smtp_username:
            connection.login(s.smtp_username, s.smtp_password or "")
        return connection

    def _send(self, connection: smtplib.SMTP, message: Outgoing) -> None:
        sender = parseaddr(self.settings.mail_from)[1]
        try:
            connection.sendmail(sender, [message.recipient], mime(self.settings.mail_from, message, self.domain))
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise DeliveryFailed(f"recipient refused ({code})", permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP {exc.smtp_code}: {_describe(exc)}", permanent=exc.smtp_code >= 500) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(
                f"SMTP connection failed: {_describe(exc)}", permanent=False, unreachable=True
            ) from None


def mime(sender: str, message: Outgoing, domain: str) -> bytes:
    """A multipart/alternative (text + HTML) email as bytes.

    Written directly rather than through ``email.message.EmailMessage``, whose header parsing and
    folding cost four times the rest of delivery; the structure is fixed, so it stays simple:
    RFC 2047 words for non-ASCII headers, quoted-printable UTF-8 bodies.
    """
    boundary = f"=_admit_{message.key}"
    headers = [
        ("From", _address(sender)),
        ("To", _header(message.recipient)),
        ("Subject", _header(message.content.subject)),
        ("Date", formatdate(usegmt=True)),
        ("Message-ID", f"<{message.key}@{domain}>"),
        ("MIME-Version", "1.0"),
        ("Auto-Submitted", "auto-generated"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    lines = [f"{name}: {value}" for name, value in headers]
    lines.append("")
    for subtype, body in (("plain", message.content.text), ("html", message.content.html)):
        lines += [
            f"--{boundary}",
            f'Content-Type: text/{subtype}; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable",
            "",
            _quoted_printable(body),
        ]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("ascii")


def _quoted_printable(body: str) -> str:
    """CRLF line ends throughout (smtplib sends bytes as they are), soft breaks at 76."""
    text = "\r\n".join(body.splitlines()) + "\r\n"
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii").removesuffix("\r\n")


def _header(value: str) -> str:
    value = " ".join(value.split())  # no line breaks: nothing can be injected into the headers
    return value if value.isascii() else Header(value, "utf-8").encode()


def _address(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((" ".join(name.split()), address), charset="utf-8")


class SmsGateway:
    """An HTTP SMS gateway: a generic JSON webhook or a Twilio-compatible form API."""

    def __init__(self, settings: Settings) -> None:
        assert settings.sms_url is not None
        self.settings = settings

    @contextlib.contextmanager
    def session(self) -> Iterator[Send]:
        with httpx.Client(timeout=self.settings.sms_timeout) as client:
            yield lambda message: self._send(client, message)

    def _send(self, client: httpx.Client, message: Outgoing) -> None:
        s = self.settings
        assert s.sms_url is not None
        try:
            if s.sms_provider == "twilio":
                response = client.post(
                    f"{s.sms_url.rstrip('/')}/2010-04-01/Accounts/{s.sms_account_sid}/Messages.json",
                    data={"To": message.recipient, "From": s.sms_from or "", "Body": message.content.sms},
                    auth=(s.sms_account_sid or "", s.sms_auth_token or ""),
                    headers={"I-Twilio-Idempotency-Token": message.key},
                )
            else:
                headers = {"Idempotency-Key": message.key}
                if s.sms_token:
                    headers["Authorization"] = f"Bearer {s.sms_token}"
                response = client.post(
                    s.sms_url,
                    headers=headers,
                    json={
                        "to": message.recipient,
                        "from": s.sms_from,
                        "body": message.content.sms,
                        "idempotency_key": message.key,
                    },
                )
        except httpx.TransportError as exc:
            raise DeliveryFailed(
                f"SMS gateway unreachable: {_describe(exc)}", permanent=False, unreachable=True
            ) from None
        if response.is_success:
            return
        transient = response.status_code in (408, 425, 429) or response.status_code >= 500
        raise DeliveryFailed(
            f"SMS gateway answered {response.status_code}: {response.text[:200]}", permanent=not transient
        )


class BackchannelLogout:
    """Logout tokens to apps (OpenID Connect Back-Channel Logout 1.0): a form POST of
    ``logout_token`` to the app's registered URI, signed when sent (``sign``), only to public
    addresses outside dev mode (:mod:`.outbound`). 2xx is done; 408, 425, 429, 5xx and network
    failures are tried again; anything else (the app refused the token, or a redirect) is not."""

    def __init__(self, sign: Sign, *, allow_private: bool) -> None:
        self.sign = sign
        self.allow_private = allow_private

    @contextlib.contextmanager
    def session(self) -> Iterator[Send]:
        with httpx.Client(timeout=LOGOUT_TIMEOUT, follow_redirects=False, trust_env=False) as client:
            yield lambda message: self._send(client, message)

    def _send(self, client: httpx.Client, message: Outgoing) -> None:
        try:
            target = outbound.checked(str(message.payload["uri"]), allow_private=self.allow_private)
        except outbound.TargetRefused as refused:
            raise DeliveryFailed(f"not sent: {refused.reason}", permanent=refused.permanent) from None
        body = {"logout_token": self.sign(message.payload)}
        headers = {**target.headers, "cache-control": "no-store"}
        try:
            with client.stream("POST", target.url, data=body, headers=headers, extensions=target.extensions) as answer:
                status = answer.status_code  # the body is not read: an app cannot make the worker wait on it
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"the app cannot be reached: {_describe(exc)}", permanent=False) from None
        if 200 <= status < 300:
            return
        transient = status in (408, 425, 429) or status >= 500
        raise DeliveryFailed(f"the app answered {status}", permanent=not transient)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def transports_for(settings: Settings, sign_logout: Sign | None = None) -> dict[str, Transport]:
    """The transports this configuration can use; a channel without one waits in the outbox.
    Logout tokens go out wherever they can be signed (``sign_logout``), private addresses in dev
    mode only."""
    chosen: dict[str, Transport] = {}
    if sign_logout is not None:
        chosen["logout"] = BackchannelLogout(sign_logout, allow_private=settings.dev_mode)
    if settings.smtp_host:
        chosen["email"] = SmtpTransport(settings)
    elif settings.dev_mode:
        chosen["email"] = CaptureTransport()
    if settings.sms_provider != "none" and settings.sms_url:
        chosen["sms"] = SmsGateway(settings)
    elif settings.dev_mode:
        chosen["sms"] = CaptureTransport()
    return chosen
