#!/usr/bin/python3
"""S3 to S3, streaming: `rugbycodex-runner transcode s3://media/org/m/original.mp4
s3://media/org/m/hls/` against s3rver, with the fault proxy in between.

- live: while a 60 s clip transcodes (its source stalls 20 s half way, so the
  job is certainly still running), the master playlist appears once every
  rung has its first segment (configured rates, no I-frame entries), the
  media playlists are EVENT without ENDLIST, and hls.js in headless Chromium
  starts playing from them before the job ends; at the end the same URL is
  VOD (ENDLIST, measured bandwidths, I-frame playlists), passes
  tests/hlscheck.py over HTTP and plays to the end again;
- upload faults (503 bursts, answers lost after the object was stored,
  resets of the source download) still give a complete, checker-clean
  stream;
- an upload failing past its retries (persistent 503, or AccessDenied) fails
  the job (exit 1) with the S3 error in the reason, and no playlist is left
  (the early master and the EVENT playlists are deleted);
- while the live master's PUT hangs, Ctrl-C still ends the job at once and
  takes that master down (the PUT runs off the main loop);
- a 200 MiB source goes through without any file written by the runner
  (strace of every open/creat/rename/mkdir/truncate, TMPDIR and cwd are empty
  folders, /proc/PID/io write_bytes). bench/s3-transcode-vs-serial.py does a
  1 GiB source through a 200 Mbit/s link.

The player page is served by s3rver itself (uploaded to the bucket), so
page, playlists and segments share an origin: no CORS needed.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import shutil
import signal

import botocore.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlscheck  # noqa: E402
import rcxtest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

NODE_DIR = os.path.join(rcxtest.SOURCE_DIR, "tests", "node")
HLS_JS = os.path.join(rcxtest.NODE_MODULES, "hls.js", "dist", "hls.min.js")
CHROMIUM = "/usr/bin/chromium"
BUCKET = "media"
SRC_KEY = "org-1/media-1/original.mp4"
DST = "org-1/media-1/hls/"
RUNGS = {"360p": (640, 360, 800, 1600), "180p": (320, 180, 300, 600)}
AUDIO_KBPS = 128
FF = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
# Files the libraries under the runner create that are not media: dconf's
# state file (GSettings, read by GIO's proxy resolver) and liborc's JIT code
# file (created, mapped executable and unlinked at once).
NOT_MEDIA = (r"/\.cache/dconf/user$", r"/orcexec\.[A-Za-z0-9]+$")


def make_clip(path, seconds, noise=False):
    """640x360 25 fps H.264 + AAC, faststart. noise=True: lossless noise,
    ~11 MB/s, cheap to decode (the large-source test)."""
    video = f"testsrc2=size=640x360:rate=25:duration={seconds}"
    codec = ["-preset", "ultrafast"]
    if noise:
        video += ",noise=alls=60:allf=t"
        codec += ["-qp", "0"]
    subprocess.run(FF + ["-f", "lavfi", "-i", video, "-f", "lavfi", "-i",
                         f"sine=frequency=440:sample_rate=48000:duration={seconds}", "-ac", "2",
                         "-c:v", "libx264", *codec, "-pix_fmt", "yuv420p", "-g", "50",
                         "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", path], check=True)
    return path


def description(path):
    """The default description with a cheap two-rung ladder (hlscheck wants
    at least two variants)."""
    with open(os.path.join(rcxtest.SOURCE_DIR, "pipelines", "hls-ladder.json")) as f:
        desc = json.load(f)
    desc["name"] = "s3-streaming-test"
    desc["ladder"] = [{"name": n, "height": h, "bitrate": b, "peak-bitrate": p}
                      for n, (_w, h, b, p) in RUNGS.items()]
    assert desc["output"].get("publish-live", True), "publish-live is on by default"
    with open(path, "w") as f:
        json.dump(desc, f)
    return path


def wait_until(what, pred, timeout, proc=None, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the runner ended (exit {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(interval)


class S3StreamingTest(rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path, why in ((rcxtest.RUNNER, "build the runner"),
                          (CHROMIUM, "apt-get install chromium (scripts/setup.sh)"),
                          (HLS_JS, "npm ci in tests/node (scripts/setup.sh)")):
            if not os.path.exists(path):
                raise AssertionError(f"{path} is missing: {why}")
        cls.clips = tempfile.mkdtemp(prefix="rcx-s3-streaming-")
        cls.desc = description(os.path.join(cls.clips, "desc.json"))
        cls.clip60 = make_clip(os.path.join(cls.clips, "clip60.mp4"), 60)
        cls.clip18 = make_clip(os.path.join(cls.clips, "clip18.mp4"), 18)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.clips, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.s3 = self.start(rcxtest.S3rver(buckets=(BUCKET,)))
        self.client = self.s3.boto3()
        # the player page, same origin as the stream
        self.client.upload_file(os.path.join(NODE_DIR, "player.html"), BUCKET, "www/player.html",
                                ExtraArgs={"ContentType": "text/html"})
        self.client.upload_file(HLS_JS, BUCKET, "www/hls.min.js",
                                ExtraArgs={"ContentType": "text/javascript"})

    # ---- helpers --------------------------------------------------------

    def upload_source(self, path):
        self.client.upload_file(path, BUCKET, SRC_KEY)

    def runner(self, endpoint=None, cwd=None, env=None, prefix=(), extra=()):
        env = env or rcxtest.gst_env(self.s3.env(endpoint))
        proc = subprocess.Popen([*prefix, rcxtest.RUNNER, "transcode", "--description", self.desc,
                                 "--progress", "none", *extra, f"s3://{BUCKET}/{SRC_KEY}", f"s3://{BUCKET}/{DST}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                cwd=cwd or self.tmp)
        self.addCleanup(rcxtest.stop_process, proc)
        return proc

    def finish(self, proc, timeout=180 * rcxtest.SANITIZER_SLOWDOWN):
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"the runner still ran after {timeout} s: {err[-2000:]}")
        return proc.returncode, out, err

    def get(self, key):
        # s3rver overwrites an object's file in place: a GET racing the runner's
        # rewrite of a live playlist can be cut short. Read it again then.
        for attempt in range(5):
            try:
                return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
            except self.client.exceptions.NoSuchKey:
                return None
            except botocore.exceptions.ResponseStreamingError:
                if attempt == 4:
                    raise
                time.sleep(0.1)

    def keys(self, prefix=DST):
        out = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(o["Key"][len(prefix):] for o in out.get("Contents", []))

    def player(self, step_ms=30000):
        url = f"{self.s3.endpoint}/{BUCKET}/www/player.html?src=/{BUCKET}/{DST}master.m3u8"
        env = dict(os.environ, RCX_PLAYBACK_STEP_MS=str(step_ms))
        proc = subprocess.Popen(["node", os.path.join(NODE_DIR, "playback.mjs"), url], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=NODE_DIR, env=env)
        self.addCleanup(rcxtest.stop_process, proc)
        return proc

    def played(self, proc, label, timeout=240 * rcxtest.SANITIZER_SLOWDOWN):
        out, err = proc.communicate(timeout=timeout)
        lines = out.strip().splitlines()
        result = json.loads(lines[-1]) if lines else {}
        summary = json.dumps(result)[:3000]
        self.assertEqual(proc.returncode, 0, f"{label}: {summary}\n{err[-2000:]}")
        steps = {s["name"]: s for s in result["steps"]}
        for name in ("loadeddata", "top-level-plays", "seek-to-end", "no-fatal-error"):
            self.assertTrue(steps.get(name, {}).get("ok"), f"{label}: step {name} failed: {summary}")
        top, end = steps["top-level-plays"]["detail"], steps["seek-to-end"]["detail"]
        print(f"{label}: top level {top['height']}p played {top['from']:.2f}->{top['to']:.2f} s, "
              f"ended at {end['endedAt']:.2f} of {end['duration']:.2f} s")
        return steps

    def assertComplete(self, source):
        """The destination is a finished VOD stream passing every hlscheck rule."""
        master = self.get(DST + "master.m3u8")
        self.assertIsNotNone(master)
        self.assertIn("#EXT-X-I-FRAME-STREAM-INF", master)
        for rung in RUNGS:
            playlist = self.get(f"{DST}{rung}/index.m3u8")
            self.assertIn("#EXT-X-PLAYLIST-TYPE:VOD\n", playlist)
            self.assertTrue(playlist.endswith("#EXT-X-ENDLIST\n"), playlist[-200:])
        rep = hlscheck.check(f"{self.s3.endpoint}/{BUCKET}/{DST}master.m3u8", source=source)
        self.assertTrue(rep.ok, rep.text())
        return master

    def assertNothingClaimsCompletion(self):
        left = [k for k in self.keys() if k.endswith(".m3u8")]
        self.assertEqual(left, [], "a failed job left playlists")

    # ---- tests ----------------------------------------------------------

    def test_live_event_stream_then_vod(self):
        self.upload_source(self.clip60)
        size = os.path.getsize(self.clip60)
        with FaultProxy(self.s3.port) as proxy:
            # the source stops for 20 s after 40 % of its bytes: a live window
            # that does not depend on how fast this machine encodes
            proxy.add_fault("stall", method="GET", path=re.escape(SRC_KEY) + "$",
                            after_bytes=int(size * 0.4), seconds=20, count=None)
            t0 = time.monotonic()
            proc = self.runner(endpoint=proxy.endpoint)
            master = wait_until("master playlist", lambda: self.get(DST + "master.m3u8"), 60, proc)
            t_master = time.monotonic() - t0
            player = self.player(step_ms=150000 * rcxtest.SANITIZER_SLOWDOWN)
            self.assertIsNone(proc.poll(), "the master must be published while the job runs")

            # the early master: configured rates, no I-frame entries (those
            # playlists exist only at the end), every rung already listed
            self.assertNotIn("I-FRAME", master)
            for rung, (w, h, avg, peak) in RUNGS.items():
                self.assertRegex(master, rf"#EXT-X-STREAM-INF:BANDWIDTH={(peak + AUDIO_KBPS) * 1000},"
                                 rf"AVERAGE-BANDWIDTH={(avg + AUDIO_KBPS) * 1000},"
                                 rf'CODECS="avc1\.64[0-9a-f]{{4}},mp4a\.40\.2",RESOLUTION={w}x{h},'
                                 rf"FRAME-RATE=25\.000\n{rung}/index\.m3u8\n")
                playlist = self.get(f"{DST}{rung}/index.m3u8")
                self.assertIn("#EXT-X-PLAYLIST-TYPE:EVENT\n", playlist)
                self.assertNotIn("#EXT-X-ENDLIST", playlist)
                self.assertIn("segment00000.ts", playlist)
            # the playlist grows per segment while the job runs
            wait_until("a second segment in the 180p playlist",
                       lambda: "segment00001.ts" in (self.get(f"{DST}180p/index.m3u8") or ""), 60, proc)

            code, out, err = self.finish(proc)
            t_end_ms = time.time() * 1000
            t_total = time.monotonic() - t0
            self.assertEqual(code, 0, err[-3000:])
            gets = proxy.requests(method="GET", path=re.escape(SRC_KEY) + "$")
            puts = proxy.requests(method="PUT")
        summary = json.loads(out)
        self.assertEqual(summary["status"], "succeeded")
        print(f"master after {t_master:.1f} s, job {t_total:.1f} s; {len(gets)} GETs of the source, "
              f"{len(puts)} PUTs")

        # the live viewer started before the job ended and played to the end
        steps = self.played(player, "live (EVENT, then VOD)")
        self.assertLess(steps["loadeddata"]["at"], t_end_ms, "hls.js only started after the job ended")
        self.assertLess(steps["top-level-plays"]["at"], t_end_ms, "nothing played while the job ran")

        # the same URL is now a complete VOD stream with measured bandwidths
        master = self.assertComplete(self.clip60)
        for rung in summary["rungs"]:
            self.assertIn(f"BANDWIDTH={rung['bandwidth']},AVERAGE-BANDWIDTH={rung['average_bandwidth']},",
                          master)
        # the master was stored twice (live, then final, last of all)
        master_puts = [i for i, p in enumerate(puts) if p["path"].endswith("/master.m3u8")]
        self.assertEqual(len(master_puts), 2, [p["path"] for p in puts])
        self.assertEqual(master_puts[-1], len(puts) - 1, "the final master is not the last object stored")
        self.played(self.player(), "after the job (VOD)")

    def test_upload_faults_still_complete(self):
        self.upload_source(self.clip18)
        # the proxy checks every request's signature and Content-MD5 from the
        # wire (s3rver checks none): a retried or restarted PUT must send the
        # same bytes again
        secrets = {rcxtest.S3RVER_KEY: rcxtest.S3RVER_SECRET}
        with FaultProxy(self.s3.port, secrets=secrets) as proxy:
            faults = [
                ("error", dict(method="PUT", path=r"/360p/segment00001\.ts$", status=503, code="SlowDown",
                               count=2)),
                ("error", dict(method="PUT", path=r"/180p/index\.m3u8$", status=503, code="SlowDown", count=2)),
                ("error", dict(method="PUT", path=r"/master\.m3u8$", status=500, code="InternalError",
                               count=1)),
                # stored, but the answer is lost: the PUT is sent again
                ("reset", dict(method="PUT", path=r"/180p/segment00002\.ts$", after_bytes=0, count=1)),
                ("reset", dict(method="PUT", path=r"/360p/iframes\.m3u8$", after_bytes=0, count=1)),
                # the source download is cut and resumed
                ("reset", dict(method="GET", path=re.escape(SRC_KEY) + "$", after_bytes=3 << 20, count=1)),
            ]
            for kind, kw in faults:
                proxy.add_fault(kind, **kw)
            code, out, err = self.finish(self.runner(endpoint=proxy.endpoint))
            fired = [(r["method"], r["path"].rsplit("/", 2)[-2:], r["fault"]) for r in proxy.log if r["fault"]]
            bad = [(r["method"], r["path"], r["sig"]) for r in proxy.log if r["sig"] != "ok"]
        self.assertEqual(code, 0, err[-3000:])
        self.assertEqual(bad, [], "requests whose signature or Content-MD5 do not match their bytes")
        # every armed fault really happened
        self.assertEqual(len(fired), sum(kw["count"] for _, kw in faults), fired)
        self.assertComplete(self.clip18)
        print(f"faults survived: {fired}")

    def test_upload_failing_past_retries_fails_the_job(self):
        self.upload_source(self.clip18)
        cases = [("persistent 503", r"/180p/segment00002\.ts$", 503, "SlowDown", 3),
                 ("AccessDenied", r"/360p/segment00001\.ts$", 403, "AccessDenied", 1)]
        for label, path, status, code_name, tries in cases:
            with self.subTest(label):
                with FaultProxy(self.s3.port) as proxy:
                    proxy.add_fault("error", method="PUT", path=path, status=status, code=code_name, count=None)
                    # no retry window (tests/test_storage_weather.py has the
                    # window): a request's own attempts only
                    code, out, err = self.finish(self.runner(endpoint=proxy.endpoint,
                                                             extra=("--retry-timeout", "0")))
                    log = proxy.log
                self.assertEqual(code, 1, err[-3000:])
                reason = [x for x in err.splitlines() if x.startswith("rugbycodex-runner: error:")]
                self.assertEqual(len(reason), 1, err[-3000:])
                self.assertIn(f"{status} {code_name}", reason[0])
                self.assertIn(path.replace("\\", "").strip("/$"), reason[0])
                self.assertEqual(json.loads(out)["status"], "failed")
                self.assertEqual(len([r for r in log if re.search(path, r["path"])]), tries,
                                 "retried as the SDKs' standard mode says")
                # what went up while it ran, and was taken down
                master = [r for r in log if r["path"].endswith("/master.m3u8")]
                if label == "persistent 503":
                    self.assertEqual([(r["method"], r["status"]) for r in master], [("PUT", 200), ("DELETE", 204)])
                self.assertNothingClaimsCompletion()
                self.assertTrue([k for k in self.keys() if k.endswith(".ts")], "no segment went up at all")
                print(f"{label}: exit 1, {reason[0]}")

    def test_stalled_master_put_holds_nothing_up(self):
        # The live master's PUT hangs (stored upstream, the answer never
        # comes): the runner must still answer Ctrl-C at once, and the
        # master that may have landed is taken down with the rest.
        self.upload_source(self.clip60)
        with FaultProxy(self.s3.port) as proxy:
            proxy.add_fault("stall", method="PUT", path=r"/master\.m3u8$", after_bytes=0, seconds=120, count=1)
            proc = self.runner(endpoint=proxy.endpoint)
            wait_until("the live master's PUT", lambda: proxy.requests(method="PUT", path=r"/master\.m3u8$"),
                       60, proc)
            time.sleep(1)
            self.assertIsNone(proc.poll(), "the job must still be running")
            t0 = time.monotonic()
            proc.send_signal(signal.SIGINT)
            code, out, err = self.finish(proc, timeout=60)
            took = time.monotonic() - t0
            log = proxy.log
        self.assertEqual(code, 1, err[-3000:])
        self.assertIn("rugbycodex-runner: error: interrupted", err)
        # well inside the stall and the request timeout: nothing waited on the PUT
        self.assertLess(took, 15, f"Ctrl-C took {took:.1f} s with the master's PUT hanging")
        master = [(r["method"], r["fault"]) for r in log if r["path"].endswith("/master.m3u8")]
        self.assertEqual(master, [("PUT", "stall"), ("DELETE", None)])
        self.assertNothingClaimsCompletion()
        print(f"Ctrl-C with the master's PUT hanging: exit 1 after {took:.1f} s")

    def test_large_source_writes_nothing_locally(self):
        big = make_clip(os.path.join(self.tmp, "big.mp4"), 20, noise=True)
        size = os.path.getsize(big)
        self.assertGreater(size, 150 << 20)
        self.upload_source(big)
        os.unlink(big)
        work = os.path.join(self.tmp, "cwd")
        tmpdir = os.path.join(self.tmp, "tmpdir")
        home = os.path.join(self.tmp, "home")
        for d in (work, tmpdir, home):
            os.makedirs(d)
        # LeakSanitizer stops the world with ptrace, which fails under strace
        env = rcxtest.asan_options(rcxtest.gst_env(self.s3.env()), "detect_leaks=0")
        env.update(TMPDIR=tmpdir, HOME=home, XDG_CACHE_HOME=os.path.join(home, ".cache"))
        trace = os.path.join(self.tmp, "strace.log")
        # the plugin registry is brought up to date first (updating it is a
        # write of GStreamer's, not of the job)
        subprocess.run(["gst-inspect-1.0", "wasabihlssink"], env=env, capture_output=True, check=True)

        # write_bytes of the runner, read while it runs (strace -f's child)
        io = {}

        def sample(proc):
            while proc.poll() is None:
                try:
                    with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                        kids = f.read().split()
                    for pid in kids:
                        with open(f"/proc/{pid}/io") as f:
                            io.update((k, int(v)) for k, v in (x.split(":") for x in f))
                except (OSError, ValueError):
                    pass
                time.sleep(0.2)

        proc = self.runner(cwd=work, env=env, prefix=(
            "strace", "-f", "-qq", "-o", trace,
            "-e", "trace=open,openat,openat2,creat,rename,renameat,renameat2,mkdir,mkdirat,truncate,link,"
                  "symlink"))
        sampler = threading.Thread(target=sample, args=(proc,), daemon=True)
        sampler.start()
        code, out, err = self.finish(proc, timeout=300 * rcxtest.SANITIZER_SLOWDOWN)
        sampler.join(5)
        self.assertEqual(code, 0, err[-3000:])
        self.assertComplete(None)

        writes = []
        with open(trace) as f:
            for line in f:
                m = re.search(r'(open|openat|openat2|creat)\((?:AT_FDCWD, |\d+, )?"([^"]*)", ([A-Z_|]+)', line)
                if m and m.group(1) != "creat" and not re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", m.group(3)):
                    continue
                if m and (re.match(r"/(dev|proc|sys)/", m.group(2))
                          or any(re.search(x, m.group(2)) for x in NOT_MEDIA)):
                    continue
                if m or re.search(r"\b(rename|renameat2?|mkdirat?|truncate|link|symlink)\(", line):
                    if "= -1" in line and not m:
                        continue
                    writes.append(line.strip())
        self.assertEqual(writes, [], "the runner wrote to the local disk")
        self.assertEqual(os.listdir(work), [])
        self.assertEqual(os.listdir(tmpdir), [])
        self.assertIn("write_bytes", io, "could not read /proc/PID/io")
        self.assertLess(io["write_bytes"], 1 << 20, io)
        print(f"{size / (1 << 20):.0f} MiB source: no file opened for writing, write_bytes {io['write_bytes']}, "
              f"read_bytes {io.get('read_bytes')}, wall {json.loads(out)['wall_time']:.1f} s")


if __name__ == "__main__":
    rcxtest.main()
