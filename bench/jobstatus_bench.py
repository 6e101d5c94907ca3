#!/usr/bin/python3
"""Cost of jobstatus per buffer, and that the database never slows a stream.

    bench/jobstatus_bench.py [--buffers 2000000] [--build-dir build]

Pushes `--buffers` small buffers as fast as possible (fakesrc ! ... !
fakesink sync=false) through:

  identity                     the baseline pass-through
  jobstatus                    messages only (update-freq 1 s)
  jobstatus + Supabase         progress written every 0.1 s to our PostgREST
                               fake over a real PostgreSQL
  jobstatus + stalled REST     every answer stalls 30 s (writes never land)
  jobstatus + REST down        connection refused

Not a test: prints one line per case (wall time, buffers/s, peak RSS of the
gst-launch process, database writes seen by the server). The three
database cases should run at the speed of `jobstatus` alone.
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))

import rcxtest  # noqa: E402
from postgres import Postgres  # noqa: E402
from postgrest_fake import PostgrestFake  # noqa: E402


def launch(desc, env):
    t0 = time.monotonic()
    p = subprocess.Popen(["gst-launch-1.0"] + desc.split(), env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, rusage = os.wait4(p.pid, 0)
    if status != 0:
        raise RuntimeError(f"gst-launch failed: {out[-2000:]}")
    # "Execution ended after 0:00:01.234": PLAYING to EOS, without the stop
    m = re.search(r"Execution ended after (\d+):(\d+):([\d.]+)", out)
    run = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    return run, time.monotonic() - t0, rusage.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--buffers", type=int, default=2000000)
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    args = ap.parse_args()
    env = rcxtest.gst_env({"GST_PLUGIN_PATH": os.path.join(os.path.abspath(args.build_dir), "plugins")})
    n = args.buffers
    # 1 ms buffers: the stream is n ms long
    src = (f"fakesrc num-buffers={n} sizetype=fixed sizemax=64 filltype=nothing datarate=64000 "
           "format=time is-live=false")
    dur = n * 1000000

    with Postgres() as pg, PostgrestFake(pg.dsn) as rest:
        conn = pg.connect()
        with conn.cursor() as cur:
            cur.execute("INSERT INTO media_assets (org_id) VALUES (gen_random_uuid()) RETURNING id, org_id")
            media, org = cur.fetchone()
            cur.execute("INSERT INTO jobs (media_id, org_id) VALUES (%s, %s) RETURNING id", (media, org))
            job = cur.fetchone()[0]
            cur.execute("UPDATE jobs SET state = 'running', worker_id = 'bench' WHERE id = %s", (job,))
        db_env = dict(env, SUPABASE_URL=rest.url, SUPABASE_SERVICE_KEY=rest.service_key)
        js = f"jobstatus job-id={job} duration={dur} update-freq=1"
        cases = [
            ("identity", f"{src} ! identity ! fakesink sync=false", env, None),
            ("jobstatus", f"{src} ! {js} ! fakesink sync=false", env, None),
            ("jobstatus + Supabase", f"{src} ! {js} db-interval=0.1 ! fakesink sync=false", db_env, "up"),
            ("jobstatus + stalled REST",
             f"{src} ! {js} db-interval=0.1 db-flush-timeout=0.2 ! fakesink sync=false", db_env, "stall"),
            ("jobstatus + REST down",
             f"{src} ! {js} db-interval=0.1 db-flush-timeout=0.2 ! fakesink sync=false", db_env, "down"),
        ]
        print(f"{n} buffers of 1 ms; 'to EOS' is PLAYING -> EOS, 'total' adds start-up and stop "
              "(where the writer gets db-flush-timeout to store the last value)")
        launch(cases[0][1], env)     # warm-up: registry, page cache
        for name, desc, e, mode in cases:
            rest.delay = 30 if mode == "stall" else 0
            if mode == "down":
                rest.stop()
            rest.clear_log()
            run, wall, rss = launch(desc, e)
            writes = len(rest.request_log("PATCH", "jobs"))
            print(f"{name:26s} to EOS {run:6.2f} s {n / run:10.0f} buffers/s  total {wall:5.2f} s  "
                  f"peak RSS {rss / 1024:6.1f} MiB  writes {writes}")
            if mode == "stall":
                rest.stop()
                rest.start()
            if mode == "down":
                rest.start()


if __name__ == "__main__":
    main()
