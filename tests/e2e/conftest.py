"""The browser tests serve the app from a thread whose connections commit for real, so each
test gets a migrated SQLite database of its own instead of the shared one: the audit log is
append-only, so what such a test records could not be removed after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from minsheng.dbtool import upgrade


@pytest.fixture()
def own_database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'e2e.sqlite'}"
    upgrade(url)
    return url
