#!/bin/sh
# The README's first command: installs what is needed, builds, makes a 20 s
# 1280x720 sample match clip, transcodes it into a local HLS ladder with
# rugbycodex-runner, writes a preview page beside it, and says where to look.
#
#   ./scripts/demo.sh            (as root, or as a user with sudo, on Debian bookworm)
#
# Outputs in demo-out/: sample.mp4, hls/ (master.m3u8, one folder per rung,
# thumbnail.jpg, index.html + hls.min.js), summary.json.
set -eu
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh
scripts/build.sh

out=$root/demo-out
hls=$out/hls
mkdir -p "$out"
rm -rf "$hls"

echo "demo: making a 20 s 1280x720 30 fps sample with audio: $out/sample.mp4"
scripts/make-sample.sh "$out/sample.mp4" 20 1280x720 30

export GST_PLUGIN_PATH="$root/build/plugins"
export GST_REGISTRY="$root/build/demo-registry.bin"

echo "demo: transcoding into $hls"
start=$(date +%s.%N)
build/runner/rugbycodex-runner transcode "$out/sample.mp4" "$hls" > "$out/summary.json"
end=$(date +%s.%N)

# The preview page: hls.js (from the npm test peers) beside the playlists.
cp tests/node/node_modules/hls.js/dist/hls.min.js "$hls/hls.min.js"
master=$(/usr/bin/python3 -c 'import json,os,sys; print(os.path.basename(json.load(open(sys.argv[1]))["master"]))' "$out/summary.json")
cat > "$hls/index.html" <<EOF
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>rugbycodex demo</title>
<style>
  body { font-family: sans-serif; margin: 2em; background: #111; color: #eee; }
  video { width: 100%; max-width: 960px; background: #000; }
  #info { margin-top: 1em; font-family: monospace; }
  button { margin-right: .5em; }
</style>
</head>
<body>
<h1>rugbycodex demo</h1>
<video id="video" controls muted playsinline poster="thumbnail.jpg"></video>
<div id="levels"></div>
<div id="info">loading $master ...</div>
<script src="hls.min.js"></script>
<script>
  const video = document.getElementById('video');
  const info = document.getElementById('info');
  const levels = document.getElementById('levels');
  const src = '$master';
  if (window.Hls && Hls.isSupported()) {
    const hls = new Hls();
    hls.loadSource(src);
    hls.attachMedia(video);
    hls.on(Hls.Events.MANIFEST_PARSED, (e, data) => {
      const auto = document.createElement('button');
      auto.textContent = 'auto';
      auto.onclick = () => { hls.currentLevel = -1; };
      levels.appendChild(auto);
      data.levels.forEach((l, i) => {
        const b = document.createElement('button');
        b.textContent = l.height + 'p (' + Math.round(l.bitrate / 1000) + ' kbit/s)';
        b.onclick = () => { hls.currentLevel = i; };
        levels.appendChild(b);
      });
      video.play();
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, (e, data) => {
      const l = hls.levels[data.level];
      info.textContent = 'playing ' + l.width + 'x' + l.height + ' at ' + Math.round(l.bitrate / 1000) + ' kbit/s';
    });
    hls.on(Hls.Events.ERROR, (e, data) => {
      if (data.fatal) info.textContent = 'error: ' + data.type + ' ' + data.details;
    });
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src;
    info.textContent = 'native HLS';
  } else {
    info.textContent = 'this browser cannot play HLS';
  }
</script>
</body>
</html>
EOF

wall=$(echo "$end $start" | awk '{printf "%.1f", $1 - $2}')
echo
/usr/bin/python3 - "$out/summary.json" "$wall" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"demo: transcoded {s['duration']:.1f} s of video in {sys.argv[2]} s "
      f"({s['speed']:.1f}x realtime) with {s['encoder']} ({s['encoder_element']})")
for r in s["rungs"]:
    print(f"  {r['name']:>6}  {r['width']}x{r['height']}  "
          f"average {r['average_bandwidth'] / 1000:.0f} kbit/s, peak {r['bandwidth'] / 1000:.0f} kbit/s, "
          f"{r['segments']} segments, {r['size'] / 1e6:.1f} MB")
EOF
echo
echo "Master playlist: $hls/$master"
echo "Thumbnail:       $hls/thumbnail.jpg"
echo "Summary:         $out/summary.json"
echo
echo "To watch it in a browser:"
echo "  python3 -m http.server -d demo-out/hls 8000"
echo "then open http://localhost:8000/"
