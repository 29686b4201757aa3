#!/usr/bin/env bash
# `make lint`: every check runs, even after one fails, so a single run shows every problem;
# the exit status is non-zero when any of them failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

failed=()
check() {
  local name="$1"
  shift
  echo "== $name"
  if ! "$@"; then
    failed+=("$name")
  fi
}

check "ruff check" "$bin/ruff" check .
check "ruff format --check" "$bin/ruff" format --check .
check "mypy (strict)" "$bin/mypy"
check "import-linter" "$bin/lint-imports"
check "alembic check" "$bin/python" -m minsheng.dbtool check

if [ "${#failed[@]}" -ne 0 ]; then
  printf '== lint failed: %s\n' "$(IFS=,; echo "${failed[*]}" | sed 's/,/, /g')" >&2
  exit 1
fi
echo "== lint passed"
