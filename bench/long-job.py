#!/usr/bin/python3
"""Memory over a two-hour match: does RSS stay flat, segment after segment?

    bench/long-job.py [--build build] [--minutes 120] [--fps 5] [--interval 2]
                      [--cases runner-folder,runner-s3,gst-launch,hlssink2]
                      [--env NAME=VALUE ...] [--size 320x180] [--ladder FILE]
                      [--csv FILE] [--keep DIR]

A real job is a 2-hour match: ~1200 6 s segments per rung. What grows with a
job's length grows per segment and per rung, not per pixel, so the source is
small (testsrc2 320x180 at 5 fps with 16 kHz mono AAC, --minutes long, made
once with ffmpeg and cached in BUILD/bench/) and the ladder is
bench/long-job-ladder.json: the default ladder's GOP (2 s), segment length
(6 s), encoders and outputs, with two small rungs (180p, 90p). A 2-hour job
runs in a few minutes on 2 cores.

Cases, each a separate process sampled every --interval seconds
(/proc/PID/status VmRSS) together with how many segments the rungs have
written (the lowest count of the rungs; files in the output folder, objects
in s3rver's folder):

- runner-folder: `rugbycodex-runner transcode -d bench/long-job-ladder.json
  SRC DIR/` (wasabihlssink to a folder, EVENT playlists after each segment).
- runner-s3: the same to s3://bench/hls/ on s3rver (tests/fixtures/rcxtest.py,
  127.0.0.1, a free port).
- gst-launch: the runner's `pipeline --print SRC DIR/` line under
  gst-launch-1.0 (no runner: no bus watchdog, thumbnail or master).
- hlssink2: the same line with each wasabihlssink replaced by a plain
  hlssink2 writing to the folder (max-files=0 playlist-length=0: unbounded,
  what wasabihlssink gave it before it used 1 and 1).
- minimal, minimal-bounded (GStreamer alone, no element of ours, no
  decoder, no audio): per rung `videotestsrc ! x264enc ! h264parse !
  hlssink2` with the same frame count, sizes, GOP and segment length;
  hlssink2 with max-files=0 playlist-length=0 (unbounded) or 1 and 1.

For each: RSS after 50 segments, RSS at the end (the last sample, taken at
most --interval before the process exits), the difference (target: <= 20 MB
on a 2-hour job, runner and gst-launch alike), growth per segment per rung
((end - at 50) / (segments - 50) / rungs), the slope of a least-squares line
through the samples after 50 segments (less sensitive to the one last
sample), peak RSS and wall time. --env adds variables to every case (e.g.
MALLOC_ARENA_MAX=2, or GST_TRACERS=leaks) to compare allocator settings side
by side. Wall times are noisy on a shared machine; RSS much less so.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import hlscheck  # noqa: E402
import rcxtest  # noqa: E402

FF = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
LADDER = os.path.join(HERE, "long-job-ladder.json")
RUNGS = ["180p", "90p"]  # the rungs of --ladder (set in main)
CASES = ("runner-folder", "runner-s3", "gst-launch", "hlssink2", "minimal", "minimal-bounded")
AT = 50


def make_input(build, minutes, fps, size):
    d = os.path.join(build, "bench")
    os.makedirs(d, exist_ok=True)
    secs = int(minutes * 60)
    path = os.path.join(d, f"long-{size}-{fps}fps-{secs}s.mp4")
    if not os.path.exists(path):
        tmp = path + ".tmp.mp4"
        subprocess.run(FF + ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={secs}",
                             "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=16000:duration={secs}",
                             "-ac", "1", "-c:v", "libx264", "-preset", "ultrafast", "-g", str(2 * fps),
                             "-crf", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "24k",
                             "-movflags", "+faststart", tmp], check=True)
        os.rename(tmp, path)
    return path


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def count_segments(folder):
    """Lowest number of segments over the rungs under folder (any depth)."""
    counts = dict.fromkeys(RUNGS, 0)
    for dirpath, _, files in os.walk(folder):
        rung = os.path.basename(dirpath)
        if rung in counts:
            counts[rung] += sum(1 for f in files if f.startswith("segment")
                                  and f.endswith((".ts", ".ts._S3rver_object")))
            if "index.m3u8" in files:
                # a bounded hlssink2 deletes old segments: its playlist's
                # media sequence counts them
                try:
                    with open(os.path.join(dirpath, "index.m3u8")) as f:
                        text = f.read()
                except OSError:
                    continue
                m = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
                listed = (int(m.group(1)) if m else 0) + text.count("#EXTINF")
                counts[rung] = max(counts[rung], listed)
    return min(counts.values())


def launch_tokens(runner, env, src, out, ladder):
    """The runner's gst-launch-1.0 line for SRC -> OUT, as argv."""
    r = subprocess.run([runner, "pipeline", "--print", "-d", ladder, src, out + "/"],
                       capture_output=True, text=True, env=env, check=True)
    argv = shlex.split(r.stdout.strip())
    if argv[0] != "gst-launch-1.0":
        raise RuntimeError(f"unexpected --print output: {r.stdout[:200]}")
    return argv


def plain_hlssink2(argv, out):
    """argv with every `wasabihlssink name=hlsN ...` replaced by hlssink2."""
    res = []
    i = 0
    while i < len(argv):
        if argv[i] == "wasabihlssink":
            name = argv[i + 1].split("=", 1)[1]
            i += 2
            props = {}
            while i < len(argv) and "=" in argv[i] and argv[i] != "!":
                k, v = argv[i].split("=", 1)
                props[k] = v
                i += 1
            folder = os.path.join(out, os.path.basename(props["location"].rstrip("/")))
            os.makedirs(folder, exist_ok=True)
            res += ["hlssink2", f"name={name}", f"location={folder}/{props['segment-name']}",
                    f"playlist-location={folder}/{props['playlist-name']}",
                    f"target-duration={props['target-duration']}", "max-files=0", "playlist-length=0"]
        else:
            res.append(argv[i])
            i += 1
    return res


def minimal_line(out, ladder, args, bounded):
    """videotestsrc ! x264enc ! h264parse ! hlssink2 per rung, GStreamer only."""
    with open(ladder) as f:
        desc = json.load(f)
    w, h = (int(x) for x in args.size.split("x"))
    frames = int(args.minutes * 60 * args.fps)
    gop = int(desc["gop-seconds"] * args.fps)
    keep = "1" if bounded else "0"
    argv = []
    for rung in desc["ladder"]:
        rh = rung["height"]
        rw = (w * rh // h) // 2 * 2
        folder = os.path.join(out, rung["name"])
        os.makedirs(folder, exist_ok=True)
        argv += ["videotestsrc", f"num-buffers={frames}", "pattern=ball", "!",
                 f"video/x-raw,format=I420,width={rw},height={rh},framerate={args.fps}/1", "!",
                 "x264enc", "speed-preset=veryfast", f"bitrate={rung['bitrate']}", f"key-int-max={gop}",
                 "bframes=2", "b-adapt=false", "option-string=scenecut=0", "!", "h264parse", "!",
                 "hlssink2", f"location={folder}/segment%05d.ts", f"playlist-location={folder}/index.m3u8",
                 f"target-duration={int(desc['segment-seconds'])}", f"max-files={keep}",
                 f"playlist-length={keep}"]
    return argv


def run_case(cmd, env, count_in, interval, csv=None, name=""):
    t0 = time.monotonic()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=env)
    samples = []  # (seconds, segments, rss kB)
    while proc.poll() is None:
        rss = rss_kb(proc.pid)
        if rss is not None:
            samples.append((time.monotonic() - t0, count_segments(count_in), rss))
        try:
            proc.wait(interval)
        except subprocess.TimeoutExpired:
            pass
    wall = time.monotonic() - t0
    if csv is not None:
        for t, n, kb in samples:
            csv.write(f"{name},{t:.1f},{n},{kb}\n")
        csv.flush()
    log.seek(0)
    return {"rc": proc.returncode, "wall": wall, "samples": samples,
            "segments": count_segments(count_in), "stderr": log.read().decode(errors="replace")}


def slope(points):
    """Least-squares kB per segment through (segments, rss) points."""
    n = len(points)
    if n < 2:
        return float("nan")
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx if sxx else float("nan")


def summarise(name, r):
    s = r["samples"]
    at = next((x for x in s if x[1] >= AT), None)
    end = s[-1] if s else None
    row = {"name": name, "rc": r["rc"], "wall": r["wall"], "segments": r["segments"],
           "peak": max((x[2] for x in s), default=0) / 1024}
    if at and end and r["segments"] > AT:
        row["at"] = at[2] / 1024
        row["end"] = end[2] / 1024
        row["diff"] = row["end"] - row["at"]
        row["per_seg"] = (end[2] - at[2]) / max(end[1] - at[1], 1) / len(RUNGS)
        row["slope"] = slope([(x[1], x[2]) for x in s if x[1] >= AT]) / len(RUNGS)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("RCX_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--minutes", type=float, default=120)
    ap.add_argument("--fps", type=int, default=5)
    ap.add_argument("--size", default="320x180", help="source frame size")
    ap.add_argument("--ladder", default=LADDER, help="pipeline description (its rung names are counted)")
    ap.add_argument("--csv", help="write every sample here: case,seconds,segments,rss_kb")
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE added to every case")
    ap.add_argument("--keep", help="keep the outputs in this folder")
    args = ap.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    for c in cases:
        if c not in CASES:
            sys.exit(f"bench: unknown case {c} (known: {', '.join(CASES)})")
    runner = os.path.join(args.build, "runner", "rugbycodex-runner")
    ladder = os.path.abspath(args.ladder)
    with open(ladder) as f:
        RUNGS[:] = [r["name"] for r in json.load(f)["ladder"]]
    src = make_input(args.build, args.minutes, args.fps, args.size)
    csv = open(args.csv, "w") if args.csv else None
    work = args.keep or tempfile.mkdtemp(prefix="rcx-long-")
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(args.build, "plugins"),
               GST_REGISTRY=os.path.join(args.build, "bench", "registry.bin"))
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    s3 = None
    rows = []
    failed = []
    try:
        print(f"input: {src} ({args.minutes:g} min, {args.size} {args.fps} fps, 16 kHz mono AAC); ladder "
              f"{os.path.relpath(ladder, ROOT)} ({', '.join(RUNGS)}); {os.cpu_count()} cores; "
              f"extra env: {' '.join(args.env) or 'none'}", flush=True)
        for name in cases:
            out = os.path.join(work, name)
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            case_env = env
            count_in = out
            if name == "runner-folder":
                cmd = [runner, "transcode", "-q", "--progress", "none", "-d", ladder, src, out + "/"]
            elif name == "runner-s3":
                if s3 is None:
                    s3 = rcxtest.S3rver(buckets=("bench",)).start()
                case_env = dict(s3.env(), **{k: v for k, v in env.items() if k not in s3.env()})
                case_env["GST_PLUGIN_PATH"] = env["GST_PLUGIN_PATH"]
                cmd = [runner, "transcode", "-q", "--progress", "none", "-d", ladder, src, "s3://bench/hls/"]
                count_in = s3.dir
            elif name.startswith("minimal"):
                cmd = ["gst-launch-1.0", "-q"] + minimal_line(out, ladder, args, name == "minimal-bounded")
            else:
                argv = launch_tokens(runner, env, src, out, ladder)
                if name == "hlssink2":
                    argv = plain_hlssink2(argv, out)
                cmd = ["gst-launch-1.0", "-q"] + argv[1:]
            load = open("/proc/loadavg").read().split()[0]
            r = run_case(cmd, case_env, count_in, args.interval, csv, name)
            row = summarise(name, r)
            rows.append(row)
            print(f"  {name}: exit {r['rc']}, {r['wall']:.1f} s, {r['segments']} segments per rung, "
                  f"{len(r['samples'])} samples, load {load} at start", flush=True)
            if r["rc"] != 0:
                failed.append(name)
                print(r["stderr"][-3000:])
            elif name == "runner-folder":
                # the others have no master playlist (the runner writes it)
                # E4 (AAC-LC stereo 48 kHz 128k) is expected: the bench ladder's audio is 16 kHz mono 24k
                rep = hlscheck.check(out)
                broken = sorted(set(rep.broken()) - {"E4"})
                print(f"  hlscheck {name}: " + ("no rule broken but E4 (the bench's small audio)" if not broken
                                               else "broken " + ", ".join(broken)), flush=True)
        print(f"\n{'':14} {'segs':>5} {'wall s':>7} {'RSS@' + str(AT) + ' MB':>10} {'end MB':>7} "
              f"{'end-@50':>8} {'kB/seg/rung':>11} {'slope':>6} {'peak MB':>8}  target")
        for row in rows:
            if "at" not in row:
                print(f"{row['name']:14} {row['segments']:5} {row['wall']:7.1f}   (fewer than {AT} segments)")
                continue
            verdict = "meets" if row["diff"] <= 20 else "MISSES"
            print(f"{row['name']:14} {row['segments']:5} {row['wall']:7.1f} {row['at']:10.1f} {row['end']:7.1f} "
                  f"{row['diff']:8.1f} {row['per_seg']:11.2f} {row['slope']:6.2f} {row['peak']:8.1f}  "
                  f"{verdict} (<= 20 MB)")
        print("(kB/seg/rung: (end - RSS@50) / segments after 50 / rungs; slope: least squares over the "
              "samples after 50 segments, kB per segment per rung)")
        return 1 if failed else 0
    finally:
        if s3 is not None:
            s3.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
