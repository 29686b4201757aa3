"""The pure layers stay pure at run time, not only in import-linter's static graph: each module,
imported alone in a fresh interpreter, loads neither Flask, SQLAlchemy nor the app's database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PURE_MODULES = ["questionnaire.schema", "questionnaire.expressions", "questionnaire.logic"]
FORBIDDEN = ["flask", "sqlalchemy", "minsheng.db", "minsheng.app"]

_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(set(sys.argv[2:]) & set(sys.modules))))
"""


@pytest.mark.parametrize("module", PURE_MODULES)
def test_module_imports_without_app_or_database(module: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, module, *FORBIDDEN],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    assert json.loads(done.stdout) == []
