#!/bin/sh
# gst-launch-1.0 now and then never exits after a complete HLS output: a race
# in GStreamer's GstBin, not in our elements (docs/security.md, "A stall
# found on the way"). This counts it side by side, N runs each:
#   stock     gst-launch-1.0 on stock elements only (filesrc ! qtdemux !
#             avdec_h264 ! x264enc ! hlssink2)
#   printed   gst-launch-1.0 on `rugbycodex-runner pipeline --print`'s line
#   runner    `rugbycodex-runner transcode` (straight to PLAYING: the control)
#   bench/gst-launch-eos-race.sh [RUNS [BUILD_DIR]]     (default: 30, build)
# A run "hangs" when its playlist already has #EXT-X-ENDLIST and the process
# is still there 10 s later. GST_DEBUG=bin:6 to a file widens the window
# (about 1 in 15 runs here, 2 cores); without it about 1 in 20 on a loaded
# machine, rarer on a quiet one.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-30}
build=${2:-build}
work=$(mktemp -d /tmp/rcx-bench-eos-race.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
export GST_PLUGIN_PATH="$PWD/$build/plugins"
export GST_REGISTRY="$work/registry.bin"
runner="$PWD/$build/runner/rugbycodex-runner"
scripts/make-sample.sh "$work/clip.mp4" 2 320x180 30
cd "$work"

# Runs "$@" with output in out/; prints ok, hang or fail.
one() {
  rm -rf out && mkdir -p out/480p
  "$@" > run.log 2>&1 &
  pid=$!
  waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 600 ]; do
    sleep 0.1
    waited=$((waited + 1))
    if grep -qs EXT-X-ENDLIST out/index.m3u8 out/480p/index.m3u8; then
      settled=0
      while kill -0 "$pid" 2>/dev/null && [ "$settled" -lt 100 ]; do
        sleep 0.1
        settled=$((settled + 1))
      done
      break
    fi
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid"; sleep 1; kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if grep -qs EXT-X-ENDLIST out/index.m3u8 out/480p/index.m3u8; then echo hang; else echo fail; fi
  elif wait "$pid"; then
    echo ok
  else
    echo fail
  fi
}

stock() {
  exec gst-launch-1.0 filesrc location=clip.mp4 ! qtdemux ! h264parse ! avdec_h264 ! \
    videoconvert ! x264enc speed-preset=veryfast key-int-max=60 ! h264parse ! \
    hlssink2 location=out/segment%05d.ts playlist-location=out/index.m3u8 target-duration=6
}

printed() {
  exec sh -c "exec $("$runner" pipeline --print clip.mp4 out)"
}

runner() {
  exec "$runner" transcode --progress none clip.mp4 out
}

export GST_DEBUG=bin:6 GST_DEBUG_FILE="$work/debug.log"
for case in stock printed runner; do
  ok=0 hang=0 fail=0 i=0
  while [ "$i" -lt "$runs" ]; do
    i=$((i + 1))
    case $(one "$case") in
      ok) ok=$((ok + 1)) ;;
      hang) hang=$((hang + 1)) ;;
      *) fail=$((fail + 1)); tail -3 run.log >&2 ;;
    esac
  done
  printf '%-8s %d runs: %d exited, %d hung after a complete playlist, %d failed\n' \
    "$case" "$runs" "$ok" "$hang" "$fail"
done
