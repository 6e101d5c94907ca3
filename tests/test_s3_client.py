"""librcx's S3 client (rcx-s3 on rcx-http + rcx-retry) against s3rver,
directly and through the fault-injecting proxy (tests/fixtures/faultproxy.py).

Each test runs tests/rcx-s3-tool (one operation, JSON result on stdout) and
checks its answer, the bytes in s3rver and the requests the proxy saw.
"""
import datetime
import email.utils
import hashlib
import json
import os
import subprocess
import time

import rcxtest
from faultproxy import FaultProxy

TOOL = os.path.join(rcxtest.BUILD_DIR, "tests", "rcx-s3-tool")
BUCKET = "test"
MIB = 1 << 20


def random_file(path, size, seed):
    """Deterministic pseudo-random content (incompressible, fast)."""
    h = hashlib.sha256(str(seed).encode()).digest()
    block = b"".join(hashlib.sha256(h + bytes([i])).digest() for i in range(256)) * 128  # 1 MiB
    with open(path, "wb") as f:
        left = size
        i = 0
        while left > 0:
            chunk = block[: min(left, len(block))]
            # vary blocks so that a misplaced MiB is noticed
            f.write(bytes([i & 0xFF]) + chunk[1:])
            left -= len(chunk)
            i += 1
    return path


def aws_multipart_etag(md5s):
    return '"%s-%d"' % (hashlib.md5(b"".join(md5s)).hexdigest(), len(md5s))


def sha(path):
    return rcxtest.sha256_file(path)


class S3ClientTest(rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(TOOL):
            raise RuntimeError(f"{TOOL} is missing: build first")
        cls.s3 = rcxtest.S3rver(buckets=(BUCKET,)).start()
        # the proxy checks every signature (s3rver checks none)
        cls.proxy = FaultProxy(cls.s3.port, secrets={rcxtest.S3RVER_KEY: rcxtest.S3RVER_SECRET}).start()
        cls.boto = cls.s3.boto3()

    @classmethod
    def tearDownClass(cls):
        cls.boto.close()
        cls.proxy.stop()
        cls.s3.stop()

    def setUp(self):
        super().setUp()
        self.proxy.clear_faults()
        self.proxy.clear_log()

    def tool(self, *args, direct=False, expect_ok=True, timeout=300):
        env = self.s3.env(endpoint=None if direct else self.proxy.endpoint)
        p = subprocess.run([TOOL, *map(str, args)], env=env, capture_output=True,
                           text=True, timeout=timeout)
        self.stderr = p.stderr
        self.assertTrue(p.stdout.strip(), f"no output; stderr:\n{p.stderr}")
        res = json.loads(p.stdout)
        if not direct:
            # every request that got an answer was signed right (one cut
            # off mid-body by an abort has none)
            for e in self.proxy.log:
                if e["status"]:
                    self.assertEqual(e["sig"], "ok", e)
        if expect_ok:
            self.assertTrue(res["ok"], f"{res}\nstderr:\n{p.stderr[-3000:]}")
            self.assertEqual(p.returncode, 0)
        else:
            self.assertFalse(res["ok"], res)
            self.assertEqual(p.returncode, 1)
        return res

    def put_boto(self, key, path):
        with open(path, "rb") as f:
            self.boto.put_object(Bucket=BUCKET, Key=key, Body=f.read())

    def get_boto(self, key):
        return self.boto.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    # ---- happy path -----------------------------------------------------
    def test_put_head_get_delete(self):
        src = random_file(os.path.join(self.tmp, "src"), 3 * MIB + 17, 1)
        key = "dir/sub dir/a+b=c&d/é.bin"  # encoded once, '/' kept
        res = self.tool("put", BUCKET, key, src, "--content-type", "video/mp4")
        self.assertEqual(res["requests"], 1)
        with open(src, "rb") as f:
            self.assertEqual(self.get_boto(key), f.read())

        head = self.tool("head", BUCKET, key)
        self.assertEqual(head["size"], 3 * MIB + 17)
        self.assertEqual(head["content_type"], "video/mp4")
        self.assertEqual(head["etag"], res["etag"])
        self.assertGreater(head["last_modified"], 1600000000)

        out = os.path.join(self.tmp, "out")
        got = self.tool("get", BUCKET, key, out)
        self.assertEqual(sha(out), sha(src))
        self.assertEqual(got["requests"], 1)

        out2 = os.path.join(self.tmp, "out2")
        rd = self.tool("read", BUCKET, key, out2, "--chunk", 256 * 1024)
        self.assertEqual(sha(out2), sha(src))
        self.assertEqual(rd["opens"], 1, "sequential reads use one GET")
        self.assertEqual(len(self.proxy.requests(method="GET", path=key.split("/")[0])), 2)

        self.tool("delete", BUCKET, key)
        res = self.tool("head", BUCKET, key, expect_ok=False)
        self.assertEqual(res["domain"], "RcxS3Error")
        self.assertEqual(res["code"], 2)  # NOT_FOUND
        self.assertEqual(res["http_status"], 404)

    def test_not_found(self):
        out = os.path.join(self.tmp, "out")
        res = self.tool("get", BUCKET, "no/such/key", out, expect_ok=False)
        self.assertEqual(res["code"], 2)  # NOT_FOUND
        self.assertEqual(res["http_status"], 404)
        self.assertEqual(res["s3_code"], "NoSuchKey")
        self.assertEqual(res["requests"], 1, "a 404 is not retried")

    def test_unsafe_key_refused_before_sending(self):
        src = random_file(os.path.join(self.tmp, "src"), 10, 2)
        for key in ("../../escape", "a/./b", "/abs", "a/../b"):
            res = self.tool("put", BUCKET, key, src, expect_ok=False)
            self.assertEqual(res["code"], 1, key)  # SETTINGS
            self.assertEqual(res["requests"], 0, key)
        self.assertEqual(self.proxy.log, [])

    def test_reader_jumps(self):
        size = 12 * MIB
        src = random_file(os.path.join(self.tmp, "src"), size, 3)
        self.put_boto("jumps.bin", src)
        out = os.path.join(self.tmp, "out")
        # a far jump forward, a jump back, a short skip read through
        ranges = [(0, MIB), (8 * MIB, MIB), (2 * MIB, 100000), (2 * MIB + 200000, 5000)]
        res = self.tool("read", BUCKET, "jumps.bin", out, "--chunk", 65536,
                        "--ranges", ",".join(f"{o}:{n}" for o, n in ranges))
        with open(src, "rb") as f:
            data = f.read()
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"".join(data[o:o + n] for o, n in ranges))
        self.assertEqual(res["opens"], 3)
        gets = self.proxy.requests(method="GET")
        self.assertEqual(len(gets), 3)

    # ---- multipart ------------------------------------------------------
    def test_multipart_upload(self):
        size = 23 * MIB + 5
        src = random_file(os.path.join(self.tmp, "src"), size, 4)
        res = self.tool("upload", BUCKET, "big/multi.mp4", src, "--part-size", 5 * MIB,
                        "--parallel", 3, "--chunk", 300000)
        self.assertEqual(res["bytes"], size)
        with open(src, "rb") as f:
            self.assertEqual(self.get_boto("big/multi.mp4"), f.read())
        parts = self.proxy.requests(method="PUT", query="partNumber=")
        self.assertEqual(len(parts), 5)
        self.assertEqual(len(self.proxy.requests(method="POST", query="^uploads")), 1)
        self.assertEqual(len(self.proxy.requests(method="POST", query="uploadId=")), 1)
        self.assertEqual(res["requests"], 7)
        # what boto3 lists is what we wrote
        head = self.boto.head_object(Bucket=BUCKET, Key="big/multi.mp4")
        self.assertEqual(head["ContentLength"], size)

    def complete_answer_lost(self, key, etag_of):
        # the first CompleteMultipartUpload completes but its answer is cut;
        # the retry finds no upload (as S3 answers); the HEAD that follows
        # shows the ETag AWS gives (s3rver's is the whole object's MD5)
        size, part = 11 * MIB, 5 * MIB
        src = random_file(os.path.join(self.tmp, "src"), size, 18)
        with open(src, "rb") as f:
            data = f.read()
        md5s = [hashlib.md5(data[i:i + part]).digest() for i in range(0, size, part)]
        etag = etag_of(md5s)
        self.proxy.add_fault("reset", method="POST", query="uploadId=", after_bytes=1, count=1)
        self.proxy.add_fault("error", method="POST", query="uploadId=", status=404,
                             code="NoSuchUpload", count=1)
        self.proxy.add_fault("headers", method="HEAD", headers={"ETag": etag}, count=1)
        return src, self.tool("upload", BUCKET, key, src, "--part-size", part,
                              expect_ok=etag_of is aws_multipart_etag)

    def test_complete_answer_lost(self):
        src, res = self.complete_answer_lost("lost.mp4", aws_multipart_etag)
        self.assertEqual(len(self.proxy.requests(method="POST", query="uploadId=")), 2)
        self.assertEqual(len(self.proxy.requests(method="HEAD")), 1)
        self.assertNotIn("abort_ok", res)
        with open(src, "rb") as f:
            self.assertEqual(self.get_boto("lost.mp4"), f.read())

    def test_complete_answer_lost_other_object(self):
        # an object with another ETag is not ours: the error stands
        _, res = self.complete_answer_lost("lost2.mp4",
                                           lambda md5s: '"%s-3"' % ("0" * 32))
        self.assertEqual(res["s3_code"], "NoSuchUpload")
        self.assertEqual(len(self.proxy.requests(method="DELETE", query="uploadId=")), 1)

    def test_small_upload_is_one_put(self):
        src = random_file(os.path.join(self.tmp, "src"), 100000, 5)
        res = self.tool("upload", BUCKET, "small.ts", src, "--part-size", 5 * MIB)
        self.assertEqual(res["requests"], 1)
        self.assertEqual([e["method"] for e in self.proxy.log], ["PUT"])
        with open(src, "rb") as f:
            self.assertEqual(self.get_boto("small.ts"), f.read())

    def test_upload_abort(self):
        src = random_file(os.path.join(self.tmp, "src"), 12 * MIB, 6)
        res = self.tool("upload", BUCKET, "aborted.mp4", src, "--part-size", 5 * MIB,
                        "--abort-after", 6 * MIB)
        self.assertIn("abort_ok", res)
        aborts = self.proxy.requests(method="DELETE", query="uploadId=")
        self.assertEqual(len(aborts), 1)
        # s3rver answers 405 to AbortMultipartUpload: reported, not fatal
        if not res["abort_ok"]:
            self.assertEqual(res["abort_http_status"], 405)

    def test_failed_part_aborts_upload(self):
        src = random_file(os.path.join(self.tmp, "src"), 11 * MIB, 7)
        self.proxy.add_fault("error", method="PUT", query="partNumber=", status=403,
                             code="AccessDenied", count=None)
        res = self.tool("upload", BUCKET, "denied.mp4", src, "--part-size", 5 * MIB,
                        expect_ok=False)
        self.assertEqual(res["code"], 3)  # NOT_AUTHORIZED
        self.assertEqual(res["s3_code"], "AccessDenied")
        self.assertEqual(len(self.proxy.requests(method="DELETE", query="uploadId=")), 1)
        self.assertEqual(len(self.proxy.requests(method="POST", query="uploadId=")), 0)

    # ---- retries --------------------------------------------------------
    def test_slowdown_burst_is_retried(self):
        src = random_file(os.path.join(self.tmp, "src"), 50000, 8)
        self.proxy.add_fault("error", method="PUT", status=503, code="SlowDown", count=2)
        res = self.tool("put", BUCKET, "slow.ts", src)
        self.assertEqual(res["requests"], 3)
        self.assertEqual([e["status"] for e in self.proxy.log], [503, 503, 200])
        self.assertIn("SlowDown", self.stderr)
        self.assertIn("retrying in", self.stderr)
        self.assertNotIn("Signature=", self.stderr)
        self.assertNotIn("S3RVER", self.stderr)

    def test_slowdown_beyond_attempts_fails(self):
        src = random_file(os.path.join(self.tmp, "src"), 1000, 9)
        self.proxy.add_fault("error", method="PUT", status=503, code="SlowDown", count=None)
        res = self.tool("put", BUCKET, "slow2.ts", src, "--attempts", 2, expect_ok=False)
        self.assertEqual(res["requests"], 2)
        self.assertEqual(res["http_status"], 503)
        self.assertEqual(res["s3_code"], "SlowDown")
        self.assertEqual(res["code"], 0)  # FAILED

    def test_wasabi_rate_limit_403_is_retried(self):
        src = random_file(os.path.join(self.tmp, "src"), 1000, 10)
        self.put_boto("rl.bin", src)
        self.proxy.add_fault("error", method="HEAD", status=403,
                             code="RequestRateLimitExceeded", count=1)
        self.proxy.add_fault("error", method="GET", status=403,
                             code="RequestRateLimitExceeded", count=1)
        # HEAD has no body: the 403 is asked again as a one-byte GET, whose
        # body says RequestRateLimitExceeded: retried, then the info
        res = self.tool("head", BUCKET, "rl.bin")
        self.assertEqual(res["size"], 1000)
        self.assertEqual([(e["method"], e["status"], e["range"]) for e in self.proxy.log],
                         [("HEAD", 403, None), ("GET", 403, "bytes=0-0"), ("GET", 206, "bytes=0-0")])
        self.proxy.clear_log()
        # a bodyless 403 that is a real AccessDenied fails at once, with its code
        self.proxy.add_fault("error", method="HEAD", status=403, code="AccessDenied", count=1)
        self.proxy.add_fault("error", method="GET", status=403, code="AccessDenied", count=1)
        res = self.tool("head", BUCKET, "rl.bin", expect_ok=False)
        self.assertEqual((res["code"], res["s3_code"], res["requests"]), (3, "AccessDenied", 2))
        self.proxy.clear_log()
        self.proxy.add_fault("error", method="GET", status=403,
                             code="RequestRateLimitExceeded", count=2)
        out = os.path.join(self.tmp, "out")
        res = self.tool("get", BUCKET, "rl.bin", out)
        self.assertEqual(res["requests"], 3)
        self.assertEqual(sha(out), sha(src))

    def test_access_denied_not_retried(self):
        out = os.path.join(self.tmp, "out")
        self.proxy.add_fault("error", method="GET", status=403, code="AccessDenied", count=None)
        res = self.tool("get", BUCKET, "whatever", out, expect_ok=False)
        self.assertEqual(res["code"], 3)  # NOT_AUTHORIZED
        self.assertEqual(res["s3_code"], "AccessDenied")
        self.assertEqual(res["request_id"], "FAULTPROXY")
        self.assertEqual(len(self.proxy.log), 1, "exactly one request")

    def test_reader_resumes_across_resets(self):
        size = 20 * MIB + 1234
        src = random_file(os.path.join(self.tmp, "src"), size, 11)
        self.put_boto("resets.bin", src)
        self.proxy.add_fault("reset", method="GET", after_bytes=3 * MIB, count=None)
        out = os.path.join(self.tmp, "out")
        res = self.tool("read", BUCKET, "resets.bin", out, "--chunk", MIB)
        self.assertEqual(sha(out), sha(src))
        gets = self.proxy.requests(method="GET")
        # every response is cut (RST) after 3 MiB were written: at least 7
        # GETs, each resuming where the previous one really stopped, guarded
        # by If-Match on the first response's ETag
        self.assertGreaterEqual(len(gets), 7)
        self.assertEqual(res["opens"], len(gets))
        self.assertIsNone(gets[0]["range"])
        starts = [int(e["range"][len("bytes="):-1]) for e in gets[1:]]
        self.assertEqual(starts, sorted(starts))
        self.assertTrue(all(e["if_match"] for e in gets[1:]))
        self.assertEqual(len({e["if_match"] for e in gets[1:]}), 1)

    def test_reader_detects_stall_and_resumes(self):
        size = 6 * MIB
        src = random_file(os.path.join(self.tmp, "src"), size, 12)
        self.put_boto("stall.bin", src)
        self.proxy.add_fault("stall", method="GET", after_bytes=2 * MIB, seconds=5, count=1)
        out = os.path.join(self.tmp, "out")
        res = self.tool("read", BUCKET, "stall.bin", out, "--timeout", 2)
        self.assertEqual(sha(out), sha(src))
        self.assertEqual(res["opens"], 2)
        self.assertLess(res["seconds"], 4.5, "the stall was cut by the 2 s timeout")
        self.assertIn("resuming", self.stderr)

    def test_reader_refuses_a_replaced_object(self):
        src = random_file(os.path.join(self.tmp, "src"), 4 * MIB, 15)
        self.put_boto("replaced.bin", src)
        # cut the first answer, then the resume finds another object (s3rver
        # ignores If-Match, so the proxy answers what S3 would)
        self.proxy.add_fault("reset", method="GET", after_bytes=MIB, count=1)
        self.proxy.add_fault("error", method="GET", status=412, code="PreconditionFailed", count=1)
        out = os.path.join(self.tmp, "out")
        res = self.tool("read", BUCKET, "replaced.bin", out, expect_ok=False)
        self.assertEqual(res["code"], 5)  # PRECONDITION
        self.assertEqual(res["http_status"], 412)
        gets = self.proxy.requests(method="GET")
        self.assertEqual(len(gets), 2, "a 412 is final")
        self.assertTrue(gets[1]["if_match"])

    def test_cancel_stalled_read(self):
        src = random_file(os.path.join(self.tmp, "src"), 3 * MIB, 16)
        self.put_boto("cancel.bin", src)
        self.proxy.add_fault("stall", method="GET", after_bytes=MIB, seconds=20, count=1)
        out = os.path.join(self.tmp, "out")
        t0 = time.monotonic()
        res = self.tool("read", BUCKET, "cancel.bin", out, "--timeout", 60,
                        "--cancel-after-ms", 500, expect_ok=False)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual((res["domain"], res["code"]), ("g-io-error-quark", 19))  # CANCELLED

    def test_cancel_blocked_upload_aborts(self):
        src = random_file(os.path.join(self.tmp, "src"), 16 * MIB, 17)
        # every part hangs: write() blocks (one part in flight at most)
        self.proxy.add_fault("stall", method="PUT", query="partNumber=", after_bytes=0,
                             seconds=20, count=None)
        t0 = time.monotonic()
        res = self.tool("upload", BUCKET, "hang.mp4", src, "--part-size", 5 * MIB,
                        "--parallel", 1, "--timeout", 60, "--cancel-after-ms", 1000,
                        expect_ok=False)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual((res["domain"], res["code"]), ("g-io-error-quark", 19))  # CANCELLED
        self.assertLess(res["bytes"], 16 * MIB, "write() blocked")
        self.assertEqual(len(self.proxy.requests(method="DELETE", query="uploadId=")), 1)
        self.assertEqual(len(self.proxy.requests(method="PUT", query="partNumber=")), 1)

    def test_get_retries_5xx_before_body(self):
        src = random_file(os.path.join(self.tmp, "src"), 2 * MIB, 13)
        self.put_boto("five.bin", src)
        self.proxy.add_fault("error", method="GET", status=500, code="InternalError", count=1)
        self.proxy.add_fault("reset", method="GET", after_bytes=MIB, count=1)
        out = os.path.join(self.tmp, "out")
        res = self.tool("read", BUCKET, "five.bin", out)
        self.assertEqual(sha(out), sha(src))
        self.assertEqual([e["status"] for e in self.proxy.requests(method="GET")], [500, 200, 206])
        self.assertEqual(res["opens"], 2)

    def test_clock_skew_resigns_once(self):
        src = random_file(os.path.join(self.tmp, "src"), 1000, 14)
        # s3rver itself refuses requests more than 15 minutes off, so the
        # "server" (the proxy's Date) is 10 minutes ahead of this machine
        server_time = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)
        date = email.utils.format_datetime(server_time, usegmt=True)
        self.proxy.add_fault("error", method="PUT", status=403, code="RequestTimeTooSkewed",
                             count=1, headers={"Date": date})
        res = self.tool("put", BUCKET, "skew.ts", src)
        self.assertEqual(res["requests"], 2)
        first, second = self.proxy.log
        self.assertEqual((first["status"], second["status"]), (403, 200))
        signed = datetime.datetime.strptime(second["amz_date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
        self.assertLess(abs((signed - server_time).total_seconds()), 60,
                        "the retry is signed with the server's clock")
        # a second skew answer is final (re-signed once only)
        self.proxy.clear_log()
        self.proxy.add_fault("error", method="PUT", status=403, code="RequestTimeTooSkewed",
                             count=None, headers={"Date": date})
        res = self.tool("put", BUCKET, "skew.ts", src, expect_ok=False)
        self.assertEqual(res["requests"], 2)
        self.assertEqual(res["s3_code"], "RequestTimeTooSkewed")

    def test_connection_refused(self):
        port = rcxtest.free_port()
        env = self.s3.env(endpoint=f"http://127.0.0.1:{port}")
        p = subprocess.run([TOOL, "head", BUCKET, "k", "--attempts", "2"], env=env,
                           capture_output=True, text=True, timeout=60)
        res = json.loads(p.stdout)
        self.assertFalse(res["ok"])
        self.assertEqual(res["code"], 4)  # CONNECT
        self.assertEqual(res["requests"], 2)

    # ---- the retry window (storage outages) -----------------------------
    def test_put_rides_out_an_outage(self):
        src = random_file(os.path.join(self.tmp, "src"), 300 * 1024, 21)
        # longer than a request's 3 attempts with their backoff (<= 3 s)
        self.proxy.outage(8)
        t0 = time.monotonic()
        res = self.tool("put", BUCKET, "outage.ts", src, "--retry-timeout", 30)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 7.5, "it cannot have landed during the outage")
        self.assertEqual(hashlib.sha256(self.get_boto("outage.ts")).hexdigest(), sha(src))
        # rounds after the 3 attempts, each logged with the outage's age
        self.assertIn("round 1, retrying in", self.stderr)
        self.assertEqual([e["status"] for e in self.proxy.log if e["fault"] is None], [200])
        print(f"PUT across an 8 s outage: {took:.1f} s, {res['requests']} attempts")

    def test_outage_beyond_the_window_fails(self):
        src = random_file(os.path.join(self.tmp, "src"), 1000, 22)
        self.proxy.outage(8)
        t0 = time.monotonic()
        res = self.tool("put", BUCKET, "down.ts", src, "--retry-timeout", 2, expect_ok=False)
        took = time.monotonic() - t0
        self.assertEqual(res["code"], 4)  # CONNECT: the last error
        self.assertLess(took, 7, "gave up at the window's end, not the outage's")
        self.assertTrue(self.proxy.up.wait(15))
        self.assertEqual(self.proxy.requests(method="PUT", path="down.ts"), [], "nothing reached upstream")

    def test_window_never_retries_access_denied(self):
        src = random_file(os.path.join(self.tmp, "src"), 1000, 23)
        self.proxy.add_fault("error", method="PUT", status=403, code="AccessDenied", count=None)
        t0 = time.monotonic()
        res = self.tool("put", BUCKET, "denied.ts", src, "--retry-timeout", 60, expect_ok=False)
        self.assertEqual((res["code"], res["s3_code"], res["requests"]), (3, "AccessDenied", 1))
        self.assertLess(time.monotonic() - t0, 5)

    def test_window_retries_slowdown_past_the_attempts(self):
        src = random_file(os.path.join(self.tmp, "src"), 1000, 24)
        # 5 SlowDowns: more than one request's 3 attempts
        self.proxy.add_fault("error", method="PUT", status=503, code="SlowDown", count=5)
        res = self.tool("put", BUCKET, "slow3.ts", src, "--retry-timeout", 60)
        self.assertEqual([e["status"] for e in self.proxy.log], [503] * 5 + [200])
        self.assertEqual(res["requests"], 6)


if __name__ == "__main__":
    rcxtest.main()
