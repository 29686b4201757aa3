#!/usr/bin/env bash
# Install the Debian packages minsheng needs, only those that are missing.
#   scripts/system-deps.sh demo   fonts and WeasyPrint's libraries (enough to render reports)
#   scripts/system-deps.sh test   the above plus poppler, zbar (QR posters), PostgreSQL, Redis and Chromium
# As root the packages are installed with apt-get; otherwise the script stops and prints the
# exact command to run, so a prepared machine passes in well under a second.
set -euo pipefail

profile="${1:-test}"
demo_packages=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig)
test_packages=(poppler-utils zbar-tools postgresql redis-server redis-tools chromium)

case "$profile" in
  demo) wanted=("${demo_packages[@]}") ;;
  test) wanted=("${demo_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac

missing=()
for package in "${wanted[@]}"; do
  if ! dpkg -s "$package" >/dev/null 2>&1; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present (${profile})"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "this machine has no apt-get; install their equivalents with your package manager" >&2
  exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "run this, then run make again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# A font installed just now must be visible to fontconfig (WeasyPrint, matplotlib) right away.
if command -v fc-cache >/dev/null 2>&1; then
  fc-cache -f >/dev/null 2>&1 || true
fi
