"""The app as uvicorn loads it in each worker process: ``admit.web.main:create``."""

from __future__ import annotations

from fastapi import FastAPI

from admit.bootstrap import build_context
from admit.config import Settings
from admit.logs import configure_logging
from admit.web.app import create_app


def create() -> FastAPI:
    settings = Settings()
    configure_logging(settings)
    return create_app(settings, build_context(settings))
