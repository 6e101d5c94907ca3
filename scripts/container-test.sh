#!/bin/sh
# The container test suite: builds the worker image (docker/Dockerfile) with
# Debian's podman, then runs tests/container_test.py against it: the image's
# configuration, a transcode inside it against s3rver, job mode and
# `podman stop` mid-job, and the SQS worker end to end (all peers on
# 127.0.0.1, the container on the host network). Prints the build time,
# the image size and the test's figures. Run as root on Debian bookworm.
#
#   scripts/container-test.sh            # build + test
#   RCX_IMAGE_CACHE=/somewhere scripts/container-test.sh
#
# The base image (debian:bookworm) is made with debootstrap from the Debian
# archive, since no registry is reachable, and cached as a tarball in
# $RCX_IMAGE_CACHE (default /var/cache/rugbycodex), outside the repository.
set -eu
cd "$(dirname "$0")/.."

image="${RCX_IMAGE:-rugbycodex:test}"
cache="${RCX_IMAGE_CACHE:-/var/cache/rugbycodex}"
podman="podman --runtime runc"

scripts/setup.sh --container
scripts/build.sh >/dev/null

# crun refuses this host's cgroup layout and rlimits: runc, no default
# ulimits, cgroupfs (shared/notes/containers.md).
if [ ! -e /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n' \
    >/etc/containers/containers.conf
fi

if ! $podman image exists docker.io/library/debian:bookworm; then
  if [ ! -s "$cache/bookworm-minbase.tar" ]; then
    echo "container-test: debootstrap of the base image into $cache (a few minutes, once)"
    mkdir -p "$cache"
    rm -rf "$cache/rootfs"
    debootstrap --variant=minbase bookworm "$cache/rootfs" >"$cache/debootstrap.log"
    tar -C "$cache/rootfs" -c . >"$cache/bookworm-minbase.tar.part"
    mv "$cache/bookworm-minbase.tar.part" "$cache/bookworm-minbase.tar"
    rm -rf "$cache/rootfs"
  fi
  $podman import "$cache/bookworm-minbase.tar" docker.io/library/debian:bookworm >/dev/null
fi

start=$(date +%s)
# --format docker: the OCI format has no HEALTHCHECK.
$podman build --format docker --network=host -f docker/Dockerfile -t "$image" . >build/container-build.log 2>&1 || {
  tail -40 build/container-build.log
  echo "container-test: image build failed (log: build/container-build.log)" >&2
  exit 1
}
build_s=$(( $(date +%s) - start ))
size=$($podman image inspect --format '{{.Size}}' "$image")
echo "container-test: built $image in ${build_s} s (layers cached from earlier builds are reused), size $((size / 1000000)) MB"

status=0
RCX_IMAGE="$image" RCX_SOURCE_DIR="$PWD" RCX_BUILD_DIR="$PWD/build" RCX_TESTDATA="$PWD/tests/data" \
  GST_PLUGIN_PATH="$PWD/build/plugins" GST_REGISTRY="$PWD/build/test-registry.bin" \
  PYTHONPATH="$PWD/tests/fixtures" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 tests/container_test.py "$@" || status=$?
exit $status
