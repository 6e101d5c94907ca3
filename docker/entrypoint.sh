#!/bin/sh
# The image's entrypoint (under tini): builds the GStreamer registry for
# this host, then runs rugbycodex-runner with the container's arguments
# (default: worker).
#
# The registry is built here, at start, because the elements nvcodec
# registers depend on the GPU and driver the NVIDIA runtime mounted into
# this container: a registry built at image build time (no GPU) would list
# no nvh264enc. Set RCX_REQUIRE_NVCODEC=1 to refuse to start without them
# (a GPU task that silently encodes with x264 is ~10x slower).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

: "${GST_REGISTRY:=/tmp/gst-registry.bin}"
export GST_REGISTRY
rm -f "$GST_REGISTRY"
# gst-inspect-1.0 of one plugin scans them all and writes the registry.
# The nvenc entry of the ladder needs all four: cudascale is registered only
# when NVRTC loads (GST_CUDA_NVRTC_LIBNAME, scripts/packages/image.txt).
features=$(gst-inspect-1.0 nvcodec 2>/dev/null || true)
missing=""
for element in nvh264dec nvh264enc cudaupload cudascale; do
  printf '%s\n' "$features" | grep -q "^ *$element:" || missing="$missing $element"
done
if [ -z "$missing" ]; then
  echo "rcx-entrypoint: nvcodec: NVDEC, CUDA scaling and NVENC available" >&2
else
  case "$missing" in
    *nvh264enc*) echo "rcx-entrypoint: nvcodec: no NVENC elements (no NVIDIA GPU or driver mounted): software encoders" >&2 ;;
    *) echo "rcx-entrypoint: nvcodec: NVENC present but missing:$missing (cudascale needs NVRTC, ${GST_CUDA_NVRTC_LIBNAME:-libnvrtc.so}): software encoders" >&2 ;;
  esac
  if [ "${RCX_REQUIRE_NVCODEC:-0}" = 1 ]; then
    echo "rcx-entrypoint: RCX_REQUIRE_NVCODEC=1: refusing to start" >&2
    exit 2
  fi
fi
exec /usr/bin/rugbycodex-runner "$@"
