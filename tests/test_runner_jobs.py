#!/usr/bin/python3
"""rugbycodex-runner transcode --job-id: the runner keeps the job records
(jobs, media_assets) in a real PostgreSQL 15 with db/migrations, behind our
PostgREST-compatible test server:

- a queued job runs to succeeded; media_assets is complete with the
  streaming URL (the master playlist), the thumbnail URL, the duration and
  the renditions; progress was written while it ran;
- a duplicate delivery does nothing: the job succeeded already (exit 0),
  or runs on another worker (exit 4, "not-ours");
- a corrupt input fails the job with a readable one-line reason (exit 1);
- a damaged but decodable source (3 MB of garbage in its media data)
  succeeds, and jobs.warnings says what was concealed and where; a clean
  source leaves it NULL;
- SIGTERM mid-job puts the job back to queued FIRST and exits 3 within the
  budget; with a stalled storage the release still lands within a second
  and the process exits within --shutdown-timeout;
- a job taken over by another worker mid-way: the runner stops at once,
  deletes nothing, changes nothing, exits 4;
- a claim whose answer was lost (the fault proxy cuts it) is recognised as
  ours when the HTTP client sends it again;
- a hostile claim answer ([{}]) is an error, not a crash;
- a job whose attempts are used up is failed with the reason (exit 1), and
  the playlists an earlier attempt left at the destination are deleted;
- a pipeline state change that never returns (tests/plugins/: an element
  stuck in PAUSED -> READY) ends the run within --watchdog with a clear
  reason, the job released (exit 3), instead of hanging;
- the database going away mid-job does not hold up the transcode; the
  final state lands once it is back;
- the service key never appears in the runner's output, even with every
  debug message on;
- bad ids and a missing configuration are usage errors (exit 2) that touch
  nothing.
- the storage going away after the first live playlists: the attempt fails
  and cannot take them down, so the job is released (exit 3), not failed
  with a half-published stream; a later attempt runs it to the end.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import rcxtest
from faultproxy import FaultProxy
from postgres import JobRows, Postgres
from postgrest_fake import PostgrestFake
from test_storage_weather import make_clip as make_noisy_clip, mdat_span

RUNNER = rcxtest.RUNNER
FF = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
# SIGTERM -> exit: ECS gives 30 s by default; the runner must be far inside.
SIGTERM_BUDGET = 10.0

# Every change of a job row, with the state before and after: progress
# writes are the running -> running rows. A test-only trigger (the
# migrations know nothing of it).
AUDIT_SQL = """
CREATE TABLE job_audit (
  seq bigserial PRIMARY KEY,
  job_id uuid NOT NULL,
  old_state text NOT NULL,
  new_state text NOT NULL,
  progress double precision,
  worker_id text
);
CREATE FUNCTION job_audit_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO job_audit (job_id, old_state, new_state, progress, worker_id)
  VALUES (NEW.id, OLD.state::text, NEW.state::text, NEW.progress, NEW.worker_id);
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_audit AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION job_audit_row();
"""


def make_clip(path, seconds, size="320x180", rate=25):
    subprocess.run(FF + ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
                         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                         "-ac", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                         "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", path], check=True)
    return path


def one_rung_description(path):
    """The shipped description cut down to one small rung, software only."""
    with open(os.path.join(rcxtest.SOURCE_DIR, "pipelines", "hls-ladder.json")) as f:
        d = json.load(f)
    d["name"] = "test-one-rung"
    d["ladder"] = [{"name": "180p", "height": 180, "bitrate": 300, "peak-bitrate": 600}]
    d["encoders"] = [e for e in d["encoders"] if e["element"] == "x264enc"]
    d["thumbnail"]["width"] = 160
    with open(path, "w") as f:
        json.dump(d, f)
    return path


class RunnerJobs(JobRows, rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres().start()
        try:
            cls.rest = PostgrestFake(cls.pg.dsn).start()
        except Exception:
            cls.pg.stop()
            raise
        conn = cls.pg.connect()
        with conn.cursor() as cur:
            cur.execute(AUDIT_SQL)
        conn.close()
        cls.clips = tempfile.mkdtemp(prefix="rcx-jobclips-")
        cls.clip = make_clip(os.path.join(cls.clips, "match.mp4"), seconds=6)
        cls.desc = one_rung_description(os.path.join(cls.clips, "one-rung.json"))

    @classmethod
    def tearDownClass(cls):
        cls.rest.close()
        cls.pg.stop()
        shutil.rmtree(cls.clips, True)

    def setUp(self):
        super().setUp()
        if self.rest._server is None:
            self.rest.start()
        self.conn = self.pg.connect()
        self.addCleanup(self.conn.close)

    # -- helpers ----------------------------------------------------------------
    def job(self, job_id):
        cols = ("state", "attempts", "worker_id", "progress", "error_reason", "finished_at")
        return dict(zip(cols, self.sql(f"SELECT {', '.join(cols)} FROM jobs WHERE id = %s", job_id)[0]))

    def media(self, media_id):
        cols = ("status", "streaming_url", "thumbnail_url", "duration_s", "renditions", "error_reason")
        return dict(zip(cols, self.sql(f"SELECT {', '.join(cols)} FROM media_assets WHERE id = %s",
                                       media_id)[0]))

    def audit(self, job_id):
        return self.sql("SELECT old_state, new_state, progress, worker_id FROM job_audit "
                        "WHERE job_id = %s ORDER BY seq", job_id)

    def env(self, **extra):
        env = rcxtest.gst_env()
        env.update(SUPABASE_URL=self.rest.url, SUPABASE_SERVICE_KEY=self.rest.service_key)
        env.pop("G_MESSAGES_DEBUG", None)
        env.update(extra)
        return env

    def args(self, job_id, src, dst, *extra):
        return [RUNNER, "transcode", "--job-id", job_id, "--worker-id", "test-worker",
                "--description", self.desc, "--progress", "none", "--job-progress-interval", "0.2",
                *extra, src, dst]

    def run_job(self, job_id, src, dst, *extra, env=None, timeout=180):
        return subprocess.run(self.args(job_id, src, dst, *extra), capture_output=True, text=True,
                              timeout=timeout, env=env or self.env())

    def poll(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.02)

    # -- (a) + (b) ----------------------------------------------------------------
    def test_queued_job_runs_to_succeeded_and_a_duplicate_does_nothing(self):
        job, media = self.make_job()
        dst = os.path.join(self.tmp, "out")
        r = self.run_job(job, self.clip, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        summary = json.loads(r.stdout)
        self.assertEqual(summary["status"], "succeeded")
        self.assertEqual(summary["job_id"], job)
        self.assertIn(f"job {job} claimed by test-worker", r.stderr)
        self.assertIn(f"job {job} succeeded", r.stderr)

        j = self.job(job)
        self.assertEqual((j["state"], j["attempts"], j["progress"], j["error_reason"]),
                         ("succeeded", 1, 100, None))
        self.assertIsNotNone(j["finished_at"])
        m = self.media(media)
        self.assertEqual(m["status"], "complete")
        master = os.path.join(dst, "master.m3u8")
        self.assertEqual(m["streaming_url"], summary["master"])
        self.assertEqual(os.path.realpath(m["streaming_url"]), os.path.realpath(master))
        self.assertTrue(os.path.isfile(master))
        with open(master) as f:
            self.assertIn("180p/index.m3u8", f.read())
        self.assertEqual(os.path.realpath(m["thumbnail_url"]),
                         os.path.realpath(os.path.join(dst, "thumbnail.jpg")))
        with open(m["thumbnail_url"], "rb") as f:
            self.assertEqual(f.read(3), b"\xff\xd8\xff")      # a JPEG
        self.assertAlmostEqual(m["duration_s"], 6.0, delta=0.5)
        self.assertEqual([x["name"] for x in m["renditions"]], ["180p"])
        self.assertEqual(m["renditions"][0]["height"], 180)
        self.assertGreater(m["renditions"][0]["bandwidth"], 0)
        self.assertIsNone(m["error_reason"])
        # a clean source: nothing concealed, nothing stored
        self.assertIsNone(self.sql("SELECT warnings FROM jobs WHERE id = %s", job)[0][0])

        # the row's history: claimed, progress written while running, succeeded
        rows = self.audit(job)
        self.assertEqual(rows[0][:2], ("queued", "running"))
        self.assertEqual(rows[-1][:2], ("running", "succeeded"))
        progress = [p for old, new, p, w in rows if old == new == "running"]
        self.assertGreaterEqual(len(progress), 1, rows)
        # heartbeats before the first percent keep 0 (the 6 s clip may go
        # from 0 to 100 between two writes: the long clips check the values
        # in between)
        self.assertTrue(all(0 <= p <= 100 for p in progress), progress)
        self.assertEqual(progress, sorted(progress))
        self.assertEqual(progress[-1], 100)             # jobstatus's EOS value, written before succeeding
        print(f"{len(progress)} progress writes: {progress}", file=sys.stderr)
        self.assertTrue(all(w == "test-worker" for old, new, p, w in rows if new == "running"))

        # (b) the same message delivered again: nothing happens, exit 0
        dst2 = os.path.join(self.tmp, "again")
        n_rows = len(rows)
        r = self.run_job(job, self.clip, dst2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"job {job} succeeded already: nothing to do", r.stderr)
        self.assertEqual(json.loads(r.stdout)["status"], "skipped")
        self.assertEqual(json.loads(r.stdout)["job_state"], "succeeded")
        self.assertFalse(os.path.exists(dst2), "a duplicate delivery transcoded again")
        self.assertEqual(len(self.audit(job)), n_rows)
        self.assertEqual(self.job(job)["attempts"], 1)
        self.assertEqual(self.media(media)["status"], "complete")

    def test_job_running_on_another_worker_is_left_alone(self):
        job, media = self.make_job()
        self.sql("UPDATE jobs SET state = 'running', worker_id = 'other-worker' WHERE id = %s", job)
        dst = os.path.join(self.tmp, "out")
        r = self.run_job(job, self.clip, dst)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn(f"job {job} is running on other-worker: not ours", r.stderr)
        self.assertEqual(json.loads(r.stdout)["status"], "not-ours")
        self.assertFalse(os.path.exists(dst))
        j = self.job(job)
        self.assertEqual((j["state"], j["worker_id"], j["attempts"]), ("running", "other-worker", 1))

    # -- (c) ------------------------------------------------------------------------
    def test_corrupt_input_fails_the_job_with_a_reason(self):
        job, media = self.make_job()
        src = os.path.join(self.tmp, "corrupt.mp4")
        with open(src, "w") as f:
            f.write("this is not a video\n" * 100)
        dst = os.path.join(self.tmp, "out")
        r = self.run_job(job, src, dst)
        self.assertEqual(r.returncode, 1, r.stderr)
        errors = [l for l in r.stderr.splitlines() if l.startswith("rugbycodex-runner: error:")]
        self.assertEqual(len(errors), 1, r.stderr)
        summary = json.loads(r.stdout)
        self.assertEqual((summary["status"], summary["failure_kind"]), ("failed", "permanent"))
        j = self.job(job)
        self.assertEqual((j["state"], j["attempts"]), ("failed", 1))
        self.assertEqual(summary["reason"], j["error_reason"])
        reason = j["error_reason"]
        self.assertTrue(reason and "\n" not in reason, reason)
        self.assertIn("corrupt.mp4", reason)
        self.assertIn(reason, errors[0])
        self.assertIsNotNone(j["finished_at"])
        m = self.media(media)
        self.assertEqual((m["status"], m["error_reason"]), ("failed", reason))
        self.assertIsNone(m["streaming_url"])
        self.assertFalse(os.path.exists(os.path.join(dst, "master.m3u8")))

    # -- (d) ------------------------------------------------------------------------
    def test_damaged_source_succeeds_and_the_row_says_what_was_concealed(self):
        clean = make_noisy_clip(os.path.join(self.tmp, "clean.mp4"), 12, size="320x180", bitrate="5M")
        src = os.path.join(self.tmp, "damaged.mp4")
        shutil.copy(clean, src)
        start, size = mdat_span(src)
        self.assertGreater(size, 6 << 20)
        at = start + size // 2 - (3 << 20) // 2
        with open(src, "r+b") as f:
            f.seek(at)
            f.write(random.Random(3).randbytes(3 << 20))
        # where the garbage is in the timeline, for a constant bit rate
        t_first = (at - start) / size * 12
        t_last = (at + (3 << 20) - start) / size * 12
        job, media = self.make_job()
        r = self.run_job(job, src, os.path.join(self.tmp, "out"))
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        summary = json.loads(r.stdout)
        self.assertEqual(self.job(job)["state"], "succeeded")
        warnings = self.sql("SELECT warnings FROM jobs WHERE id = %s", job)[0][0]
        self.assertIsNotNone(warnings, "the job row says nothing of the damage")
        self.assertEqual(warnings["text"], summary["concealed"])
        self.assertTrue(warnings["text"].startswith("concealed: "))
        self.assertEqual(len(warnings["groups"]), len(summary["warnings"]))
        self.assertLessEqual(len(warnings["groups"]), 32)
        video = [g for g in warnings["groups"] if g["element"].startswith("avdec_h264")
                 and g["kind"] == "decode-error"]
        self.assertTrue(video, warnings)
        self.assertGreater(video[0]["count"], 5)
        self.assertAlmostEqual(video[0]["first"], t_first, delta=1.5)
        self.assertAlmostEqual(video[0]["last"], t_last, delta=1.5)
        self.assertEqual(self.media(media)["status"], "complete")
        print(f"job row warnings: {warnings['text'][:300]}", file=sys.stderr)

        # the database holds the bounds whoever writes: 33 groups are refused
        self.assertEqual(self.sql("SELECT rcx_job_warnings_ok(%s::jsonb)",
                                  json.dumps({"text": "x", "groups": [{}] * 33}))[0][0], False)
        self.assertEqual(self.sql("SELECT rcx_job_warnings_ok(%s::jsonb)", json.dumps(warnings))[0][0],
                         True)
        with self.assertRaises(Exception) as cm:
            self.sql("UPDATE jobs SET warnings = %s WHERE id = %s",
                     json.dumps({"text": "x" * 2001, "groups": []}), job)
        self.assertIn("jobs_warnings_bounded", str(cm.exception))

    def test_stuck_state_change_releases_the_job_and_the_process_ends(self):
        with open(self.desc) as f:
            d = json.load(f)
        d["name"] = "test-stuck-scaler"
        d["encoders"][0]["scaler"]["element"] = "rcxteststuck"     # a pass-through at 180p
        desc = os.path.join(self.tmp, "stuck.json")
        with open(desc, "w") as f:
            json.dump(d, f)
        env = self.env(GST_PLUGIN_PATH=os.pathsep.join(
            [rcxtest.PLUGIN_PATH, os.path.join(rcxtest.BUILD_DIR, "tests", "plugins")]),
            GST_REGISTRY=os.path.join(self.tmp, "registry.bin"))
        job, media = self.make_job()
        dst = os.path.join(self.tmp, "out")
        args = self.args(job, self.clip, dst, "--watchdog", "3")
        args[args.index("--description") + 1] = desc
        start = time.monotonic()
        r = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
        took = time.monotonic() - start
        self.assertEqual(r.returncode, 3, r.stderr[-3000:])
        summary = json.loads(r.stdout)
        self.assertEqual(summary["status"], "released")
        self.assertIn("state change to NULL did not return within 3 s", summary["reason"])
        j = self.job(job)
        self.assertEqual((j["state"], j["worker_id"]), ("queued", None))
        self.assertEqual(self.media(media)["status"], "uploaded")
        self.assertFalse(os.path.exists(os.path.join(dst, "master.m3u8")))
        print(f"stuck state change: released and exited in {took:.2f} s", file=sys.stderr)

    def test_sigterm_releases_the_job_in_time(self):
        job, media = self.make_job()
        src = make_clip(os.path.join(self.tmp, "long.mp4"), seconds=120)
        dst = os.path.join(self.tmp, "out")
        proc = subprocess.Popen(self.args(job, src, dst), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env())
        self.addCleanup(rcxtest.stop_process, proc)

        def progressing():
            self.assertIsNone(proc.poll(), "the job ended before it could be interrupted")
            j = self.job(job)
            return j["state"] == "running" and 0 < j["progress"] < 100
        self.poll(progressing, 90, "progress to be written while the job runs")
        self.assertEqual(self.media(media)["status"], "transcoding")

        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - start
        self.assertLess(took, SIGTERM_BUDGET, err)
        print(f"SIGTERM -> exit in {took:.2f} s", file=sys.stderr)
        self.assertEqual(proc.returncode, 3, err)
        self.assertIn("error: interrupted", err)
        self.assertIn(f"job {job} released (back to queued)", err)
        summary = json.loads(out)
        self.assertEqual((summary["status"], summary["failure_kind"]), ("released", "transient"))
        j = self.job(job)
        self.assertEqual((j["state"], j["worker_id"], j["attempts"], j["error_reason"]),
                         ("queued", None, 1, None))
        self.assertEqual(self.media(media)["status"], "uploaded")
        self.assertFalse(os.path.exists(os.path.join(dst, "master.m3u8")))
        rows = self.audit(job)
        progress = [p for old, new, p, w in rows if old == new == "running"]
        self.assertTrue(progress and all(0 <= p < 100 for p in progress), progress)
        self.assertTrue(any(p > 0 for p in progress), progress)
        self.assertEqual(progress, sorted(progress))
        self.assertEqual(rows[-1][:2], ("running", "queued"))
        print(f"{len(progress)} progress writes before SIGTERM: {progress}", file=sys.stderr)

        # released means claimable again: the next delivery runs it (short clip)
        r = self.run_job(job, self.clip, os.path.join(self.tmp, "retry"))
        self.assertEqual(r.returncode, 0, r.stderr)
        j = self.job(job)
        self.assertEqual((j["state"], j["attempts"]), ("succeeded", 2))

    def test_database_down_mid_job(self):
        """The REST server goes away while the job runs: the transcode is not
        held up (progress writes fail on the writer thread), the runner then
        waits for the database and the final state lands once it is back."""
        job, media = self.make_job()
        src = make_clip(os.path.join(self.tmp, "long.mp4"), seconds=120)
        dst = os.path.join(self.tmp, "out")
        proc = subprocess.Popen(self.args(job, src, dst), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env())
        self.addCleanup(rcxtest.stop_process, proc)
        self.poll(lambda: self.job(job)["progress"] > 0 or proc.poll() is not None, 90,
                  "progress to be written")
        self.assertIsNone(proc.poll(), "the job ended before the database could be stopped")
        self.rest.stop()
        self.addCleanup(lambda: self.rest._server is None and self.rest.start())
        down = time.monotonic()

        playlist = os.path.join(dst, "180p", "index.m3u8")

        def finished_outputs():
            self.assertIsNone(proc.poll(), "the runner exited while the database was down")
            if not os.path.exists(os.path.join(dst, "thumbnail.jpg")):
                return False
            with open(playlist) as f:
                return "#EXT-X-ENDLIST" in f.read()
        self.poll(finished_outputs, 90, "the transcode to finish with the database down")
        transcoded_in = time.monotonic() - down
        self.assertEqual(self.job(job)["state"], "running")

        self.rest.start()
        out, err = proc.communicate(timeout=90)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("progress not stored", err)
        self.assertEqual(json.loads(out)["status"], "succeeded")
        j = self.job(job)
        self.assertEqual((j["state"], j["progress"], j["attempts"]), ("succeeded", 100, 1))
        m = self.media(media)
        self.assertEqual(m["status"], "complete")
        self.assertEqual(os.path.realpath(m["streaming_url"]),
                         os.path.realpath(os.path.join(dst, "master.m3u8")))
        print(f"transcode finished {transcoded_in:.1f} s after the database went down", file=sys.stderr)

    # -- (e) ------------------------------------------------------------------------
    def test_service_key_never_in_the_output(self):
        key = self.rest.service_key
        signature = key.rsplit(".", 1)[1]
        env = self.env(G_MESSAGES_DEBUG="all", GST_DEBUG="*:4,jobstatus:6,rcx*:6,wasabi*:6",
                       GST_DEBUG_NO_COLOR="1")
        job, _ = self.make_job()
        r = self.run_job(job, self.clip, os.path.join(self.tmp, "out"), "--verbose", env=env)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertEqual(self.job(job)["state"], "succeeded")
        bad, _ = self.make_job()
        src = os.path.join(self.tmp, "corrupt.mp4")
        with open(src, "w") as f:
            f.write("garbage\n" * 100)
        r2 = self.run_job(bad, src, os.path.join(self.tmp, "out2"), "--verbose", env=env)
        self.assertEqual(r2.returncode, 1)
        self.assertEqual(self.job(bad)["state"], "failed")
        output = r.stdout + r.stderr + r2.stdout + r2.stderr
        # the debug output is there (else the check proves nothing): the
        # requests to the database are logged ...
        self.assertGreater(len(output), 20000)
        self.assertTrue("POST /rest/v1/rpc/rcx_job_claim" in output
                        and "POST /rest/v1/rpc/rcx_job_succeed" in output,
                        "no database request in the debug log")
        # ... the key never (not printed: the log is large)
        self.assertFalse(key in output, "the service key is in the runner's output")
        self.assertFalse(signature in output, "the key's signature is in the runner's output")
        self.assertNotIn(key, " ".join(self.args(job, "a", "b")))

    # -- usage ------------------------------------------------------------------------
    def test_bad_ids_and_missing_configuration_are_usage_errors(self):
        job, media = self.make_job()
        dst = os.path.join(self.tmp, "out")
        for bad in ("../etc", "a/b", "", "x" * 129, "%2e"):
            r = self.run_job(bad, self.clip, dst)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("--job-id: not a valid id", r.stderr)
        r = self.run_job(job, self.clip, dst, "--worker-id", "bad worker")
        self.assertEqual(r.returncode, 2, r.stderr)
        for bad in ("9", "9s", "1.5m", "15x", "-20", ""):
            r = self.run_job(job, self.clip, dst, "--stale-after", bad)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("--stale-after", r.stderr)
        env = self.env()
        del env["SUPABASE_SERVICE_KEY"]
        r = self.run_job(job, self.clip, dst, env=env)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("SUPABASE_SERVICE_KEY", r.stderr)
        # a key the server refuses: a configuration error, nothing claimed
        r = self.run_job(job, self.clip, dst, env=self.env(SUPABASE_SERVICE_KEY="not-a-jwt"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("HTTP 401", r.stderr)
        self.assertNotIn("not-a-jwt", r.stderr)
        self.assertFalse(os.path.exists(dst))
        self.assertEqual(self.job(job)["state"], "queued")
        self.assertEqual(self.media(media)["status"], "uploaded")
        self.assertEqual(self.audit(job), [])


    # -- issue 9: ownership, lost answers, hostile replies, SIGTERM order ---------
    def long_clip(self):
        cls = type(self)
        if not getattr(cls, "long", None):
            cls.long = make_clip(os.path.join(cls.clips, "long.mp4"), seconds=120)
        return cls.long


    def test_taken_over_job_stops_at_once_and_deletes_nothing(self):
        job, media = self.make_job()
        dst = os.path.join(self.tmp, "out")
        proc = subprocess.Popen(self.args(job, self.long_clip(), dst), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env())
        self.addCleanup(rcxtest.stop_process, proc)
        playlist = os.path.join(dst, "180p", "index.m3u8")
        self.poll(lambda: self.job(job)["progress"] > 0 and os.path.exists(playlist), 90,
                  "progress and a live playlist")
        self.assertIsNone(proc.poll())
        # another worker takes the job over (as after a stale-looking pause);
        # one transaction holding the row, or a heartbeat (every 0.2 s) between
        # the backdating and the takeover makes the job live again
        with self.conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT 1 FROM jobs WHERE id = %s FOR UPDATE", (job,))
            cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute("UPDATE jobs SET updated_at = now() - interval '20 minutes' WHERE id = %s", (job,))
            cur.execute("SET LOCAL session_replication_role = DEFAULT")
            cur.execute("UPDATE jobs SET worker_id = 'new-worker' WHERE id = %s", (job,))
            cur.execute("COMMIT")
        taken = time.monotonic()
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - taken
        self.assertEqual(proc.returncode, 4, err)
        # the next heartbeat (0.2 s) is refused; the pipeline stops at once
        self.assertLess(took, 5, err)
        summary = json.loads(out)
        self.assertEqual(summary["status"], "not-ours")
        self.assertIn("lost ownership", err)
        # nothing deleted, nothing changed: the new worker's job as it was
        self.assertTrue(os.path.exists(playlist), "the taken-over worker deleted a playlist")
        j = self.job(job)
        self.assertEqual((j["state"], j["worker_id"], j["attempts"]), ("running", "new-worker", 2))
        self.assertEqual(self.media(media)["status"], "transcoding")
        self.assertNotIn("released", err)

    def test_lost_claim_answer_is_our_claim(self):
        job, media = self.make_job()
        with FaultProxy(self.rest.port) as proxy:
            # the claim is committed, its answer cut: rcx-http sends it again
            proxy.add_fault("reset", method="POST", path="rpc/rcx_job_claim", after_bytes=0, count=1)
            r = self.run_job(job, self.clip, os.path.join(self.tmp, "out"),
                             env=self.env(SUPABASE_URL=proxy.endpoint))
            claims = proxy.requests(method="POST", path="rpc/rcx_job_claim")
        self.assertEqual(len(claims), 2, claims)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["status"], "succeeded")
        j = self.job(job)
        self.assertEqual((j["state"], j["attempts"], j["worker_id"]), ("succeeded", 1, "test-worker"))
        self.assertEqual(self.media(media)["status"], "complete")

    def test_hostile_claim_answer_is_an_error_not_a_crash(self):
        for body in (b"[{}]", b"{}", b"null", b"[1]", b'{"outcome": "claimed"}',
                     b'{"outcome": "claimed", "job": {}}'):
            job, media = self.make_job()
            self.rest.answer_next(1, body)
            r = self.run_job(job, self.clip, os.path.join(self.tmp, "out"))
            self.assertEqual(r.returncode, 3, (body, r.returncode, r.stderr))
            summary = json.loads(r.stdout)
            self.assertEqual((summary["status"], summary["failure_kind"]), ("released", "transient"))
            self.assertIn("rcx_job_claim: the answer", r.stderr)
            self.assertEqual(self.job(job)["state"], "queued")
            self.assertEqual(self.media(media)["status"], "uploaded")

    def test_exhausted_attempts_fail_the_job(self):
        job, media = self.make_job()
        with self.conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
            cur.execute("UPDATE jobs SET attempts = jobs_max_attempts() WHERE id = %s", (job,))
            cur.execute("SET session_replication_role = DEFAULT")
        r = self.run_job(job, self.clip, os.path.join(self.tmp, "out"))
        self.assertEqual(r.returncode, 1, r.stderr)
        summary = json.loads(r.stdout)
        self.assertEqual((summary["status"], summary["failure_kind"]), ("failed", "permanent"))
        self.assertIn("attempts exhausted (5 of 5)", summary["reason"])
        j = self.job(job)
        self.assertEqual((j["state"], j["error_reason"]), ("failed", summary["reason"]))
        self.assertEqual(self.media(media)["status"], "failed")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out")))

    def start_live_job_behind_proxy(self, job, *extra):
        """The long clip to s3://media/out/ on s3rver through the fault proxy,
        running until a live playlist went up and progress was written:
        (s3rver, proxy, process)."""
        s3 = self.start(rcxtest.S3rver(buckets=("media",)))
        proxy = self.start(FaultProxy(s3.port))
        env = s3.env(proxy.endpoint)
        env.update(self.env())
        proc = subprocess.Popen(self.args(job, self.long_clip(), "s3://media/out/", *extra),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(rcxtest.stop_process, proc)
        self.poll(lambda: proxy.requests(method="PUT", path="index.m3u8") and self.job(job)["progress"] > 0,
                  90, "a live playlist and progress")
        self.assertIsNone(proc.poll())
        return s3, proxy, proc

    def test_sigterm_releases_first_with_a_stalled_storage(self):
        job, media = self.make_job()
        s3, proxy, proc = self.start_live_job_behind_proxy(job, "--shutdown-timeout", "2")
        # the storage stops answering deletes (the cleanup after SIGTERM)
        proxy.add_fault("stall", method="DELETE", after_bytes=0, seconds=120, count=None)
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        self.poll(lambda: self.job(job)["state"] == "queued", 1.0, "the release within a second")
        released = time.monotonic() - start
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - start
        print(f"SIGTERM -> queued in {released:.2f} s, exit in {took:.2f} s", file=sys.stderr)
        self.assertEqual(proc.returncode, 3, err)
        self.assertLess(took, 2 + 2 + 1.5, err)
        self.assertEqual(json.loads(out)["status"], "released")
        self.assertEqual(self.media(media)["status"], "uploaded")
        self.assertTrue(proxy.requests(method="DELETE"), "no cleanup was tried")

    # -- half-published streams -----------------------------------------------------
    def test_unpublish_outage_releases_the_job(self):
        """The storage goes away after the first segments: the attempt fails and
        its live playlists cannot be deleted. The job is released (exit 3, queued),
        not failed with a half-published stream; a later attempt re-runs it."""
        job, media = self.make_job()
        # no retry window: each request's own attempts only, so the outage
        # fails the attempt (and the deletes after it) within seconds
        s3, proxy, proc = self.start_live_job_behind_proxy(job, "--retry-timeout", "0")
        proxy.outage(120)
        out, err = proc.communicate(timeout=90)
        self.assertEqual(proc.returncode, 3, err[-3000:])
        summary = json.loads(out)
        self.assertEqual((summary["status"], summary["failure_kind"]), ("released", "transient"), summary)
        self.assertIn("could not be reached to take the playlists down", summary["reason"])
        self.assertIn(".m3u8: ", summary["reason"])
        self.assertEqual(self.job(job)["state"], "queued")
        self.assertEqual(self.media(media)["status"], "uploaded")
        # the deletes were tried, and the live playlist is still up
        self.assertIn("could not delete 180p/index.m3u8 after the failure", err)
        keys = {o["Key"] for o in s3.boto3().list_objects_v2(Bucket="media", Prefix="out/")["Contents"]}
        self.assertIn("out/180p/index.m3u8", keys)
        # a later attempt (the storage back) runs the job again and replaces it
        env = s3.env()
        env.update(self.env())
        r = self.run_job(job, self.clip, "s3://media/out/", env=env)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertEqual(self.job(job)["state"], "succeeded")
        playlist = s3.boto3().get_object(Bucket="media", Key="out/180p/index.m3u8")["Body"].read()
        self.assertIn(b"#EXT-X-ENDLIST", playlist)

    def test_exhausted_attempts_take_down_what_an_earlier_attempt_left(self):
        """An earlier attempt left its live playlists up (killed mid-way, or the
        storage unreachable when it failed); the job's attempts are used up, so
        the next claim fails it without running: that run takes them down."""
        job, media = self.make_job()
        s3 = self.start(rcxtest.S3rver(buckets=("media",)))
        client = s3.boto3()
        live = b"#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:2.0,\nsegment00000.ts\n"
        for key in ("out/master.m3u8", "out/180p/index.m3u8", "out/180p/segment00000.ts"):
            client.put_object(Bucket="media", Key=key, Body=live)
        with self.conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
            cur.execute("UPDATE jobs SET attempts = jobs_max_attempts() WHERE id = %s", (job,))
            cur.execute("SET session_replication_role = DEFAULT")
        env = s3.env()
        env.update(self.env())
        r = self.run_job(job, self.clip, "s3://media/out/", env=env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(json.loads(r.stdout)["status"], "failed")
        self.assertEqual(self.job(job)["state"], "failed")
        keys = {o["Key"] for o in client.list_objects_v2(Bucket="media", Prefix="out/").get("Contents", [])}
        # the playlists are down; the segments stay (as after a failed attempt)
        self.assertEqual(keys, {"out/180p/segment00000.ts"})


if __name__ == "__main__":
    rcxtest.main()
