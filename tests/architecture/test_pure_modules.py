"""The pure layers stay pure at run time, not only in import-linter's static graph: each module,
imported alone in a fresh interpreter, loads neither Flask, SQLAlchemy nor the app's database.

The pure modules are the source modules of pyproject.toml's "forbidden" contracts (the
questionnaire vocabulary and the statistics), so the static check and this one read one list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from minsheng.packages import FEATURE_PACKAGES

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ["flask", "sqlalchemy", "minsheng.db", "minsheng.app"]
# The modules of analysis/ that talk to the database or the app: loading responses, the Parquet
# snapshot, `summarize(session, campaign)`, and the pages, their forms, API and tasks. Everything
# else there computes, and must be pure.
ANALYSIS_WITH_DATABASE = {
    "analysis",
    "analysis.api",
    "analysis.loading",
    "analysis.snapshots",
    "analysis.summary",
    "analysis.tasks",
    "analysis.views",
    "analysis.webforms",
}


def _pure_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return sorted(
        module
        for contract in contracts
        if contract["type"] == "forbidden"
        and {"flask", "sqlalchemy"} <= set(contract["forbidden_modules"])
        for module in contract["source_modules"]
    )


PURE_MODULES = _pure_modules()

# Imports the modules one after another and records, for each, the forbidden modules its import
# brought in: as strong as one interpreter per module (what a module loads stays loaded), and one
# start-up instead of dozens.
_PROBE = """
import importlib, json, sys
modules, forbidden = sys.argv[1].split(","), set(sys.argv[2].split(","))
culprits = {}
for module in modules:
    before = forbidden & set(sys.modules)
    importlib.import_module(module)
    brought = sorted((forbidden & set(sys.modules)) - before)
    if brought:
        culprits[module] = brought
print(json.dumps(culprits))
"""


def forbidden_loaded_by(modules: list[str]) -> dict[str, list[str]]:
    """Each of ``modules`` whose import, in a fresh interpreter, loaded `FORBIDDEN` modules."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(modules), ",".join(FORBIDDEN)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    culprits: dict[str, list[str]] = json.loads(done.stdout)
    return culprits


def test_pure_modules_import_without_app_or_database() -> None:
    assert forbidden_loaded_by(PURE_MODULES) == {}


def test_every_statistics_module_is_checked_for_purity() -> None:
    """A new computation module in analysis/ joins the contract, or is named here as loading."""
    modules = {f"analysis.{path.stem}" for path in (ROOT / "analysis").glob("*.py")}
    modules = {"analysis" if m == "analysis.__init__" else m for m in modules}
    unchecked = modules - ANALYSIS_WITH_DATABASE - set(PURE_MODULES)
    assert unchecked == set(), f"add {sorted(unchecked)} to the statistics contract"
    assert not ANALYSIS_WITH_DATABASE & set(PURE_MODULES)


def test_questionnaire_vocabulary_is_checked_for_purity() -> None:
    modules = {f"questionnaire.{path.stem}" for path in (ROOT / "questionnaire").glob("*.py")}
    unchecked = modules - {"questionnaire.__init__"} - set(PURE_MODULES)
    assert unchecked == set(), f"add {sorted(unchecked)} to the questionnaire contract"


def test_package_inits_import_no_flask() -> None:
    """A package's `__init__` registers it in `init_app`, importing its views only there, so that
    importing one of its pure modules (`analysis.counting`) does not bring Flask along."""
    assert forbidden_loaded_by(list(FEATURE_PACKAGES)) == {}
