#!/usr/bin/python3
"""The worker image, really run (scripts/container-test.sh builds it first
and passes its name in RCX_IMAGE).

- the image: non-root, tini as PID 1, the NVIDIA capabilities, the worker
  as entrypoint with a HEALTHCHECK, the runtime packages of
  scripts/packages/runtime.txt and none of build.txt, our elements
  registered by the entrypoint's registry rebuild;
- a transcode inside the container against s3rver on 127.0.0.1 (host
  network), timed against the same job on the host;
- job mode (transcode --job-id) inside the container against PostgreSQL +
  the PostgREST fake, and `podman stop --time 120` during such a job: the
  job is back to queued, nothing of the ladder is published, the container
  exits well inside the 120 s;
- the worker: a job message sent to the SQS fake runs to succeeded (outputs
  in s3rver, rows complete, message deleted) with the container healthy;
  then `podman stop --time 120` during a second job: the job was released
  and its message is visible again (not after the 600 s visibility) by the
  time the container died.

Figures (container vs host job time, stop -> exit time) go to stderr."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
import rcxtest  # noqa: E402
from postgres import TEST_ORG, JobRows, Postgres  # noqa: E402
from postgrest_fake import PostgrestFake  # noqa: E402
from sqs_fake import SqsFake  # noqa: E402
from test_runner_jobs import make_clip, one_rung_description  # noqa: E402

IMAGE = os.environ.get("RCX_IMAGE", "rugbycodex:test")
PODMAN = ["podman", "--runtime", "runc"]
STOP_TIMEOUT = 120   # the task definition's stopTimeout
FIGURES = {}


def podman(*args, check=True, timeout=300):
    r = subprocess.run(PODMAN + list(args), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def package_list(name):
    with open(os.path.join(rcxtest.SOURCE_DIR, "scripts", "packages", name + ".txt")) as f:
        return [w for line in f for w in line.split("#", 1)[0].split()]


def poll(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def env_args(env):
    out = []
    for k, v in env.items():
        out += ["-e", f"{k}={v}"]
    return out


class ContainerTest(JobRows, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="rcx-container-")
        os.chmod(cls.dir, 0o755)
        cls.clip = make_clip(os.path.join(cls.dir, "match.mp4"), 6)
        cls.long_clip = make_clip(os.path.join(cls.dir, "long.mp4"), 240)
        cls.desc = one_rung_description(os.path.join(cls.dir, "one-rung.json"))
        os.chmod(cls.desc, 0o644)   # read by the container's user
        cls.s3 = rcxtest.S3rver(buckets=("test",)).start()
        cls.pg = Postgres().start()
        cls.rest = PostgrestFake(cls.pg.dsn).start()
        cls.s3c = cls.s3.boto3()
        cls.s3c.upload_file(cls.clip, "test", "in/match.mp4")
        cls.s3c.upload_file(cls.long_clip, "test", "in/long.mp4")

    @classmethod
    def tearDownClass(cls):
        cls.rest.close()
        cls.pg.stop()
        cls.s3.stop()
        shutil.rmtree(cls.dir, True)
        for k, v in FIGURES.items():
            print(f"FIGURE {k}: {v}", file=sys.stderr)

    def setUp(self):
        self.conn = self.pg.connect()
        self.addCleanup(self.conn.close)

    # -- helpers ----------------------------------------------------------------
    def storage_env(self):
        return {"AWS_ACCESS_KEY_ID": rcxtest.S3RVER_KEY, "AWS_SECRET_ACCESS_KEY": rcxtest.S3RVER_SECRET,
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": self.s3.endpoint,
                "AWS_EC2_METADATA_DISABLED": "true"}

    def db_env(self):
        return {"SUPABASE_URL": self.rest.url, "SUPABASE_SERVICE_KEY": self.rest.service_key}

    def run_args(self, env, name=None, detach=False):
        args = ["run", "--network=host", "-v", f"{self.dir}:/job:ro"]
        args += ["-d"] if detach else ["--rm"]
        if name:
            args += ["--name", name]
        return args + env_args(env) + [IMAGE]

    def keys(self, prefix):
        r = self.s3c.list_objects_v2(Bucket="test", Prefix=prefix)
        return sorted(o["Key"] for o in r.get("Contents", []))

    def job(self, job_id):
        cols = ("state", "worker_id", "progress", "error_reason")
        return dict(zip(cols, self.sql(f"SELECT {', '.join(cols)} FROM jobs WHERE id = %s", job_id)[0]))

    def media_status(self, media_id):
        return self.sql("SELECT status, streaming_url FROM media_assets WHERE id = %s", media_id)[0]

    def container_gone(self, name):
        self.addCleanup(podman, "rm", "-f", name, check=False)

    # -- the image --------------------------------------------------------------
    def test_image_configuration(self):
        image = json.loads(podman("image", "inspect", IMAGE).stdout)[0]
        cfg = image["Config"]
        self.assertEqual(cfg["Entrypoint"][:2], ["/usr/bin/tini", "--"])
        self.assertEqual(cfg["Cmd"], ["worker"])
        self.assertIn("NVIDIA_DRIVER_CAPABILITIES=compute,video,utility", cfg["Env"])
        # the NVRTC that cudascale needs resolves by the name the image gives GStreamer
        r = podman("run", "--rm", "--entrypoint", "sh", IMAGE, "-c",
                   'test -n "$GST_CUDA_NVRTC_LIBNAME" && ldconfig -p | grep "^[[:space:]]*$GST_CUDA_NVRTC_LIBNAME "',
                   check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(cfg["User"], "rcx")
        # podman keeps a docker-format image's HEALTHCHECK beside Config
        health = image.get("Healthcheck") or cfg.get("Healthcheck")
        self.assertEqual(health["Test"], ["CMD", "/usr/bin/rugbycodex-runner", "health"])
        r = podman("run", "--rm", "--entrypoint", "id", IMAGE, "-u")
        self.assertNotEqual(r.stdout.strip(), "0", "the worker does not run as root")
        r = podman("run", "--rm", IMAGE, "--help")
        self.assertIn("worker", r.stdout)
        self.assertIn("rcx-entrypoint: nvcodec", r.stderr, "the entrypoint rebuilt the registry")

    def test_packages_runtime_only(self):
        r = podman("run", "--rm", "--entrypoint", "dpkg-query", IMAGE, "-W", "-f", "${Package}\\n")
        installed = set(r.stdout.split())
        self.assertEqual([p for p in package_list("runtime") + package_list("image") if p not in installed], [])
        self.assertEqual([p for p in package_list("build") if p in installed], [],
                         "no compiler or headers in the final stage")

    def test_elements_registered(self):
        for element in ("wasabisrc", "wasabihlssink", "jobstatus", "x264enc", "avdec_h264"):
            with self.subTest(element):
                podman("run", "--rm", "--entrypoint", "sh", IMAGE, "-c",
                       f"/usr/local/bin/rcx-entrypoint --help >/dev/null 2>&1; gst-inspect-1.0 {element} >/dev/null")

    def test_health_without_worker_is_unhealthy(self):
        r = podman("run", "--rm", IMAGE, "health", check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)

    # -- a transcode in the container against s3rver ----------------------------------
    def test_transcode_against_s3rver(self):
        env = self.storage_env()
        t0 = time.monotonic()
        r = podman(*self.run_args(env), "transcode", "--description", "/job/one-rung.json", "--progress", "none",
                   "s3://test/in/match.mp4", "s3://test/out-container/")
        container_s = time.monotonic() - t0
        summary = json.loads(r.stdout)
        self.assertEqual(summary["status"], "succeeded", r.stderr)
        keys = self.keys("out-container/")
        self.assertIn("out-container/master.m3u8", keys)
        self.assertIn("out-container/180p/index.m3u8", keys)
        self.assertIn("out-container/thumbnail.jpg", keys)
        host_env = dict(rcxtest.gst_env(), **env)
        t0 = time.monotonic()
        h = subprocess.run([rcxtest.RUNNER, "transcode", "--description", self.desc, "--progress", "none",
                            "s3://test/in/match.mp4", "s3://test/out-host/"], env=host_env,
                           capture_output=True, text=True, timeout=300)
        host_s = time.monotonic() - t0
        self.assertEqual(h.returncode, 0, h.stderr)
        self.assertEqual([k.split("/", 1)[1] for k in self.keys("out-host/")],
                         [k.split("/", 1)[1] for k in keys], "the same ladder in and out of the container")
        FIGURES["6 s clip, one 180p rung, s3rver -> s3rver: container (podman run incl. start)"] = f"{container_s:.2f} s"
        FIGURES["6 s clip, one 180p rung, s3rver -> s3rver: host"] = f"{host_s:.2f} s"

    # -- job mode and podman stop ------------------------------------------------------
    def test_job_mode_then_stop_mid_job(self):
        job, media = self.make_job("in/match.mp4")
        env = dict(self.storage_env(), **self.db_env())
        r = podman(*self.run_args(env), "transcode", "--job-id", job, "--worker-id", "container-1",
                   "--description", "/job/one-rung.json", "--progress", "none",
                   "s3://test/in/match.mp4", f"s3://test/jobs/{job}/")
        self.assertEqual(json.loads(r.stdout)["status"], "succeeded", r.stderr)
        self.assertEqual(self.job(job)["state"], "succeeded")
        self.assertEqual(self.media_status(media)[0], "complete")
        self.assertIn(f"jobs/{job}/master.m3u8", self.keys(f"jobs/{job}/"))

        job, media = self.make_job("in/long.mp4")
        name = f"rcx-stop-{uuid.uuid4().hex[:8]}"
        self.container_gone(name)
        podman(*self.run_args(env, name=name, detach=True), "transcode", "--job-id", job,
               "--worker-id", "container-2", "--description", "/job/one-rung.json", "--progress", "none",
               "--job-progress-interval", "0.2", "s3://test/in/long.mp4", f"s3://test/jobs/{job}/")
        poll(lambda: self.job(job)["state"] == "running" and (self.job(job)["progress"] or 0) > 0, 120,
             "the job to run with progress")
        t0 = time.monotonic()
        podman("stop", "--time", str(STOP_TIMEOUT), name, timeout=STOP_TIMEOUT + 30)
        stop_s = time.monotonic() - t0
        state = json.loads(podman("inspect", name).stdout)[0]["State"]
        logs = podman("logs", name).stderr
        self.assertIn(state["ExitCode"], (1, 3), f"released and interrupted, not killed:\n{logs}")
        j = self.job(job)
        self.assertEqual(j["state"], "queued", logs)
        self.assertEqual(self.media_status(media)[0], "uploaded")
        self.assertNotIn(f"jobs/{job}/master.m3u8", self.keys(f"jobs/{job}/"))
        self.assertLess(stop_s, 30, "SIGTERM reached the runner through tini (no SIGKILL at 120 s)")
        FIGURES["podman stop during a job -> container exited, job queued"] = f"{stop_s:.2f} s (exit {state['ExitCode']})"

    # -- the worker ----------------------------------------------------------------------
    def test_worker_runs_a_message_then_stops_mid_job(self):
        sqs = SqsFake(secrets={rcxtest.S3RVER_KEY: rcxtest.S3RVER_SECRET}).start()
        self.addCleanup(sqs.stop)
        sqs.create_queue("jobs-dlq")
        url = sqs.create_queue("jobs", {"VisibilityTimeout": "600", "ReceiveMessageWaitTimeSeconds": "20"})
        sqs.set_redrive("jobs", "jobs-dlq", 5)
        client = __import__("boto3").client("sqs", endpoint_url=sqs.endpoint, region_name="us-east-1",
                                            aws_access_key_id=sqs.key, aws_secret_access_key=sqs.secret)

        def send(job, media):
            client.send_message(QueueUrl=url, MessageBody=json.dumps(
                {"job_id": job, "media_id": media, "org_id": TEST_ORG}))

        env = dict(self.storage_env(), **self.db_env(), RCX_QUEUE_URL=url, AWS_ENDPOINT_URL_SQS=sqs.endpoint,
                   RCX_BUCKET="test")
        name = f"rcx-worker-{uuid.uuid4().hex[:8]}"
        self.container_gone(name)
        podman(*self.run_args(env, name=name, detach=True), "worker", "--worker-id", "ctest",
               "--description", "/job/one-rung.json", "--child-arg=--job-progress-interval=0.2")
        poll(lambda: podman("healthcheck", "run", name, check=False).returncode == 0, 60,
             "the worker container to be healthy")

        job, media = self.make_job("in/match.mp4")
        t0 = time.monotonic()
        send(job, media)
        poll(lambda: self.job(job)["state"] == "succeeded", 180, "the first job to succeed")
        poll(lambda: sqs.messages("jobs") == [], 30, "the message to be deleted")
        job_s = time.monotonic() - t0
        status, url_master = self.media_status(media)
        self.assertEqual(status, "complete")
        self.assertTrue(url_master.endswith(f"{TEST_ORG}/{media}/hls/master.m3u8"), url_master)
        self.assertIn(f"{TEST_ORG}/{media}/hls/master.m3u8", self.keys(f"{TEST_ORG}/{media}/"))
        FIGURES["worker in container: message sent -> job succeeded and message deleted (6 s clip)"] = f"{job_s:.2f} s"

        job, media = self.make_job("in/long.mp4")
        send(job, media)
        poll(lambda: self.job(job)["state"] == "running" and (self.job(job)["progress"] or 0) > 0, 120,
             "the second job to run")
        (msg,) = sqs.messages("jobs")
        self.assertTrue(msg["in_flight"])
        t0 = time.monotonic()
        podman("stop", "--time", str(STOP_TIMEOUT), name, timeout=STOP_TIMEOUT + 30)
        died = time.monotonic()
        state = json.loads(podman("inspect", name).stdout)[0]["State"]
        logs = podman("logs", name)
        self.assertEqual(state["ExitCode"], 0, f"the worker stops cleanly on SIGTERM:\n{logs.stdout[-3000:]}")
        self.assertEqual(self.job(job)["state"], "queued")
        (msg,) = sqs.messages("jobs")
        self.assertTrue(msg["visible"], "handed back at once, not after the 600 s visibility")
        handed_back = [e for e in sqs.requests("ChangeMessageVisibility") if e["status"] == 200 and e["time"] < died]
        self.assertTrue(handed_back, "the visibility change came before the container died")
        self.assertLess(died - t0, 60, "well inside stopTimeout")
        FIGURES["podman stop of the worker mid-job -> container exited, job queued, message visible"] = \
            f"{died - t0:.2f} s"


if __name__ == "__main__":
    unittest.main(verbosity=2)
