#!/usr/bin/env bash
# Prepare a fresh machine for the whole test suite; safe to run again (each step is skipped when
# already done). Creates .venv, installs the package with its test extra, and installs with apt:
# - Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; it never downloads one);
# - Apache Jena (libapache-jena-java, whose jars tests/jena.py runs as `riot --validate`) for the
#   independent RDF validator of tests/test_jena.py and the bench's Jena ARQ peer
#   (tests/perf/test_bench.py), and a JDK when there is no javac (the package depends on no Java;
#   the peer's server, server/caspian_kg/scale/java/ArqServer.java, is compiled with javac, so a
#   Java runtime alone is not enough: default-jdk-headless brings both);
# - Virtuoso Open Source (virtuoso-opensource-7) for the remote-store tests of tests/test_virtuoso.py
#   and the bench's Virtuoso peer (tests/perf/test_bench.py). Its packaged service is never started:
#   they run their own `virtuoso-t -f` with their own virtuoso.ini in a temporary directory
#   (server/caspian_kg/scale/virtuoso.py). On a machine without a policy-rc.d
#   one that refuses every service start is put in place for the install, then removed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet -e '.[test]'

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

MISSING=()
[ -x /usr/bin/chromium ] || MISSING+=(chromium)
installed libapache-jena-java || MISSING+=(libapache-jena-java)
command -v javac >/dev/null || MISSING+=(default-jdk-headless)
installed virtuoso-opensource-7 || MISSING+=(virtuoso-opensource-7)

if [ "${#MISSING[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    NO_SERVICES=""  # Debian's own switch (invoke-rc.d reads it): exit 101 = no service may start
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        NO_SERVICES=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$NO_SERVICES" >/dev/null
        $SUDO chmod +x "$NO_SERVICES"
        trap '$SUDO rm -f "$NO_SERVICES"' EXIT
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${MISSING[@]}" >/dev/null
fi
