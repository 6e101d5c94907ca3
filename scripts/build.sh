#!/bin/sh
# Configures (once) and builds into build/. CI=true turns warnings into errors.
set -eu
cd "$(dirname "$0")/.."
werror=false
[ "${CI:-}" = "true" ] && werror=true
if [ ! -f build/build.ninja ]; then
  meson setup build -Dwerror=$werror
else
  meson configure build -Dwerror=$werror >/dev/null
fi
ninja -C build
