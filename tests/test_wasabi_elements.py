"""Integration tests of wasabisrc and wasabisink against s3rver, with
tests/fixtures/faultproxy.py in front of it for faults and request counts.

The pipelines run in separate processes: gst-launch-1.0, or wasabi-probe
(build/tests) which prints each ERROR/WARNING with its code and details.
"""
import datetime
import hashlib
import hmac
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import rcxtest
from faultproxy import FaultProxy

MiB = 1 << 20
PROBE = os.path.join(rcxtest.BUILD_DIR, "tests", "wasabi-probe")
AWS = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else shutil.which("aws")
BUCKET = "test"

SRC_PROPERTIES = ["uri", "bucket", "key", "region", "endpoint-uri", "force-path-style",
                  "access-key", "secret-access-key", "session-token", "retry-attempts",
                  "request-timeout", "blocksize"]
SINK_PROPERTIES = ["uri", "bucket", "key", "region", "endpoint-uri", "force-path-style",
                   "access-key", "secret-access-key", "session-token", "retry-attempts",
                   "request-timeout", "retry-timeout", "content-type", "cache-control", "part-size",
                   "max-parallel-parts"]


def pattern_chunks(size, seed=b"rugbycodex", chunk=MiB):
    """Deterministic, non-repeating data, fast: a SHA-256 keystream block
    per chunk index, expanded by repetition inside the chunk."""
    base = hashlib.sha256(seed).digest() * (chunk // 32)
    done = 0
    index = 0
    while done < size:
        n = min(chunk, size - done)
        head = hashlib.sha256(seed + index.to_bytes(8, "little")).digest()
        block = head + base[32:n] if n > 32 else head[:n]
        yield block
        done += n
        index += 1


class ChunkReader:
    """A file-like reader over pattern_chunks (for boto3 upload_fileobj)."""

    def __init__(self, size, seed=b"rugbycodex"):
        self.gen = pattern_chunks(size, seed)
        self.buf = b""
        self.sha = hashlib.sha256()

    def read(self, n=-1):
        while n < 0 or len(self.buf) < n:
            try:
                block = next(self.gen)
            except StopIteration:
                break
            self.sha.update(block)
            self.buf += block
        if n < 0:
            out, self.buf = self.buf, b""
        else:
            out, self.buf = self.buf[:n], self.buf[n:]
        return out


def put_pattern(s3, key, size, seed=b"rugbycodex"):
    reader = ChunkReader(size, seed)
    from boto3.s3.transfer import TransferConfig
    s3.upload_fileobj(reader, BUCKET, key,
                      Config=TransferConfig(multipart_threshold=64 * MiB,
                                            multipart_chunksize=64 * MiB, max_concurrency=2))
    return reader.sha.hexdigest()


def object_sha256(s3, key):
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"]
    h = hashlib.sha256()
    for chunk in iter(lambda: body.read(MiB), b""):
        h.update(chunk)
    return h.hexdigest()


def signing_key(secret, date, region="us-east-1", service="s3"):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


class Run:
    """A child process with its peak RSS (VmHWM polled from /proc)."""

    def __init__(self, args, env, timeout):
        self.args = args
        self.peak_rss_kb = 0
        start = time.monotonic()
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out_chunks, self.err_chunks = [], []
        readers = [threading.Thread(target=self._drain, args=(self.proc.stdout, self.out_chunks)),
                   threading.Thread(target=self._drain, args=(self.proc.stderr, self.err_chunks))]
        for t in readers:
            t.start()
        deadline = start + timeout
        while self.proc.poll() is None:
            self._sample_rss()
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{args[:3]} did not finish in {timeout} s")
            try:
                self.proc.wait(0.05)
            except subprocess.TimeoutExpired:
                pass
        for t in readers:
            t.join()
        self.seconds = time.monotonic() - start
        self.returncode = self.proc.returncode
        self.stdout = b"".join(self.out_chunks).decode(errors="replace")
        self.stderr = b"".join(self.err_chunks).decode(errors="replace")

    @staticmethod
    def _drain(stream, chunks):
        for block in iter(lambda: stream.read(65536), b""):
            chunks.append(block)

    def _sample_rss(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.peak_rss_kb = max(self.peak_rss_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass


class WasabiElementsTest(rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path in (PROBE, os.path.join(rcxtest.PLUGIN_PATH, "libgstrugbycodex.so")):
            if not os.path.exists(path):
                raise RuntimeError(f"{path} is missing: build first")
        cls.s3rver = rcxtest.S3rver(buckets=(BUCKET,)).start()
        cls.s3 = cls.s3rver.boto3()

    @classmethod
    def tearDownClass(cls):
        cls.s3rver.stop()

    def env(self, endpoint=None, **extra):
        env = self.s3rver.env(endpoint)
        env["GST_REGISTRY"] = os.path.join(rcxtest.BUILD_DIR, "test-registry.bin")
        env.update(extra)
        return env

    def proxy(self):
        proxy = FaultProxy(self.s3rver.port)
        self.start(proxy)
        return proxy

    def probe(self, desc, env=None, timeout=300):
        run = Run([PROBE] + desc.split(), env or self.env(), timeout)
        return run

    # ---- documentation ----------------------------------------------------
    def test_inspect_documents_every_property(self):
        for factory, expected in (("wasabisrc", SRC_PROPERTIES), ("wasabisink", SINK_PROPERTIES)):
            out = subprocess.run(["gst-inspect-1.0", factory], env=rcxtest.gst_env(),
                                 capture_output=True, text=True, check=True).stdout
            props = dict(re.findall(r"^  ([a-z][a-z0-9-]*)\s+: (.*)$", out, re.M))
            for name in expected:
                self.assertIn(name, props, f"{factory}: property {name} missing")
                self.assertGreater(len(props[name].strip()), 10, f"{factory}: {name} undocumented")
            self.assertIn("s3", out.split("Supported URI protocols:")[1].split("\n")[1])
            self.assertRegex(out, r"secret-access-key.*\n\s+flags: writable,")

    # ---- URI handler: playbin / uridecodebin --------------------------------
    def make_mp4(self, name, seconds=2, size="320x240", faststart=False):
        path = os.path.join(self.tmp, name)
        args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                f"testsrc2=size={size}:rate=25:duration={seconds}", "-f", "lavfi", "-i",
                f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset",
                "ultrafast", "-g", "25", "-c:a", "aac", "-b:a", "64k", "-shortest"]
        if faststart:
            args += ["-movflags", "+faststart"]
        subprocess.run(args + [path], check=True)
        with open(path, "rb") as f:
            data = f.read()
        # ffmpeg without +faststart writes the moov after the mdat
        moov, mdat = data.find(b"moov"), data.find(b"mdat")
        self.assertTrue(0 < mdat < moov or faststart, "moov not at the end")
        self.s3.upload_file(path, BUCKET, name)
        return path

    def test_playbin_and_uridecodebin_find_wasabisrc(self):
        self.make_mp4("clip.mp4")
        env = self.env()
        run = Run(["gst-launch-1.0", "playbin", f"uri=s3://{BUCKET}/clip.mp4",
                   "video-sink=fakesink sync=false", "audio-sink=fakesink sync=false"],
                  env, 120)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("Got EOS", run.stdout)
        run = Run(["gst-launch-1.0", "-v", "uridecodebin", f"uri=s3://{BUCKET}/clip.mp4",
                   "caps=video/x-raw", "!", "fakesink", "sync=false"], env, 120)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("GstWasabiSrc", run.stdout)
        self.assertIn("video/x-raw", run.stdout)
        self.assertIn("Got EOS", run.stdout)

    def test_moov_at_end_pull_mode_bounded_gets(self):
        # larger than wasabisrc's 4 MiB read-ahead, so reaching the moov at
        # the end takes a jump (a new GET), not a read-through
        path = self.make_mp4("moovlast.mp4", seconds=10, size="1280x720")
        size = os.path.getsize(path)
        self.assertGreater(size, 6 * MiB)
        proxy = self.proxy()
        env = self.env(proxy.endpoint, GST_DEBUG="wasabisrc:5,basesrc:5,qtdemux:4")
        run = Run(["gst-launch-1.0", "wasabisrc", f"uri=s3://{BUCKET}/moovlast.mp4", "!",
                   "qtdemux", "name=d", "d.video_0", "!", "h264parse", "!", "avdec_h264",
                   "!", "fakesink", "sync=false"], env, 120)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr[-3000:])
        self.assertIn("Got EOS", run.stdout)
        self.assertRegex(run.stderr, r"activating in pull mode|pull mode")
        gets = proxy.requests(method="GET", path="/moovlast.mp4")
        heads = proxy.requests(method="HEAD", path="/moovlast.mp4")
        received = re.search(r"(\d+) body bytes received", run.stderr)
        self.assertIsNotNone(received, "wasabisrc's stop() line is missing")
        received = int(received.group(1))
        print(f"moov-at-end decode: {len(heads)} HEAD, {len(gets)} GET "
              f"({sum(g['bytes'] for g in gets)} bytes sent, {received} read by wasabisrc)")
        self.assertGreaterEqual(len(gets), 2)  # the moov at the end, then the samples
        self.assertLessEqual(len(gets), 10, [(g['status'], g['bytes']) for g in gets])
        # no byte of the object is fetched twice (beyond a block or two).
        # Counted where wasabisrc reads, not where the proxy sends: what the
        # proxy wrote into a GET that wasabisrc closed on a jump may still
        # have sat in the sockets' buffers, more of it the busier the machine
        # (up to 13 MB sent for this 8 MB object under ASan and load)
        self.assertLessEqual(received, size + MiB)

    # ---- copies -------------------------------------------------------------
    def copy_pipeline(self, src_key, dst_key, part_size=8 * MiB, parallel=4, extra=""):
        return (f"wasabisrc uri=s3://{BUCKET}/{src_key} {extra} ! "
                f"wasabisink uri=s3://{BUCKET}/{dst_key} part-size={part_size} "
                f"max-parallel-parts={parallel}")

    def test_copy_1gib_byte_identical_bounded_memory(self):
        size = 1024 * MiB
        digest = put_pattern(self.s3, "big.bin", size)
        part_size, parallel = 8 * MiB, 4
        env, limit = rcxtest.sanitizer_memory(self.env(), 64 + part_size * parallel / MiB)
        run = self.probe(self.copy_pipeline("big.bin", "copy.bin", part_size, parallel),
                         env=env, timeout=900)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr[-3000:])
        self.assertIn("EOS", run.stdout)
        self.assertNotIn("WARNING", run.stdout)
        peak_mib = run.peak_rss_kb / 1024
        print(f"1 GiB copy: {run.seconds:.1f} s ({size / MiB / run.seconds:.0f} MiB/s), "
              f"peak RSS {peak_mib:.0f} MiB (limit {limit:.0f} MiB)")
        self.assertLess(peak_mib, limit)
        # a real client reads back what wasabisink wrote
        aws = subprocess.Popen([AWS, "--endpoint-url", self.s3rver.endpoint, "s3", "cp",
                                f"s3://{BUCKET}/copy.bin", "-"], env=self.env(),
                               stdout=subprocess.PIPE)
        h = hashlib.sha256()
        n = 0
        for chunk in iter(lambda: aws.stdout.read(MiB), b""):
            h.update(chunk)
            n += len(chunk)
        self.assertEqual(aws.wait(), 0)
        self.assertEqual(n, size)
        self.assertEqual(h.hexdigest(), digest)
        self.s3.delete_object(Bucket=BUCKET, Key="big.bin")
        self.s3.delete_object(Bucket=BUCKET, Key="copy.bin")

    def test_faults_still_give_identical_copy(self):
        size = 64 * MiB
        digest = put_pattern(self.s3, "faulty.bin", size, seed=b"faults")
        proxy = self.proxy()
        # resets every few MB, SlowDown bursts, a stall longer than the timeout
        proxy.add_fault("reset", method="GET", path="faulty.bin", after_bytes=3 * MiB, count=4)
        proxy.add_fault("error", method="GET", path="faulty.bin", status=503, code="SlowDown",
                        count=2)
        proxy.add_fault("stall", method="GET", path="faulty.bin", after_bytes=2 * MiB,
                        seconds=6, count=1)
        proxy.add_fault("error", method="PUT", path="faulty-copy.bin", query="partNumber=2",
                        status=503, code="SlowDown", count=1)
        env = self.env(proxy.endpoint, GST_DEBUG="wasabisrc:5,wasabisink:5")
        run = self.probe(self.copy_pipeline("faulty.bin", "faulty-copy.bin", 5 * MiB, 2,
                                            extra="request-timeout=2 retry-attempts=5"),
                         env=env, timeout=300)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr[-5000:])
        self.assertIn("EOS", run.stdout)
        self.assertEqual(object_sha256(self.s3, "faulty-copy.bin"), digest)
        # a stalled request is logged when the proxy's stall ends
        deadline = time.monotonic() + 15
        while not proxy.requests(method="GET", path="faulty.bin") or \
                "stall" not in [g["fault"] for g in proxy.requests(method="GET")]:
            self.assertLess(time.monotonic(), deadline, proxy.log)
            time.sleep(0.1)
        gets = proxy.requests(method="GET", path="faulty.bin")
        faults = [g["fault"] for g in gets if g["fault"]]
        print(f"faulty copy: {len(gets)} GETs, faults fired {faults}, {run.seconds:.1f} s")
        self.assertEqual(sorted(set(faults)), ["error", "reset", "stall"])
        # the SlowDown on UploadPart 2 was retried by the sink
        part2 = proxy.requests(method="PUT", path="faulty-copy.bin", query="partNumber=2&")
        self.assertEqual([p["status"] for p in part2], [503, 200])
        # the retries are visible at GST_DEBUG=wasabisrc:5
        retry_lines = [line for line in run.stderr.splitlines()
                       if "wasabisrc" in line and re.search(r"retr|resum", line, re.I)]
        self.assertGreaterEqual(len(retry_lines), 3, run.stderr[-5000:])
        self.assertTrue(any("SlowDown" in line or "503" in line for line in retry_lines),
                        "\n".join(retry_lines))

    # ---- errors ---------------------------------------------------------------
    def test_access_denied_fails_at_once(self):
        self.s3.put_object(Bucket=BUCKET, Key="denied.bin", Body=b"x" * 1000)
        proxy = self.proxy()
        proxy.add_fault("error", method="GET", path="denied.bin", status=403,
                        code="AccessDenied", count=None)
        run = self.probe(f"wasabisrc uri=s3://{BUCKET}/denied.bin ! fakesink",
                         env=self.env(proxy.endpoint), timeout=60)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        line = [li for li in run.stdout.splitlines() if li.startswith("ERROR")][0]
        self.assertIn("gst-resource-error-quark not-authorized", line)
        self.assertIn("http-status-code=(uint)403", line)
        self.assertIn("s3-error-code=(string)AccessDenied", line)
        self.assertIn("request-id=(string)FAULTPROXY", line)
        self.assertEqual(len(proxy.requests(method="GET", path="denied.bin")), 1)

    def test_not_found(self):
        run = self.probe(f"wasabisrc uri=s3://{BUCKET}/no/such/key.bin ! fakesink", timeout=60)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        line = [li for li in run.stdout.splitlines() if li.startswith("ERROR")][0]
        self.assertIn("gst-resource-error-quark not-found", line)
        self.assertIn("http-status-code=(uint)404", line)

    def test_sink_stopped_mid_upload_aborts(self):
        proxy = self.proxy()
        env = self.env(proxy.endpoint)
        proc = subprocess.Popen([PROBE, "filesrc", "location=/dev/zero", "blocksize=1048576",
                                 "!", "wasabisink", f"uri=s3://{BUCKET}/endless.bin",
                                 "part-size=5242880", "max-parallel-parts=2"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not proxy.requests(method="PUT", query="partNumber="):
                self.assertIsNone(proc.poll(), "the pipeline ended early")
                self.assertLess(time.monotonic(), deadline, "no part was uploaded")
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertIn("INTERRUPTED", out)
        aborts = proxy.requests(method="DELETE", path="endless.bin", query="uploadId=")
        self.assertEqual(len(aborts), 1, proxy.log)
        # s3rver answers Abort with 405: reported as a warning, not a crash
        self.assertEqual(aborts[0]["status"], 405)
        warning = [li for li in out.splitlines() if li.startswith("WARNING")]
        self.assertTrue(warning and "http-status-code=(uint)405" in warning[0], out + err)
        self.assertFalse(proxy.requests(method="POST", path="endless.bin", query="uploadId="))

    # ---- secrets ----------------------------------------------------------------
    def test_no_secret_in_debug_log(self):
        secret = "rcxT3stS3cretValue/" + hashlib.sha256(self.tmp.encode()).hexdigest()[:20]
        self.s3.put_object(Bucket=BUCKET, Key="small.bin", Body=os.urandom(300 * 1024))
        env = self.env(GST_DEBUG="*:9", AWS_SECRET_ACCESS_KEY=secret, GST_DEBUG_NO_COLOR="1")
        run = self.probe(self.copy_pipeline("small.bin", "small-copy.bin", 5 * MiB, 1),
                         env=env, timeout=120)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr[-3000:])
        log = run.stdout + run.stderr
        self.assertGreater(len(log), 100000)  # the debug log is really there
        self.assertIn("wasabisrc", log)
        self.assertNotIn(secret, log)
        self.assertNotIn(secret.split("/")[1], log)
        today = datetime.datetime.now(datetime.timezone.utc).date()
        for day in (today, today - datetime.timedelta(days=1), today + datetime.timedelta(days=1)):
            key = signing_key(secret, day.strftime("%Y%m%d"))
            self.assertNotIn(key.hex(), log.lower())
            self.assertNotIn(key.hex().upper(), log)


if __name__ == "__main__":
    rcxtest.main()
