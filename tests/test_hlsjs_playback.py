#!/usr/bin/python3
"""The runner's HLS output played by a real client: hls.js in Debian's
headless Chromium (driven by tests/node/playback.mjs through playwright-core),
from a page served on 127.0.0.1. For the 1080p, a portrait (rotated phone)
and a no-audio input: `loadeddata` fires, time advances on the top level,
a seek near the end reaches `ended`, no fatal ERROR event.

A control run plays an ffmpeg-made ladder first, so a broken harness is told
apart from an unplayable output, and a master pointing nowhere must fail."""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import hlsserve  # noqa: E402
import rcxtest  # noqa: E402

NODE_DIR = os.path.join(rcxtest.SOURCE_DIR, "tests", "node")
HLS_JS = os.path.join(rcxtest.NODE_MODULES, "hls.js", "dist", "hls.min.js")
CHROMIUM = "/usr/bin/chromium"
INPUTS = ["hd1080p30", "portrait_rot90", "no_audio"]


class HlsJsPlaybackTest(rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path, why in ((CHROMIUM, "apt-get install chromium (scripts/setup.sh)"),
                          (HLS_JS, "npm ci in tests/node (scripts/setup.sh)"),
                          (os.path.join(rcxtest.NODE_MODULES, "playwright-core"), "npm ci in tests/node")):
            if not os.path.exists(path):
                raise AssertionError(f"{path} is missing: {why}")

    def site(self, hls_dir):
        """A web root: the player page, hls.min.js and the HLS folder as hls/."""
        root = os.path.join(self.tmp, "www")
        os.makedirs(root, exist_ok=True)
        shutil.copy(os.path.join(NODE_DIR, "player.html"), root)
        shutil.copy(HLS_JS, root)
        link = os.path.join(root, "hls")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.abspath(hls_dir), link)
        return root

    def play(self, hls_dir, master="master.m3u8"):
        with hlsserve.serve(self.site(hls_dir)) as base:
            r = subprocess.run(["node", os.path.join(NODE_DIR, "playback.mjs"),
                                f"{base}player.html?src=hls/{master}"],
                               capture_output=True, text=True, timeout=240, cwd=NODE_DIR)
        line = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "{}"
        try:
            result = json.loads(line)
        except ValueError:
            result = {}
        result["exit"] = r.returncode
        result["stderr"] = r.stderr[-2000:]
        return result

    def assertPlays(self, result, label):
        steps = {s["name"]: s for s in result.get("steps", [])}
        summary = json.dumps({k: v for k, v in result.items() if k != "stderr"})[:3000]
        self.assertEqual(result["exit"], 0, f"{label}: {summary}\n{result['stderr']}")
        for name in ("loadeddata", "top-level-plays", "seek-to-end", "no-fatal-error"):
            self.assertTrue(steps.get(name, {}).get("ok"), f"{label}: step {name} failed: {summary}")
        top = steps["top-level-plays"]["detail"]
        end = steps["seek-to-end"]["detail"]
        print(f"{label}: levels {[lv['height'] for lv in steps['loadeddata']['detail']['levels']]}, top level "
              f"{top['height']}p played {top['from']:.2f}->{top['to']:.2f} s, ended at {end['endedAt']:.2f} "
              f"of {end['duration']:.2f} s")
        return steps

    def test_control_ffmpeg_ladder_plays_and_missing_master_fails(self):
        src = corpus.path("no_audio")
        out = os.path.join(self.tmp, "control")
        os.makedirs(out)
        r = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", src,
                            "-filter_complex", "[0:v]split=2[a][b];[a]scale=640:360[v0];[b]scale=426:240[v1]",
                            "-map", "[v0]", "-map", "[v1]", "-c:v", "libx264", "-preset", "ultrafast",
                            "-b:v", "800k", "-g", "60", "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod",
                            "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0 v:1",
                            "-hls_segment_filename", os.path.join(out, "v%v", "s%03d.ts"),
                            os.path.join(out, "v%v", "index.m3u8")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertPlays(self.play(out), "control (ffmpeg ladder)")
        broken = self.play(out, master="nowhere.m3u8")
        self.assertEqual(broken["exit"], 1, json.dumps(broken)[:2000])
        self.assertIn("fatal", broken.get("error", ""))

    def test_runner_outputs_play(self):
        self.assertTrue(os.access(rcxtest.RUNNER, os.X_OK), f"{rcxtest.RUNNER} is not built")
        for name in INPUTS:
            with self.subTest(input=name):
                out = os.path.join(self.tmp, name)
                r = subprocess.run([rcxtest.RUNNER, "transcode", corpus.path(name), out], capture_output=True,
                                   text=True, env=rcxtest.gst_env(), timeout=300)
                self.assertEqual(r.returncode, 0, f"{name}: transcode failed\n{r.stderr[-3000:]}")
                steps = self.assertPlays(self.play(out), name)
                levels = steps["loadeddata"]["detail"]["levels"]
                if name == "portrait_rot90":
                    self.assertTrue(all(lv["height"] > lv["width"] for lv in levels), levels)
                if name == "no_audio":
                    self.assertTrue(all("mp4a" not in lv["codecs"] for lv in levels), levels)
                else:
                    self.assertTrue(all("mp4a" in lv["codecs"] for lv in levels), levels)


if __name__ == "__main__":
    rcxtest.main()
