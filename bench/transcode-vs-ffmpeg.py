#!/usr/bin/python3
"""Our runner against ffmpeg on the same 3-rung ladder, side by side.

    bench/transcode-vs-ffmpeg.py [--build build] [--seconds 60] [--repeat N] [--keep DIR]
                                 [--variant NAME:VAR=VALUE,...] [--line-variant NAME:FROM=>TO;...]
                                 [--skip ffmpeg-own]

Input: a 60 s 1080p30 clip with stereo audio (testsrc2 + sine, made once and
cached in BUILD/bench/). Both make 1080p/720p/480p at 6000/3000/1200 kbit/s,
x264 preset veryfast, 2 s GOP, 6 s segments, AAC 128k: ffmpeg decodes once
and splits three ways (-filter_complex split=3, -f hls -var_stream_map).
The x264 settings are the same on both sides (the options string x264 writes
into each stream's SEI differs only in keyint_min, which scenecut=0 makes
moot): bframes=2, b_adapt=0, vbv_maxrate = the average, vbv_bufsize = 2x.
A second ffmpeg run, "ffmpeg-own", is the issue's peer to the letter: the
same preset, bitrates, GOP and segment length, and x264's own veryfast
defaults for everything else (3 adaptive B-frames, no VBV).
Each is run under /usr/bin/time -v (Debian package `time`); the table gives
wall time, CPU time, peak RSS and our/ffmpeg ratio (target: ours <= 0.7x),
and what tests/hlscheck.py finds in each output.

A last run, ffmpeg's ladder without the encoders (decode, split, scale,
frames dropped), prices x264's share: x264 CPU = ffmpeg CPU - that run's
CPU. As the x264 work is the same on both sides, no pipeline can finish
before x264 CPU / cores; the "floor" line gives that bound as a ratio of
ffmpeg's wall time.

The peak-RSS floor the same way: x264enc keeps each raw frame it has handed
to x264 until x264 returns the encoded picture, although x264 copied it in;
ffmpeg frees it at once. bench/x264enc_held.py counts those frames on our
own line; ffmpeg's peak plus them is what our peak can't go below without a
change to x264enc ("rss floor" line; --skip held leaves it out).

Memory and speed experiments run side by side with the others, in the same
rotation (wall times on a shared machine are only comparable that way):
--variant runs ours again with extra environment variables (e.g.
MALLOC_ARENA_MAX=2); --line-variant runs our `pipeline --print` line under
gst-launch-1.0 with whole tokens substituted (e.g. a rung queue size:
'q2:max-size-buffers=8=>max-size-buffers=2'; 'NAME:-' runs the line as
is). Each gets a "variant NAME/ffmpeg" line with its wall, CPU and peak RSS
ratios.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import hlscheck  # noqa: E402

FF = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]


def make_input(build, secs):
    d = os.path.join(build, "bench")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"match-1080p30-{secs}s.mp4")
    if not os.path.exists(path):
        tmp = path + ".tmp.mp4"
        subprocess.run(FF + ["-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={secs}",
                             "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={secs}",
                             "-ac", "2", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23",
                             "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
                             tmp], check=True)
        os.rename(tmp, path)
    return path


RUNGS = [(1920, 1080, 6000), (1280, 720, 3000), (854, 480, 1200)]


def ffmpeg_split_scale(src):
    fc = "[0:v]split=3[s0][s1][s2];" + ";".join(f"[s{i}]scale={w}:{h}[v{i}]" for i, (w, h, _) in enumerate(RUNGS))
    return FF + ["-i", src, "-filter_complex", fc]


def ffmpeg_no_encode(src):
    """The ladder's decode, split and scale, every frame dropped (no x264)."""
    args = ffmpeg_split_scale(src)
    for i in range(3):
        args += ["-map", f"[v{i}]", "-f", "null", "-"]
    return args


def ffmpeg_ladder(src, out, our_x264_settings=True):
    rungs = RUNGS
    args = ffmpeg_split_scale(src)
    for i in range(3):
        args += ["-map", f"[v{i}]", "-map", "0:a"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
             "-g", "60", "-keyint_min", "60", "-sc_threshold", "0"]
    if our_x264_settings:
        # The same x264 work as our x264 entry (pipelines/hls-ladder.json): 2 B-frames without
        # adaptive placement (b-adapt=false), ABR with a VBV whose rate is the average and whose
        # buffer is 2 s of it (pass=cbr vbv-buf-capacity=2000); x264's own threads and lookahead
        # on both sides (threads=3, rc_lookahead=10 on 2 cores, read from the SEI).
        args += ["-bf", "2", "-x264-params", "b-adapt=0"]
    for i, (_, _, kb) in enumerate(rungs):
        args += [f"-b:v:{i}", f"{kb}k"]
        if our_x264_settings:
            args += [f"-maxrate:v:{i}", f"{kb}k", f"-bufsize:v:{i}", f"{2 * kb}k"]
    args += ["-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000",
             "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts",
             "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,a:0 v:1,a:1 v:2,a:2",
             "-hls_segment_filename", os.path.join(out, "v%v", "seg%05d.ts"), os.path.join(out, "v%v", "index.m3u8")]
    return args


def timed(cmd, env=None):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    err = r.stderr

    def field(name):
        m = re.search(rf"{re.escape(name)}: (.+)", err)
        return m.group(1).strip() if m else None
    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(x) for x in wall.split(":")] if wall else [0]
    secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    cpu = float(field("User time (seconds)") or 0) + float(field("System time (seconds)") or 0)
    rss = int(field("Maximum resident set size (kbytes)") or 0)
    own = re.split(r"^(?:Command exited with|\tCommand being timed)", err, maxsplit=1, flags=re.M)[0]
    return {"rc": r.returncode, "wall": secs, "cpu": cpu, "rss_mb": rss / 1024, "stderr": own, "stdout": r.stdout}


def launch_line(runner, env, src, out):
    """The runner's gst-launch-1.0 line for SRC -> OUT, as argv."""
    r = subprocess.run([runner, "pipeline", "--print", src, out.rstrip("/") + "/"], capture_output=True,
                       text=True, env=env, check=True)
    return shlex.split(r.stdout.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("RCX_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--keep", help="keep the outputs in this folder")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each, order rotated; the fastest counts")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:VAR=VALUE[,VAR=VALUE]",
                    help="one more run of ours with these environment variables (e.g. MALLOC_ARENA_MAX=2)")
    ap.add_argument("--line-variant", action="append", default=[], metavar="NAME:FROM=>TO[;FROM=>TO]",
                    help="one more run: our `pipeline --print` line under gst-launch-1.0 with these token "
                         "substitutions (e.g. 'q2:max-size-buffers=8=>max-size-buffers=2'); NAME:- runs it as is")
    ap.add_argument("--skip", default="", help="comma-separated runs to leave out (e.g. ffmpeg-own)")
    args = ap.parse_args()
    if not os.path.exists("/usr/bin/time"):
        sys.exit("bench: /usr/bin/time is missing (Debian package `time`, in scripts/setup.sh)")
    runner = os.path.join(args.build, "runner", "rugbycodex-runner")
    src = make_input(args.build, args.seconds)
    work = args.keep or tempfile.mkdtemp(prefix="rcx-bench-")
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(args.build, "plugins"),
               GST_REGISTRY=os.path.join(args.build, "bench", "registry.bin"))
    # name -> (output folder, command); "ffmpeg" does the same x264 work as ours,
    # "ffmpeg-own" is the peer: same preset, bitrates, GOP and segment
    # length, x264's own veryfast defaults for the rest (3 adaptive B-frames, no VBV)
    runs = {
        "ffmpeg": (os.path.join(work, "ffmpeg"), lambda out: ffmpeg_ladder(src, out)),
        "ffmpeg-own": (os.path.join(work, "ffmpeg-own"), lambda out: ffmpeg_ladder(src, out, False)),
        "ours": (os.path.join(work, "ours"), lambda out: [runner, "transcode", src, out]),
    }
    envs = {"ours": env}
    for v in args.variant:
        name, _, assigns = v.partition(":")
        envs[name] = dict(env, **dict(a.split("=", 1) for a in assigns.split(",") if a))
        runs[name] = (os.path.join(work, name), lambda out: [runner, "transcode", src, out])
    for v in args.line_variant:
        name, _, subs = v.partition(":")
        pairs = [tuple(x.split("=>", 1)) for x in subs.split(";") if "=>" in x]
        envs[name] = env
        runs[name] = (os.path.join(work, name),
                      lambda out, pairs=pairs: ["gst-launch-1.0", "-q"] + [
                          dict(pairs).get(t, t) for t in launch_line(runner, env, src, out)[1:]])
    for name in args.skip.split(","):
        runs.pop(name, None)
    try:
        print(f"input: {src} ({args.seconds} s 1080p30, stereo AAC); {os.cpu_count()} cores", flush=True)
        best = {}
        names = list(runs)
        for i in range(args.repeat):
            # Rotate the order; keep each one's fastest run.
            for who in names[i % len(names):] + names[:i % len(names)]:
                out, command = runs[who]
                shutil.rmtree(out, ignore_errors=True)
                os.makedirs(out, exist_ok=True)
                r = timed(command(out), env=envs.get(who))
                if who not in best or (r["rc"] == 0 and r["wall"] < best[who]["wall"]):
                    best[who] = r
                print(f"  run {i + 1} {who}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU, exit {r['rc']}",
                      flush=True)
        bare = timed(ffmpeg_no_encode(src))
        print(f"  ffmpeg without encoders: {bare['wall']:.2f} s wall, {bare['cpu']:.2f} s CPU, exit {bare['rc']}",
              flush=True)
        held = None
        if "held" not in args.skip.split(","):
            r = subprocess.run([os.path.join(HERE, "x264enc_held.py"), "--build", args.build, src],
                               capture_output=True, text=True, env=env)
            print("  " + r.stdout.strip().replace("\n", "\n  "), flush=True)
            m = re.search(r"^held_mb=([0-9.]+)$", r.stdout, re.M)
            held = float(m.group(1)) if m else None
        load = open("/proc/loadavg").read().split()[:3]
        print(f"load average after the runs: {' '.join(load)}")
        print(f"{'':11} {'wall s':>8} {'cpu s':>8} {'x realtime':>10} {'peak RSS MB':>12}  exit")
        for name, r in best.items():
            print(f"{name:11} {r['wall']:8.2f} {r['cpu']:8.2f} {args.seconds / r['wall']:10.2f} "
                  f"{r['rss_mb']:12.1f}  {r['rc']}")
        failed = [name for name, r in best.items() if r["rc"] != 0]
        for name in failed:
            print(f"{name} failed:\n" + best[name]["stderr"][-3000:])
        # ratios need both sides: --skip ours or ffmpeg leaves the table alone
        ours, ff = best.get("ours"), best.get("ffmpeg")
        if not failed and ours and ff:
            for peer in (p for p in ("ffmpeg", "ffmpeg-own") if p in best):
                ratio = ours["wall"] / best[peer]["wall"]
                verdict = "meets" if ratio <= 0.7 else "MISSES"
                print(f"ratio ours/{peer} wall time: {ratio:.2f} ({verdict} the <= 0.7 target); CPU ratio "
                      f"{ours['cpu'] / best[peer]['cpu']:.2f}; RSS ratio {ours['rss_mb'] / best[peer]['rss_mb']:.2f}")
            for name, r in best.items():
                if name not in ("ours", "ffmpeg", "ffmpeg-own"):
                    print(f"variant {name}/ffmpeg: wall {r['wall'] / ff['wall']:.2f}, CPU {r['cpu'] / ff['cpu']:.2f}, "
                          f"peak RSS {r['rss_mb'] / ff['rss_mb']:.2f}")
            if bare["rc"] == 0:
                x264 = ff["cpu"] - bare["cpu"]
                cores = os.cpu_count()
                print(f"x264's share: {x264:.1f} s of ffmpeg's {ff['cpu']:.1f} s CPU (decode + split + scale "
                      f"{bare['cpu']:.1f} s); floor with the same x264 work on {cores} cores: "
                      f"{x264 / cores:.1f} s = {x264 / cores / ff['wall']:.2f}x ffmpeg's wall")
            if held is not None:
                floor = ff["rss_mb"] + held
                print(f"rss floor: ffmpeg's {ff['rss_mb']:.1f} MB + {held:.1f} MB of frames x264enc holds after "
                      f"x264 copied them = {floor:.1f} MB = {floor / ff['rss_mb']:.2f}x ffmpeg's peak RSS "
                      f"(ours {ours['rss_mb'] / ff['rss_mb']:.2f}x)")
        for name, (out, _) in runs.items():
            if os.path.isdir(out):
                rep = hlscheck.check(out, source=src)
                print(f"hlscheck {name}: " + ("no rule broken" if rep.ok else
                                               "broken " + ", ".join(sorted(rep.broken()))))
        return 1 if failed else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
