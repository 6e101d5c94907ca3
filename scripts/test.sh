#!/bin/sh
# Installs what is needed, builds, and runs the whole test suite. Ends with
# the line "N passed, N failed". Extra arguments go to `meson test` (e.g. a
# suite: scripts/test.sh --suite unit).
#
# --sanitize (first argument): the same in an AddressSanitizer +
# UndefinedBehaviorSanitizer build, build-sanitize/ (-Db_sanitize=
# address,undefined). Any sanitizer report fails its test: UBSan halts,
# LeakSanitizer runs at exit with tests/sanitize/lsan.supp (one-time
# allocations of GLib/GStreamer and of drivers the plugin scan loads). The
# plugin registry is scanned in-process (GST_REGISTRY_FORK=no): the system's
# gst-plugin-scanner is not built with ASan and cannot load our plugin.
# The system's gst-launch-1.0 and gst-inspect-1.0 are not either: the tests
# run them through wrappers that preload libasan (RCX_ASAN_PRELOAD, the
# compiler's libasan.so and libstdc++; tests/fixtures/rcxtest.py), with
# leak checking off in those processes only.
set -eu
cd "$(dirname "$0")/.."
build=build
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build="build-sanitize"
fi
scripts/setup.sh
if [ "$build" = build ]; then
  scripts/build.sh
else
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false
  fi
  ninja -C "$build"
  # full stacks (slower) so that suppressions can match frames below
  # libraries built without frame pointers
  export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=0
  export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  export GST_REGISTRY_FORK=no
  # libasan first; libstdc++ with it, so that ASan's __cxa_throw
  # interceptor finds the real one at start (libproxy, which GIO loads for
  # libsoup, is C++ and throws)
  asan="$(${CC:-cc} -print-file-name=libasan.so)"
  stdcxx="$(${CC:-cc} -print-file-name=libstdc++.so.6)"
  if [ ! -f "$asan" ] || [ ! -f "$stdcxx" ]; then
    echo "test.sh: no libasan.so or libstdc++.so.6 from ${CC:-cc}" >&2
    exit 1
  fi
  export RCX_ASAN_PRELOAD="$asan:$stdcxx"
  # several times slower: meson's time limits grow with the tests' waits
  # (tests/fixtures/rcxtest.py, SANITIZER_SLOWDOWN)
  set -- --timeout-multiplier 4 "$@"
fi
status=0
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || status=$?
/usr/bin/python3 scripts/summarize-tests.py "$build/meson-logs/testlog.json"
exit $status
