#!/usr/bin/python3
"""Storage weather and damaged sources: `rugbycodex-runner transcode` with
s3rver behind the fault proxy (tests/fixtures/faultproxy.py).

- the issue's weather (every 3rd upload cut after 1 MiB, every 5th request
  answered 503 SlowDown), S3 to S3: the job finishes with a complete,
  checker-clean stream;
- a storage outage (every connection refused) shorter than --retry-timeout,
  and four times the --watchdog,
  is ridden out: the job finishes, and the runner's memory stays bounded
  while the uploads wait (RSS sampled during the outage);
- an outage longer than --retry-timeout fails the job with the last error
  within the window, and leaves no playlist;
- a multipart upload (wasabisink) through the weather completes, and one
  failing for good is aborted (proxy log);
- a source with 3 MB of garbage in the middle of its media data succeeds,
  and the summary and the log say what was concealed and where; a clean
  source says nothing.

bench/storage-weather.py runs the issue's 10-of-10 and 2-minute-outage
figures on a 1080p clip.
"""
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlscheck  # noqa: E402
import rcxtest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from test_s3_streaming import wait_until  # noqa: E402

BUCKET = "media"
SRC_KEY = "org-1/media-1/original.mp4"
DST = "org-1/media-1/hls/"
MiB = 1 << 20
FF = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
PROBE = os.path.join(rcxtest.BUILD_DIR, "tests", "wasabi-probe")


def make_clip(path, seconds, size="640x360", bitrate="6M"):
    """H.264 + AAC at a high bit rate (noise: x264 cannot undershoot), so
    that segments and the mdat are large for their length."""
    subprocess.run(FF + ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds},noise=alls=30:allf=t",
                         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                         "-ac", "2", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", bitrate,
                         "-pix_fmt", "yuv420p", "-g", "25", "-c:a", "aac", "-b:a", "96k",
                         "-movflags", "+faststart", path], check=True)
    return path


def description(path, ladder):
    with open(os.path.join(rcxtest.SOURCE_DIR, "pipelines", "hls-ladder.json")) as f:
        desc = json.load(f)
    desc["name"] = "storage-weather-test"
    desc["ladder"] = [{"name": n, "height": h, "bitrate": b, "peak-bitrate": p} for n, h, b, p in ladder]
    with open(path, "w") as f:
        json.dump(desc, f)
    return path


def mdat_span(path):
    """(offset of the mdat payload, its size)"""
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        if size == 1:
            size = struct.unpack(">Q", data[i + 8:i + 16])[0]
        if kind == b"mdat":
            return i + 8, size - 8
        i += size
    raise AssertionError("no mdat")


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class StorageWeatherTest(rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(rcxtest.RUNNER):
            raise AssertionError(f"{rcxtest.RUNNER} is missing: build first")
        cls.clips = tempfile.mkdtemp(prefix="rcx-weather-")
        # 6 s segments at 6 and 1.6 Mbit/s: 4.5 and 1.2 MB, above the 1 MiB cut
        cls.desc = description(os.path.join(cls.clips, "desc.json"),
                               [("360p", 360, 6000, 8000), ("180p", 180, 1600, 2400)])
        cls.small_desc = description(os.path.join(cls.clips, "small.json"), [("180p", 180, 300, 600)])
        cls.clip12 = make_clip(os.path.join(cls.clips, "clip12.mp4"), 12)
        cls.clip18 = make_clip(os.path.join(cls.clips, "clip18.mp4"), 18)
        cls.clip24 = make_clip(os.path.join(cls.clips, "clip24.mp4"), 24)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.clips, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.s3 = self.start(rcxtest.S3rver(buckets=(BUCKET,)))
        self.client = self.s3.boto3()
        self.addCleanup(self.client.close)

    # ---- helpers --------------------------------------------------------

    def runner(self, src, dst, endpoint=None, desc=None, extra=(), env=None):
        env = env or rcxtest.gst_env(self.s3.env(endpoint))
        proc = subprocess.Popen([rcxtest.RUNNER, "transcode", "--description", desc or self.desc,
                                 "--progress", "none", *map(str, extra), src, dst],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                cwd=self.tmp)
        self.addCleanup(rcxtest.stop_process, proc)
        return proc

    def finish(self, proc, timeout=300):
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"the runner still ran after {timeout} s: {err[-2000:]}")
        return proc.returncode, out, err

    def keys(self, prefix=DST):
        out = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(o["Key"][len(prefix):] for o in out.get("Contents", []))

    def get(self, key):
        return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()

    def assertComplete(self, source):
        master = self.get(DST + "master.m3u8")
        self.assertIn("#EXT-X-I-FRAME-STREAM-INF", master)
        for rung in ("360p", "180p"):
            playlist = self.get(f"{DST}{rung}/index.m3u8")
            self.assertIn("#EXT-X-PLAYLIST-TYPE:VOD\n", playlist)
            self.assertTrue(playlist.endswith("#EXT-X-ENDLIST\n"), playlist[-200:])
        rep = hlscheck.check(f"{self.s3.endpoint}/{BUCKET}/{DST}master.m3u8", source=source)
        self.assertTrue(rep.ok, rep.text())

    # ---- weather --------------------------------------------------------

    def test_weather_mix_s3_to_s3(self):
        self.client.upload_file(self.clip18, BUCKET, SRC_KEY)
        with FaultProxy(self.s3.port) as proxy:
            proxy.add_fault("reset", method="PUT", upload_bytes=MiB, every=3, count=None)
            proxy.add_fault("error", status=503, code="SlowDown", every=5, count=None)
            t0 = time.monotonic()
            code, out, err = self.finish(self.runner(f"s3://{BUCKET}/{SRC_KEY}", f"s3://{BUCKET}/{DST}",
                                                     endpoint=proxy.endpoint))
            took = time.monotonic() - t0
            log = proxy.log
        self.assertEqual(code, 0, err[-3000:])
        resets = [e for e in log if e["fault"] == "reset"]
        slowdowns = [e for e in log if e["fault"] == "error"]
        self.assertTrue(resets, "no upload was cut: are the segments above 1 MiB?")
        self.assertTrue(slowdowns)
        self.assertComplete(self.clip18)
        # every segment that was cut went up again, whole
        for e in resets:
            name = e["path"].split(f"/{BUCKET}/", 1)[1]
            self.assertTrue([x for x in log if x["path"] == e["path"] and x["status"] == 200],
                            f"{name} never landed")
        print(f"weather: {len(resets)} uploads cut after 1 MiB, {len(slowdowns)} SlowDown, "
              f"{len(log)} requests, finished in {took:.1f} s")

    def test_outage_is_ridden_out_with_bounded_memory(self):
        with FaultProxy(self.s3.port) as proxy:
            # --watchdog 3: the pipeline stands still while it waits for
            # storage (queue full, or EOS waiting for the last uploads); that
            # is the sinks' retry window's to bound, not the watchdog's
            env, growth_mib = rcxtest.sanitizer_memory(rcxtest.gst_env(self.s3.env(proxy.endpoint)), 64)
            proc = self.runner(self.clip24, f"s3://{BUCKET}/{DST}", env=env,
                               extra=("--retry-timeout", 20, "--watchdog", 3))
            wait_until("a stored segment", lambda: proxy.requests(method="PUT", path=r"\.ts$"), 120, proc)
            before = max(rss_kb(proc.pid), 1)
            outage = 12
            proxy.outage(outage)
            t0 = time.monotonic()
            samples = []
            while not proxy.up.is_set() and proc.poll() is None:
                samples.append(rss_kb(proc.pid))
                time.sleep(0.2)
            self.assertIsNone(proc.poll(), "the job ended during the outage")
            code, out, err = self.finish(proc)
            refused = [e for e in proxy.log if e["fault"] == "outage"]
        self.assertEqual(code, 0, err[-3000:])
        self.assertGreaterEqual(time.monotonic() - t0, outage - 0.5)
        summary = json.loads(out)
        self.assertEqual(summary["status"], "succeeded")
        self.assertComplete(self.clip24)
        peak = max(samples)
        print(f"outage {outage} s ridden out: RSS {before // 1024} MiB before, peak {peak // 1024} MiB "
              f"during ({len(samples)} samples), {len(refused)} requests reset on kept-alive connections")
        # the upload queues hold at most max-pending-uploads segments per rung
        self.assertLess(peak - before, growth_mib * 1024, "memory grew during the outage")

    def test_outage_beyond_the_window_fails_cleanly(self):
        with FaultProxy(self.s3.port) as proxy:
            proxy.outage(60)
            t0 = time.monotonic()
            code, out, err = self.finish(self.runner(self.clip12, f"s3://{BUCKET}/{DST}",
                                                     endpoint=proxy.endpoint, desc=self.small_desc,
                                                     extra=("--retry-timeout", 3)))
            took = time.monotonic() - t0
        self.assertEqual(code, 1, err[-3000:])
        reason = [x for x in err.splitlines() if x.startswith("rugbycodex-runner: error:")]
        self.assertEqual(len(reason), 1, err[-3000:])
        self.assertRegex(reason[0], r"Could not store .*(refused|reset|Connection)", reason[0])
        self.assertEqual(json.loads(out)["status"], "failed")
        # the window, then one round (3 attempts) per playlist it tries to take down
        self.assertLess(took, 40, "it waited for the outage's end, not the window's")
        self.assertEqual([k for k in self.keys() if k.endswith(".m3u8")], [], "a failed job left playlists")
        print(f"outage past a 3 s window: failed after {took:.1f} s: {reason[0][:200]}")

    # ---- multipart (wasabisink) -----------------------------------------

    def test_multipart_through_weather_and_aborted_on_failure(self):
        path = os.path.join(self.tmp, "big.bin")
        with open(path, "wb") as f:
            f.write(random.Random(7).randbytes(18 * MiB))
        with FaultProxy(self.s3.port) as proxy:
            env = self.s3.env(proxy.endpoint)
            proxy.add_fault("reset", method="PUT", upload_bytes=MiB, every=3, count=None)
            proxy.add_fault("error", status=503, code="SlowDown", every=5, count=None)
            run = subprocess.run([PROBE, "filesrc", f"location={path}", "!", "wasabisink",
                                  f"uri=s3://{BUCKET}/weather.bin", "part-size=5242880",
                                  "max-parallel-parts=2"], env=env, capture_output=True, text=True,
                                 timeout=300)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr[-3000:])
            log = proxy.log
            self.assertTrue([e for e in log if e["fault"] == "reset"], "no part was cut")
            body = self.client.get_object(Bucket=BUCKET, Key="weather.bin")["Body"].read()
            with open(path, "rb") as f:
                self.assertEqual(body, f.read())
            # a part refused for good: the upload is aborted
            proxy.clear_faults()
            proxy.clear_log()
            proxy.add_fault("error", method="PUT", query="partNumber=2", status=403, code="AccessDenied",
                            count=None)
            run = subprocess.run([PROBE, "filesrc", f"location={path}", "!", "wasabisink",
                                  f"uri=s3://{BUCKET}/denied.bin", "part-size=5242880",
                                  "max-parallel-parts=2"], env=env, capture_output=True, text=True,
                                 timeout=300)
            log = proxy.log
        self.assertNotEqual(run.returncode, 0, run.stdout)
        created = [e for e in log if e["method"] == "POST" and "uploads" in e["query"]]
        aborts = [e for e in log if e["method"] == "DELETE" and "uploadId=" in e["query"]]
        self.assertEqual(len(created), 1, log)
        self.assertEqual(len(aborts), 1, "the multipart upload was not aborted")
        self.assertEqual(len([e for e in log if "partNumber=2" in e["query"]]), 1, "AccessDenied retried")

    # ---- concealment ----------------------------------------------------

    def test_damaged_source_says_what_was_concealed(self):
        src = os.path.join(self.tmp, "damaged.mp4")
        clean = make_clip(os.path.join(self.tmp, "clean.mp4"), 12, size="320x180", bitrate="5M")
        shutil.copy(clean, src)
        start, size = mdat_span(src)
        self.assertGreater(size, 6 * MiB)
        at = start + size // 2 - 3 * MiB // 2
        with open(src, "r+b") as f:
            f.seek(at)
            f.write(random.Random(3).randbytes(3 * MiB))
        # where the garbage is in the timeline, for a constant bit rate
        t_first = (at - start) / size * 12
        t_last = (at + 3 * MiB - start) / size * 12
        for label, path in (("clean", clean), ("damaged", src)):
            code, out, err = self.finish(self.runner(path, os.path.join(self.tmp, label),
                                                     desc=self.small_desc))
            self.assertEqual(code, 0, f"{label}: {err[-3000:]}")
            summary = json.loads(out)
            if label == "clean":
                self.assertEqual((summary["warnings_count"], summary["warnings"], summary["concealed"]),
                                 (0, [], None))
                self.assertNotIn("concealed", err)
                continue
            self.assertGreater(summary["warnings_count"], 10)
            self.assertIn("rugbycodex-runner: warning: concealed: ", err)
            self.assertTrue(summary["concealed"].startswith("concealed: "))
            video = [w for w in summary["warnings"] if w["element"].startswith("avdec_h264")
                     and w["kind"] == "decode-error"]
            self.assertTrue(video, summary["warnings"])
            w = video[0]
            self.assertGreater(w["count"], 5)
            self.assertAlmostEqual(w["first"], t_first, delta=1.5)
            self.assertAlmostEqual(w["last"], t_last, delta=1.5)
            print(f"damaged at {t_first:.1f}-{t_last:.1f} s: {summary['concealed'][:300]}")


if __name__ == "__main__":
    rcxtest.main()
