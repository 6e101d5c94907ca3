#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""How many raw frames each x264enc of our ladder holds, and how many bytes.

    bench/x264enc_held.py [--build build] [--frames 300] SOURCE

x264 copies every input picture into its own frames in x264_encoder_encode,
as it does under ffmpeg; x264enc (gst-plugins-ugly 1.22) keeps the input
GstBuffer mapped besides, until x264 hands back the encoded picture,
i.e. for x264's whole delay (lookahead, B-frames, frame threads). Those
bytes are what our pipeline holds and ffmpeg's libx264 wrapper does not,
with the same x264 work: they put a floor under our peak RSS relative to
ffmpeg's.

Runs the runner's own `pipeline --print` line for SOURCE in this process,
with pad probes on each x264enc's sink and source pads counting frames in
flight (in minus out), and stops after --frames frames through the first
encoder. A frame counts once x264enc has been handed a newer one (ffmpeg
too holds the frame being encoded). Prints one line per encoder and a last line `held_mb=N` (the
maxima summed: all rungs fill up together), for bench/transcode-vs-ffmpeg.py.
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import threading

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Count:
    def __init__(self):
        self.lock = threading.Lock()
        self.sizes = []        # bytes of the frames in flight, oldest first
        self.max_frames = 0
        self.max_bytes = 0
        self.out = 0

    def came_in(self, size):
        with self.lock:
            self.sizes.append(size)
            # the newest is being encoded: ffmpeg holds that one too
            self.max_frames = max(self.max_frames, len(self.sizes) - 1)
            self.max_bytes = max(self.max_bytes, sum(self.sizes[:-1]))

    def went_out(self):
        with self.lock:
            if self.sizes:
                self.sizes.pop(0)
            self.out += 1
            return self.out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("RCX_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--frames", type=int, default=300, help="stop after this many encoded frames")
    ap.add_argument("source")
    args = ap.parse_args()
    os.environ.setdefault("GST_PLUGIN_PATH", os.path.join(args.build, "plugins"))
    runner = os.path.join(args.build, "runner", "rugbycodex-runner")
    out = tempfile.mkdtemp(prefix="rcx-held-")
    line = subprocess.run([runner, "pipeline", "--print", args.source, out + "/"], capture_output=True,
                          text=True, check=True).stdout.strip()
    Gst.init(None)
    pipeline = Gst.parse_launchv(shlex.split(line)[1:])
    done = threading.Event()
    counts = {}
    it = pipeline.iterate_recurse()
    encoders = []
    while True:
        res, el = it.next()
        if res != Gst.IteratorResult.OK:
            break
        if el.get_factory() and el.get_factory().get_name() == "x264enc":
            encoders.append(el)
    if not encoders:
        sys.exit("x264enc_held: the printed line has no x264enc")
    for enc in sorted(encoders, key=lambda e: e.get_name()):
        c = counts[enc.get_name()] = Count()

        def on_in(pad, info, c=c):
            c.came_in(info.get_buffer().get_size())
            return Gst.PadProbeReturn.OK

        def on_out(pad, info, c=c, first=(enc is encoders[0])):
            if c.went_out() == args.frames and first:
                done.set()
            return Gst.PadProbeReturn.OK
        enc.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, on_in)
        enc.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, on_out)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    while not done.is_set():
        msg = bus.timed_pop_filtered(100 * Gst.MSECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        if msg and msg.type == Gst.MessageType.ERROR:
            sys.exit(f"x264enc_held: {msg.parse_error()[0].message}")
        if msg:
            break
    pipeline.set_state(Gst.State.NULL)
    subprocess.run(["rm", "-rf", out])
    total = 0
    for name, c in sorted(counts.items()):
        print(f"{name}: at most {c.max_frames} earlier frames held = {c.max_bytes / 2**20:.1f} MB")
        total += c.max_bytes
    print(f"held_mb={total / 2**20:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
