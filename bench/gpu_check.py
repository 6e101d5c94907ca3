#!/usr/bin/python3
"""The GStreamer side of bench/gpu-check.sh (run that, not this).

    gpu_check.py list
    gpu_check.py lines SRC OUT NVENC-LINE X264-LINE   -> writes OUT/nvdec-cuda-x264.line
    gpu_check.py structural LINE-FILE...
    gpu_check.py run STAGE LINE-FILE SRC OUT [--device-frames]

`list` prints the nvcodec features this host registers and which of the
elements the stages need are among them (exit 0 either way).

`lines` makes the NVDEC + CUDA scaling + x264 line from the runner's own two
lines for the same job (`pipeline --print -e nvenc` and `-e x264`): the nvenc
line up to each rung's scaler caps (nvh264dec, frames uploaded once, tee and
cudascale in CUDA memory), then `cudadownload ! video/x-raw !` (NV12, as decoded: cudascale
only scales; x264enc takes NV12)
and that rung's x264enc with the x264 line's properties (so the encode is
the x264 entry's, on frames the GPU decoded and scaled). The rewriting works
on tokens and fails loudly when the lines are not of the expected shape.

`structural` checks a line without the elements: every element that is not
registered here must be one of the nvcodec elements described in
tests/data/gst-1.22-encoder-properties.json and every property given to it
must exist there, be writable and (enums) take a known nick; then the line,
with those elements replaced by software ones with the same pads and role
(avdec_h264, videoscale, x264enc, identity for up/download; their
properties dropped) and `(memory:CUDAMemory)` dropped from the caps, must
parse with gst_parse_launch (links, pad names, caps strings, the other
elements' properties).

`run` runs a line to EOS (at most 240 s) with GStreamer from Python and
prints: video frames through the tee per second of wall time, the caps on
every pad from the decoder to each rung's encoder (or cudadownload), and
whether all of them are `memory:CUDAMemory`, the GPU memory used by this
process at its peak (nvidia-smi, sampled every 0.5 s), and what
tests/hlscheck.py finds in the output (a master playlist is written from the
rungs' `wasabihlssink-rung` reports, as the runner does). Exit status 1 when
the pipeline fails, the caps leave CUDA memory or hlscheck finds a broken rule.
"""
import json
import os
import shlex
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

NEEDED = ("nvh264dec", "cudaupload", "cudascale", "cudadownload", "nvh264enc")
PROPS = os.path.join(os.environ.get("RCX_TESTDATA", os.path.join(ROOT, "tests", "data")),
                     "gst-1.22-encoder-properties.json")
CUDA = "memory:CUDAMemory"
# software elements with the same pads and role, for parsing a line here
STAND_IN = {"nvh264dec": "avdec_h264", "nvh264enc": "x264enc", "cudascale": "videoscale",
            "cudaconvertscale": "videoconvertscale", "cudaupload": "identity", "cudadownload": "identity"}


def registered(name):
    return Gst.ElementFactory.find(name) is not None


def cmd_list():
    plugin = Gst.Registry.get().find_plugin("nvcodec")
    if plugin is None:
        print("nvcodec plugin: not loaded here (no NVIDIA driver/CUDA, or gstreamer1.0-plugins-bad missing)")
    else:
        feats = sorted(f.get_name() for f in Gst.Registry.get().get_feature_list_by_plugin("nvcodec"))
        print(f"nvcodec plugin ({plugin.get_filename()}): {len(feats)} features")
        for f in feats:
            print(f"  {f}")
    for e in NEEDED:
        print(f"  needed {e}: {'registered' if registered(e) else 'NOT registered'}")
    return 0


def read_line(path):
    with open(path) as f:
        argv = shlex.split(f.read().strip())
    if not argv or argv[0] != "gst-launch-1.0":
        raise SystemExit(f"{path}: not a gst-launch-1.0 line")
    return argv[1:]


def encoder_blocks(argv, factory):
    """{name: (start, end)}: token spans `FACTORY name=encN props...` up to the next `!`."""
    spans = {}
    for i, t in enumerate(argv):
        if t == factory and i + 1 < len(argv) and argv[i + 1].startswith("name=enc"):
            j = i + 2
            while j < len(argv) and argv[j] != "!":
                j += 1
            spans[argv[i + 1][5:]] = (i, j)
    return spans


def cmd_lines(src, out, nvenc_file, x264_file):
    nv, x = read_line(nvenc_file), read_line(x264_file)
    nv_enc, x_enc = encoder_blocks(nv, "nvh264enc"), encoder_blocks(x, "x264enc")
    if not nv_enc or sorted(nv_enc) != sorted(x_enc):
        raise SystemExit(f"lines: the two lines' rungs differ ({sorted(nv_enc)} vs {sorted(x_enc)})")
    res = list(nv)
    # right to left, so the spans still to replace keep their positions
    for name, (a, b) in sorted(nv_enc.items(), key=lambda kv: -kv[1][0]):
        xa, xb = x_enc[name]
        res[a:b] = ["cudadownload", "!", "video/x-raw", "!"] + x[xa:xb]
    with open(os.path.join(out, "nvdec-cuda-x264.line"), "w") as f:
        f.write(shlex.join(["gst-launch-1.0"] + res) + "\n")
    return 0


def load_props():
    with open(PROPS) as f:
        return json.load(f)["elements"]


def elements_with_props(argv):
    """[(index, factory, [(prop, value)])] for every element token of a line:
    a token with no `=`, `.`, `/` or `(` (those are properties, pad
    references such as vt. or hls0.audio, and caps), and the `name=value`
    tokens right after it."""
    out = []
    cur = None
    for i, t in enumerate(argv):
        key = t.split("=", 1)[0]
        if "=" in t and not any(c in key for c in "/,()"):
            if cur is not None:
                cur[2].append(tuple(t.split("=", 1)))
            continue
        cur = None
        if t == "!" or any(c in t for c in "./()="):
            continue
        cur = (i, t, [])
        out.append(cur)
    return out


def cmd_structural(files):
    Gst.init(None)
    known = load_props()
    ok = True
    for path in files:
        argv = read_line(path)
        problems = []
        res = list(argv)
        for i, factory, props in sorted(elements_with_props(argv), key=lambda e: -e[0]):
            if registered(factory):
                continue
            desc = known.get(factory)
            if desc is None:
                problems.append(f"{factory}: not registered here and not a known nvcodec element")
                continue
            for k, v in props:
                p = desc.get("properties", {}).get(k)
                if p is None or not p.get("writable", False):
                    problems.append(f"{factory}: no writable property {k}")
                elif "enum" in p and v not in p["enum"]:
                    problems.append(f"{factory}: {k}={v} is not one of {p['enum']}")
            name = [f"{k}={v}" for k, v in props if k == "name"]
            res[i:i + 1 + len(props)] = [STAND_IN.get(factory, "identity")] + name
        res = [t.replace("(memory:CUDAMemory)", "") for t in res]
        try:
            Gst.parse_launchv(res)
        except GLib.Error as e:
            problems.append(f"gst_parse_launch (nvcodec elements as software stand-ins): {e.message}")
        print(f"structural {os.path.basename(path)}: " + ("ok" if not problems else "; ".join(problems)))
        ok &= not problems
    return 0 if ok else 1


def gpu_memory_mib():
    """MiB of GPU memory this process uses (nvidia-smi), else the GPU's total used."""
    try:
        r = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                           capture_output=True, text=True, timeout=5)
        for line in r.stdout.splitlines():
            pid, _, used = line.partition(",")
            if pid.strip() == str(os.getpid()):
                return int(used)
        r = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                           capture_output=True, text=True, timeout=5)
        return int(r.stdout.split()[0])
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None


def caps_chain(enc_sink, stop_factory):
    """[(element, pad, caps)] walking upstream from enc_sink to the decoder's src pad."""
    chain = []
    pad = enc_sink
    for _ in range(64):
        caps = pad.get_current_caps()
        parent = pad.get_parent_element()
        chain.append((parent.get_name() if parent else "?", pad.get_name(), caps.to_string() if caps else None))
        if pad.get_direction() == Gst.PadDirection.SINK:
            peer = pad.get_peer()
            if peer is None:
                break
            pad = peer
            continue
        if parent is None:
            break
        factory = parent.get_factory()
        if factory and factory.get_name() == stop_factory:
            break
        sinks = parent.sinkpads
        if not sinks:
            break
        pad = sinks[0]
    return chain


def write_master(out, reports):
    lines = ["#EXTM3U", "#EXT-X-VERSION:4", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for r in reports:
        rung = os.path.basename(r["location"].rstrip("/"))
        lines.append(f"#EXT-X-STREAM-INF:BANDWIDTH={r['bandwidth']},AVERAGE-BANDWIDTH={r['average-bandwidth']},"
                     f"CODECS=\"{r['codecs']}\",RESOLUTION={r['width']}x{r['height']},"
                     f"FRAME-RATE={r['frame-rate']:.3f}")
        lines.append(f"{rung}/{r['playlist']}")
    for r in reports:
        rung = os.path.basename(r["location"].rstrip("/"))
        lines.append(f"#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={r['iframe-bandwidth']},CODECS=\"{r['video-codec']}\","
                     f"RESOLUTION={r['width']}x{r['height']},URI=\"{rung}/{r['iframe-playlist']}\"")
    with open(os.path.join(out, "master.m3u8"), "w") as f:
        f.write("\n".join(lines) + "\n")


def cmd_run(stage, line_file, src, out, timeout=240):
    Gst.init(None)
    import hlscheck
    argv = read_line(line_file)
    pipeline = Gst.parse_launchv(argv)
    tee = pipeline.get_by_name("vt")
    frames = [0]
    first = [None]

    def count(pad, info):
        if first[0] is None:
            first[0] = time.monotonic()
        frames[0] += 1
        return Gst.PadProbeReturn.OK
    tee.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, count)

    peak = [None]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            m = gpu_memory_mib()
            if m is not None and (peak[0] is None or m > peak[0]):
                peak[0] = m
            stop.wait(0.5)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    reports, error, chains = [], None, {}
    bus = pipeline.get_bus()
    t0 = time.monotonic()
    pipeline.set_state(Gst.State.PLAYING)
    encoders = [e for e in (pipeline.get_by_name(f"enc{i}") for i in range(16)) if e is not None]
    while True:
        msg = bus.timed_pop_filtered(Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR | Gst.MessageType.ELEMENT)
        for enc in encoders:
            if enc.get_name() not in chains and frames[0] > 0:
                # the element in front of the encoder (cudadownload in the x264 stage) ends the CUDA part
                sink = enc.get_static_pad("sink")
                up = sink.get_peer().get_parent_element()  # the rung's capsfilter
                cap_sink = up.get_static_pad("sink").get_peer().get_parent_element()
                start = cap_sink.get_static_pad("sink") if cap_sink.get_factory().get_name() == "cudadownload" else sink
                if start.get_current_caps() is not None:
                    chains[enc.get_name()] = caps_chain(start, "nvh264dec")
        if msg is None:
            if time.monotonic() - t0 > timeout:
                error = f"no EOS after {timeout} s"
                break
            continue
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            error = f"{msg.src.get_name()}: {err.message} ({dbg})"
            break
        if msg.type == Gst.MessageType.EOS:
            break
        s = msg.get_structure()
        if s is not None and s.get_name() == "wasabihlssink-rung":
            reports.append({k: s.get_value(k) for k in ("location", "playlist", "iframe-playlist", "bandwidth",
                                                        "average-bandwidth", "iframe-bandwidth", "codecs",
                                                        "video-codec", "width", "height", "frame-rate")})
    wall = time.monotonic() - t0
    pipeline.set_state(Gst.State.NULL)
    stop.set()
    sampler.join()

    bad = bool(error)
    print(f"stage {stage}: {'FAILED: ' + error if error else 'EOS'} after {wall:.1f} s")
    busy = time.monotonic() - first[0] if first[0] else wall
    print(f"  fps: {frames[0]} frames through the tee in {wall:.1f} s = {frames[0] / wall:.1f} fps "
          f"({frames[0] / max(busy, 1e-3):.1f} from the first frame)")
    all_cuda = bool(chains)
    for name, chain in sorted(chains.items()):
        in_cuda = all(c and CUDA in c for _, _, c in chain)
        all_cuda &= in_cuda
        print(f"  caps {name}: {'all memory:CUDAMemory' if in_cuda else 'NOT all in CUDA memory'} "
              f"from the decoder over {len(chain)} pads")
        if in_cuda:
            print("    " + " ! ".join(dict.fromkeys(el for el, _, _ in reversed(chain))))
        else:
            for el, pad, c in reversed(chain):
                print(f"    {el}.{pad}: {c}")
    if not chains:
        print("  caps: never negotiated")
    print(f"  CUDA memory all the way from decoder to encoder input: {'yes' if all_cuda else 'NO'}")
    print(f"  GPU memory used (peak, nvidia-smi): {peak[0] if peak[0] is not None else 'unknown'} MiB")
    bad |= not all_cuda
    if not error and reports:
        write_master(out, reports)
        rep = hlscheck.check(out, source=src)
        print("  hlscheck: " + ("no rule broken" if rep.ok else "broken " + ", ".join(sorted(rep.broken()))))
        bad |= not rep.ok
    elif not error:
        print("  hlscheck: no wasabihlssink-rung report, nothing to judge")
        bad = True
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 1 and argv[0] == "list":
        Gst.init(None)
        return cmd_list()
    if len(argv) == 5 and argv[0] == "lines":
        return cmd_lines(*argv[1:])
    if len(argv) >= 2 and argv[0] == "structural":
        return cmd_structural(argv[1:])
    if len(argv) == 5 and argv[0] == "run":
        return cmd_run(*argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
