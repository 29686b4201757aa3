#!/usr/bin/env bash
# `make lock`: resolve pyproject.toml into the two lock files everything installs from, pinned with
# hashes for every platform and Python >= 3.11:
#   requirements/dev.txt         every extra (dev, bench, postgres, redis): CI, make test, make demo
#   requirements/production.txt  postgres and redis only, at the same versions: docker/Dockerfile
# Pins already in the files are kept while pyproject.toml allows them, so adding a dependency
# changes only what it brings. `scripts/lock.sh --upgrade` moves everything to the newest allowed
# release, `--upgrade-package NAME` one package.
set -euo pipefail
cd "$(dirname "$0")/.."

uv=.venv/bin/uv
if [ ! -x "$uv" ]; then
  if [ ! -x .venv/bin/python ]; then
    scripts/venv.sh
  fi
  # The version the lock itself pins, so every developer resolves with the same resolver.
  pinned="$(grep -o '^uv==[^ ;]*' requirements/dev.txt 2>/dev/null || echo uv)"
  .venv/bin/python -m pip install -q "$pinned"
fi

compile=("$uv" pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes
  --custom-compile-command "make lock" --quiet "$@")
"${compile[@]}" --all-extras -o requirements/dev.txt
# Constrained by the dev lock: the image runs the versions the test suite ran.
"${compile[@]}" --extra postgres --extra redis -c requirements/dev.txt -o requirements/production.txt
echo "wrote requirements/dev.txt and requirements/production.txt; scripts/venv.sh installs them"
