#!/usr/bin/python3
"""Storage weather, the issue's figures: S3 to S3 transcodes of a 1080p clip
through tests/fixtures/faultproxy.py in front of s3rver.

    bench/storage-weather.py [--build build] [--runs 10] [--seconds 20]
                             [--outage 120] [--outage-clip-seconds 90]
                             [--retry-timeout 240] [--skip-weather] [--skip-outage]

- weather: --runs jobs of a --seconds 1080p30 clip (testsrc2 with light
  noise, x264, AAC) with every 3rd upload above 1 MiB cut (RST) after
  1 MiB and every 5th request answered 503 SlowDown (the issue's mix).
  Prints per run: exit status, wall time, faults fired, and whether
  tests/hlscheck.py passes on the result; then N of M finished.
- outage: one job of an --outage-clip-seconds clip; once its first segment
  is stored, the storage refuses every request for --outage seconds. Prints
  the exit status, wall time, the job's RSS before and at its peak during
  the outage (sampled every 0.5 s), and hlscheck.

Before today's retry window a single segment PUT that failed its three
attempts failed the job (3 failures in 6 runs of this mix).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests"))

BUCKET = "media"
SRC_KEY = "org-1/media-1/original.mp4"
DST = "org-1/media-1/hls/"
MiB = 1 << 20


def make_clip(path, seconds):
    if os.path.exists(path):
        return path
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds},noise=alls=8:allf=t",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                    "-ac", "2", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "12M", "-maxrate", "14M",
                    "-bufsize", "14M", "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k",
                    "-movflags", "+faststart", path + ".tmp.mp4"], check=True)
    os.rename(path + ".tmp.mp4", path)
    return path


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(SOURCE_DIR, "build"))
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--outage", type=float, default=120)
    ap.add_argument("--outage-clip-seconds", type=int, default=90)
    ap.add_argument("--retry-timeout", type=int, default=240)
    ap.add_argument("--skip-weather", action="store_true")
    ap.add_argument("--skip-outage", action="store_true")
    args = ap.parse_args()

    os.environ.setdefault("RCX_BUILD_DIR", os.path.abspath(args.build))
    os.environ.setdefault("RCX_SOURCE_DIR", SOURCE_DIR)
    import rcxtest
    import hlscheck
    from faultproxy import FaultProxy

    cache = os.path.join(args.build, "bench")
    os.makedirs(cache, exist_ok=True)
    runner = os.path.join(args.build, "runner", "rugbycodex-runner")

    def run_job(s3, proxy, clip, during=None):
        """One job; @during(proc) runs while it does. Returns a dict."""
        client = s3.boto3()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=DST):
            for o in page.get("Contents", []):
                client.delete_object(Bucket=BUCKET, Key=o["Key"])
        client.upload_file(clip, BUCKET, SRC_KEY)
        proxy.clear_log()
        env = rcxtest.gst_env(s3.env(proxy.endpoint))
        t0 = time.monotonic()
        proc = subprocess.Popen([runner, "transcode", "--progress", "none", "--retry-timeout",
                                 str(args.retry_timeout), f"s3://{BUCKET}/{SRC_KEY}", f"s3://{BUCKET}/{DST}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        extra = during(proc) if during else {}
        out, err = proc.communicate()
        took = time.monotonic() - t0
        log = proxy.log
        res = dict(code=proc.returncode, seconds=took, requests=len(log),
                   resets=sum(1 for e in log if e["fault"] == "reset"),
                   slowdowns=sum(1 for e in log if e["fault"] == "error"),
                   refused=sum(1 for e in log if e["fault"] == "outage"), **extra)
        if proc.returncode == 0:
            rep = hlscheck.check(f"{s3.endpoint}/{BUCKET}/{DST}master.m3u8", source=clip)
            res["hlscheck"] = "ok" if rep.ok else rep.text()[:500]
            res["speed"] = json.loads(out).get("speed")
        else:
            res["error"] = [x for x in err.splitlines() if "error:" in x][-1:]
        client.close()
        return res

    with rcxtest.S3rver(buckets=(BUCKET,)) as s3, FaultProxy(s3.port) as proxy:
        if not args.skip_weather:
            clip = make_clip(os.path.join(cache, f"weather-1080p-{args.seconds}s.mp4"), args.seconds)
            proxy.add_fault("reset", method="PUT", upload_bytes=MiB, every=3, count=None)
            proxy.add_fault("error", status=503, code="SlowDown", every=5, count=None)
            finished = 0
            for i in range(args.runs):
                res = run_job(s3, proxy, clip)
                finished += res["code"] == 0 and res.get("hlscheck") == "ok"
                print(f"weather run {i + 1}: {json.dumps(res)}", flush=True)
            print(f"weather: {finished} of {args.runs} finished with a checker-clean stream", flush=True)
            proxy.clear_faults()

        if not args.skip_outage:
            clip = make_clip(os.path.join(cache, f"outage-1080p-{args.outage_clip_seconds}s.mp4"),
                             args.outage_clip_seconds)

            def during(proc):
                while not proxy.requests(method="PUT", path=r"\.ts$"):
                    if proc.poll() is not None:
                        return {"outage": "the job ended before its first segment"}
                    time.sleep(0.1)
                before = rss_kb(proc.pid)
                t_out = time.monotonic()
                proxy.outage(args.outage)
                peak = 0
                while not proxy.up.is_set() and proc.poll() is None:
                    peak = max(peak, rss_kb(proc.pid))
                    time.sleep(0.5)
                return {"outage_s": args.outage,
                        "rss_before_mib": before // 1024, "rss_peak_during_mib": peak // 1024,
                        "alive_after_outage": proc.poll() is None,
                        "outage_measured_s": round(time.monotonic() - t_out, 1)}

            res = run_job(s3, proxy, clip, during)
            print(f"outage run: {json.dumps(res)}", flush=True)


if __name__ == "__main__":
    main()
