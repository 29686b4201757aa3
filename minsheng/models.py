"""Imports every package's models so `Base.metadata` holds the whole schema (Alembic, tests)."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from minsheng.db import Base
from minsheng.packages import FEATURE_PACKAGES

MODEL_MODULES = (
    "minsheng.accounts.models",
    "minsheng.audit",
    "minsheng.jobs",
    "minsheng.workdays",
    *(f"{package}.models" for package in FEATURE_PACKAGES),
)


def import_all_models() -> MetaData:
    """Import each package's `models` module that exists and return the shared metadata."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return Base.metadata
