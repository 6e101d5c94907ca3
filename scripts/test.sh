#!/bin/sh
# Installs what is needed, builds, and runs the whole test suite. Ends with
# the line "N passed, N failed". Extra arguments go to `meson test` (e.g. a
# suite: scripts/test.sh --suite unit).
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
status=0
meson test -C build --print-errorlogs --num-processes 2 "$@" || status=$?
/usr/bin/python3 scripts/summarize-tests.py build/meson-logs/testlog.json
exit $status
