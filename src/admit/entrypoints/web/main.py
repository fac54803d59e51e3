"""The app as uvicorn loads it in each worker process: ``admit.entrypoints.web.main:create``."""

from __future__ import annotations

from fastapi import FastAPI

from admit.bootstrap import build_context
from admit.config import Settings
from admit.entrypoints.web.app import create_app
from admit.logs import configure_logging


def create() -> FastAPI:
    settings = Settings()
    configure_logging(settings)
    return create_app(settings, build_context(settings))
