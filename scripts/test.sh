#!/usr/bin/env bash
# The one test command: installs what is missing, builds, and runs every test with CTest.
# PERKS_CRASH_CYCLES sets how many kill -9 cycles the crash test runs (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 1200
