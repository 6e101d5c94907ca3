#!/bin/sh
# Makes a sample match clip: H.264 + AAC in MP4, with moving content and a
# frame counter (ffmpeg's lavfi testsrc2) and a tone.
#   scripts/make-sample.sh OUT.mp4 [SECONDS [WIDTHxHEIGHT [FPS]]]
# Defaults: 20 s, 1280x720, 30 fps.
set -eu
out=${1:?usage: make-sample.sh OUT.mp4 [SECONDS [WIDTHxHEIGHT [FPS]]]}
seconds=${2:-20}
size=${3:-1280x720}
fps=${4:-30}
mkdir -p "$(dirname "$out")"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=${size}:rate=${fps}" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000" \
  -t "$seconds" -map 0:v -map 1:a \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -g "$fps" \
  -c:a aac -b:a 128k -ac 2 -movflags +faststart "$out"
