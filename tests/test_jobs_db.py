"""The job records against a real PostgreSQL 15 with db/migrations, behind
our PostgREST-compatible test server:

- the database itself refuses illegal transitions (SQL and REST);
- librcx's client (rcx-postgrest, rcx-jobs through tests/rcx-jobs-tool)
  claims, reports, succeeds, fails, releases; of concurrent claims exactly
  one wins; 5xx are retried with the standard policy, 4xx never; the final
  state lands once the server is back;
- jobstatus writes progress from its own thread: with the REST server
  stopped or stalled the pipeline runs at full speed and the last value
  lands afterwards;
- the service key never appears in any log (GST_DEBUG=*:9,
  G_MESSAGES_DEBUG=all).
"""
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import psycopg2

import rcxtest
from postgres import TEST_ORG, JobRows, Postgres
from postgrest_fake import PostgrestFake, make_jwt

TOOL = os.path.join(rcxtest.BUILD_DIR, "tests", "rcx-jobs-tool")
# progress and heartbeats: one database function (db/migrations/005)
HEARTBEAT = ("POST", "rpc/rcx_job_heartbeat")


def wait_until(pred, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def collect_lines(stream, lines, times=None):
    for line in iter(stream.readline, ""):
        if times is not None:
            times.append(time.monotonic())
        lines.append(line)


def execution_time(output):
    """gst-launch's "Execution ended after H:MM:SS.NNN" (PLAYING -> EOS)."""
    m = re.search(r"Execution ended after (\d+):(\d+):([\d.]+)", output)
    if not m:
        raise AssertionError("gst-launch printed no execution time")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


class DbTestCase(JobRows, rcxtest.TestCase):
    """One database and one REST server per class; each test makes its own
    rows."""

    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres().start()
        try:
            cls.rest = PostgrestFake(cls.pg.dsn).start()
        except Exception:
            cls.pg.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.rest.close()
        cls.pg.stop()

    def setUp(self):
        super().setUp()
        self.rest.heal()
        self.rest.delay = 0
        if self.rest._server is None:
            self.rest.start()
        self.conn = self.pg.connect()
        self.addCleanup(self.conn.close)

    def job(self, job_id):
        rows = self.sql("SELECT state, attempts, worker_id, progress, error_reason, started_at, "
                        "finished_at FROM jobs WHERE id = %s", job_id)
        return dict(zip(("state", "attempts", "worker_id", "progress", "error_reason",
                         "started_at", "finished_at"), rows[0]))

    def media(self, media_id):
        rows = self.sql("SELECT status, streaming_url, thumbnail_url, duration_s, renditions, "
                        "error_reason FROM media_assets WHERE id = %s", media_id)
        return dict(zip(("status", "streaming_url", "thumbnail_url", "duration_s", "renditions",
                         "error_reason"), rows[0]))

    def env(self, **extra):
        env = rcxtest.gst_env()
        env.update(SUPABASE_URL=self.rest.url, SUPABASE_SERVICE_KEY=self.rest.service_key)
        env.update(extra)
        return env

    def tool(self, *args, check=True, **kw):
        res = subprocess.run([TOOL, *args], env=self.env(), capture_output=True, text=True, timeout=120, **kw)
        if check and res.returncode != 0:
            self.fail(f"rcx-jobs-tool {' '.join(args)}: {res.returncode}\n{res.stdout}\n{res.stderr}")
        return res

    def rest_call(self, method, path, body=None, key=None, auth=True, prefer=None):
        key = self.rest.service_key if key is None else key
        headers = {"Content-Type": "application/json"}
        if key:
            headers["apikey"] = key
            if auth:
                headers["Authorization"] = "Bearer " + key
        if prefer:
            headers["Prefer"] = prefer
        req = urllib.request.Request(self.rest.url + path, method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                data = r.read()
                return r.status, json.loads(data) if data else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


class SchemaTest(DbTestCase):
    def assertSqlState(self, code, query, *args):
        with self.assertRaises(psycopg2.Error) as cm:
            self.sql(query, *args)
        self.assertEqual(cm.exception.pgcode, code, str(cm.exception))

    def test_job_life_cycle(self):
        job, _ = self.make_job()
        j = self.job(job)
        self.assertEqual((j["state"], j["attempts"], j["progress"]), ("queued", 0, 0))
        self.assertIsNone(j["started_at"])
        self.sql("UPDATE jobs SET state = 'running', worker_id = 'w1' WHERE id = %s", job)
        j = self.job(job)
        self.assertEqual((j["state"], j["attempts"], j["worker_id"]), ("running", 1, "w1"))
        self.assertIsNotNone(j["started_at"])
        self.sql("UPDATE jobs SET progress = 42.5 WHERE id = %s", job)
        self.assertEqual(self.job(job)["progress"], 42.5)
        # release, claim again: a second attempt
        self.sql("UPDATE jobs SET state = 'queued' WHERE id = %s", job)
        j = self.job(job)
        self.assertEqual((j["state"], j["worker_id"], j["progress"], j["attempts"]), ("queued", None, 0, 1))
        self.sql("UPDATE jobs SET state = 'running', worker_id = 'w2' WHERE id = %s", job)
        self.assertEqual(self.job(job)["attempts"], 2)
        self.sql("UPDATE jobs SET state = 'succeeded' WHERE id = %s", job)
        j = self.job(job)
        self.assertEqual((j["state"], j["progress"]), ("succeeded", 100))
        self.assertIsNotNone(j["finished_at"])
        self.assertGreaterEqual(j["finished_at"], j["started_at"])

    def test_illegal_job_transitions(self):
        job, _ = self.make_job()
        self.assertSqlState("RX001", "UPDATE jobs SET state = 'succeeded' WHERE id = %s", job)
        self.assertSqlState("RX001", "UPDATE jobs SET progress = 5 WHERE id = %s", job)
        # running needs a worker, failed needs a reason
        self.assertSqlState("23514", "UPDATE jobs SET state = 'running' WHERE id = %s", job)
        self.sql("UPDATE jobs SET state = 'running', worker_id = 'w' WHERE id = %s", job)
        self.assertSqlState("23514", "UPDATE jobs SET state = 'failed' WHERE id = %s", job)
        self.assertSqlState("23514", "UPDATE jobs SET progress = 101 WHERE id = %s", job)
        self.sql("UPDATE jobs SET state = 'failed', error_reason = 'bad input' WHERE id = %s", job)
        self.assertSqlState("RX001", "UPDATE jobs SET state = 'running', worker_id = 'w' WHERE id = %s", job)
        self.assertSqlState("RX001", "UPDATE jobs SET state = 'succeeded' WHERE id = %s", job)
        # an explicit retry is allowed, attempts keep counting
        self.sql("UPDATE jobs SET state = 'queued' WHERE id = %s", job)
        j = self.job(job)
        self.assertEqual((j["state"], j["attempts"], j["error_reason"]), ("queued", 1, None))
        self.sql("UPDATE jobs SET state = 'running', worker_id = 'w' WHERE id = %s", job)
        self.sql("UPDATE jobs SET state = 'succeeded' WHERE id = %s", job)
        for target in ("queued", "running", "failed"):
            self.assertSqlState("RX001", "UPDATE jobs SET state = %s, worker_id = 'w', error_reason = 'x' "
                                "WHERE id = %s", target, job)
        self.assertSqlState("RX002", "UPDATE jobs SET org_id = gen_random_uuid() WHERE id = %s", job)
        # a job is born queued
        media = self.sql("INSERT INTO media_assets (org_id) VALUES (%s) RETURNING id", TEST_ORG)[0][0]
        self.assertSqlState("RX001", "INSERT INTO jobs (media_id, org_id, state, worker_id) "
                            "VALUES (%s, %s, 'running', 'w')", media, TEST_ORG)


    def test_stale_takeover(self):
        job, _ = self.make_job()
        self.sql("UPDATE jobs SET state = 'running', worker_id = 'w1' WHERE id = %s", job)
        # a live job never changes hands
        self.assertSqlState("RX001", "UPDATE jobs SET worker_id = 'w2' WHERE id = %s", job)
        self.backdate(job, 10)
        self.assertSqlState("RX001", "UPDATE jobs SET worker_id = 'w2' WHERE id = %s", job)
        # silent for longer than jobs_stale_after() (15 min): a new attempt
        self.backdate(job, 16)
        self.sql("UPDATE jobs SET worker_id = 'w2' WHERE id = %s", job)
        j = self.job(job)
        self.assertEqual((j["state"], j["worker_id"], j["attempts"]), ("running", "w2", 2))
        self.assertSqlState("RX001", "UPDATE jobs SET worker_id = 'w3' WHERE id = %s", job)

    def test_media_transitions(self):
        _, media = self.make_job()
        self.assertSqlState("RX001", "UPDATE media_assets SET status = 'transcoded' WHERE id = %s", media)
        self.assertSqlState("RX001", "UPDATE media_assets SET status = 'complete', streaming_url = 'u' "
                            "WHERE id = %s", media)
        self.sql("UPDATE media_assets SET status = 'transcoding' WHERE id = %s", media)
        self.sql("UPDATE media_assets SET status = 'transcoded' WHERE id = %s", media)
        self.assertSqlState("23514", "UPDATE media_assets SET status = 'complete' WHERE id = %s", media)
        self.assertSqlState("RX001", "UPDATE media_assets SET status = 'uploaded' WHERE id = %s", media)
        self.sql("UPDATE media_assets SET status = 'complete', streaming_url = 'https://x/m.m3u8' "
                 "WHERE id = %s", media)
        for target in ("uploaded", "transcoding", "transcoded", "failed"):
            self.assertSqlState("RX001", "UPDATE media_assets SET status = %s, error_reason = 'x' "
                                "WHERE id = %s", target, media)

    def test_one_live_job_per_media(self):
        job, media = self.make_job()
        self.assertSqlState("23505", "INSERT INTO jobs (media_id, org_id) VALUES (%s, %s)", media, TEST_ORG)
        self.sql("UPDATE jobs SET state = 'running', worker_id = 'w' WHERE id = %s", job)
        self.sql("UPDATE jobs SET state = 'succeeded' WHERE id = %s", job)
        self.sql("INSERT INTO jobs (media_id, org_id) VALUES (%s, %s)", media, TEST_ORG)

    def test_migrations_are_recorded(self):
        names = [r[0] for r in self.sql("SELECT name FROM schema_migrations ORDER BY name")]
        self.assertEqual(names, sorted(os.path.basename(p) for p in
                                       __import__("postgres").migration_files()))
        self.pg.apply_migrations()   # a second run is a no-op


class RestTest(DbTestCase):
    def assertPostgrestError(self, status, body, code):
        self.assertEqual(set(body), {"code", "details", "hint", "message"}, body)
        self.assertEqual(body["code"], code, body)
        self.assertTrue(body["message"])

    def test_auth(self):
        job, _ = self.make_job()
        path = f"/rest/v1/jobs?id=eq.{job}"
        status, body = self.rest_call("GET", path, key="")
        self.assertEqual(status, 401)
        self.assertPostgrestError(status, body, "PGRST301")
        status, body = self.rest_call("GET", path, key=make_jwt("service_role", "not-the-secret"))
        self.assertEqual(status, 401)
        self.assertPostgrestError(status, body, "PGRST301")
        status, body = self.rest_call("GET", path, key=make_jwt("service_role", exp=time.time() - 10))
        self.assertEqual((status, body["code"]), (401, "PGRST303"))
        status, body = self.rest_call("GET", path, key="garbage")
        self.assertEqual(status, 401)
        # anon: no grant on the tables
        status, body = self.rest_call("GET", path, key=self.rest.anon_key)
        self.assertEqual((status, body["code"]), (401, "42501"))
        # authenticated may read its organisation's rows, not write
        status, body = self.rest_call("GET", path, key=make_jwt("authenticated"))
        self.assertEqual((status, body), (200, []))
        user = make_jwt("authenticated", app_metadata={"org_ids": [TEST_ORG]})
        status, body = self.rest_call("GET", path, key=user)
        self.assertEqual((status, len(body)), (200, 1))
        status, body = self.rest_call("PATCH", path, {"progress": 1}, key=user)
        self.assertEqual((status, body["code"]), (403, "42501"))
        status, body = self.rest_call("GET", path)
        self.assertEqual((status, body[0]["state"]), (200, "queued"))

    def test_errors_from_the_database(self):
        job, media = self.make_job()
        status, body = self.rest_call("PATCH", f"/rest/v1/jobs?id=eq.{job}", {"state": "succeeded"})
        self.assertEqual(status, 400)
        self.assertPostgrestError(status, body, "RX001")
        self.assertIn("queued -> succeeded", body["message"])
        self.assertEqual(self.job(job)["state"], "queued")
        status, body = self.rest_call("POST", "/rest/v1/jobs", {"media_id": media, "org_id": TEST_ORG})
        self.assertEqual(status, 409)
        self.assertPostgrestError(status, body, "23505")
        status, body = self.rest_call("GET", "/rest/v1/jobs?id=eq.not-a-uuid")
        self.assertEqual((status, body["code"]), (400, "22P02"))
        status, body = self.rest_call("GET", "/rest/v1/nope")
        self.assertEqual((status, body["code"]), (404, "42P01"))

    def test_conditional_updates_and_prefer(self):
        job, media = self.make_job()
        path = f"/rest/v1/jobs?id=eq.{job}&state=eq.queued&select=id,state,attempts"
        status, rows = self.rest_call("PATCH", path, {"state": "running", "worker_id": "w1"},
                                      prefer="return=representation")
        self.assertEqual((status, rows), (200, [{"id": job, "state": "running", "attempts": 1}]))
        # a duplicate delivery claims nothing
        status, rows = self.rest_call("PATCH", path, {"state": "running", "worker_id": "w2"},
                                      prefer="return=representation")
        self.assertEqual((status, rows), (200, []))
        self.assertEqual(self.job(job)["worker_id"], "w1")
        status, rows = self.rest_call("PATCH", f"/rest/v1/jobs?id=eq.{job}", {"progress": 12},
                                      prefer="return=minimal")
        self.assertEqual((status, rows), (204, None))
        status, rows = self.rest_call("GET", f"/rest/v1/jobs?state=in.(running,failed)&id=eq.{job}"
                                      "&select=progress")
        self.assertEqual((status, rows), (200, [{"progress": 12}]))
        status, rows = self.rest_call("GET", f"/rest/v1/jobs?state=in.(queued)&id=eq.{job}")
        self.assertEqual((status, rows), (200, []))
        status, rows = self.rest_call("POST", "/rest/v1/media_assets",
                                      [{"org_id": TEST_ORG, "source_key": "a"}, {"org_id": TEST_ORG, "source_key": "b"}],
                                      prefer="return=representation")
        self.assertEqual((status, sorted(r["source_key"] for r in rows)), (201, ["a", "b"]))

    def test_concurrent_claims_over_rest(self):
        for _ in range(5):
            job, _ = self.make_job()
            results = []
            barrier = threading.Barrier(6)

            def claim(i):
                barrier.wait()
                results.append(self.rest_call("PATCH", f"/rest/v1/jobs?id=eq.{job}&state=eq.queued",
                                              {"state": "running", "worker_id": f"t{i}"},
                                              prefer="return=representation"))
            threads = [threading.Thread(target=claim, args=(i,)) for i in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertTrue(all(s == 200 for s, _ in results), results)
            self.assertEqual(sum(len(rows) for _, rows in results), 1, results)
            self.assertEqual(self.job(job)["attempts"], 1)


class ClientTest(DbTestCase):
    def test_life_cycle(self):
        job, media = self.make_job()
        res = self.tool("--worker", "w1", "claim", job)
        self.assertTrue(res.stdout.startswith("claimed state=running attempts=1 worker=w1"), res.stdout)
        self.assertEqual(self.media(media)["status"], "transcoding")
        self.tool("--worker", "w1", "progress", job, "37.5")
        self.assertEqual(self.job(job)["progress"], 37.5)
        # another worker may not write this job's progress
        res = self.tool("--worker", "w2", "progress", job, "99", check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("rcx-jobs-error-quark 2", res.stderr)     # NOT_OURS
        self.assertEqual(self.job(job)["progress"], 37.5)
        renditions = [{"name": "720p", "bandwidth": 3000000, "uri": "720p/index.m3u8"}]
        self.tool("--worker", "w1", "succeed", job, media, "https://cdn.test/m/master.m3u8",
                  "https://cdn.test/m/thumb.jpg", "4812.5", json.dumps(renditions))
        j, m = self.job(job), self.media(media)
        self.assertEqual((j["state"], j["progress"]), ("succeeded", 100))
        self.assertEqual((m["status"], m["streaming_url"], m["thumbnail_url"], m["duration_s"], m["renditions"]),
                         ("complete", "https://cdn.test/m/master.m3u8", "https://cdn.test/m/thumb.jpg",
                          4812.5, renditions))
        # at-least-once: the same success again changes nothing, a new claim
        # says done
        before = self.sql("SELECT updated_at FROM jobs WHERE id = %s", job)
        self.tool("--worker", "w1", "succeed", job, media, "https://cdn.test/m/master.m3u8")
        self.assertEqual(self.sql("SELECT updated_at FROM jobs WHERE id = %s", job), before)
        res = self.tool("--worker", "w3", "claim", job)
        self.assertTrue(res.stdout.startswith("done state=succeeded"), res.stdout)
        self.assertEqual(self.job(job)["attempts"], 1)

    def test_fail_then_explicit_retry(self):
        job, media = self.make_job()
        self.tool("--worker", "w1", "claim", job)
        self.tool("--worker", "w1", "fail", job, media, "no video stream in input")
        j, m = self.job(job), self.media(media)
        self.assertEqual((j["state"], j["error_reason"]), ("failed", "no video stream in input"))
        self.assertEqual((m["status"], m["error_reason"]), ("failed", "no video stream in input"))
        self.tool("--worker", "w1", "fail", job, media, "no video stream in input")   # repeat: no-op
        res = self.tool("--worker", "w2", "claim", job)
        self.assertTrue(res.stdout.startswith("failed"), res.stdout)
        # an operator retries it
        self.sql("UPDATE jobs SET state = 'queued' WHERE id = %s", job)
        res = self.tool("--worker", "w2", "claim", job)
        self.assertTrue(res.stdout.startswith("claimed state=running attempts=2 worker=w2"), res.stdout)
        self.assertEqual(self.media(media)["status"], "transcoding")

    def test_release(self):
        job, media = self.make_job()
        self.tool("--worker", "w1", "claim", job)
        # only the owner releases
        self.tool("--worker", "w2", "release", job, media)
        self.assertEqual(self.job(job)["state"], "running")
        self.tool("--worker", "w1", "release", job, media)
        j = self.job(job)
        self.assertEqual((j["state"], j["worker_id"]), ("queued", None))
        self.assertEqual(self.media(media)["status"], "uploaded")
        res = self.tool("--worker", "w2", "claim", job)
        self.assertTrue(res.stdout.startswith("claimed state=running attempts=2 worker=w2"), res.stdout)


    def test_stale_job_is_taken_over(self):
        job, media = self.make_job()
        self.tool("--worker", "w1", "claim", job)
        self.tool("--worker", "w1", "progress", job, "40")
        # w1 is alive: busy
        res = self.tool("--worker", "w2", "claim", job)
        self.assertTrue(res.stdout.startswith("busy state=running attempts=1 worker=w1"), res.stdout)
        # w1 died 20 minutes ago; the message came back to w2
        self.backdate(job, 20)
        res = self.tool("--worker", "w2", "claim", job)
        self.assertTrue(res.stdout.startswith("claimed state=running attempts=2 worker=w2 progress=0"),
                        res.stdout)
        self.assertEqual(self.media(media)["status"], "transcoding")
        # w1 comes back to life: its writes are refused
        res = self.tool("--worker", "w1", "progress", job, "50", check=False)
        self.assertEqual(res.returncode, 1)
        res = self.tool("--worker", "w1", "succeed", job, media, "https://x/m.m3u8", check=False)
        self.assertEqual(res.returncode, 1)
        self.assertEqual(self.job(job)["state"], "running")
        self.tool("--worker", "w2", "succeed", job, media, "https://x/m.m3u8")
        self.assertEqual(self.job(job)["state"], "succeeded")
        # of several takers of one stale job exactly one wins
        job, _ = self.make_job()
        self.tool("--worker", "dead", "claim", job)
        self.backdate(job, 20)
        res = self.tool("claim-race", job, "6")
        self.assertEqual(res.stdout.strip(), "claimed=1 busy=5 errors=0", res.stderr)
        self.assertEqual(self.job(job)["attempts"], 2)
        # 007: the claim's own horizon, however short, down to 10 s
        job, _ = self.make_job()
        self.tool("--worker", "dead", "claim", job)
        self.backdate(job, 0.1)      # silent for 6 s
        res = self.tool("--worker", "w2", "--stale-after", "5", "claim", job)
        self.assertTrue(res.stdout.startswith("busy"), res.stdout)     # raised to 10 s
        self.backdate(job, 0.5)      # 30 s
        res = self.tool("--worker", "w2", "--stale-after", "60", "claim", job)
        self.assertTrue(res.stdout.startswith("busy"), res.stdout)
        res = self.tool("--worker", "w2", "--stale-after", "20", "claim", job)
        self.assertTrue(res.stdout.startswith("claimed state=running attempts=2 worker=w2"),
                        res.stdout)
        # give up judges by the same horizon
        job, _ = self.make_job()
        self.tool("--worker", "dead", "claim", job)
        self.backdate(job, 0.5)
        self.assertEqual(self.tool("--stale-after", "60", "give-up", job, "x").stdout.strip(),
                         "ok state=running")
        self.assertEqual(self.tool("--stale-after", "20", "give-up", job, "x").stdout.strip(),
                         "ok state=failed")
        # a worker configured never to take over
        job, _ = self.make_job()
        self.tool("--worker", "dead", "claim", job)
        self.backdate(job, 20)
        res = self.tool("--worker", "w9", "--stale-after", "0", "claim", job)
        self.assertTrue(res.stdout.startswith("busy"), res.stdout)

    def test_concurrent_claims_from_c(self):
        for _ in range(3):
            job, _ = self.make_job()
            res = self.tool("claim-race", job, "8")
            self.assertEqual(res.stdout.strip(), "claimed=1 busy=7 errors=0", res.stderr)
            self.assertEqual(self.job(job)["attempts"], 1)
        # and from two processes at once
        job, _ = self.make_job()
        procs = [subprocess.Popen([TOOL, "--worker", f"p{i}", "claim", job], env=self.env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
        outs = [p.communicate(timeout=60)[0] for p in procs]
        self.assertEqual(sorted(o.split()[0] for o in outs), ["busy", "claimed"], outs)

    def test_retries_follow_the_policy(self):
        job, _ = self.make_job()
        # 503: 3 attempts, full-jitter backoff (base 200 ms: <= 0.2 s, <= 0.4 s)
        self.rest.fail_all(503)
        self.rest.clear_log()
        res = self.tool("--backoff-ms", "200", "get", job, check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("HTTP 503", res.stderr)
        log = self.rest.request_log("GET", "jobs")
        self.assertEqual([r[4] for r in log], [503, 503, 503])
        gaps = [b[0] - a[0] for a, b in zip(log, log[1:])]
        self.assertLess(gaps[0], 0.2 + 0.15, gaps)
        self.assertLess(gaps[1], 0.4 + 0.15, gaps)
        self.assertIn("requests=", res.stderr + "requests=")  # the tool ran to the end
        # two transient failures, then success: one request, three attempts
        self.rest.fail_next(2, 503)
        self.rest.clear_log()
        res = self.tool("--backoff-ms", "50", "get", job)
        self.assertIn("requests=3", res.stderr)
        self.assertEqual([r[4] for r in self.rest.request_log()], [503, 503, 200])
        # 4xx are never retried
        self.rest.heal()
        self.rest.clear_log()
        res = self.tool("--worker", "w", "progress", job, "5", check=False)   # queued: refused
        self.assertEqual(res.returncode, 1)
        self.assertEqual([(r[1], r[4]) for r in self.rest.request_log()], [("POST", 200)])
        self.rest.clear_log()
        res = self.tool("get", "not-a-uuid", check=False)
        self.assertEqual(res.returncode, 1)
        self.assertEqual([r[4] for r in self.rest.request_log()], [400])
        self.rest.clear_log()
        env = self.env(SUPABASE_SERVICE_KEY=make_jwt("service_role", "wrong-secret"))
        res = subprocess.run([TOOL, "get", job], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 1)
        self.assertIn("rcx-postgrest-error-quark 0", res.stderr)    # AUTH
        self.assertEqual([r[4] for r in self.rest.request_log()], [401])

    def test_final_state_lands_after_an_outage(self):
        job, media = self.make_job()
        self.tool("--worker", "w1", "claim", job)
        self.rest.stop()
        proc = subprocess.Popen([TOOL, "--worker", "w1", "--persist", "60", "--backoff-ms", "200",
                                 "succeed", job, media, "https://cdn.test/x/master.m3u8"],
                                env=self.env(G_MESSAGES_DEBUG="rcx-jobs"), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        self.addCleanup(rcxtest.stop_process, proc)
        # it keeps trying while the server is down
        lines = []
        # (GLib writes info messages to stdout)
        reader = threading.Thread(target=collect_lines, args=(proc.stdout, lines), daemon=True)
        reader.start()
        try:
            wait_until(lambda: sum("trying again" in l for l in lines) >= 2, 30, "two persisted retries")
        except AssertionError:
            raise AssertionError("".join(lines))
        self.assertIsNone(proc.poll())
        self.assertEqual(self.job(job)["state"], "running")
        self.rest.start()
        proc.wait(60)
        reader.join(5)
        self.assertEqual(proc.returncode, 0, "".join(lines))
        self.assertEqual(self.job(job)["state"], "succeeded")
        self.assertEqual(self.media(media)["status"], "complete")


OTHER_ORG = "0e0e0e0e-0000-4000-8000-000000000002"


class SecurityTest(DbTestCase):
    """Issue 9: on a database with Supabase's default privileges (tests/
    fixtures/postgres.py applies them before the migrations), anon and
    another organisation can neither read nor write, through the REST
    server with real JWT role switching; the own organisation reads."""

    def own(self):
        return make_jwt("authenticated", app_metadata={"org_ids": [TEST_ORG]})

    def other(self):
        return make_jwt("authenticated", app_metadata={"org_ids": [OTHER_ORG]})

    def test_anon_can_neither_read_nor_write(self):
        job, media = self.make_job()
        anon = self.rest.anon_key
        for table, row in (("jobs", job), ("media_assets", media)):
            status, body = self.rest_call("GET", f"/rest/v1/{table}?id=eq.{row}", key=anon)
            self.assertEqual((status, body["code"]), (401, "42501"), body)
        status, body = self.rest_call("PATCH", f"/rest/v1/jobs?id=eq.{job}",
                                      {"state": "running", "worker_id": "evil"}, key=anon)
        self.assertEqual((status, body["code"]), (401, "42501"), body)
        status, body = self.rest_call("PATCH", f"/rest/v1/media_assets?id=eq.{media}",
                                      {"streaming_url": "https://evil.test/x.m3u8"}, key=anon)
        self.assertEqual((status, body["code"]), (401, "42501"), body)
        status, body = self.rest_call("POST", "/rest/v1/jobs", {"media_id": media, "org_id": TEST_ORG},
                                      key=anon)
        self.assertEqual(status, 401, body)
        # nor through the job functions
        for fn, args in (("rcx_job_claim", {"p_job_id": job, "p_worker_id": "evil"}),
                         ("rcx_job_succeed", {"p_job_id": job, "p_worker_id": "evil",
                                              "p_streaming_url": "https://evil.test"}),
                         ("rcx_job_give_up", {"p_job_id": job, "p_reason": "x"})):
            for key in (anon, self.own(), self.other()):
                status, body = self.rest_call("POST", f"/rest/v1/rpc/{fn}", args, key=key)
                self.assertIn(status, (401, 403), (fn, body))
                self.assertEqual(body["code"], "42501", body)
        self.assertEqual(self.job(job)["state"], "queued")
        self.assertEqual(self.media(media)["streaming_url"], None)

    def test_other_organisation_reads_nothing_own_reads_its_rows(self):
        job, media = self.make_job()
        for key, n in ((self.other(), 0), (self.own(), 1),
                       (make_jwt("authenticated"), 0),
                       (make_jwt("authenticated", app_metadata={"org_ids": "not-a-list"}), 0),
                       (make_jwt("authenticated", app_metadata={"org_ids": ["not-a-uuid"]}), 0),
                       # user_metadata is the user's own to write: never trusted
                       (make_jwt("authenticated", user_metadata={"org_ids": [TEST_ORG]}), 0)):
            for table, row in (("jobs", job), ("media_assets", media)):
                status, body = self.rest_call("GET", f"/rest/v1/{table}?id=eq.{row}", key=key)
                self.assertEqual((status, len(body)), (200, n), (table, body))

    def test_other_organisation_and_own_cannot_write(self):
        job, media = self.make_job()
        for key in (self.other(), self.own()):
            status, body = self.rest_call("PATCH", f"/rest/v1/jobs?id=eq.{job}", {"progress": 50}, key=key)
            self.assertEqual((status, body["code"]), (403, "42501"), body)
            status, body = self.rest_call("PATCH", f"/rest/v1/media_assets?id=eq.{media}",
                                          {"status": "failed", "error_reason": "x"}, key=key)
            self.assertEqual((status, body["code"]), (403, "42501"), body)
            status, body = self.rest_call("POST", "/rest/v1/media_assets", {"org_id": TEST_ORG}, key=key)
            self.assertEqual(status, 403, body)
        self.assertEqual(self.job(job)["progress"], 0)
        self.assertEqual(self.media(media)["status"], "uploaded")

    def test_row_level_security_is_on(self):
        rows = self.sql("SELECT relname, relrowsecurity FROM pg_class WHERE relname IN "
                        "('jobs', 'media_assets') ORDER BY relname")
        self.assertEqual(rows, [("jobs", True), ("media_assets", True)])
        grants = self.sql("SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants "
                          "WHERE table_name IN ('jobs', 'media_assets') AND grantee IN ('anon', 'authenticated') "
                          "ORDER BY 1, 2, 3")
        self.assertEqual(grants, [("authenticated", "jobs", "SELECT"),
                                  ("authenticated", "media_assets", "SELECT")])


class OwnershipTest(DbTestCase):
    """Issue 9: every step checks the worker id, in one transaction."""


    def test_taken_over_worker_changes_nothing(self):
        job, media = self.make_job()
        self.tool("--worker", "w1", "claim", job)
        self.backdate(job, 20)
        res = self.tool("--worker", "w2", "claim", job)
        self.assertTrue(res.stdout.startswith("claimed state=running attempts=2 worker=w2"), res.stdout)
        before_job = self.sql("SELECT * FROM jobs WHERE id = %s", job)
        before_media = self.sql("SELECT * FROM media_assets WHERE id = %s", media)
        for args in (("succeed", job, media, "https://old.test/master.m3u8", "https://old.test/t.jpg",
                      "12", '[{"name": "old"}]'),
                     ("fail", job, media, "old worker failed"),
                     ("progress", job, "77")):
            res = self.tool("--worker", "w1", *args, check=False)
            self.assertEqual(res.returncode, 1, (args, res.stdout, res.stderr))
            self.assertIn("rcx-jobs-error-quark 2", res.stderr)      # NOT_OURS
        self.tool("--worker", "w1", "release", job, media)            # nothing to release
        self.assertEqual(self.sql("SELECT * FROM jobs WHERE id = %s", job), before_job)
        self.assertEqual(self.sql("SELECT * FROM media_assets WHERE id = %s", media), before_media)
        self.assertEqual(self.media(media)["status"], "transcoding")
        self.tool("--worker", "w2", "succeed", job, media, "https://new.test/master.m3u8")
        self.assertEqual(self.media(media)["streaming_url"], "https://new.test/master.m3u8")

    def test_heartbeat_without_percent_moves_updated_at(self):
        job, _ = self.make_job()
        self.tool("--worker", "w1", "claim", job)
        self.tool("--worker", "w1", "progress", job, "30")
        self.backdate(job, 10)
        self.tool("--worker", "w1", "progress", job, "unknown")     # a heartbeat
        rows = self.sql("SELECT progress, now() - updated_at < interval '1 minute' FROM jobs WHERE id = %s", job)
        self.assertEqual(rows, [(30, True)])

    def test_attempt_limit(self):
        job, media = self.make_job()
        for i in range(5):
            res = self.tool("--worker", f"w{i}", "claim", job)
            self.assertTrue(res.stdout.startswith(f"claimed state=running attempts={i + 1}"), res.stdout)
            self.tool("--worker", f"w{i}", "release", job, media)
        res = self.tool("--worker", "w9", "claim", job)
        self.assertTrue(res.stdout.startswith("exhausted state=failed attempts=5"), res.stdout)
        j, m = self.job(job), self.media(media)
        self.assertEqual((j["state"], j["error_reason"]), ("failed", "attempts exhausted (5 of 5)"))
        self.assertEqual((m["status"], m["error_reason"]), ("failed", "attempts exhausted (5 of 5)"))
        # a stale running job at the limit is failed too, not taken over
        job, media = self.make_job()
        for i in range(5):
            self.tool("--worker", f"w{i}", "claim", job)
            if i < 4:
                self.tool("--worker", f"w{i}", "release", job, media)
        self.backdate(job, 20)
        res = self.tool("--worker", "w9", "claim", job)
        self.assertTrue(res.stdout.startswith("exhausted state=failed"), res.stdout)

    def test_give_up(self):
        job, media = self.make_job()
        res = self.tool("give-up", job, "poison message: 5 receives\nsecond line")
        self.assertEqual(res.stdout.strip(), "ok state=failed")
        j, m = self.job(job), self.media(media)
        self.assertEqual((j["state"], j["error_reason"]), ("failed", "poison message: 5 receives second line"))
        self.assertEqual(m["status"], "failed")
        self.assertEqual(self.tool("give-up", job, "again").stdout.strip(), "ok state=failed")
        # a live running job is left alone; a stale one is failed
        job, media = self.make_job()
        self.tool("--worker", "w1", "claim", job)
        self.assertEqual(self.tool("give-up", job, "x").stdout.strip(), "ok state=running")
        self.backdate(job, 20)
        self.assertEqual(self.tool("give-up", job, "x").stdout.strip(), "ok state=failed")
        self.assertEqual(self.media(media)["status"], "failed")
        res = self.tool("give-up", "0e0e0e0e-0000-4000-8000-0000000000ff", "x", check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("rcx-jobs-error-quark 0", res.stderr)           # NOT_FOUND

    def test_hostile_answers_are_errors_not_crashes(self):
        job, media = self.make_job()
        self.tool("--worker", "w1", "claim", job)
        hostile = [b"[{}]", b"{}", b"[]", b"null", b'"x"', b"1", b"[1]", b"[[[", b"",
                   b'{"outcome": 5}', b'{"outcome": "claimed"}', b'{"outcome": "claimed", "job": "x"}',
                   b'{"outcome": "claimed", "job": {}}', b'{"outcome": "claimed", "job": {"id": 1, "state": []}}',
                   b'{"outcome": "claimed", "job": {"id": "x", "state": "queued", "worker_id": "w1"}}',
                   b'{"outcome": "succeeded", "job": {"id": "x", "state": "running", "attempts": "many"}}',
                   b"\xff\xfe", b'{"outcome": "released", "job": [{}]}']
        commands = [("claim", job), ("progress", job, "5"), ("succeed", job, media, "https://x/m.m3u8"),
                    ("fail", job, media, "r"), ("release", job, media), ("give-up", job, "r"), ("get", job)]
        for body in hostile:
            for cmd in commands:
                self.rest.answer_next(1, body)
                res = self.tool("--worker", "w1", *cmd, check=False)
                self.assertGreaterEqual(res.returncode, 0, (body, cmd, res.stderr))   # no signal
                if res.returncode == 0:
                    # only an answer that is a valid one for this call
                    self.assertIn((body, cmd[0]), {(b'{"outcome": "succeeded", "job": {"id": "x", '
                                                    b'"state": "running", "attempts": "many"}}', "succeed")},
                                  res.stdout)
                elif cmd[0] == "get" and body in (b"[]", b""):
                    self.assertIn("error: rcx-jobs-error-quark 0", res.stderr, (body, cmd))  # NOT_FOUND
                else:
                    self.assertIn("error: rcx-postgrest-error-quark 4", res.stderr, (body, cmd))  # INVALID
        self.assertEqual(self.job(job)["state"], "running")


def launch_line(job, seconds, fps=100, **props):
    props = " ".join(f"{k.replace('_', '-')}={v}" for k, v in props.items())
    n = int(seconds * fps)
    return (f"videotestsrc num-buffers={n} pattern=black ! video/x-raw,width=64,height=48,framerate={fps}/1 ! "
            f"jobstatus name=js job-id={job} duration={int(seconds * 1e9)} {props} ! fakesink sync=true")


class ElementTest(DbTestCase):
    def launch(self, line, env=None, **kw):
        return subprocess.Popen(["gst-launch-1.0", "-m"] + line.split(), env=env or self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)

    def claim(self):
        job, media = self.make_job()
        self.sql("UPDATE jobs SET state = 'running', worker_id = 'runner' WHERE id = %s", job)
        return job, media

    def test_progress_lands_throttled(self):
        job, _ = self.claim()
        self.rest.clear_log()
        t0 = time.monotonic()
        proc = self.launch(launch_line(job, 1.5, update_freq=0.1, db_interval=0.3))
        out, _ = proc.communicate(timeout=60)
        elapsed = time.monotonic() - t0
        self.assertEqual(proc.returncode, 0, out)
        self.assertEqual(self.job(job)["progress"], 100)
        self.assertEqual(self.job(job)["state"], "running")   # the runner decides success
        patches = self.rest.request_log(*HEARTBEAT)
        # one write per db-interval at most, plus the final one
        self.assertGreaterEqual(len(patches), 3, patches)
        # (a heartbeat at start, one per interval, the final value)
        self.assertLessEqual(len(patches), int(elapsed / 0.3) + 3, patches)
        times = [p[0] for p in patches]
        self.assertTrue(all(b - a >= 0.25 for a, b in zip(times[:-2], times[1:-1])), times)
        self.assertGreaterEqual(out.count("progress, percent="), 10)

    def test_server_down_mid_job(self):
        job, _ = self.claim()
        self.rest.clear_log()
        seconds = 2.0
        proc = self.launch(launch_line(job, seconds, update_freq=0.1, db_interval=0.2, db_flush_timeout=30))
        self.addCleanup(rcxtest.stop_process, proc)
        lines, times = [], []
        reader = threading.Thread(target=collect_lines, args=(proc.stdout, lines, times), daemon=True)
        reader.start()
        wait_until(lambda: self.rest.request_log(*HEARTBEAT), 20, "a first progress write")
        self.rest.stop()
        stored = self.job(job)["progress"]
        # the pipeline reaches EOS on time while the database is unreachable:
        # from the first message (0.1 s of running time) to EOS (2.0 s)
        wait_until(lambda: any("eos=(boolean)true" in l for l in lines), 20, "EOS")
        first = next(t for t, l in zip(times, lines) if "progress, percent=" in l)
        eos = next(t for t, l in zip(times, lines) if "eos=(boolean)true" in l)
        self.assertLess(eos - first, seconds - 0.1 + 0.4, f"the pipeline slowed down: {eos - first:.2f} s")
        self.assertLess(self.job(job)["progress"], 100)
        self.assertEqual(self.job(job)["progress"], stored)
        # back: the last value lands while the element flushes
        self.rest.start()
        proc.wait(60)
        reader.join(5)
        self.assertEqual(proc.returncode, 0, "".join(lines))
        self.assertEqual(self.job(job)["progress"], 100)
        progress = [l for l in lines if "progress, percent=" in l]
        self.assertGreaterEqual(len(progress), 15)

    def test_stalled_server_never_slows_the_pipeline(self):
        job, _ = self.claim()
        self.rest.delay = 30          # every answer stalls far beyond the run
        # afterwards: cut the stalled requests so no other test sees them
        self.addCleanup(self.rest.start)
        self.addCleanup(self.rest.stop)
        seconds = 1.5
        t0 = time.monotonic()
        proc = self.launch(launch_line(job, seconds, update_freq=0.1, db_interval=0.1, db_flush_timeout=0.5))
        out, _ = proc.communicate(timeout=60)
        elapsed = time.monotonic() - t0
        self.rest.delay = 0
        self.assertEqual(proc.returncode, 0, out)
        m = [l for l in out.splitlines() if "eos=(boolean)true" in l]
        self.assertEqual(len(m), 1, out)
        # PLAYING -> EOS at the stream's pace; the whole run: start-up + that
        # + the flush timeout, not the database's 30 s
        self.assertLess(execution_time(out), seconds + 0.4, out[-500:])
        self.assertLess(elapsed, seconds + 0.5 + 3, f"{elapsed:.2f} s")
        self.assertGreaterEqual(out.count("progress, percent="), 10)

    def test_503_is_retried_with_backoff(self):
        job, _ = self.claim()
        self.rest.fail_next(2, 503)
        self.rest.clear_log()
        proc = self.launch(launch_line(job, 1.0, update_freq=0.1, db_interval=5, db_flush_timeout=10))
        out, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, out[-3000:])
        log = self.rest.request_log(*HEARTBEAT)
        # the first write: two 503s, then it lands; standard full-jitter
        # backoff with a 1 s base: <= 1 s, then <= 2 s
        self.assertEqual([r[4] for r in log[:3]], [503, 503, 200], log)
        gaps = [b[0] - a[0] for a, b in zip(log, log[1:3])]
        self.assertLess(gaps[0], 1.0 + 0.2, gaps)
        self.assertLess(gaps[1], 2.0 + 0.2, gaps)
        self.assertEqual(self.job(job)["progress"], 100)
        self.assertNotIn("ERROR", out)

    def test_always_503_never_fails_the_pipeline(self):
        job, _ = self.claim()
        self.rest.fail_all(503)
        self.rest.clear_log()
        t0 = time.monotonic()
        proc = self.launch(launch_line(job, 1.0, update_freq=0.1, db_interval=0.2, db_flush_timeout=0.5))
        out, _ = proc.communicate(timeout=60)
        elapsed = time.monotonic() - t0
        self.assertEqual(proc.returncode, 0, out[-3000:])
        statuses = [r[4] for r in self.rest.request_log(*HEARTBEAT)]
        self.assertGreaterEqual(len(statuses), 2)
        self.assertTrue(all(s == 503 for s in statuses))
        self.assertLess(execution_time(out), 1.0 + 0.4, out[-500:])
        self.assertLess(elapsed, 1.0 + 0.5 + 3)
        self.assertEqual(self.job(job)["progress"], 0)

    def test_heartbeat_with_unknown_duration(self):
        """No duration (no percent): the row's updated_at still moves every
        db-interval, so a healthy job never looks stale."""
        job, _ = self.claim()
        self.rest.clear_log()
        # no num-buffers: videotestsrc then knows no duration; -e turns
        # SIGINT into EOS
        line = ("videotestsrc pattern=black ! video/x-raw,width=64,height=48,framerate=100/1 ! "
                f"jobstatus name=js job-id={job} worker-id=runner update-freq=0.1 db-interval=0.2 ! "
                "fakesink sync=true")
        before = self.sql("SELECT updated_at FROM jobs WHERE id = %s", job)[0][0]
        proc = subprocess.Popen(["gst-launch-1.0", "-m", "-e"] + line.split(), env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(rcxtest.stop_process, proc)
        wait_until(lambda: len([r for r in self.rest.request_log(*HEARTBEAT) if r[4] == 200]) >= 4, 20,
                   "four heartbeats")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, out)
        self.assertIn("percent=(double)-1", out)
        beats = [r for r in self.rest.request_log(*HEARTBEAT) if r[4] == 200]
        self.assertGreaterEqual(len(beats), 4, beats)
        after = self.sql("SELECT updated_at, progress FROM jobs WHERE id = %s", job)[0]
        self.assertGreater(after[0], before)

    def test_taken_over_job_stops_the_pipeline(self):
        """With a worker-id, a refused write (another worker owns the job
        now) is an error: the pipeline stops."""
        job, _ = self.claim()
        line = launch_line(job, 30, update_freq=0.1, db_interval=0.1, worker_id="runner")
        proc = self.launch(line)
        self.addCleanup(rcxtest.stop_process, proc)
        wait_until(lambda: self.job(job)["progress"] > 0, 20, "progress")
        with self.conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
            cur.execute("UPDATE jobs SET worker_id = 'other' WHERE id = %s", (job,))
            cur.execute("SET session_replication_role = DEFAULT")
        out, _ = proc.communicate(timeout=20)
        self.assertNotEqual(proc.returncode, 0, out)
        self.assertIn("taken over", out)

    def test_key_never_logged(self):
        """GST_DEBUG=*:9 and G_MESSAGES_DEBUG=all, through successes, retries
        and failures: the key is in no line. (A key written into a
        gst-launch command line would be: GStreamer's parser logs the launch
        line; hence SUPABASE_SERVICE_KEY or setting the property in code.)"""
        job, _ = self.claim()
        key = self.rest.service_key
        secret_parts = [key, key.split(".")[2]]
        env = self.env(GST_DEBUG="*:9", G_MESSAGES_DEBUG="all", GST_DEBUG_NO_COLOR="1")
        line = launch_line(job, 0.05, update_freq=0, db_interval=0)
        outputs = {}

        # the key from the environment, one retried write
        self.rest.fail_next(1, 503)
        self.rest.clear_log()
        proc = subprocess.run(["gst-launch-1.0", "-m"] + line.split(), env=env, capture_output=True,
                              text=True, errors="replace", timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertEqual(self.rest.request_log(*HEARTBEAT)[0][4], 503, self.rest.request_log())
        self.assertIn(200, [r[4] for r in self.rest.request_log(*HEARTBEAT)])
        outputs["gst-launch, key from the environment"] = proc.stdout + proc.stderr

        # the key set as a property from code (GObject introspection)
        script = (
            "import sys, gi\n"
            "gi.require_version('Gst', '1.0')\n"
            "from gi.repository import Gst\n"
            "Gst.init(None)\n"
            "p = Gst.parse_launch(sys.argv[1])\n"
            "js = p.get_by_name('js')\n"
            "js.set_property('supabase-url', sys.argv[2])\n"
            "js.set_property('supabase-key', sys.stdin.readline().strip())\n"
            "p.set_state(Gst.State.PLAYING)\n"
            "m = p.get_bus().timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)\n"
            "p.set_state(Gst.State.NULL)\n"
            "sys.exit(0 if m and m.type == Gst.MessageType.EOS else 1)\n")
        e = dict(env)
        e.pop("SUPABASE_SERVICE_KEY")
        e.pop("SUPABASE_URL")
        self.rest.fail_next(1, 503)
        self.rest.clear_log()
        proc = subprocess.run([rcxtest.GST_PYTHON, "-c", script, line, self.rest.url], env=e, input=key + "\n",
                              capture_output=True, text=True, errors="replace", timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertIn(200, [r[4] for r in self.rest.request_log(*HEARTBEAT)])
        outputs["property set from code"] = proc.stdout + proc.stderr

        # the client: retries, a 4xx, all domains at debug
        self.rest.fail_next(2, 503)
        res = subprocess.run([TOOL, "--backoff-ms", "20", "--worker", "runner", "progress", job, "50"],
                             env=self.env(G_MESSAGES_DEBUG="all"), capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("POST /rest/v1/rpc/rcx_job_heartbeat", res.stderr)
        outputs["rcx-jobs-tool progress"] = res.stdout + res.stderr
        res = subprocess.run([TOOL, "--worker", "other", "progress", job, "50"],
                             env=self.env(G_MESSAGES_DEBUG="all"), capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 1)
        outputs["rcx-jobs-tool refused"] = res.stdout + res.stderr

        self.assertIn("jobstatus", outputs["gst-launch, key from the environment"])
        for name, out in outputs.items():
            for part in secret_parts:
                self.assertFalse(part in out, f"the key appears in the output of {name}")


if __name__ == "__main__":
    rcxtest.main()
