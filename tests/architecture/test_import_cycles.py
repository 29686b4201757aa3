"""The questionnaire vocabulary's modules import one another in one direction only (expressions <
tree < logic < schema), so each can be read, and imported, without the ones above it.

grimp (the graph import-linter builds) counts every import: those inside functions and under
`TYPE_CHECKING` too, so a cycle hidden by a call-time import is still found.
"""

from __future__ import annotations

import graphlib

import grimp
import pytest

ACYCLIC_PACKAGES = ("questionnaire",)


def import_cycle(package: str) -> list[str]:
    """One cycle of imports among the modules of ``package`` (the first module repeated at the
    end), or [] when there is none."""
    graph = grimp.build_graph(package, cache_dir=None)
    modules = graph.find_descendants(package) | {package}
    imports = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    try:
        tuple(graphlib.TopologicalSorter(imports).static_order())
    except graphlib.CycleError as error:
        cycle: list[str] = list(reversed(error.args[1]))
        return cycle
    return []


@pytest.mark.parametrize("package", ACYCLIC_PACKAGES)
def test_package_modules_import_each_other_without_cycles(package: str) -> None:
    assert import_cycle(package) == []


def test_a_cycle_hidden_in_a_function_is_found(tmp_path, monkeypatch) -> None:
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("import cyclic.b\n")
    (package / "b.py").write_text("def later():\n    from cyclic import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cycle = import_cycle("cyclic")
    assert set(cycle) == {"cyclic.a", "cyclic.b"}
    assert cycle[0] == cycle[-1]
