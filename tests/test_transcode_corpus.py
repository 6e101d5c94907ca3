#!/usr/bin/python3
"""Every input of the corpus (tests/corpus.py) through
`rugbycodex-runner transcode INPUT OUTDIR`:

- good inputs: exit 0 and tests/hlscheck.py finds no broken rule (with the
  input as --source, so duration, aspect, audio and rotation are checked);
- bad inputs (zero bytes, truncated, text named .mp4, audio only): exit 1
  within 30 s, a one-line reason on stderr, and no playlist published;
- one input streamed from and to S3 (s3rver), checked over HTTP.

RCX_CORPUS=name,name limits the run to some inputs (for debugging).
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import hlscheck  # noqa: E402
import rcxtest  # noqa: E402

ONLY = [n for n in os.environ.get("RCX_CORPUS", "").split(",") if n]
GOOD_TIMEOUT = 300
BAD_TIMEOUT = 30


def selected(names):
    return [n for n in names if not ONLY or n in ONLY]


def published(outdir):
    found = []
    for root, _, files in os.walk(outdir):
        found += [os.path.join(root, f) for f in files if f.endswith(".m3u8")]
    return found


class TranscodeCorpusTest(rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(rcxtest.RUNNER, os.X_OK):
            raise AssertionError(f"{rcxtest.RUNNER} is not built")
        # Make the whole corpus first (cached in the build folder).
        cls.paths = {n: corpus.path(n) for n in selected([c.name for c in corpus.CLIPS])}

    def transcode(self, src, out, timeout, env=None):
        t0 = time.monotonic()
        try:
            r = subprocess.run([rcxtest.RUNNER, "transcode", src, out], capture_output=True, text=True,
                               env=env or rcxtest.gst_env(), timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"transcode {os.path.basename(src)} still running after {timeout} s: "
                                 f"{(e.stderr or b'')[-1500:]!r}")
        return r, time.monotonic() - t0

    def test_good_inputs(self):
        for name in selected(corpus.GOOD):
            with self.subTest(input=name):
                src = self.paths[name]
                out = os.path.join(self.tmp, name)
                r, secs = self.transcode(src, out, GOOD_TIMEOUT)
                self.assertEqual(r.returncode, 0, f"{name}: exit {r.returncode}\n{r.stderr[-3000:]}")
                rep = hlscheck.check(out, source=src)
                rungs = ", ".join(f"{x['width']}x{x['height']}@{x['fps']}" for x in rep.info.get("rungs", []))
                print(f"{name}: {secs:.1f} s, rungs {rungs}")
                self.assertTrue(rep.ok, f"{name}: broken rules:\n{rep.text()}")
                props = corpus.BY_NAME[name].props
                if props.get("rotation") in (90, 270):
                    self.assertTrue(all(x["height"] > x["width"] for x in rep.info["rungs"]), rungs)
                top = max(x["height"] for x in rep.info["rungs"])
                self.assertLessEqual(top, max(props.get("height", 0), props.get("width", 0)))

    def test_bad_inputs_fail_fast_and_publish_nothing(self):
        for name in selected(corpus.BAD):
            with self.subTest(input=name):
                out = os.path.join(self.tmp, name)
                r, secs = self.transcode(self.paths[name], out, BAD_TIMEOUT + 5)
                self.assertEqual(r.returncode, 1, f"{name}: exit {r.returncode}, expected 1 (job failed)\n"
                                 f"{r.stderr[-2000:]}")
                self.assertLess(secs, BAD_TIMEOUT, f"{name}: took {secs:.1f} s")
                lines = [x for x in r.stderr.splitlines() if x.strip()]
                self.assertTrue(lines, f"{name}: nothing on stderr")
                self.assertLessEqual(len(lines[-1]), 400, f"{name}: reason is not one line: {lines[-1]!r}")
                print(f"{name}: exit 1 in {secs:.1f} s: {lines[-1]}")
                self.assertEqual(published(out), [], f"{name}: playlists published after a failure")

    def test_s3_to_s3(self):
        name = "hd1080p30"
        if ONLY and name not in ONLY:
            self.skipTest("not selected by RCX_CORPUS")
        s3 = self.start(rcxtest.S3rver(buckets=("media",)))
        client = s3.boto3()
        client.upload_file(self.paths[name], "media", "uploads/match.mp4")
        env = s3.env()
        r, secs = self.transcode("s3://media/uploads/match.mp4", "s3://media/hls/match/", GOOD_TIMEOUT, env=env)
        self.assertEqual(r.returncode, 0, f"exit {r.returncode}\n{r.stderr[-3000:]}")
        keys = [o["Key"] for o in client.list_objects_v2(Bucket="media", Prefix="hls/match/").get("Contents", [])]
        self.assertIn("hls/match/master.m3u8", keys)
        head = client.head_object(Bucket="media", Key="hls/match/master.m3u8")
        self.assertEqual(head["ContentType"], hlscheck.HLS_MIME)
        # s3rver serves objects to plain GETs: check the output over HTTP, content types included.
        rep = hlscheck.check(f"{s3.endpoint}/media/hls/match/master.m3u8", source=self.paths[name])
        print(f"s3 -> s3 {name}: {secs:.1f} s, {len(keys)} objects")
        self.assertTrue(rep.ok, rep.text())


if __name__ == "__main__":
    rcxtest.main()
