"""The notebook example in the README runs as printed: no database, no app."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_notebook_example_runs(monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Analysing results, in the app or in a notebook", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code, "the analysis section of the README has no Python example"
    monkeypatch.chdir(ROOT)  # the example reads examples/transport.yaml
    scope: dict[str, object] = {}
    exec(compile(code.group(1), "README.md", "exec"), scope)
    base, estimate, low, high = capsys.readouterr().out.split()
    assert int(base) == 3 and 0 <= float(low) <= float(estimate) <= float(high) <= 1
    weighted = scope["weighted"]
    assert weighted.weighted and weighted.question("sat_bus").weighted_base == 1000
