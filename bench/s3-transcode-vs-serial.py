#!/usr/bin/python3
"""S3 to S3 streaming transcode against the seed's serial worker, through a
bandwidth-limited link, side by side in one run (root: it makes a network
namespace).

    sudo bench/s3-transcode-vs-serial.py [--build build] [--source lossless-1gib|broadcast|realistic]
                                         [--seconds N] [--rate 200mbit] [--wait-quiet 600]
                                         [--keep DIR]

The link: a network namespace `rcxbench` joined to this one by a veth pair
with 10.231.0.1/30 (here) and 10.231.0.2/30 (there), nothing else; `tc qdisc
tbf rate RATE` on both ends; s3rver runs inside the namespace. Everything is
removed at the end, also on an error or Ctrl-C.

The clip (--source; testsrc2 with light temporal noise, 1080p30, stereo AAC,
made once with ffmpeg/x264 and cached in BUILD/bench/, stored as
s3://media/org-1/media-1/original.mp4 before the link is limited):

- lossless-1gib (default): lossless H.264, ~300 Mbit/s (the rate of a ProRes
  HQ intermediate); the default 29 s is about 1 GiB. The extreme I/O-bound
  case: the link, not the encoder, sets the pace.
- broadcast: a broadcast camera's recording format, all-intra H.264 High at
  100 Mbit/s (AVC-Intra 100 / XAVC Intra class); the default 60 s is ~750
  MB. Moving the source takes about as long as transcoding it.
- realistic: what phones upload, H.264 High at 18 Mbit/s
  (maxrate 20), 1 s GOP, AAC 192k; the default 120 s is ~270 MB. The
  CPU-bound case: the link moves the source in a tenth of its duration.

Before each timed run (serial, then ours) the script waits up to
--wait-quiet seconds, polling every 10 s, until no other benchmark process
(transcode-vs-ffmpeg, ffmpeg, gst-launch-1.0, rugbycodex-runner) runs and the
1-minute load is under 2.5, then runs anyway; the load at start and end of
each run is printed.

- serial (the seed, aws_workers/transcoding/worker.py): `aws s3 cp` the
  whole file to local disk, ffmpeg's 3-rung ladder (the command of
  bench/transcode-vs-ffmpeg.py), `aws s3 cp --recursive` of the output
  folder. Nothing is playable before the upload, at the end.
- ours: `rugbycodex-runner transcode s3://... s3://.../hls/` (wasabisrc in,
  wasabihlssink out); first playable = the first moment the master AND the
  first segment of every rung are in storage (s3rver's folder polled every
  50 ms on this side, no request; the runner's "live: master.m3u8
  published" log time is printed next to it).

Prints wall times and the ratio (goal: ours <= 0.6x serial), the time to
the first playable segment in storage (goal < 15 s), request counts by
method (the serial worker's through tests/fixtures/faultproxy.py, without
faults, on this side of the link; ours from the runner's rcx-http debug log),
our runner's local disk writes (/proc/PID/io), and
hlscheck on both outputs.
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import hlscheck  # noqa: E402
import rcxtest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

NS = "rcxbench"
VETH_HOST, VETH_NS = "rcxb0", "rcxb1"
HOST_IP, NS_IP, PORT = "10.231.0.1", "10.231.0.2", 4569
ENDPOINT = f"http://{NS_IP}:{PORT}"
BUCKET = "media"
SRC_KEY = "org-1/media-1/original.mp4"
FF = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]

_spec = importlib.util.spec_from_file_location("tvf", os.path.join(HERE, "transcode-vs-ffmpeg.py"))
tvf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tvf)


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


# --source: what the original is. Both are 1080p30 testsrc2 with light
# temporal noise (so the encoder cannot cheat on it) and stereo AAC, made
# once with ffmpeg/x264 and cached in BUILD/bench/.
SOURCES = {
    # the extreme I/O-bound case: lossless H.264, ~300 Mbit/s (the rate of a
    # ProRes HQ intermediate), 29 s is about 1 GiB
    "lossless-1gib": {
        "seconds": 29, "file": "match-1080p30-lossless-{secs}s.mp4",
        "what": "1080p30 lossless H.264 (qp 0) + AAC 128k",
        "video": ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-g", "60"],
        "audio": ["-c:a", "aac", "-b:a", "128k"],
    },
    # a broadcast camera's own recording format: all-intra H.264 High at
    # 100 Mbit/s (the AVC-Intra 100 / XAVC Intra class), 60 s is ~750 MB
    "broadcast": {
        "seconds": 60, "file": "match-1080p30-intra-100mbit-{secs}s.mp4",
        "what": "1080p30 all-intra H.264 High 100 Mbit/s + AAC 192k",
        "video": ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-level:v", "4.2",
                  "-g", "1", "-b:v", "100M", "-maxrate", "110M", "-bufsize", "110M"],
        "audio": ["-c:a", "aac", "-b:a", "192k"],
    },
    # like what phones upload: H.264 High 1080p30 at
    # ~18 Mbit/s (VBV-capped at 20), 1 s GOP, B-frames, AAC 192k
    "realistic": {
        "seconds": 120, "file": "match-1080p30-high-18mbit-{secs}s.mp4",
        "what": "1080p30 H.264 High 18 Mbit/s (maxrate 20) + AAC 192k",
        "video": ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-level:v", "4.1",
                  "-b:v", "18M", "-maxrate", "20M", "-bufsize", "20M", "-g", "30"],
        "audio": ["-c:a", "aac", "-b:a", "192k"],
    },
}


def make_input(build, source, secs):
    d = os.path.join(build, "bench")
    os.makedirs(d, exist_ok=True)
    spec = SOURCES[source]
    path = os.path.join(d, spec["file"].format(secs=secs))
    if not os.path.exists(path):
        tmp = path + ".tmp.mp4"
        subprocess.run(FF + ["-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={secs},"
                             "noise=alls=3:allf=t",
                             "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={secs}",
                             "-ac", "2", *spec["video"], "-pix_fmt", "yuv420p",
                             *spec["audio"], "-movflags", "+faststart", tmp], check=True)
        os.rename(tmp, path)
    return path


class Link:
    """The namespace, the veth pair and the rate limit; removed by close()."""

    def __init__(self):
        self.made = False

    def open(self):
        sh("ip", "netns", "del", NS, check=False)
        sh("ip", "link", "del", VETH_HOST, check=False)
        sh("ip", "netns", "add", NS)
        self.made = True
        sh("ip", "link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_NS)
        sh("ip", "link", "set", VETH_NS, "netns", NS)
        sh("ip", "addr", "add", f"{HOST_IP}/30", "dev", VETH_HOST)
        sh("ip", "link", "set", VETH_HOST, "up")
        sh("ip", "netns", "exec", NS, "ip", "addr", "add", f"{NS_IP}/30", "dev", VETH_NS)
        sh("ip", "netns", "exec", NS, "ip", "link", "set", VETH_NS, "up")
        sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")

    def limit(self, rate):
        tbf = ["root", "tbf", "rate", rate, "burst", "256kb", "latency", "50ms"]
        sh("tc", "qdisc", "replace", "dev", VETH_HOST, *tbf)
        sh("ip", "netns", "exec", NS, "tc", "qdisc", "replace", "dev", VETH_NS, *tbf)

    def close(self):
        if self.made:
            sh("ip", "link", "del", VETH_HOST, check=False)
            sh("ip", "netns", "del", NS, check=False)
            self.made = False


class S3rverInNs:
    def __init__(self, data):
        self.data = data
        self.log_path = os.path.join(data, "..", "s3rver.log")
        self.proc = None

    def start(self):
        script = os.path.join(rcxtest.NODE_MODULES, "s3rver", "bin", "s3rver.js")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", NS, "node", script, "-d", self.data, "-a", NS_IP,
                                      "-p", str(PORT), "--configure-bucket", BUCKET],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            if subprocess.run(["curl", "-s", "-o", "/dev/null", ENDPOINT + "/"]).returncode == 0:
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("s3rver did not start in the namespace")
            time.sleep(0.1)

    def cpu_seconds(self):
        """CPU time s3rver (node; `ip netns exec` execs it) has used so far:
        on this machine it shares the cores with whatever runs at the same
        time, where Wasabi would not."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        rcxtest.stop_process(self.proc)
        if self.proc:
            self.log.close()


def aws_env():
    env = dict(os.environ, AWS_ACCESS_KEY_ID=rcxtest.S3RVER_KEY, AWS_SECRET_ACCESS_KEY=rcxtest.S3RVER_SECRET,
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    env.pop("AWS_PROFILE", None)
    return env


def aws(*args, endpoint=ENDPOINT):
    r = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, "s3", *args, "--only-show-errors"],
                       env=aws_env(), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"aws s3 {' '.join(args)}: {r.stderr[-2000:]}")


def serial(endpoint, src_uri, work, dst_uri):
    """The seed's way: download, transcode, upload. Returns phase times."""
    t0 = time.monotonic()
    local = os.path.join(work, "input.mp4")
    aws("cp", src_uri, local, endpoint=endpoint)
    t_down = time.monotonic() - t0
    out = os.path.join(work, "out")
    os.makedirs(out)
    r = subprocess.run(tvf.ffmpeg_ladder(local, out), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ffmpeg: " + r.stderr[-2000:])
    t_trans = time.monotonic() - t0
    aws("cp", "--recursive", out, dst_uri, endpoint=endpoint)
    t_end = time.monotonic() - t0
    return {"download": t_down, "transcode": t_trans - t_down, "upload": t_end - t_trans, "wall": t_end,
            "first_playable": t_end, "out": out}


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def wait_quiet(limit):
    """Before a timed run: wait (up to limit s, polling every 10 s) until no
    other benchmark runs and the 1-min load is under 2.5. Returns the load
    average at the start of the run."""
    deadline = time.monotonic() + limit
    pat = "transcode-vs-ffmpeg|ffmpeg |gst-launch-1.0|rugbycodex-runner"
    while time.monotonic() < deadline:
        busy = subprocess.run(["pgrep", "-f", pat], capture_output=True, text=True).stdout.split()
        if not busy and float(open("/proc/loadavg").read().split()[0]) < 2.5:
            break
        time.sleep(10)
    else:
        if limit > 0:
            print(f"(still busy after {limit} s of waiting: running anyway)", flush=True)
    return loadavg()


class StorageWatch:
    """Polls s3rver's folder (on this side of the link, no request) for the
    moment our output becomes playable: the master AND the first segment of
    every rung stored. s3rver writes an object's data, then its
    `._S3rver_metadata.json`; the object counts once that exists."""

    def __init__(self, data, prefix, rungs, playlist, segment, master):
        base = os.path.join(data, BUCKET, *prefix.split("/"))
        meta = "{}._S3rver_metadata.json"
        self.paths = {"master": os.path.join(base, meta.format(master))}
        for r in rungs:
            self.paths[f"{r} segment 0"] = os.path.join(base, r, meta.format(segment % 0))
            self.paths[f"{r} playlist"] = os.path.join(base, r, meta.format(playlist))
        self.need = ["master"] + [f"{r} segment 0" for r in rungs]
        self.seen = {}
        self.stop_ev = threading.Event()

    def start(self, t0):
        def run():
            while not self.stop_ev.is_set():
                now = time.monotonic() - t0
                for k, path in self.paths.items():
                    if k not in self.seen and os.path.exists(path):
                        self.seen[k] = now
                if len(self.seen) == len(self.paths):
                    return
                time.sleep(0.05)
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_ev.set()
        self.thread.join(5)

    def playable(self):
        if all(k in self.seen for k in self.need):
            return max(self.seen[k] for k in self.need)
        return None


def ours(runner, build, endpoint, src_uri, dst_uri, watch):
    env = aws_env()
    # every request of rcx-http is logged at debug level: counted from there
    env.update(AWS_ENDPOINT_URL_S3=endpoint, G_MESSAGES_DEBUG="rcx-http", GST_PLUGIN_PATH=os.path.join(build, "plugins"),
               GST_REGISTRY=os.path.join(build, "bench", "registry.bin"))
    t0 = time.monotonic()
    watch.start(t0)
    proc = subprocess.Popen([runner, "transcode", "-v", "--progress", "none", src_uri, dst_uri],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = {}
    tail = []
    timeline = []
    requests = {}

    def read_err():
        for line in proc.stderr:
            m = re.search(r"rcx-http: (GET|PUT|HEAD|POST|DELETE) \S+ \(attempt \d+\)$", line)
            if m:
                requests[m.group(1)] = requests.get(m.group(1), 0) + 1
                continue
            tail.append(line)
            now = time.monotonic() - t0
            # and the source reader's resumes (reset, stall, early end), which
            # explain GETs beyond the probe's and the one streaming GET
            if re.search(r"rugbycodex-runner: (probing|source:|encoder \S+, |live: )|rcx-http: .*resum", line):
                timeline.append(f"{now:6.1f} s  {line.strip()[:110]}")
            if "live: " in line and "published" in line and "live" not in first:
                first["live"] = now
    io = {}

    def sample_io():
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/io") as f:
                    io.update((k, int(v)) for k, v in (x.split(":") for x in f))
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
    threads = [threading.Thread(target=read_err, daemon=True), threading.Thread(target=sample_io, daemon=True)]
    for t in threads:
        t.start()
    out = proc.stdout.read()
    proc.wait()
    for t in threads:
        t.join(10)
    wall = time.monotonic() - t0
    watch.stop()
    if proc.returncode != 0:
        raise RuntimeError("runner: " + "".join(tail)[-3000:])
    return {"wall": wall, "first_playable": watch.playable(), "live_logged": first.get("live"),
            "stored": sorted(watch.seen.items(), key=lambda kv: kv[1]), "summary": out, "timeline": timeline,
            "write_bytes": io.get("write_bytes"),
            "requests": (sum(requests.values()), " ".join(f"{m} {n}" for m, n in sorted(requests.items())))}


def count(log):
    """Requests by method, and bytes answered, from the proxy's log."""
    by = {}
    for r in log:
        by[r["method"]] = by.get(r["method"], 0) + 1
    return len(log), " ".join(f"{m} {n}" for m, n in sorted(by.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("RCX_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--source", choices=sorted(SOURCES), default="lossless-1gib",
                    help="lossless-1gib: 304 Mbit/s lossless (I/O-bound extreme); broadcast: all-intra "
                         "100 Mbit/s; realistic: H.264 High 18 Mbit/s, like a phone upload")
    ap.add_argument("--seconds", type=int, help="clip length (default: 29 for lossless-1gib, ~1 GiB; "
                                                 "60 for broadcast, ~750 MB; 120 for realistic, ~270 MB)")
    ap.add_argument("--wait-quiet", type=int, default=600, metavar="S",
                    help="before each timed run wait up to S s for other benchmarks to end and the "
                         "load to fall under 2.5 (0: do not wait)")
    ap.add_argument("--rate", default="200mbit")
    ap.add_argument("--keep", help="keep the work folder here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (ip netns, tc)")
    runner = os.path.join(args.build, "runner", "rugbycodex-runner")
    if not os.access(runner, os.X_OK):
        sys.exit(f"bench: {runner} is not built")
    secs = args.seconds or SOURCES[args.source]["seconds"]
    src = make_input(args.build, args.source, secs)
    size = os.path.getsize(src)
    work = args.keep or tempfile.mkdtemp(prefix="rcx-s3bench-")
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "s3rver-data")
    os.makedirs(data, exist_ok=True)
    link, s3 = Link(), S3rverInNs(data)
    proxy = None

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    try:
        link.open()
        s3.start()
        src_uri = f"s3://{BUCKET}/{SRC_KEY}"
        aws("cp", src, src_uri)  # before the link is limited
        link.limit(args.rate)
        # the serial worker's requests go through the proxy (no faults), for
        # the counts (ours are counted from the runner's log: a proxy would
        # take CPU from the transcode running at the same time)
        proxy = FaultProxy(PORT, upstream_host=NS_IP).start()
        print(f"source {args.source}: {secs} s {SOURCES[args.source]['what']}, {size / 1e6:.0f} MB "
              f"({size * 8 / secs / 1e6:.1f} Mbit/s); link {args.rate} (tbf, both ends); {os.cpu_count()} cores",
              flush=True)

        swork = os.path.join(work, "serial")
        os.makedirs(swork, exist_ok=True)
        load_se = wait_quiet(args.wait_quiet)
        print(f"serial: starting, load average {load_se}", flush=True)
        s3_cpu = s3.cpu_seconds()
        se = serial(proxy.endpoint, src_uri, swork, f"s3://{BUCKET}/org-1/media-1/serial-hls/")
        s3_cpu_se = s3.cpu_seconds() - s3_cpu
        c1 = count(proxy.log)
        proxy.clear_log()
        print(f"serial: download {se['download']:.1f} s, transcode {se['transcode']:.1f} s, "
              f"upload {se['upload']:.1f} s", flush=True)
        os.unlink(os.path.join(swork, "input.mp4"))
        load_se_end = loadavg()
        with open(os.path.join(ROOT, "pipelines", "hls-ladder.json")) as f:
            desc = json.load(f)
        o = desc["output"]
        watch = StorageWatch(data, "org-1/media-1/hls", [r["name"] for r in desc["ladder"]], o["playlist"],
                             o["segment"], o["master"])
        load_ou = wait_quiet(args.wait_quiet)
        print(f"ours: starting, load average {load_ou}", flush=True)
        s3_cpu = s3.cpu_seconds()
        ou = ours(runner, args.build, ENDPOINT, src_uri, f"s3://{BUCKET}/org-1/media-1/hls/", watch)
        s3_cpu_ou = s3.cpu_seconds() - s3_cpu
        load_ou_end = loadavg()
        c2 = ou["requests"]

        print("ours, timeline (runner log):\n" + "\n".join(ou["timeline"]))
        print("ours, first objects in storage (s3rver's folder):\n" +
              "\n".join(f"{t:6.1f} s  {k}" for k, t in ou["stored"]))
        print(f"ours: local disk writes of the runner (/proc/PID/io write_bytes): {ou['write_bytes']} bytes, "
              f"for a {size / 1e6:.0f} MB source (the serial way writes the source and the output)")
        fp = ou["first_playable"]
        print(f"\n{'':8} {'wall s':>8} {'first playable s':>17} {'requests':>9}  {'load start -> end':>19}  "
              f"by method")
        print(f"{'serial':8} {se['wall']:8.1f} {se['first_playable']:17.1f} {c1[0]:9d}  "
              f"{load_se.split()[0]:>8} -> {load_se_end.split()[0]:<8}  {c1[1]}")
        print(f"{'ours':8} {ou['wall']:8.1f} {fp if fp is not None else float('nan'):17.1f} {c2[0]:9d}  "
              f"{load_ou.split()[0]:>8} -> {load_ou_end.split()[0]:<8}  {c2[1]}")
        print(f"(serial: download {se['download']:.1f} + transcode {se['transcode']:.1f} + upload "
              f"{se['upload']:.1f} s; ours: first playable = master and every rung's first segment in storage; "
              f"the runner logged the live master at {ou['live_logged'] or float('nan'):.1f} s)")
        print(f"s3rver's own CPU time: serial {s3_cpu_se:.1f} s (around, not during, its transcode); ours "
              f"{s3_cpu_ou:.1f} s, taken from the same {os.cpu_count()} cores as our transcode")
        ratio = ou["wall"] / se["wall"]
        print(f"ratio ours/serial wall time: {ratio:.2f} ({'meets' if ratio <= 0.6 else 'MISSES'} the <= 0.6 "
              f"target); first playable segment after {fp if fp is not None else float('nan'):.1f} s "
              f"({'meets' if fp is not None and fp < 15 else 'MISSES'} the < 15 s target; serial: only at the "
              f"end, {se['first_playable']:.1f} s)")
        for name, where in (("serial", se["out"]),
                            ("ours", f"{ENDPOINT}/{BUCKET}/org-1/media-1/hls/master.m3u8")):
            rep = hlscheck.check(where, source=src)
            print(f"hlscheck {name}: " + ("no rule broken" if rep.ok else "broken " + ", ".join(sorted(rep.broken()))))
        return 0
    finally:
        if proxy:
            proxy.stop()
        s3.stop()
        link.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
