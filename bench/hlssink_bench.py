#!/usr/bin/python3
"""Cost of wasabihlssink over plain hlssink2, and its memory bound.

    bench/hlssink_bench.py [--seconds 60] [--kbps 6000] [--build-dir build]

Encodes one input once (x264 ultrafast, `--kbps`, 2 s GOP, AAC; videotestsrc
snow so the bit rate is really reached), then segments it (no re-encoding:
tsdemux ! h264parse / aacparse) into 6 s segments with:

  hlssink2 -> folder              the baseline
  wasabihlssink -> folder         + TS scan, our playlists, atomic renames
  wasabihlssink -> s3rver         + S3 PUTs (s3rver on the same 2 cores)
  wasabihlssink -> slow S3        each segment PUT stalled 1 s by the fault
                                  proxy, max-pending-uploads 1 and 8: peak
                                  RSS shows the bound on queued segments

Not a test: prints one line per case (wall time, peak RSS of the
gst-launch process, segments).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))

import rcxtest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402


def launch(desc, env):
    t0 = time.monotonic()
    p = subprocess.Popen(["gst-launch-1.0", "-q", "-e"] + desc.split(), env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, rusage = os.wait4(p.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"gst-launch failed ({code}): {err[-2000:]}")
    return time.monotonic() - t0, rusage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--kbps", type=int, default=6000)
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    args = ap.parse_args()
    build = os.path.abspath(args.build_dir)
    rcxtest.BUILD_DIR = build
    rcxtest.PLUGIN_PATH = os.path.join(build, "plugins")
    env = rcxtest.gst_env({"GST_PLUGIN_PATH": rcxtest.PLUGIN_PATH,
                           "GST_REGISTRY": os.path.join(build, "bench-registry.bin")})

    tmp = tempfile.mkdtemp(prefix="rcx-hlsbench-")
    try:
        src = os.path.join(tmp, "input.ts")
        frames = args.seconds * 30
        t0 = time.monotonic()
        launch("videotestsrc pattern=snow num-buffers=%d ! "
               "video/x-raw,width=640,height=360,framerate=30/1,format=I420 ! "
               "x264enc speed-preset=ultrafast key-int-max=60 bitrate=%d "
               "option-string=scenecut=0 ! h264parse ! mux. "
               "audiotestsrc num-buffers=%d samplesperbuffer=1024 ! "
               "audio/x-raw,rate=48000,channels=2 ! voaacenc bitrate=128000 ! "
               "aacparse ! mux. mpegtsmux name=mux ! filesink location=%s"
               % (frames, args.kbps, args.seconds * 48000 // 1024 + 1, src), env)
        size = os.path.getsize(src)
        print(f"input: {args.seconds} s, {size / 1e6:.1f} MB "
              f"({size * 8 / args.seconds / 1000:.0f} kbit/s), encoded in "
              f"{time.monotonic() - t0:.1f} s")

        demux = (f"filesrc location={src} ! tsdemux name=d "
                 "d. ! queue ! h264parse ! s.video d. ! queue ! aacparse ! s.audio ")

        def case(name, sink, case_env=None, count_dir=None):
            wall, rss = launch(demux + sink, case_env or env)
            extra = ""
            if count_dir:
                n = len([f for f in os.listdir(count_dir) if f.endswith(".ts")])
                extra = f", {n} segments"
            print(f"{name:44s} {wall:6.2f} s wall  peak RSS {rss:6.1f} MiB  "
                  f"({args.seconds / wall:5.1f}x realtime{extra})")

        out1 = os.path.join(tmp, "hlssink2")
        os.makedirs(out1)
        case("hlssink2 -> folder", "hlssink2 name=s max-files=0 playlist-length=0 "
             f"target-duration=6 location={out1}/segment%05d.ts "
             f"playlist-location={out1}/index.m3u8", count_dir=out1)
        out2 = os.path.join(tmp, "wasabi")
        case("wasabihlssink -> folder", f"wasabihlssink name=s location={out2}",
             count_dir=out2)

        with rcxtest.S3rver(buckets=("bench",)) as s3:
            s3env = dict(env)
            s3env.update({k: v for k, v in s3.env().items() if k.startswith("AWS_")})
            case("wasabihlssink -> s3rver",
                 "wasabihlssink name=s location=s3://bench/direct/", s3env)
            with FaultProxy(s3.port) as proxy:
                slow = dict(s3env)
                slow["AWS_ENDPOINT_URL_S3"] = proxy.endpoint
                for pending in (1, 8):
                    proxy.clear_faults()
                    proxy.add_fault("stall", method="PUT", path=r"\.ts$", seconds=1.0,
                                    after_bytes=0, count=None)
                    case(f"wasabihlssink -> S3, 1 s/PUT, max-pending {pending}",
                         f"wasabihlssink name=s location=s3://bench/slow{pending}/ "
                         f"max-pending-uploads={pending}", slow)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
