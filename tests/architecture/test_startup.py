"""Creating the app, starting a web worker and `minsheng --help` load none of the heavy libraries:
the statistics, chart, PDF and spreadsheet libraries are imported by the functions that use
them (issue 10), so a CLI call or a restarted web node starts in a fraction of a second.

Each check runs in a fresh interpreter, since the test process has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from minsheng.cli import cli
from minsheng.packages import FEATURE_PACKAGES

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "datasketch",
    "jieba",
    "matplotlib",
    "numpy",
    "openpyxl",
    "pandas",
    "pyarrow",
    "pyreadstat",
    "scipy",
    "statsmodels",
    "weasyprint",
)

# Records, for each heavy library, the first-party module whose import statement asked for it,
# so a failure names the line to fix rather than only the library.
PROBE = """
import importlib.abc, json, sys
HEAVY = set(sys.argv[1].split(","))
FIRST_PARTY = set(sys.argv[2].split(","))
culprits = {}

class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in HEAVY and top not in culprits:
            frame, chain = sys._getframe(1), []
            while frame is not None:
                module = frame.f_globals.get("__name__", "")
                if module.partition(".")[0] in FIRST_PARTY:
                    chain.append(f"{module}:{frame.f_lineno}")
                frame = frame.f_back
            culprits[top] = " <- ".join(chain) or "(outside the project)"
        return None

sys.meta_path.insert(0, Watch())
try:
    exec(compile(CODE, "<probe>", "exec"))
except SystemExit:
    pass
loaded = {name: culprits.get(name, "?") for name in HEAVY if name in sys.modules}
print("\\n" + json.dumps(loaded), file=sys.stderr)
"""

FIRST_PARTY = ("minsheng", "questionnaire", *FEATURE_PACKAGES)


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "MINSHENG_INSTANCE_PATH": str(tmp_path / "instance"),
        "MINSHENG_DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite'}",
        # Not TESTING: without this the app refuses the development keys.
        "MINSHENG_DEVELOPMENT": "true",
    }


def heavy_modules_loaded_by(code: str, tmp_path: Path) -> dict[str, str]:
    """Run `code` in a fresh interpreter and return the heavy libraries it left in
    `sys.modules`, each with the import chain that loaded it."""
    script = f"CODE = {code!r}\n{PROBE}"
    result = run_in_fresh_interpreter(script, tmp_path, ",".join(HEAVY), ",".join(FIRST_PARTY))
    loaded: dict[str, str] = json.loads(result.stderr.strip().splitlines()[-1])
    return loaded


def run_in_fresh_interpreter(
    code: str, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment(tmp_path),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_creating_the_app_loads_no_heavy_library(tmp_path):
    loaded = heavy_modules_loaded_by("import minsheng; minsheng.create_app()", tmp_path)
    assert not loaded, f"create_app() imports heavy libraries: {loaded}"


def test_the_wsgi_entry_point_of_gunicorn_loads_no_heavy_library(tmp_path):
    loaded = heavy_modules_loaded_by("import minsheng.wsgi", tmp_path)
    assert not loaded, f"import minsheng.wsgi imports heavy libraries: {loaded}"


@pytest.mark.parametrize("args", [["--help"], ["campaign", "--help"], ["report", "--help"]])
def test_cli_help_loads_no_heavy_library(tmp_path, args):
    code = (
        f"import sys; sys.argv = ['minsheng', *{args!r}]\nfrom minsheng.cli import main\nmain()\n"
    )
    loaded = heavy_modules_loaded_by(code, tmp_path)
    assert not loaded, f"minsheng {' '.join(args)} imports heavy libraries: {loaded}"


def test_the_probe_sees_a_heavy_library_and_names_its_importer(tmp_path):
    # The checks above pass vacuously if the probe cannot see an import: computing does load them.
    loaded = heavy_modules_loaded_by("import analysis.summary", tmp_path)
    assert {"pandas", "scipy", "pyarrow"} <= set(loaded)
    assert loaded["pandas"].startswith("analysis.")


def test_cli_help_builds_no_app_and_imports_no_package(tmp_path):
    # Building the app imports every package's models and views (about 0.5 s): `--help` lists
    # the declared commands instead (issue 10: `minsheng --help` <= 0.5 s).
    code = (
        "import json, sys\n"
        "sys.argv = ['minsheng', '--help']\n"
        "from minsheng.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = run_in_fresh_interpreter(code, tmp_path)
    modules = set(json.loads(result.stderr.strip().splitlines()[-1]))
    assert "demo" in result.stdout and "users" in result.stdout
    assert "DEVELOPMENT KEYS" not in result.stderr  # the warning of create_app()
    loaded = sorted(
        name
        for name in modules
        if name.partition(".")[0] in (*FEATURE_PACKAGES, "sqlalchemy", "celery")
        or name in ("minsheng.app", "minsheng.accounts")
    )
    assert not loaded, f"minsheng --help imports {loaded}"


def test_every_command_of_the_app_is_declared_with_its_short_help(app):
    # The declarations stand in for the commands in `--help`; a command a package registers in
    # its `init_app` without a declaration would be missing from it, a stale help line wrong.
    context = click.Context(cli)
    registered = {
        name: app.cli.get_command(context, name).get_short_help_str(10_000)
        for name in app.cli.list_commands(context)
    }
    assert set(registered) <= set(cli.list_commands(context))
    for name, short_help in registered.items():
        assert cli.get_command(context, name) is app.cli.get_command(context, name), name
        declared = cli.declared.get(name)
        assert declared is None or declared.short_help == short_help, name
    assert set(cli.declared) <= set(registered)


def test_a_declared_group_has_all_its_subcommands_before_the_app_exists(app, tmp_path):
    # `campaign load|dump` live in forms.cli, `invitations send` in invitations.send_cli: loading
    # a declared group must import its extensions too, or `minsheng campaign --help` lacks them.
    code = (
        "import json, click\n"
        "from minsheng.cli import cli\n"
        "context = click.Context(cli)\n"
        "print(json.dumps({name: sorted(getattr(cli.get_command(context, name), 'commands', ()))"
        " for name in cli.declared}))\n"
    )
    result = run_in_fresh_interpreter(code, tmp_path)
    without_app = json.loads(result.stdout)
    context = click.Context(app.cli)
    with_app = {
        name: sorted(getattr(app.cli.get_command(context, name), "commands", ()))
        for name in without_app
    }
    assert without_app == with_app
    assert {"load", "dump"} <= set(without_app["campaign"])
