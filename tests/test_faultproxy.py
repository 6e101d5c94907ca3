"""The fault proxy (tests/fixtures/faultproxy.py) held to a real client:
boto3 through it sees S3 as it is, and each fault the way S3 shows it
(boto3 retries SlowDown, fails on a reset body and on a stall)."""
import http.client

import botocore.config
import botocore.exceptions
import boto3

import rcxtest
from faultproxy import FaultProxy


class FaultProxyTest(rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = rcxtest.S3rver(buckets=("test",)).start()
        cls.proxy = FaultProxy(cls.s3.port, secrets={rcxtest.S3RVER_KEY: rcxtest.S3RVER_SECRET}).start()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.s3.stop()

    def setUp(self):
        super().setUp()
        self.proxy.clear_faults()
        self.proxy.clear_log()

    def client(self, **config):
        c = boto3.client(
            "s3", endpoint_url=self.proxy.endpoint, region_name="us-east-1",
            aws_access_key_id=rcxtest.S3RVER_KEY, aws_secret_access_key=rcxtest.S3RVER_SECRET,
            config=botocore.config.Config(s3={"addressing_style": "path"}, **config))
        self.addCleanup(c.close)
        return c

    def test_transparent(self):
        c = self.client()
        body = bytes(range(256)) * 8192  # 2 MiB
        c.put_object(Bucket="test", Key="a/b.bin", Body=body)
        self.assertEqual(c.get_object(Bucket="test", Key="a/b.bin")["Body"].read(), body)
        part = c.get_object(Bucket="test", Key="a/b.bin", Range="bytes=1000-1999")["Body"].read()
        self.assertEqual(part, body[1000:2000])
        log = [(e["method"], e["path"], e["status"]) for e in self.proxy.log]
        self.assertEqual(log, [("PUT", "/test/a/b.bin", 200), ("GET", "/test/a/b.bin", 200),
                               ("GET", "/test/a/b.bin", 206)])
        self.assertEqual(self.proxy.log[1]["bytes"], len(body))
        self.assertEqual(self.proxy.log[2]["range"], "bytes=1000-1999")
        # the proxy's SigV4 check agrees with a real client's signatures
        self.assertEqual([e["sig"] for e in self.proxy.log], ["ok"] * 3)

    def test_signature_check_catches_forgeries(self):
        c = self.client()
        c.put_object(Bucket="test", Key="k", Body=b"abc")
        good = self.proxy.log[0]
        self.assertEqual(good["sig"], "ok")
        # replay boto3's signed headers with another body / key / secret
        captured = {}

        def grab(request, **kwargs):
            captured.update(request.headers.items())
        c.meta.events.register("before-send.s3.PutObject", grab)
        c.put_object(Bucket="test", Key="k", Body=b"abc")
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in captured.items()}
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=10)
        conn.request("PUT", "/test/k", body=b"abd", headers=headers)
        conn.getresponse().read()
        conn.request("PUT", "/test/other", body=b"abc", headers=headers)
        conn.getresponse().read()
        conn.close()
        sigs = [e["sig"] for e in self.proxy.log]
        self.assertEqual(sigs[1], "ok")
        self.assertTrue(sigs[2].startswith("bad: "), sigs[2])  # body changed
        self.assertEqual(sigs[3], "bad: signature")  # key changed

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=10)
        for _ in range(3):
            conn.request("GET", "/test/missing")
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 404)
            self.assertFalse(r.will_close)
        conn.close()
        self.assertEqual(len(self.proxy.requests(method="GET", path="missing")), 3)

    def test_slowdown_retried_by_boto3(self):
        c = self.client(retries={"mode": "standard", "max_attempts": 3})
        self.proxy.add_fault("error", method="PUT", status=503, code="SlowDown", count=2)
        c.put_object(Bucket="test", Key="slow", Body=b"x")
        self.assertEqual([e["status"] for e in self.proxy.log], [503, 503, 200])

    def test_errors_as_s3_shows_them(self):
        c = self.client(retries={"mode": "standard", "max_attempts": 1})
        self.proxy.add_fault("error", method="GET", status=403, code="AccessDenied", count=1)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            c.get_object(Bucket="test", Key="x")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.proxy.add_fault("error", method="GET", status=403, code="RequestRateLimitExceeded",
                             count=1)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            c.get_object(Bucket="test", Key="x")
        self.assertEqual(cm.exception.response["Error"]["Code"], "RequestRateLimitExceeded")

    def test_reset_and_stall(self):
        c = self.client(retries={"mode": "standard", "max_attempts": 1}, read_timeout=1)
        body = b"z" * (3 << 20)
        c.put_object(Bucket="test", Key="big", Body=body)
        self.proxy.clear_log()
        self.proxy.add_fault("reset", method="GET", after_bytes=1 << 20, count=1)
        with self.assertRaises(Exception):
            c.get_object(Bucket="test", Key="big")["Body"].read()
        self.assertEqual(self.proxy.log[0]["fault"], "reset")
        self.assertEqual(self.proxy.log[0]["bytes"], 1 << 20)
        self.proxy.add_fault("stall", method="GET", after_bytes=1 << 20, seconds=3, count=1)
        with self.assertRaises(Exception):
            c.get_object(Bucket="test", Key="big")["Body"].read()
        self.assertEqual(self.proxy.log[1]["fault"], "stall")
        # no fault left: the object comes whole
        self.assertEqual(c.get_object(Bucket="test", Key="big")["Body"].read(), body)

    def test_upload_reset_every_third(self):
        c = self.client(retries={"mode": "standard", "max_attempts": 3})
        self.proxy.add_fault("reset", method="PUT", upload_bytes=1 << 20, every=3, count=None)
        for i in range(6):
            c.put_object(Bucket="test", Key=f"up{i}", Body=b"b" * (2 << 20))
            # small bodies never match, and do not count
            c.put_object(Bucket="test", Key=f"small{i}", Body=b"s" * 1000)
        big = [e for e in self.proxy.requests(method="PUT") if "up" in e["path"]]
        faults = [e["fault"] for e in big]
        self.assertGreaterEqual(faults.count("reset"), 2, faults)
        self.assertEqual(faults, [("reset" if i % 3 == 2 else None) for i in range(len(big))])
        self.assertEqual([e["upload_bytes"] for e in big if e["fault"]], [1 << 20] * faults.count("reset"))
        self.assertTrue(all(e["fault"] is None for e in self.proxy.requests(method="PUT", path="small")))

    def test_outage_refuses_then_recovers(self):
        c = self.client(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2)
        c.put_object(Bucket="test", Key="before", Body=b"x")
        self.proxy.outage(2)
        self.assertFalse(self.proxy.up.is_set())
        with self.assertRaises(botocore.exceptions.EndpointConnectionError):
            c.put_object(Bucket="test", Key="during", Body=b"x")
        self.assertTrue(self.proxy.up.wait(10))
        c.put_object(Bucket="test", Key="after", Body=b"x")
        self.assertEqual([e["path"] for e in self.proxy.requests(method="PUT") if e["status"] == 200],
                         ["/test/before", "/test/after"])


if __name__ == "__main__":
    rcxtest.main()
