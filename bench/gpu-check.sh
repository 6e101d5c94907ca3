#!/bin/bash
# bench/gpu-check.sh: one command that says whether the NVIDIA path works on
# this host and how fast (Debian bookworm; root or sudo for the packages).
#
#   bench/gpu-check.sh [--build DIR] [--seconds N] [--keep DIR]
#
# 1. Installs what it needs from Debian (scripts/setup.sh's list: GStreamer
#    with gstreamer1.0-plugins-bad, which holds nvcodec, ffmpeg, python3-gi)
#    and builds the tree (scripts/setup.sh, scripts/build.sh) when BUILD
#    has no runner. The NVIDIA driver
#    (libcuda, libnvcuvid, libnvidia-encode) comes with the host; cudascale
#    also needs NVRTC (Debian non-free `libnvrtc11.2`, installed when the
#    host has a GPU and the package is available).
# 2. Lists the nvcodec elements GStreamer registers here.
# 3. Makes a 1080p30 H.264 + AAC clip (--seconds, default 30; cached in
#    BUILD/bench/) and the lines of the stages from the runner itself
#    (`pipeline --print -e nvenc` / `-e x264` on that clip).
# 4. Checks every line it would run: `rugbycodex-runner pipeline --check
#    pipelines/hls-ladder.json`, then a gst_parse_launch-level check of each
#    line with the elements this host lacks checked against the 1.22 nvcodec
#    properties in tests/data (bench/gpu_check.py structural).
# 5. Without a GPU (no working nvidia-smi) it says so and exits 0 here.
# 6. With one, runs what it has, each stage printing fps, whether the caps
#    stayed memory:CUDAMemory from the decoder to each encoder's input, the
#    GPU memory used, and tests/hlscheck.py's verdict on the output:
#    - nvdec-cuda-x264 (nvh264dec + cudaupload + cudascale registered; also
#      on GPUs without NVENC such as A100/H100/H200): decode and scale the
#      default ladder on the GPU, frames in CUDA memory, then cudadownload
#      and the x264 entry's encoder;
#    - nvenc (nvh264enc registered too: T4, L4, A10): the full nvenc entry
#      of pipelines/hls-ladder.json, as `pipeline --print -e nvenc` gives it.
#    Exit status 1 when a stage that could run failed.
# Takes about 1-3 minutes on a T4-class host (most of it installing).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD="$ROOT/build"
SECONDS_CLIP=30
KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$(realpath "$2"); shift 2 ;;
    --seconds) SECONDS_CLIP="$2"; shift 2 ;;
    --keep) KEEP=$(realpath -m "$2"); shift 2 ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { printf '== %s\n' "$*"; }

have_gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  have_gpu=1
fi

# 1. packages and build: a tree without a build gets scripts/setup.sh and
# scripts/build.sh; otherwise only what the check runs, when missing
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
RUNNER="$BUILD/runner/rugbycodex-runner"
if [ ! -x "$RUNNER" ]; then
  say "setting up and building into $ROOT/build"
  scripts/setup.sh >/dev/null
  scripts/build.sh >/dev/null
  BUILD="$ROOT/build"
  RUNNER="$BUILD/runner/rugbycodex-runner"
fi
SRC="$BUILD/bench/gpu-1080p30-${SECONDS_CLIP}s.mp4"
# ffmpeg only makes the clip: a host that has it cached needs no ffmpeg
need_ffmpeg=""
[ -f "$SRC" ] || need_ffmpeg="ffmpeg"
missing=""
for p in gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
  gstreamer1.0-plugins-ugly gstreamer1.0-libav $need_ffmpeg python3-gi gir1.2-gstreamer-1.0; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing$missing"
  $SUDO apt-get update -q >/dev/null
  # shellcheck disable=SC2086 # a list of package names
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
if [ "$have_gpu" -eq 1 ] && ! ldconfig -p | grep -q 'libnvrtc\.so'; then
  # non-free: only where the host's sources enable it; cudascale needs it
  $SUDO apt-get install -y -q --no-install-recommends libnvrtc11.2 >/dev/null 2>&1 ||
    echo "gpu-check: libnvrtc11.2 not installable (enable non-free); cudascale may be missing"
fi
# GStreamer 1.22 dlopen()s the unversioned "libnvrtc.so", which only the CUDA
# development packages provide; Debian's libnvrtc11.2 has the SONAME alone, and
# without NVRTC nvcodec registers no cudascale/cudaconvert.
if [ -z "${GST_CUDA_NVRTC_LIBNAME:-}" ] && ! ldconfig -p | grep -q 'libnvrtc\.so '; then
  nvrtc=$(ldconfig -p | sed -n 's/^[[:space:]]*\(libnvrtc\.so\.[0-9.]*\) .*/\1/p' | head -n 1)
  if [ -n "$nvrtc" ]; then
    export GST_CUDA_NVRTC_LIBNAME="$nvrtc"
    echo "gpu-check: GST_CUDA_NVRTC_LIBNAME=$nvrtc (no unversioned libnvrtc.so here)"
  fi
fi
export GST_PLUGIN_PATH="$BUILD/plugins"
# the descriptions of this checkout, also for a runner built elsewhere
export RCX_PIPELINES_DIR="${RCX_PIPELINES_DIR:-$ROOT/pipelines}"
export GST_REGISTRY="$BUILD/bench/gpu-registry.bin"
mkdir -p "$BUILD/bench"
PY=/usr/bin/python3
HELPER="$ROOT/bench/gpu_check.py"

# 2. what the host registers
say "host"
if [ "$have_gpu" -eq 1 ]; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
else
  echo "no NVIDIA GPU here (nvidia-smi missing or finds no device)"
fi
say "nvcodec elements"
"$PY" "$HELPER" list

# 3. the clip and the lines
if [ ! -f "$SRC" ]; then
  ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$SECONDS_CLIP" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$SECONDS_CLIP" \
    -ac 2 -c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 128k \
    -movflags +faststart "$SRC.tmp.mp4"
  mv "$SRC.tmp.mp4" "$SRC"
fi
WORK=${KEEP:-$(mktemp -d /tmp/rcx-gpu-check.XXXXXX)}
mkdir -p "$WORK"
[ -n "$KEEP" ] || trap 'rm -rf "$WORK"' EXIT

for stage in nvenc nvdec-cuda-x264; do
  rm -rf "${WORK:?}/$stage"
  mkdir -p "$WORK/$stage"
done
"$RUNNER" pipeline --print -e nvenc "$SRC" "$WORK/nvenc/" >"$WORK/nvenc.line"
"$RUNNER" pipeline --print -e nvenc "$SRC" "$WORK/nvdec-cuda-x264/" >"$WORK/nvdec.line"
"$RUNNER" pipeline --print -e x264 "$SRC" "$WORK/nvdec-cuda-x264/" >"$WORK/x264.line"
"$PY" "$HELPER" lines "$SRC" "$WORK" "$WORK/nvdec.line" "$WORK/x264.line"
grep -q "location=$WORK/nvdec-cuda-x264/" "$WORK/nvdec-cuda-x264.line"

# 4. check every line before running any
say "checks"
"$RUNNER" pipeline --check pipelines/hls-ladder.json
"$PY" "$HELPER" structural "$WORK/nvenc.line" "$WORK/nvdec-cuda-x264.line"

if [ "$have_gpu" -eq 0 ]; then
  say "no GPU: the pipelines above pass the checks; nothing else to run"
  exit 0
fi

# 5. the stages this GPU has
registered() { gst-inspect-1.0 --exists "$1"; }
status=0
if registered nvh264dec && registered cudaupload && registered cudascale && registered cudadownload; then
  say "stage nvdec-cuda-x264: NVDEC decode + CUDA scaling, x264 after cudadownload"
  "$PY" "$HELPER" run nvdec-cuda-x264 "$WORK/nvdec-cuda-x264.line" "$SRC" "$WORK/nvdec-cuda-x264" || status=1
else
  say "stage nvdec-cuda-x264: skipped (nvh264dec/cudaupload/cudascale/cudadownload not all registered)"
fi
if registered nvh264enc && registered nvh264dec && registered cudascale; then
  say "stage nvenc: the nvenc entry of pipelines/hls-ladder.json"
  "$PY" "$HELPER" run nvenc "$WORK/nvenc.line" "$SRC" "$WORK/nvenc" || status=1
else
  say "stage nvenc: skipped (no nvh264enc here: this GPU has no NVENC, or its driver lacks libnvidia-encode)"
fi
exit "$status"
