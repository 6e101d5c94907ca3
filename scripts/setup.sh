#!/bin/sh
# Installs everything the build, the demo and the tests need, from Debian's
# packages and the npm registry only. Safe to run again. Run as root (or
# with sudo) on Debian bookworm.
set -eu
cd "$(dirname "$0")/.."

DEBS="meson ninja-build pkg-config gcc clang
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libxml2-dev libssl-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  ffmpeg python3 python3-boto3 python3-botocore python3-psycopg2 python3-gi gir1.2-gstreamer-1.0 awscli
  postgresql chromium iproute2 ca-certificates time"

missing=""
# Node.js may come from elsewhere than Debian (e.g. a nodesource build that
# bundles npm and conflicts with Debian's npm): only ask Debian when missing.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
for p in $DEBS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# Test peers from the npm registry (s3rver, hls.js, playwright-core), pinned by
# tests/node/package-lock.json.
if [ ! -d tests/node/node_modules ] || [ tests/node/package-lock.json -nt tests/node/node_modules ]; then
  echo "setup: installing npm test peers into tests/node"
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  touch tests/node/node_modules
fi
