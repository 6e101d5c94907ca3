#!/usr/bin/python3
"""rugbycodex-runner worker, end to end: real worker processes take job
messages (sent with the AWS CLI) from our SQS fake, read sources from and
write HLS to s3rver (behind the fault proxy), and keep the job records in a
real PostgreSQL behind the PostgREST fake. Each test checks the outputs,
the rows and where every message ends (deleted, visible again, or in the
dead-letter queue), and prints what happened and how long recovery took.

Tiny clips (320x180, 3 s) and small visibility / heartbeat periods (flags)
keep it fast.
"""
import http.server
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import boto3
from botocore.exceptions import ClientError

import rcxtest
from faultproxy import FaultProxy
from postgres import TEST_ORG, JobRows, Postgres
from postgrest_fake import PostgrestFake
from sqs_fake import SqsFake
from test_runner_jobs import make_clip, one_rung_description

RUNNER = rcxtest.RUNNER
BUCKET = "test"

# Every change of a job row (test-only trigger): how many times a job was
# claimed (queued -> running) tells how many transcodes ran.
AUDIT_SQL = """
CREATE TABLE job_audit (
  seq bigserial PRIMARY KEY,
  job_id uuid NOT NULL,
  old_state text NOT NULL,
  new_state text NOT NULL,
  worker_id text
);
CREATE FUNCTION job_audit_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO job_audit (job_id, old_state, new_state, worker_id)
  VALUES (NEW.id, OLD.state::text, NEW.state::text, NEW.worker_id);
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_audit AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION job_audit_row();
"""


class FakeAgent:
    """The ECS agent's task-protection endpoint: records every PUT."""

    def __init__(self):
        self.puts = []
        agent = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_PUT(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                agent.puts.append((self.path, json.loads(body)))
                out = json.dumps({"protection": {"ProtectionEnabled": True}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Worker:
    """A worker process; its JSON log lines are collected as they come."""

    def __init__(self, tc, queue, *extra, env=None, worker_id=None):
        self.tc = tc
        self.events = []
        self.raw = []
        self.cond = threading.Condition()
        self.worker_id = worker_id or f"w{uuid.uuid4().hex[:8]}"
        self.health = os.path.join(tc.tmp, f"{self.worker_id}.health")
        args = [RUNNER, "worker", "--queue-url", tc.sqs.queue_url(queue), "--bucket", BUCKET,
                "--description", tc.desc, "--worker-id", self.worker_id,
                "--health-file", self.health, "--wait-time", "1", "--visibility", "6",
                "--heartbeat", "1", "--backoff-base", "1", "--backoff-max", "2",
                "--shutdown-budget", "20", "--child-arg=--job-progress-interval=0.5", *extra]
        self.stderr = open(os.path.join(tc.tmp, f"{self.worker_id}.stderr"), "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr,
                                     env=env or tc.env())
        tc.addCleanup(self.kill)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.decode("utf-8", "replace").rstrip("\n")
            try:
                obj = json.loads(line)
            except ValueError:
                obj = {"event": "not-json", "line": line}
            with self.cond:
                self.raw.append(line)
                self.events.append(obj)
                self.cond.notify_all()

    def named(self, event, job_id=None):
        with self.cond:
            return [e for e in self.events if e.get("event") == event
                    and (job_id is None or e.get("job_id") == job_id)]

    def wait(self, event, job_id=None, timeout=60, count=1):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [e for e in self.events if e.get("event") == event
                         and (job_id is None or e.get("job_id") == job_id)]
                if len(found) >= count:
                    return found[-1]
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"{self.worker_id}: no {event} for {job_id} after "
                                         f"{timeout} s; events: {[e.get('event') for e in self.events]}")
                self.cond.wait(min(left, 0.2))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        start = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout)
        return time.monotonic() - start

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()
        self.proc.stdout.close()


class WorkerTests(JobRows, rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres().start()
        cls.rest = PostgrestFake(cls.pg.dsn).start()
        conn = cls.pg.connect()
        with conn.cursor() as cur:
            cur.execute(AUDIT_SQL)
        conn.close()
        cls.s3 = rcxtest.S3rver(buckets=(BUCKET,)).start()
        cls.proxy = FaultProxy(cls.s3.port).start()
        # one set of credentials for SQS and s3rver: the children inherit them
        cls.sqs = SqsFake(secrets={rcxtest.S3RVER_KEY: rcxtest.S3RVER_SECRET}).start()
        cls.clips = tempfile.mkdtemp(prefix="rcx-workerclips-")
        cls.desc = one_rung_description(os.path.join(cls.clips, "one-rung.json"))
        cls.clip = make_clip(os.path.join(cls.clips, "clip.mp4"), seconds=3)
        cls.boto = cls.s3.boto3()
        with open(cls.clip, "rb") as f:
            cls.boto.put_object(Bucket=BUCKET, Key="in/clip.mp4", Body=f.read())

    @classmethod
    def tearDownClass(cls):
        cls.sqs.stop()
        cls.proxy.stop()
        cls.s3.stop()
        cls.rest.close()
        cls.pg.stop()
        shutil.rmtree(cls.clips, True)

    def setUp(self):
        super().setUp()
        self.conn = self.pg.connect()
        self.addCleanup(self.conn.close)
        self.proxy.clear_faults()
        self.proxy.clear_log()
        self.sqs.clear_faults()
        self.rest.heal()
        self.queue = f"jobs-{uuid.uuid4().hex[:8]}"
        self.sqs.create_queue(self.queue + "-dlq")
        self.sqs.create_queue(self.queue, {"VisibilityTimeout": "6"})
        self.sqs.set_redrive(self.queue, self.queue + "-dlq", 5)

    # -- helpers ------------------------------------------------------------------
    def env(self, s3=None, **extra):
        env = self.sqs.env(self.s3.env(endpoint=s3 or self.proxy.endpoint))
        env = rcxtest.gst_env(env)
        env.update(SUPABASE_URL=self.rest.url, SUPABASE_SERVICE_KEY=self.rest.service_key)
        env.pop("G_MESSAGES_DEBUG", None)
        env.pop("ECS_AGENT_URI", None)
        env.update(extra)
        return env

    def send(self, body):
        """aws sqs send-message, the body through a file (1 MiB is over one
        argument's limit)."""
        path = os.path.join(self.tmp, f"body-{uuid.uuid4().hex}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        r = subprocess.run(["aws", "sqs", "send-message", "--endpoint-url", self.sqs.endpoint,
                            "--queue-url", self.sqs.queue_url(self.queue),
                            "--message-body", f"file://{path}", "--output", "json"],
                           capture_output=True, text=True, env=self.sqs.env(), timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["MessageId"]

    def body(self, job, media, org=TEST_ORG):
        return json.dumps({"job_id": job, "media_id": media, "org_id": org})

    def job(self, job_id):
        cols = ("state", "attempts", "worker_id", "error_reason")
        return dict(zip(cols, self.sql(f"SELECT {', '.join(cols)} FROM jobs WHERE id = %s", job_id)[0]))

    def claims(self, job_id):
        """Transcodes started: claims and takeovers."""
        return self.sql("SELECT count(*) FROM job_audit WHERE job_id = %s AND new_state = 'running' "
                        "AND (old_state <> 'running' OR worker_id IS DISTINCT FROM "
                        "(SELECT a.worker_id FROM job_audit a WHERE a.job_id = job_audit.job_id "
                        "AND a.seq < job_audit.seq ORDER BY a.seq DESC LIMIT 1))", job_id)[0][0]

    def queue_counts(self, name=None):
        msgs = self.sqs.messages(name or self.queue)
        return len(msgs)

    def master_exists(self, media):
        try:
            self.boto.head_object(Bucket=BUCKET, Key=f"{TEST_ORG}/{media}/hls/master.m3u8")
            return True
        except Exception:
            return False

    def poll(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.05)

    def job_held_mid_upload(self, *worker_args):
        """A job whose first segment PUT hangs 30 s, and a worker running it,
        returned once that upload has begun: (job, media, worker, its
        job-started event)."""
        job, media = self.make_job("in/clip.mp4")
        self.proxy.add_fault("stall", method="PUT", path="segment", seconds=30, count=1)
        self.send(self.body(job, media))
        w = Worker(self, self.queue, *worker_args)
        started = w.wait("job-started", job, timeout=60)
        self.poll(lambda: self.proxy.requests(method="PUT", path="segment"), 60,
                  "an upload to start")
        return job, media, w, started

    def second_worker_finishes(self, job, media, timeout=120):
        """A fresh worker takes the message that came back and finishes the
        job; nothing lost. Returns the seconds it took."""
        start = time.monotonic()
        w2 = Worker(self, self.queue)
        w2.wait("job-succeeded", job, timeout=timeout)
        w2.wait("message-deleted", job)
        took = time.monotonic() - start
        self.assertEqual(self.job(job)["state"], "succeeded")
        self.assertTrue(self.master_exists(media))
        self.assertEqual(self.queue_counts(), 0)
        self.assert_nothing_lost([(job, media)])
        w2.stop()
        return took

    def clip_bytes(self):
        with open(self.clip, "rb") as f:
            return f.read()

    def report(self, row, text):
        print(f"[fault row] {row}: {text}", file=sys.stderr)

    def assert_nothing_lost(self, jobs):
        """The issue's "nothing lost", for every (job, media): its message
        is gone only if the job succeeded with its outputs, else visible
        again (or in flight back) or in the dead-letter queue; no master
        playlist for a job not succeeded; every multipart upload begun
        through the proxy was completed or aborted."""
        queued = [m["body"] for m in self.sqs.messages(self.queue)]
        dead = [m["body"] for m in self.sqs.messages(self.queue + "-dlq")]
        for job, media in jobs:
            state = self.job(job)["state"]
            kept = any(job in b for b in queued) or any(job in b for b in dead)
            if state == "succeeded":
                self.assertTrue(self.master_exists(media), job)
            else:
                self.assertFalse(self.master_exists(media), f"master playlist of a {state} job")
                self.assertTrue(kept, f"job {job} is {state} and its message is gone")
        begun = len(self.proxy.requests(method="POST", query=r"(^|&)uploads(=|&|$)"))
        ended = {q for e in self.proxy.requests(query="uploadId=") if e["method"] in ("POST", "DELETE")
                 for q in [e["query"]]}
        self.assertLessEqual(begun, len(ended), "a multipart upload was left open")

    # -- the happy path -----------------------------------------------------------
    def test_a_message_to_hls_then_a_duplicate_does_nothing(self):
        agent = FakeAgent()
        self.addCleanup(agent.stop)
        job, media = self.make_job("in/clip.mp4")
        mid = self.send(self.body(job, media))
        w = Worker(self, self.queue, env=self.env(ECS_AGENT_URI=agent.url))
        w.wait("worker-started")        # the health file is written before it
        r = subprocess.run([RUNNER, "health", "--health-file", w.health, "--max-age", "30"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        done = w.wait("job-succeeded", job, timeout=120)
        w.wait("message-deleted", job)
        self.assertEqual(self.job(job)["state"], "succeeded")
        m = self.sql("SELECT status, streaming_url FROM media_assets WHERE id = %s", media)[0]
        self.assertEqual(m[0], "complete")
        self.assertEqual(m[1], f"s3://{BUCKET}/{TEST_ORG}/{media}/hls/master.m3u8")
        self.assertTrue(self.master_exists(media))
        self.assertEqual(self.queue_counts(), 0)
        self.assertEqual(self.claims(job), 1)
        # log lines: JSON, with the common fields; metrics in EMF
        for e in w.events:
            self.assertNotEqual(e.get("event"), "not-json", e)
        self.assertEqual(done["worker_id"], w.worker_id)
        self.assertEqual(done["media_id"], media)
        self.assertIn("time", done)
        emf = [e for e in w.events if "_aws" in e and "JobDuration" in e]
        self.assertEqual(len(emf), 1, w.raw)
        self.assertGreater(emf[0]["Speed"], 0)
        self.assertGreaterEqual(emf[0]["QueueWait"], 0)
        self.assertEqual(emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Rugbycodex/Worker")
        # ECS scale-in protection: on while the job ran, off once idle
        self.poll(lambda: len(agent.puts) >= 2, 10, "protection to be dropped")
        self.assertEqual(agent.puts[0][0], "/v1/task-protection/v1/state")
        self.assertEqual(agent.puts[0][1]["ProtectionEnabled"], True)
        self.assertGreater(agent.puts[0][1]["ExpiresInMinutes"], 0)
        self.assertEqual(agent.puts[-1][1], {"ProtectionEnabled": False})

        # the same message again: nothing runs, it is deleted
        self.send(self.body(job, media))
        w.wait("job-already-final", job)
        w.wait("message-deleted", job, count=2)
        self.assertEqual(self.claims(job), 1)
        self.assertEqual(self.queue_counts(), 0)
        # no secret in the logs
        text = "\n".join(w.raw)
        self.assertNotIn(self.rest.service_key, text)
        self.assertNotIn(rcxtest.S3RVER_SECRET + '"', text)
        took = w.stop()
        self.assertEqual(w.proc.returncode, 0)
        self.assertLess(took, 5)
        self.assertFalse(os.path.exists(w.health))
        self.report("happy path", f"message {mid} -> HLS in {done['fields']['seconds']} s; "
                    f"duplicate deleted without a transcode; SIGTERM idle -> exit in {took:.2f} s")

    # -- credentials: SQS and the storage, each with its own ------------------------
    def test_sqs_and_storage_each_with_their_own_keys(self):
        """The ECS layout: the worker's AWS_* (there: the task role) are for
        SQS only; the Wasabi keys come only as RCX_STORAGE_* and only the
        children's S3 gets them. For this test the SQS fake knows only the
        SQS key (and signs in us-east-1 only) and s3rver only its own: the
        job succeeding shows each side signed with its own keys."""
        sqs_key, sqs_secret = "AKIASQSONLY", f"sqs-only-{uuid.uuid4().hex}"
        self.addCleanup(setattr, self.sqs, "secrets", self.sqs.secrets)
        self.sqs.secrets = {sqs_key: sqs_secret}
        # the controls: each server turns the other's key away
        s3 = boto3.client("s3", endpoint_url=self.s3.endpoint, region_name="us-east-1",
                          aws_access_key_id=sqs_key, aws_secret_access_key=sqs_secret)
        self.addCleanup(s3.close)
        with self.assertRaises(ClientError) as cm:
            s3.get_object(Bucket=BUCKET, Key="in/clip.mp4")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidAccessKeyId")
        r = subprocess.run(["aws", "sqs", "get-queue-url", "--endpoint-url", self.sqs.endpoint,
                            "--queue-name", self.queue], capture_output=True, text=True,
                           env=dict(self.sqs.env(), AWS_ACCESS_KEY_ID=rcxtest.S3RVER_KEY,
                                    AWS_SECRET_ACCESS_KEY=rcxtest.S3RVER_SECRET), timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("InvalidClientTokenId", r.stderr)

        job, media = self.make_job("in/clip.mp4")
        self.send(self.body(job, media))
        env = self.env(AWS_ACCESS_KEY_ID=sqs_key, AWS_SECRET_ACCESS_KEY=sqs_secret,
                       AWS_REGION=self.sqs.region,
                       RCX_STORAGE_ACCESS_KEY_ID=rcxtest.S3RVER_KEY,
                       RCX_STORAGE_SECRET_ACCESS_KEY=rcxtest.S3RVER_SECRET,
                       RCX_STORAGE_REGION="eu-central-2")
        w = Worker(self, self.queue, env=env)
        started = w.wait("worker-started")
        self.assertEqual(started["fields"]["storage_credentials"], "RCX_STORAGE")
        w.wait("job-succeeded", job, timeout=120)
        w.wait("message-deleted", job)
        self.assertEqual(self.job(job)["state"], "succeeded")
        self.assertTrue(self.master_exists(media))
        self.assertEqual(self.queue_counts(), 0)
        text = "\n".join(w.raw)
        with open(w.stderr.name) as f:
            text += f.read()
        self.assertNotIn(sqs_secret, text)
        self.assertNotIn(rcxtest.S3RVER_SECRET + '"', text)
        w.stop()
        self.assertEqual(w.proc.returncode, 0)
        self.report("own keys", "SQS signed with the worker's AWS_*, S3 with RCX_STORAGE_* only")

    # -- hostile bodies ------------------------------------------------------------
    def test_hostile_bodies_are_deleted_touching_nothing(self):
        job, media = self.make_job("in/clip.mp4")
        other_media = self.sql("INSERT INTO media_assets (org_id, source_key) VALUES (%s, %s) "
                               "RETURNING id", "0e0e0e0e-0000-4000-8000-0000000000ff", "in/clip.mp4")[0][0]
        bodies = {
            "1 MiB": json.dumps({"job_id": job, "media_id": media, "org_id": TEST_ORG,
                                 "pad": "x" * (1024 * 1024 - 200)}),
            "invalid JSON": '{"job_id": "' + job + '", ',
            "wrong types": json.dumps({"job_id": 12, "media_id": [media], "org_id": None}),
            "NUL": '{"job_id": "' + job + '\\u0000x", "media_id": "' + media + '", "org_id": "' + TEST_ORG + '"}',
            "../": self.body("../" + job, media),
            "%2e%2e": self.body(job, "%2e%2e%2f" + media),
            "org not owning media": self.body(job, media, "0e0e0e0e-0000-4000-8000-0000000000ff"),
            "media not the job's": self.body(job, str(other_media)),
            "no such job": self.body(str(uuid.uuid4()), media),
        }
        for name, body in bodies.items():
            self.send(body)
        start = time.monotonic()
        w = Worker(self, self.queue)
        w.wait("message-deleted", timeout=60, count=len(bodies))
        took = time.monotonic() - start
        rejected = w.named("message-rejected")
        self.assertEqual(len(rejected), len(bodies), [e["fields"] for e in rejected])
        self.assertEqual(self.queue_counts(), 0)
        self.assertEqual(self.queue_counts(self.queue + "-dlq"), 0)
        self.assertEqual(w.named("job-started"), [])
        self.assertEqual(self.job(job)["state"], "queued")
        self.assertEqual(self.sql("SELECT count(*) FROM job_audit WHERE job_id = %s", job)[0][0], 0)
        self.assertEqual([r for r in self.proxy.requests() if r["method"] != "GET"], [])
        for e in rejected:
            self.assertNotIn("\n", e["fields"]["reason"])
        w.stop()
        self.report("hostile bodies", f"{len(bodies)} bodies rejected and deleted in {took:.2f} s, "
                    f"no row or object touched: " + "; ".join(e["fields"]["reason"] for e in rejected))

    # -- S3 faults during the source download ---------------------------------------
    def test_s3_faults_during_the_source_download_are_ridden_out(self):
        """5xx, a stall and connection resets on the child's reads of the
        source (HEAD and ranged GETs through the fault proxy): the job
        still succeeds, once, and its message goes after that."""
        job, media = self.make_job("in/clip.mp4")
        size = len(self.clip_bytes())
        self.assertGreater(size, 64 * 1024)
        src = r"^/test/in/clip\.mp4$"
        self.proxy.add_fault("error", method="GET", path=src, status=503, code="SlowDown", count=1)
        self.proxy.add_fault("reset", method="GET", path=src, after_bytes=32 * 1024, count=1)
        self.proxy.add_fault("stall", method="GET", path=src, after_bytes=16 * 1024, seconds=4, count=1)
        self.proxy.add_fault("error", method="GET", path=src, status=500, code="InternalError", count=1)
        self.proxy.add_fault("reset", method="GET", path=src, after_bytes=0, count=1)
        self.proxy.add_fault("error", method="HEAD", path=src, status=503, code="SlowDown", count=1)
        self.send(self.body(job, media))
        start = time.monotonic()
        w = Worker(self, self.queue)
        done = w.wait("job-succeeded", job, timeout=180)
        w.wait("message-deleted", job)
        took = time.monotonic() - start
        fired = [e["fault"] for e in self.proxy.requests(path=src) if e.get("fault")]
        self.assertGreaterEqual(len(fired), 6, fired)           # every fault met the job
        self.assertEqual(self.job(job)["state"], "succeeded")
        self.assertEqual(self.claims(job), 1)                   # ridden out inside the one run
        self.assertEqual(w.named("job-released", job), [])
        self.assertEqual(self.queue_counts(), 0)
        self.assert_nothing_lost([(job, media)])
        w.stop()
        self.report("S3 5xx, stall, resets during the source download",
                    f"{len(fired)} faults ({', '.join(map(str, fired))}) on the source reads; the job "
                    f"succeeded in one run ({done['fields']['seconds']} s, message to deleted "
                    f"{took:.2f} s)")

    # -- SIGTERM mid-job ---------------------------------------------------------------
    def test_sigterm_mid_job_releases_and_a_second_worker_finishes(self):
        job, media, w1, _ = self.job_held_mid_upload()
        self.assertEqual(self.job(job)["state"], "running")
        took = w1.stop(timeout=25)
        self.assertEqual(w1.proc.returncode, 0)
        self.assertLess(took, 20)
        released = w1.named("job-released", job)
        self.assertEqual(len(released), 1, [e.get("event") for e in w1.events])
        vis = [e for e in w1.named("message-visibility", job) if e["fields"]["seconds"] == "0"]
        self.assertEqual(len(vis), 1)
        self.assertEqual(self.job(job)["state"], "queued")
        self.assertFalse(self.master_exists(media))
        self.assertTrue(self.sqs.messages(self.queue)[0]["visible"])
        self.proxy.clear_faults()
        recover = self.second_worker_finishes(job, media)
        self.report("SIGTERM during upload", f"worker exited 0 in {took:.2f} s (budget 20), job queued, "
                    f"message visible at once; second worker finished it in {recover:.2f} s")

    def test_sigterm_during_probe_releases_the_job(self):
        job, media = self.make_job("in/clip.mp4")
        # the source read hangs: the child is probing when the worker stops
        self.proxy.add_fault("stall", method="GET", path="in/clip", seconds=30, count=None)
        self.send(self.body(job, media))
        w = Worker(self, self.queue)
        w.wait("job-started", job, timeout=60)
        self.poll(lambda: self.proxy.requests(method="GET", path="in/clip"), 60, "the probe")
        self.poll(lambda: self.job(job)["state"] == "running", 30, "the claim")
        took = w.stop(timeout=25)
        self.assertEqual(w.proc.returncode, 0)
        self.assertLess(took, 20)
        self.assertEqual(len(w.named("job-released", job)), 1)
        self.assertEqual(self.job(job)["state"], "queued")
        msgs = self.sqs.messages(self.queue)
        self.assertEqual(len(msgs), 1)
        self.assertTrue(msgs[0]["visible"])
        self.report("SIGTERM during probe", f"worker exited 0 in {took:.2f} s, job queued, message "
                    "visible at once")

    def test_sigterm_during_the_transcode_releases_and_a_second_worker_finishes(self):
        """SIGTERM while the pipeline runs: progress written, segments going
        up, no upload held (a 60 s source keeps the child transcoding)."""
        long_key = "in/long60.mp4"
        if not getattr(type(self), "long_uploaded", False):
            path = make_clip(os.path.join(self.clips, "long60.mp4"), seconds=60)
            with open(path, "rb") as f:
                self.boto.put_object(Bucket=BUCKET, Key=long_key, Body=f.read())
            type(self).long_uploaded = True
        job, media = self.make_job(long_key)
        self.send(self.body(job, media))
        w1 = Worker(self, self.queue)
        w1.wait("job-started", job, timeout=60)
        progress = lambda: self.sql("SELECT progress FROM jobs WHERE id = %s", job)[0][0] or 0
        self.poll(lambda: 0 < progress() < 80 and self.proxy.requests(method="PUT", path="segment"),
                  60, "the transcode to be under way")
        at = progress()
        took = w1.stop(timeout=25)
        self.assertEqual(w1.proc.returncode, 0)
        self.assertLess(took, 20)
        self.assertEqual(len(w1.named("job-released", job)), 1, [e.get("event") for e in w1.events])
        self.assertEqual(w1.named("job-succeeded", job), [])
        vis = [e for e in w1.named("message-visibility", job) if e["fields"]["seconds"] == "0"]
        self.assertEqual(len(vis), 1)
        self.assertEqual(self.job(job)["state"], "queued")
        self.assertTrue(self.sqs.messages(self.queue)[0]["visible"])
        self.assert_nothing_lost([(job, media)])
        recover = self.second_worker_finishes(job, media, timeout=180)
        self.assertEqual(self.claims(job), 2)
        self.report("SIGTERM during transcode", f"at {at:.0f} % the worker exited 0 in {took:.2f} s "
                    f"(budget 20), job queued, message visible at once; a second worker finished it "
                    f"in {recover:.2f} s")

    def test_sqs_failing_at_the_hand_back_during_shutdown(self):
        """SIGTERM mid-job while SQS answers ChangeMessageVisibility first
        with 500s, then (a second job) not at all: the worker exits within
        its budget, the job is released, and the message comes back after
        its visibility at worst."""
        for mode in ("500", "stall"):
            with self.subTest(mode=mode):
                self.sqs.clear_faults()
                self.proxy.clear_faults()
                self.proxy.clear_log()
                job, media, w1, _ = self.job_held_mid_upload()
                if mode == "500":
                    self.sqs.fail_next(1000, op="ChangeMessageVisibility")
                else:
                    self.sqs.stall_next(1000, 60, op="ChangeMessageVisibility")
                took = w1.stop(timeout=30)
                stopped = time.monotonic()
                self.assertEqual(w1.proc.returncode, 0)
                self.assertLess(took, 20 + 1)           # the budget, and the exit itself
                self.assertEqual(len(w1.named("job-released", job)), 1,
                                 (took, [(e.get("event"), e.get("fields")) for e in w1.events]))
                self.assertEqual(self.job(job)["state"], "queued")
                # the hand-back did not happen, and the worker said so
                self.assertEqual([e for e in w1.named("message-visibility", job)
                                  if e["fields"]["seconds"] == "0"], [])
                failed = w1.named("message-visibility-failed", job)
                self.assertEqual([e["fields"]["seconds"] for e in failed], ["0"])
                self.assert_nothing_lost([(job, media)])
                self.sqs.clear_faults()
                self.proxy.clear_faults()
                # not handed back: visible again after its visibility (6 s)
                self.poll(lambda: self.sqs.messages(self.queue)[0]["visible"], 15,
                          "the message to come back")
                back = time.monotonic() - stopped
                recover = back + self.second_worker_finishes(job, media)
                self.report(f"SQS {mode} at the hand-back during shutdown",
                            f"worker exited 0 in {took:.2f} s (budget 20), job queued; message "
                            f"visible {back:.2f} s after the exit, finished {recover:.2f} s after it")

    # -- a child crash --------------------------------------------------------------------
    def test_a_crashed_child_ends_its_job_only(self):
        jobs = [self.make_job("in/clip.mp4") for _ in range(2)]
        self.proxy.add_fault("stall", method="PUT", path="segment", seconds=8, count=2)
        for job, media in jobs:
            self.send(self.body(job, media))
        # ASan's own SIGSEGV handler would report and exit 1 (a failed job);
        # in production the signal kills the child
        env = rcxtest.asan_options(self.env(), "handle_segv=0")
        w = Worker(self, self.queue, "--concurrency", "2", env=env)
        started = [w.wait("job-started", job, timeout=60) for job, _ in jobs]
        self.poll(lambda: self.job(jobs[0][0])["state"] == "running", 30, "the claim")
        # mid-pipeline, as a decoder or driver crash would be: not while the
        # child still loads plugins, where GStreamer's own SIGSEGV handler
        # turns the signal into exit status 255
        media0 = re.escape(jobs[0][1])
        self.poll(lambda: self.proxy.requests(method="PUT", path=f"/{media0}/.*segment"), 60,
                  "the first job's first segment (stalled)")
        os.kill(int(started[0]["fields"]["pid"]), signal.SIGSEGV)
        start = time.monotonic()
        crash = w.wait("job-crashed", jobs[0][0])
        self.assertIn("signal 11", crash["fields"]["reason"])
        w.wait("job-released-after-crash", jobs[0][0])
        # the other job goes on; the crashed one's message comes back and runs
        w.wait("job-succeeded", jobs[1][0], timeout=120)
        w.wait("job-succeeded", jobs[0][0], timeout=120)
        recover = time.monotonic() - start
        for job, media in jobs:
            self.assertEqual(self.job(job)["state"], "succeeded")
            self.assertTrue(self.master_exists(media))
        self.assertEqual(self.claims(jobs[1][0]), 1)
        # the delete follows the success: await it, then the queue is empty
        for job, _ in jobs:
            w.wait("message-deleted", job)
        self.assertEqual(self.queue_counts(), 0)
        w.stop()
        self.report("child killed by SIGSEGV", f"that job released, its message back after the "
                    f"backoff, finished {recover:.2f} s after the crash; the other job unaffected")

    def test_a_hung_child_is_killed_and_its_job_given_up(self):
        """A child that stops making any progress (here SIGSTOPped: a
        deadlocked pipeline looks the same from outside) is ended after
        --job-timeout; the other job of the worker goes on."""
        self.sqs.set_redrive(self.queue, self.queue + "-dlq", 1)
        jobs = [self.make_job("in/clip.mp4") for _ in range(2)]
        self.proxy.add_fault("stall", method="PUT", path="segment", seconds=3, count=2)
        for job, media in jobs:
            self.send(self.body(job, media))
        # the timeout must be far above a normal job on a loaded machine
        w = Worker(self, self.queue, "--concurrency", "2", "--job-timeout", "40",
                   "--max-receives", "1")
        started = [w.wait("job-started", job, timeout=60) for job, _ in jobs]
        self.poll(lambda: self.job(jobs[0][0])["state"] == "running", 30, "the claim")
        os.kill(int(started[0]["fields"]["pid"]), signal.SIGSTOP)
        hung = time.monotonic()
        w.wait("job-succeeded", jobs[1][0], timeout=120)
        w.wait("job-timeout", jobs[0][0], timeout=90)
        crash = w.wait("job-crashed", jobs[0][0], timeout=60)
        self.assertEqual(crash["fields"].get("timed_out"), "true")
        w.wait("job-given-up", jobs[0][0], timeout=30)
        self.poll(lambda: self.queue_counts(self.queue + "-dlq") == 1, 30, "the DLQ to get it")
        took = time.monotonic() - hung
        self.assertEqual(self.job(jobs[0][0])["state"], "failed")
        self.assertEqual(self.job(jobs[1][0])["state"], "succeeded")
        self.assertEqual(self.queue_counts(), 0)
        w.stop()
        self.report("hung child", f"killed after --job-timeout, job failed (max receives 1) and "
                    f"message in the DLQ {took:.2f} s after it hung; the other job succeeded")

    # -- SIGKILL of the worker -------------------------------------------------------------
    def test_sigkill_of_a_worker_then_stale_takeover(self):
        """With --stale-after 15 (the production default is 15 min) the
        whole takeover is measured, nothing aged by hand."""
        job, media, w1, started = self.job_held_mid_upload("--stale-after", "15")
        self.assertEqual(self.job(job)["state"], "running")
        w1.stop(signal.SIGKILL)
        # the child dies with its worker (PR_SET_PDEATHSIG)
        self.poll(lambda: not os.path.exists(f"/proc/{started['fields']['pid']}"), 10,
                  "the child to die")
        killed = time.monotonic()
        self.assertEqual(self.job(job)["state"], "running")
        self.proxy.clear_faults()
        # --not-ours-delay defaults to --stale-after: 15 s
        w2 = Worker(self, self.queue, "--stale-after", "15")
        # the message comes back after its visibility; the job is not stale
        # yet (its row moved seconds ago): the second worker leaves it
        w2.wait("job-not-ours", job, timeout=30)
        back = time.monotonic() - killed
        self.assertEqual(self.claims(job), 1)
        self.assertEqual(self.job(job)["state"], "running")
        # the message comes back once more after --not-ours-delay, the row
        # silent for longer than 15 s by then: taken over
        w2.wait("job-started", job, timeout=60)
        self.poll(lambda: self.claims(job) == 2, 30, "the takeover")
        takeover = time.monotonic() - killed
        self.assertGreaterEqual(takeover, 15)
        w2.wait("job-succeeded", job, timeout=120)
        w2.wait("message-deleted", job)
        recover = time.monotonic() - killed
        self.assertEqual(self.job(job)["state"], "succeeded")
        self.assertEqual(self.job(job)["attempts"], 2)
        self.assertTrue(self.master_exists(media))
        self.assertEqual(self.queue_counts(), 0)
        w2.stop()
        self.report("SIGKILL of a worker", f"message back after its visibility ({back:.2f} s), left "
                    f"alone while the job looked live; taken over {takeover:.2f} s after the kill "
                    f"(--stale-after 15), finished and deleted {recover:.2f} s after it")

    # -- a job longer than the visibility -------------------------------------------------
    def test_a_job_longer_than_the_visibility_is_kept_by_heartbeats(self):
        job, media = self.make_job("in/clip.mp4")
        # the job takes > 2 visibility periods (6 s)
        self.proxy.add_fault("stall", method="PUT", path="segment", seconds=14, count=1)
        self.send(self.body(job, media))
        w1 = Worker(self, self.queue, "--visibility", "4")
        w1.wait("job-started", job, timeout=60)
        w2 = Worker(self, self.queue, "--visibility", "4")
        done = w1.wait("job-succeeded", job, timeout=120)
        self.assertEqual(w2.named("message-received"), [])
        self.assertGreaterEqual(len(w1.named("heartbeat", job)), 8)
        self.assertEqual(self.claims(job), 1)
        w1.wait("message-deleted", job)
        self.assertEqual(self.queue_counts(), 0)
        w1.stop()
        w2.stop()
        self.report("job longer than the visibility", f"{done['fields']['seconds']} s job with a 4 s "
                    f"visibility: {len(w1.named('heartbeat', job))} heartbeats, the second worker "
                    "never received it")

    # -- bad sources -----------------------------------------------------------------------
    def test_bad_sources_fail_once_and_are_deleted(self):
        bad = {"zero-byte": b"", "not video": b"hello, not a video\n" * 100,
               "corrupt": self.clip_bytes()[:4000] + random.Random(1).randbytes(20000)}
        jobs = {}
        for name, data in bad.items():
            key = f"in/bad-{uuid.uuid4().hex[:6]}.mp4"
            self.boto.put_object(Bucket=BUCKET, Key=key, Body=data)
            jobs[name] = self.make_job(key)
        jobs["404"] = self.make_job("in/missing.mp4")
        self.proxy.add_fault("error", method="GET", path="forbidden", status=403, code="AccessDenied",
                             count=None)
        self.proxy.add_fault("error", method="HEAD", path="forbidden", status=403, code="AccessDenied",
                             count=None)
        jobs["403"] = self.make_job("in/forbidden.mp4")
        for job, media in jobs.values():
            self.send(self.body(job, media))
        start = time.monotonic()
        w = Worker(self, self.queue, "--concurrency", "2")
        for name, (job, media) in jobs.items():
            w.wait("job-failed", job, timeout=120)
        took = time.monotonic() - start
        w.wait("message-deleted", count=len(jobs))
        reasons = {}
        for name, (job, media) in jobs.items():
            j = self.job(job)
            self.assertEqual(j["state"], "failed", name)
            self.assertTrue(j["error_reason"], name)
            self.assertEqual(self.claims(job), 1, name)
            self.assertFalse(self.master_exists(media))
            reasons[name] = j["error_reason"]
        self.assertEqual(self.queue_counts(), 0)
        self.assertEqual(self.queue_counts(self.queue + "-dlq"), 0)
        w.stop()
        self.report("corrupt / zero-byte / non-video / 403 / 404 sources",
                    f"all failed once with a reason and deleted in {took:.2f} s: {reasons}")

    # -- poison message --------------------------------------------------------------------
    def test_a_poison_message_ends_in_the_dlq_with_its_job_failed(self):
        """A message whose every run fails without failing the job (here the
        worker's children reject an argument: exit 2, a configuration
        error) is given up after max receives: the job is failed and the
        queue's redrive moves the message to the dead-letter queue."""
        self.sqs.set_redrive(self.queue, self.queue + "-dlq", 3)
        job, media = self.make_job("in/clip.mp4")
        self.send(self.body(job, media))
        start = time.monotonic()
        w = Worker(self, self.queue, "--max-receives", "3", "--child-arg=--no-such-option")
        w.wait("job-given-up", job, timeout=60)
        self.poll(lambda: self.queue_counts(self.queue + "-dlq") == 1, 30, "the DLQ to get it")
        took = time.monotonic() - start
        self.assertEqual(self.queue_counts(), 0)
        j = self.job(job)
        self.assertEqual(j["state"], "failed")
        self.assertIn("given up", j["error_reason"])
        self.assertEqual(len(w.named("job-usage-error", job)), 3)
        self.assertEqual(self.sqs.messages(self.queue + "-dlq")[0]["receive_count"], 3)
        w.stop()
        self.report("poison message", f"3 deliveries failed without an outcome, then the job was "
                    f"failed and the message moved to the DLQ in {took:.2f} s")

    # -- SQS faults ---------------------------------------------------------------------------
    def test_sqs_failing_at_receive_and_at_delete(self):
        job, media = self.make_job("in/clip.mp4")
        self.send(self.body(job, media))
        self.sqs.fail_next(6, op="ReceiveMessage")
        self.sqs.fail_next(8, op="DeleteMessage")
        start = time.monotonic()
        w = Worker(self, self.queue)
        w.wait("receive-failed")
        w.wait("job-succeeded", job, timeout=120)
        w.wait("message-delete-failed", job)
        # the message comes back after its visibility: found succeeded, deleted
        w.wait("job-already-final", job, timeout=60)
        w.wait("message-deleted", job, timeout=30)
        took = time.monotonic() - start
        self.assertEqual(self.claims(job), 1)
        self.assertEqual(self.queue_counts(), 0)
        w.stop()
        self.report("SQS failing at receive and at delete", f"receives retried; the delete that "
                    f"failed after success led to no second transcode; queue empty in {took:.2f} s")

    def test_sqs_failing_at_heartbeats_stops_the_job_before_its_visibility_lapses(self):
        job, media = self.make_job("in/clip.mp4")
        self.proxy.add_fault("stall", method="PUT", path="segment", seconds=30, count=1)
        self.send(self.body(job, media))
        w = Worker(self, self.queue)
        w.wait("job-started", job, timeout=60)
        self.sqs.fail_next(1000, op="ChangeMessageVisibility")
        start = time.monotonic()
        w.wait("heartbeat-lost", job, timeout=30)
        w.wait("job-released", job, timeout=30)
        self.sqs.clear_faults()
        self.proxy.clear_faults()
        w.wait("job-succeeded", job, timeout=120)
        took = time.monotonic() - start
        self.assertEqual(self.job(job)["state"], "succeeded")
        w.wait("message-deleted", job)
        self.assertEqual(self.queue_counts(), 0)
        w.stop()
        self.report("SQS failing at heartbeats", f"job stopped and released before the visibility "
                    f"lapsed; rerun when SQS came back; done {took:.2f} s after the fault began")

    # -- the database down -------------------------------------------------------------------
    def test_the_database_down_at_lookup_and_at_finish(self):
        job, media = self.make_job("in/clip.mp4")
        self.send(self.body(job, media))
        self.rest.fail_all(503)
        w = Worker(self, self.queue)
        w.wait("lookup-failed", job, timeout=60)
        start = time.monotonic()
        self.rest.heal()
        w.wait("job-succeeded", job, timeout=120)
        w.wait("message-deleted", job)
        took = time.monotonic() - start
        self.assertEqual(self.job(job)["state"], "succeeded")
        self.assertEqual(self.queue_counts(), 0)
        self.report("database down at lookup/claim", f"message backed off while the database was "
                    f"down; job done {took:.2f} s after it came back")

        # down while the job runs, back before the child gives up: the
        # final state lands, the message is deleted once
        job, media = self.make_job("in/clip.mp4")
        self.proxy.add_fault("stall", method="PUT", path="segment", seconds=3, count=1)
        self.send(self.body(job, media))
        w.wait("job-started", job, timeout=60)
        self.poll(lambda: self.job(job)["state"] == "running", 30, "the claim")
        self.rest.fail_all(503)
        down = time.monotonic()
        time.sleep(8)       # the outage itself: nothing to await
        self.rest.heal()
        w.wait("job-succeeded", job, timeout=120)
        w.wait("message-deleted", job)
        took = time.monotonic() - down
        self.assertEqual(self.job(job)["state"], "succeeded")
        self.assertEqual(self.claims(job), 1)
        self.assertEqual(self.queue_counts(), 0)
        w.stop()
        self.report("database down at finish", f"an 8 s outage across the end of the job: "
                    f"succeeded once, {took:.2f} s after the outage began")

    # -- two workers, one message -----------------------------------------------------------
    def test_the_same_message_to_two_workers_transcodes_once(self):
        job, media = self.make_job("in/clip.mp4")
        self.proxy.add_fault("stall", method="PUT", path="segment", seconds=4, count=1)
        # a delivery that finds the job running elsewhere comes back after
        # --not-ours-delay (the stale horizon in production), then finds it done
        w1 = Worker(self, self.queue, "--not-ours-delay", "2")
        w2 = Worker(self, self.queue, "--not-ours-delay", "2")
        self.send(self.body(job, media))
        self.send(self.body(job, media))
        self.poll(lambda: self.job(job)["state"] == "succeeded", 120, "the job to succeed")
        self.poll(lambda: self.queue_counts() == 0, 60, "the queue to empty")
        self.assertEqual(self.claims(job), 1)
        outcomes = [e["event"] for w in (w1, w2) for e in w.events
                    if e.get("job_id") == job and e.get("event") in
                    ("job-succeeded", "job-not-ours", "job-already-final", "job-skipped")]
        w1.stop()
        w2.stop()
        self.report("one job, two messages, two workers", f"exactly one transcode; {outcomes}")

    # -- concurrency ---------------------------------------------------------------------------
    def test_concurrency_three_with_six_messages(self):
        jobs = [self.make_job("in/clip.mp4") for _ in range(6)]
        for job, media in jobs:
            self.send(self.body(job, media))
        start = time.monotonic()
        w = Worker(self, self.queue, "--concurrency", "3", env=self.env(s3=self.s3.endpoint))
        peak_rss, peak_children = 0, 0
        pid = w.proc.pid
        while len(w.named("job-succeeded")) < 6:
            rss = 0
            kids = []
            for p in os.listdir("/proc"):
                if p.isdigit():
                    try:
                        with open(f"/proc/{p}/stat") as f:
                            fields = f.read().rsplit(")", 1)[1].split()
                        if int(fields[1]) == pid:
                            kids.append(p)
                    except OSError:
                        pass
            for p in [str(pid)] + kids:
                try:
                    with open(f"/proc/{p}/status") as f:
                        for line in f:
                            if line.startswith("VmRSS:"):
                                rss += int(line.split()[1])
                except OSError:
                    pass
            peak_rss = max(peak_rss, rss)
            peak_children = max(peak_children, len(kids))
            self.assertLess(time.monotonic() - start, 240, "6 jobs took too long")
            self.assertIsNone(w.proc.poll())
            time.sleep(0.1)
        took = time.monotonic() - start
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        cpu_worker = (int(fields[11]) + int(fields[12])) / tick
        cpu_children = (int(fields[13]) + int(fields[14])) / tick
        for job, media in jobs:
            self.assertEqual(self.job(job)["state"], "succeeded")
            self.assertTrue(self.master_exists(media))
        self.assertLessEqual(peak_children, 3)
        w.wait("message-deleted", count=6)
        self.assertEqual(self.queue_counts(), 0)
        w.stop()
        self.report("concurrency 3, 6 messages", f"all succeeded in {took:.2f} s; peak RSS worker + "
                    f"children {peak_rss / 1024:.1f} MiB with {peak_children} children; CPU worker "
                    f"{cpu_worker:.2f} s, children {cpu_children:.2f} s")

    # -- configuration ---------------------------------------------------------------------------
    def test_configuration_errors_and_health(self):
        r = subprocess.run([RUNNER, "worker", "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        for flag in ("--queue-url", "--bucket", "--endpoint-url", "--key-template", "--description",
                     "--concurrency", "--visibility", "--heartbeat", "--max-receives",
                     "--shutdown-budget", "--worker-id", "SUPABASE_SERVICE_KEY", "ECS_AGENT_URI",
                     "--storage-region", "RCX_STORAGE_ACCESS_KEY_ID", "RCX_STORAGE_SECRET_ACCESS_KEY",
                     "RCX_STORAGE_SESSION_TOKEN", "--stale-after", "--not-ours-delay"):
            self.assertIn(flag, r.stdout)
        r = subprocess.run([RUNNER, "transcode", "--help"], capture_output=True, text=True)
        self.assertIn("--stale-after=DURATION", r.stdout)
        env = self.env()
        for args in (["--bucket", BUCKET], ["--queue-url", "http://x/1/q"],
                     ["--queue-url", "http://x/1/q", "--bucket", BUCKET, "--key-template", "../{x}/"],
                     ["--queue-url", "http://x/1/q", "--bucket", BUCKET, "--visibility", "5",
                      "--heartbeat", "5"],
                     ["--queue-url", "http://x/1/q", "--bucket", BUCKET, "--worker-id", "a/b"],
                     ["--queue-url", "http://x/1/q", "--bucket", BUCKET, "--stale-after", "9s"],
                     ["--queue-url", "http://x/1/q", "--bucket", BUCKET, "--stale-after", "15x"],
                     ["--queue-url", "http://x/1/q", "--bucket", BUCKET, "--stale-after", "-20"]):
            r = subprocess.run([RUNNER, "worker", *args], capture_output=True, text=True, env=env,
                               timeout=10)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
        # storage keys half given: refused at start, the key not echoed
        for half in ({"RCX_STORAGE_ACCESS_KEY_ID": "AKIAHALFGIVEN"},
                     {"RCX_STORAGE_SECRET_ACCESS_KEY": "half-given-secret"},
                     {"RCX_STORAGE_SESSION_TOKEN": "half-given-token"}):
            r = subprocess.run([RUNNER, "worker", "--queue-url", "http://x/1/q", "--bucket", BUCKET],
                               capture_output=True, text=True, env=dict(env, **half), timeout=10)
            self.assertEqual(r.returncode, 2, (half, r.stderr))
            self.assertIn("RCX_STORAGE_SECRET_ACCESS_KEY", r.stderr)
            self.assertNotIn(next(iter(half.values())), r.stderr)
        env.pop("SUPABASE_SERVICE_KEY")
        r = subprocess.run([RUNNER, "worker", "--queue-url", "http://x/1/q", "--bucket", BUCKET],
                           capture_output=True, text=True, env=env, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("SUPABASE_SERVICE_KEY", r.stderr)
        r = subprocess.run([RUNNER, "health", "--health-file", os.path.join(self.tmp, "none")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)


if __name__ == "__main__":
    rcxtest.main()
