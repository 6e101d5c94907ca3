#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz/ (clang, ASan + UBSan) into
# build-fuzz/ and runs each for a fixed time against a scratch copy of its
# seed corpus (tests/fuzz/corpus/<name>/ is never written). Fails when any
# target crashes, leaks, times out or trips a sanitizer; the input that did
# it is kept in build-fuzz/fuzz-artifacts/<name>/.
#
# Prints one line per target: runs, cov (edges covered) and ft (features)
# from libFuzzer's final stats, and the crashes found.
#
# usage: scripts/fuzz.sh [--seconds N] [--runs N] [--seed N] [TARGET...]
#   --seconds N  time per target (default 20)
#   --runs N     a fixed number of runs per target instead
#   --seed N     libFuzzer's random seed (default: a new one each run);
#                with --runs, the same inputs every time (the test suite's
#                run: what passed here passes in CI; longer exploring runs
#                are by hand, without a seed)
#   TARGET       names from tests/fuzz/meson.build (default: all)
set -eu
cd "$(dirname "$0")/.."

seconds=20
runs=
seed=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done

build="build-fuzz"
if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang is needed (apt-get install clang)" >&2
  exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debugoptimized >"$build.setup.log" 2>&1 || {
    cat "$build.setup.log" >&2; exit 1; }
  rm -f "$build.setup.log"
fi
ninja -C "$build" >/dev/null

if [ $# -eq 0 ]; then
  # the list in tests/fuzz/meson.build, in its order (names without spaces)
  # shellcheck disable=SC2046
  set -- $(sed -n "/^fuzz_targets = \[/,/^\]/s/^ *'\([a-z0-9-]*\)',*$/\1/p" \
    tests/fuzz/meson.build)
fi

# UBSan reports are errors here, not warnings
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly

failed=0
for name in "$@"; do
  bin="$build/tests/fuzz/fuzz-$name"
  seeds="tests/fuzz/corpus/$name"
  if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
    echo "fuzz.sh: no target $name (or no $seeds)" >&2
    failed=1
    continue
  fi
  scratch=$(mktemp -d)
  artifacts="$build/fuzz-artifacts/$name"
  rm -rf "$artifacts"
  mkdir -p "$artifacts"
  log="$build/fuzz-$name.log"
  if [ -n "$runs" ]; then
    limit="-runs=$runs"
  else
    limit="-max_total_time=$seconds"
  fi
  status=0
  "$bin" "$limit" -seed="$seed" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$scratch" "$seeds" >"$log" 2>&1 || status=$?
  rm -rf "$scratch"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  stats=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1)
  cov=$(echo "$stats" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$stats" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  crashes=0
  for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* \
      "$artifacts"/oom-*; do
    if [ -e "$f" ]; then crashes=$((crashes + 1)); fi
  done
  echo "fuzz-$name: ${execs:-0} runs, cov ${cov:-?}, ft ${ft:-?}, crashes $crashes"
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    echo "fuzz-$name FAILED (exit $status); log $log:" >&2
    grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$log" | head -20 >&2
  fi
done
exit $failed
