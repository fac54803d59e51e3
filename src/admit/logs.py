"""Logging through structlog: JSON outside dev mode, never a secret.

Anything that looks like an Admit token (``adm_xxx_…``) or a signed JWT (an ID, access or logout
token, an ``id_token_hint``: ``eyJ….….…``) is masked before a line is written, as a last line of
defence: code should not log secrets in the first place.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

from admit.config import Settings

TOKEN = re.compile(r"adm_[a-z]{3}_[A-Za-z0-9_-]+")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def redact(text: str) -> str:
    return JWT.sub("eyJ…", TOKEN.sub(lambda m: m.group(0)[:8] + "…", text))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def _redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in event.items():
        event[key] = _redacted(value)  # an exception's message and frames too
    return event


# A failure is logged once, with its frames and without their local variables (they can hold
# passwords and tokens; rendering them also took seconds for one error). JSON lines carry the
# frames as a list of dicts; the console shows a plain traceback.
_EXCEPTION_AS_DICT = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):  # structlog's event dicts are redacted by _redact_event
            record.msg = redact(record.getMessage())
            record.args = ()
        return True


def configure_logging(settings: Settings) -> None:
    if settings.json_logs:
        renderers: list[Any] = [_EXCEPTION_AS_DICT, structlog.processors.JSONRenderer()]
    else:
        renderers = [
            structlog.processors.format_exc_info,  # plain text: no locals, no colours
            structlog.dev.ConsoleRenderer(colors=False),
        ]
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderers[0],
            _redact_event,
            *renderers[1:],
        ],
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    handler.addFilter(_RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # Authlib logs each token it issues (JWT access tokens too) at debug: never below info.
    logging.getLogger("authlib").setLevel(max(root.level, logging.INFO))
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # paths can carry tokens; we log none
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
    )
