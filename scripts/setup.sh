#!/bin/sh
# Installs everything the build, the demo and the tests need, from Debian's
# packages and the npm registry only. Safe to run again. Run as root (or
# with sudo) on Debian bookworm.
set -eu
cd "$(dirname "$0")/.."

# The Debian packages come from scripts/packages/*.txt, the lists the
# container image (docker/Dockerfile) installs from too. --container adds
# what building and running that image here needs (scripts/container-test.sh).
lists="build runtime test"
if [ "${1:-}" = "--container" ]; then
  lists="$lists container"
fi
DEBS=""
for l in $lists; do
  DEBS="$DEBS $(sed 's/#.*//' "scripts/packages/$l.txt")"
done

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
  # shellcheck disable=SC2086 # $missing is a list of names, split on purpose
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# Test peers from the npm registry (s3rver, hls.js, playwright-core), pinned by
# tests/node/package-lock.json. A symlinked node_modules is an install shared
# with another checkout (a git worktree): npm ci would empty it through the
# link, so it is left to the checkout that owns it.
if [ -L tests/node/node_modules ]; then
  :
elif [ ! -d tests/node/node_modules ] ||
  [ -n "$(find tests/node/package-lock.json -newer tests/node/node_modules)" ]; then
  echo "setup: installing npm test peers into tests/node"
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  touch tests/node/node_modules
fi
