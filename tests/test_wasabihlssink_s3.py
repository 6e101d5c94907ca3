"""Integration tests of wasabihlssink writing HLS renditions to s3rver.

gst-launch-1.0 -m runs two rungs (320x180 and 160x90, 14 s, 2 s GOP, 6 s
segments, AAC audio) into s3://test/media/<rung>/; the objects are checked
with boto3 (names, Content-Type, Cache-Control, playlists), the rung
messages against what hlscheck.py measures on the downloaded output, and a
failed upload (403 from the fault proxy) must leave no VOD playlist.
"""
import os
import re
import subprocess
import sys

import rcxtest
from faultproxy import FaultProxy

sys.path.insert(0, os.path.join(rcxtest.SOURCE_DIR, "tests"))
import hlscheck  # noqa: E402

BUCKET = "test"
X264 = "x264enc key-int-max=60 speed-preset=superfast option-string=scenecut=0"
SEGMENTS = ["segment00000.ts", "segment00001.ts", "segment00002.ts"]


def two_rungs(prefix, extra=""):
    return (
        "videotestsrc num-buffers=420 pattern=ball ! "
        "video/x-raw,width=320,height=180,framerate=30/1,format=I420 ! tee name=vt "
        f"vt. ! queue ! {X264} ! h264parse ! r1.video "
        "vt. ! queue ! videoscale ! video/x-raw,width=160,height=90 ! "
        f"{X264} ! h264parse ! r2.video "
        "audiotestsrc num-buffers=657 samplesperbuffer=1024 ! "
        "audio/x-raw,rate=48000,channels=2 ! voaacenc bitrate=128000 ! aacparse ! "
        "tee name=at at. ! queue ! r1.audio at. ! queue ! r2.audio "
        f"wasabihlssink name=r1 location=s3://{BUCKET}/{prefix}/180p/ {extra} "
        f"wasabihlssink name=r2 location=s3://{BUCKET}/{prefix}/90p {extra}")


def parse_messages(output, name):
    """Fields of every `name` element message printed by gst-launch -m."""
    found = []
    for line in output.splitlines():
        m = re.search(name + r", (.*);$", line)
        if not m:
            continue
        fields = {}
        for key, typ, value in re.findall(
                r'([\w-]+)=\((\w+)\)("(?:[^"\\]|\\.)*"|[^,]*)', m.group(1)):
            value = value.strip('"').replace("\\,", ",")
            if typ in ("uint", "int", "guint64"):
                value = int(value)
            elif typ == "double":
                value = float(value)
            elif typ == "boolean":
                value = value == "true"
            fields[key] = value
        found.append(fields)
    return found


class WasabiHlsSinkS3Test(rcxtest.TestCase):
    def setUp(self):
        super().setUp()
        self.s3 = self.start(rcxtest.S3rver(buckets=(BUCKET,)))
        self.client = self.s3.boto3()

    def launch(self, desc, endpoint=None, timeout=120):
        return subprocess.run(["gst-launch-1.0", "-m", "-e"] + desc.split(),
                              env=rcxtest.gst_env(self.s3.env(endpoint)),
                              capture_output=True, text=True, timeout=timeout)

    def keys(self, prefix):
        out = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(o["Key"][len(prefix):] for o in out.get("Contents", []))

    def get(self, key):
        return self.client.get_object(Bucket=BUCKET, Key=key)

    def test_two_rungs(self):
        run = self.launch(two_rungs("media"))
        self.assertEqual(run.returncode, 0, run.stdout[-3000:] + run.stderr[-3000:])
        rungs = {r["location"]: r for r in parse_messages(run.stdout, "wasabihlssink-rung")}
        self.assertEqual(sorted(rungs), [f"s3://{BUCKET}/media/180p/", f"s3://{BUCKET}/media/90p/"])
        segments = parse_messages(run.stdout, "wasabihlssink-segment")
        self.assertEqual(len(segments), 6)

        for rung, (w, h) in (("180p", (320, 180)), ("90p", (160, 90))):
            prefix = f"media/{rung}/"
            self.assertEqual(self.keys(prefix), ["iframes.m3u8", "index.m3u8"] + SEGMENTS)
            for name in SEGMENTS:
                obj = self.get(prefix + name)
                self.assertEqual(obj["ContentType"], "video/mp2t")
                self.assertEqual(obj["CacheControl"], "max-age=31536000, immutable")
                data = obj["Body"].read()
                self.assertEqual(data[0], 0x47)
                msg = [s for s in segments if s["location"] == f"s3://{BUCKET}/{prefix}{name}"]
                self.assertEqual(len(msg), 1, name)
                self.assertEqual(msg[0]["size"], len(data))
            for name in ("index.m3u8", "iframes.m3u8"):
                obj = self.get(prefix + name)
                self.assertEqual(obj["ContentType"], "application/vnd.apple.mpegurl")
                self.assertEqual(obj["CacheControl"], "max-age=300")
            playlist = self.get(prefix + "index.m3u8")["Body"].read().decode()
            self.assertIn("#EXT-X-PLAYLIST-TYPE:VOD\n", playlist)
            self.assertTrue(playlist.endswith("#EXT-X-ENDLIST\n"))
            self.assertEqual(re.findall(r"^(segment\d+\.ts)$", playlist, re.M), SEGMENTS)

            r = rungs[f"s3://{BUCKET}/{prefix}"]
            self.assertEqual((r["width"], r["height"]), (w, h))
            self.assertEqual(r["playlist-uri"], f"s3://{BUCKET}/{prefix}index.m3u8")
            self.assertEqual(r["iframe-playlist-uri"], f"s3://{BUCKET}/{prefix}iframes.m3u8")
            self.assertTrue(r["codecs"].startswith("avc1.64") and r["codecs"].endswith(",mp4a.40.2"))
            self.assertEqual(r["segments"], 3)
            self.assertEqual(r["target-duration"], 6)
            self.assertAlmostEqual(r["duration"], 14.0, places=3)
            self.assertTrue(r["independent"])

        # The rung messages make a multivariant playlist that passes every
        # rule hlscheck knows (bandwidths within 10 % of the measured ones,
        # CODECS from the SPS, I-frame byte ranges on IDRs...).
        out = os.path.join(self.tmp, "out")
        master = ["#EXTM3U", "#EXT-X-VERSION:4", "#EXT-X-INDEPENDENT-SEGMENTS"]
        iframes = []
        for loc, r in sorted(rungs.items()):
            rung = loc.rstrip("/").rsplit("/", 1)[1]
            os.makedirs(os.path.join(out, rung))
            for name in self.keys(f"media/{rung}/"):
                with open(os.path.join(out, rung, name), "wb") as f:
                    f.write(self.get(f"media/{rung}/{name}")["Body"].read())
            master += [f'#EXT-X-STREAM-INF:BANDWIDTH={r["bandwidth"]},'
                       f'AVERAGE-BANDWIDTH={r["average-bandwidth"]},CODECS="{r["codecs"]}",'
                       f'RESOLUTION={r["width"]}x{r["height"]},FRAME-RATE={r["frame-rate"]:.3f}',
                       f"{rung}/{r['playlist']}"]
            iframes.append(f'#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={r["iframe-bandwidth"]},'
                           f'CODECS="{r["video-codec"]}",RESOLUTION={r["width"]}x{r["height"]},'
                           f'URI="{rung}/{r["iframe-playlist"]}"')
        with open(os.path.join(out, "master.m3u8"), "w") as f:
            f.write("\n".join(master + iframes) + "\n")
        report = hlscheck.check(out)
        self.assertTrue(report.ok, report.text())

    def test_failed_upload_leaves_no_vod_playlist(self):
        with FaultProxy(self.s3.port) as proxy:
            proxy.add_fault("error", method="PUT", path=r"/90p/segment00001\.ts$",
                            status=403, code="AccessDenied", count=None)
            run = self.launch(two_rungs("failed"), endpoint=proxy.endpoint)
            puts = proxy.requests(method="PUT", path=r"/90p/segment00001\.ts$")
        self.assertNotEqual(run.returncode, 0)
        # the error names the object and the S3 answer (gst-launch prints
        # no details structure: test-wasabihlssink.c checks that)
        error = run.stderr[run.stderr.find("ERROR: from element"):]
        self.assertIn("GstWasabiHlsSink:r2: Could not store "
                      f"s3://{BUCKET}/failed/90p/segment00001.ts", error, run.stderr[-3000:])
        self.assertIn("403 AccessDenied", error)
        # a 403 AccessDenied is not retried
        self.assertEqual(len(puts), 1)

        keys = self.keys("failed/90p/")
        self.assertIn("segment00000.ts", keys)
        self.assertNotIn("segment00001.ts", keys)
        self.assertNotIn("iframes.m3u8", keys)
        playlist = self.get("failed/90p/index.m3u8")["Body"].read().decode()
        self.assertIn("#EXT-X-PLAYLIST-TYPE:EVENT\n", playlist)
        self.assertNotIn("#EXT-X-ENDLIST", playlist)
        self.assertEqual(re.findall(r"^(segment\d+\.ts)$", playlist, re.M), SEGMENTS[:1])
        obj = self.get("failed/90p/index.m3u8")
        self.assertEqual(obj["CacheControl"], "max-age=1")
        # no rung message for the failed rendition
        failed = [r for r in parse_messages(run.stdout, "wasabihlssink-rung")
                  if "/90p/" in r["location"]]
        self.assertEqual(failed, [])

if __name__ == "__main__":
    rcxtest.main()
