#!/usr/bin/env bash
# The test part of `make test` (after install, system-deps and lint): the whole suite on the
# embedded SQLite database, then again on a throwaway PostgreSQL with Redis, where the integration
# tests run a real Celery worker. The services are stopped on every exit, failures included.
# Extra arguments go to both pytest runs (e.g. `scripts/test.sh -x tests/forms`).
set -euo pipefail
cd "$(dirname "$0")/.."

pytest=(.venv/bin/python -m pytest)
started=$SECONDS

echo "== pytest on SQLite"
env -u MINSHENG_TEST_DATABASE_URL -u MINSHENG_TEST_BROKER_URL "${pytest[@]}" "$@"

# A folder of its own, so a developer's `scripts/services.sh start` is left alone.
export MINSHENG_SERVICES_DIR="$PWD/.services/make-test"
scripts/services.sh stop 2>/dev/null || true
trap 'scripts/services.sh stop' EXIT
echo "== starting PostgreSQL and Redis"
# Captured first: a failed start must stop the run, not leave the next pass without servers.
settings="$(scripts/services.sh start)"
eval "$settings"
if [ -z "${MINSHENG_TEST_DATABASE_URL:-}" ] || [ -z "${MINSHENG_TEST_BROKER_URL:-}" ]; then
  echo "scripts/services.sh start printed no MINSHENG_TEST_* settings" >&2
  exit 1
fi

echo "== pytest on PostgreSQL, with Redis and a Celery worker"
"${pytest[@]}" "$@"

echo "== tests passed on SQLite and PostgreSQL in $((SECONDS - started)) s"
