#!/usr/bin/env bash
# Create .venv with a Python >= 3.11, install exactly the versions of requirements/dev.txt (the lock
# `make lock` writes from pyproject.toml; every extra, hashes checked), then minsheng itself without
# dependencies, and compile translations. Re-running is cheap: nothing is done until pyproject.toml
# or the lock changes.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  python=""
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python="$candidate"
      break
    fi
  done
  if [ -z "$python" ]; then
    echo "minsheng needs Python 3.11 or newer; found: $(python3 --version 2>&1 || echo none)" >&2
    echo "on Debian 12: sudo apt-get install -y python3 python3-venv python3-pip" >&2
    exit 1
  fi
  if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    version="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get update -q
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python${version}-venv"
    else
      echo "$python cannot create virtual environments; run:" >&2
      echo "  sudo apt-get install -y python${version}-venv" >&2
      exit 1
    fi
  fi
  echo "creating $venv with $python ($("$python" --version))"
  "$python" -m venv "$venv"
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1
lock=requirements/dev.txt
stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
  "$venv/bin/python" -m pip install -q --require-hashes -r "$lock"
  "$venv/bin/python" -m pip install -q --no-deps -e .
  # A dependency added to pyproject.toml but not to the lock would otherwise go missing silently.
  if ! problems="$("$venv/bin/python" -m pip check 2>&1)"; then
    echo "$problems" >&2
    echo "$lock does not satisfy pyproject.toml: run \`make lock\` and commit requirements/" >&2
    exit 1
  fi
  touch "$stamp"
else
  echo "$venv is up to date with $lock"
fi
# A developer machine or CI without keys: compiling catalogs serves nobody.
MINSHENG_DEVELOPMENT=true "$venv/bin/python" -m minsheng i18n compile
