"""Installs are reproducible: every environment is built from a lock that pyproject.toml satisfies.

CI (`.ci/run` -> `make test` -> `scripts/venv.sh`) and `make demo` install requirements/dev.txt,
the docker image installs requirements/production.txt; both pin every package with hashes and
then install minsheng itself with `--no-deps`, so nothing is resolved again at install time.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
DEV_LOCK = ROOT / "requirements" / "dev.txt"
PRODUCTION_LOCK = ROOT / "requirements" / "production.txt"
PRODUCTION_EXTRAS = ("postgres", "redis")

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)\s*(?:;(?P<marker>[^\\]+))?")


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    hashes: int


def pins(lock: Path) -> dict[str, Pin]:
    """The pins of a uv/pip-tools lock that apply to this interpreter (a universal lock may pin
    one package twice under exclusive markers)."""
    found: dict[str, Pin] = {}
    current: str | None = None
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            marker = match["marker"]
            if marker and not Marker(marker.strip()).evaluate():
                current = None
                continue
            name = canonicalize_name(match["name"])
            assert name not in found, f"{lock.name}: {name} pinned twice for this interpreter"
            found[name] = Pin(name, Version(match["version"]), 0)
            current = name
        elif current and line.strip().startswith("--hash=sha256:"):
            pin = found[current]
            found[current] = Pin(pin.name, pin.version, pin.hashes + 1)
    return found


def project() -> dict[str, Any]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data["project"]  # type: ignore[no-any-return]


def requirements(extras: tuple[str, ...] | None) -> list[Requirement]:
    """pyproject's dependencies plus the given extras (None: every extra), self-references
    (`minsheng[postgres]`) expanded."""
    meta = project()
    optional: dict[str, list[str]] = meta["optional-dependencies"]
    wanted = list(optional) if extras is None else list(extras)
    result = [Requirement(text) for text in meta["dependencies"]]
    seen: set[str] = set()
    while wanted:
        extra = wanted.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in optional[extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == "minsheng":
                wanted.extend(requirement.extras)
            else:
                result.append(requirement)
    return result


@pytest.mark.parametrize(
    ("lock", "extras"),
    [(DEV_LOCK, None), (PRODUCTION_LOCK, PRODUCTION_EXTRAS)],
    ids=["dev", "production"],
)
def test_lock_pins_every_requirement_of_pyproject_with_hashes(
    lock: Path, extras: tuple[str, ...] | None
) -> None:
    locked = pins(lock)
    stale = []
    for requirement in requirements(extras):
        if requirement.marker and not requirement.marker.evaluate():
            continue
        pin = locked.get(canonicalize_name(requirement.name))
        if pin is None or not requirement.specifier.contains(pin.version, prereleases=True):
            shown = "missing" if pin is None else f"pinned at {pin.version}"
            stale.append(f"{requirement} ({shown})")
    assert not stale, f"{lock.name} is out of date with pyproject.toml; run `make lock`: {stale}"
    unhashed = sorted(pin.name for pin in locked.values() if pin.hashes == 0)
    assert not unhashed, f"{lock.name}: pins without hashes: {unhashed}"


def test_production_lock_is_the_dev_lock_without_the_tools() -> None:
    dev, production = pins(DEV_LOCK), pins(PRODUCTION_LOCK)
    differing = {
        n: (p.version, dev[n].version)
        for n, p in production.items()
        if n in dev and dev[n].version != p.version
    }
    assert not differing, f"the image would run versions the tests never ran: {differing}"
    assert set(production) <= set(dev)
    for tool in ("pytest", "factory-boy", "mypy", "ruff", "duckdb", "psutil"):
        assert tool in dev
        assert tool not in production, f"{tool} belongs in an extra, not in the image"
    for driver in ("psycopg", "redis"):
        assert driver in production


def test_drivers_and_benchmark_tools_are_extras_not_dependencies() -> None:
    core = {canonicalize_name(Requirement(t).name) for t in project()["dependencies"]}
    assert not core & {"psycopg", "redis", "duckdb", "psutil", "pytest", "factory-boy"}
    optional = project()["optional-dependencies"]
    assert set(optional) >= {"postgres", "redis", "bench", "dev"}


def _commands(path: Path) -> str:
    """The file with backslash continuations joined, comments dropped."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_docker_image_installs_the_production_lock_and_nothing_resolved() -> None:
    dockerfile = _commands(ROOT / "docker" / "Dockerfile")
    installs = re.findall(r"pip install ([^&\n]*)", dockerfile)
    assert installs, "docker/Dockerfile installs nothing with pip"
    assert installs[0].split() == ["--require-hashes", "-r", "requirements/production.txt"]
    for args in installs[1:]:
        assert "--no-deps" in args.split(), f"`pip install {args}` would resolve dependencies"
    assert "COPY requirements/production.txt" in dockerfile
    ignore = (ROOT / "docker" / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    assert "!requirements/production.txt" in ignore.splitlines()


def test_venv_script_installs_the_dev_lock_and_nothing_resolved() -> None:
    script = _commands(ROOT / "scripts" / "venv.sh")
    installs = re.findall(r"pip install (.*)", script)
    assert installs, "scripts/venv.sh installs nothing with pip"
    lock = re.search(r"^lock=(\S+)$", script, re.MULTILINE)
    assert lock and lock[1] == "requirements/dev.txt"
    assert installs[0].split() == ["-q", "--require-hashes", "-r", '"$lock"']
    for args in installs[1:]:
        assert "--no-deps" in args.split(), f"`pip install {args}` would resolve dependencies"
    assert "pip check" in script


def test_ci_demo_and_test_install_through_the_venv_script() -> None:
    assert "exec make test" in _commands(ROOT / ".ci" / "run")
    makefile = _commands(ROOT / "Makefile")
    assert re.search(r"^venv install:\n\tscripts/venv\.sh$", makefile, re.MULTILINE)
    for target in ("demo", "test"):
        line = re.search(rf"^{target}:(.*)$", makefile, re.MULTILINE)
        assert line and "install" in line[1].split(), f"make {target} skips the locked install"
    assert re.search(r"^lock:\n\tscripts/lock\.sh$", makefile, re.MULTILINE)
