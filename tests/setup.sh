#!/usr/bin/env bash
# Prepare a fresh machine for the whole test suite; safe to run again (each step is skipped when
# already done). Creates .venv, installs the package with its test extra, and installs Debian's
# Chromium for the browser tests (Playwright drives /usr/bin/chromium; it never downloads one).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet -e '.[test]'

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi
