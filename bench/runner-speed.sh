#!/bin/sh
# Wall time, speed and peak memory of `rugbycodex-runner transcode` on
# generated samples (20 s 720p30 and 20 s 1080p30 with audio by default).
#   bench/runner-speed.sh [BUILD_DIR]      (default: build)
# Prints one line per sample: size, rungs, encoder, wall s, x realtime,
# max RSS MB.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d /tmp/rcx-bench-runner.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
export GST_PLUGIN_PATH="$PWD/$build/plugins"
export GST_REGISTRY="$work/registry.bin"

for size in 1280x720 1920x1080; do
  scripts/make-sample.sh "$work/$size.mp4" 20 "$size" 30
  /usr/bin/time -f "%e %M" -o "$work/time" \
    "$build/runner/rugbycodex-runner" transcode --progress none \
    "$work/$size.mp4" "$work/out-$size" > "$work/summary.json"
  read -r wall rss < "$work/time"
  /usr/bin/python3 - "$work/summary.json" "$size" "$wall" "$rss" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
wall, rss = float(sys.argv[3]), int(sys.argv[4]) / 1024
rungs = "+".join(r["name"] for r in s["rungs"])
print(f"{sys.argv[2]} 20 s -> {rungs} with {s['encoder']}: wall {wall:.1f} s, "
      f"{s['duration'] / wall:.2f}x realtime, max RSS {rss:.0f} MB")
PY
done
