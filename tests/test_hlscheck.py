#!/usr/bin/python3
"""Self-test of tests/hlscheck.py: a ladder that follows every rule (made
here with ffmpeg, then given the master and I-frame playlists ffmpeg does
not write) passes; deliberately broken copies of it, and ladders encoded
against the rules, are reported under the rule they break."""
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlscheck  # noqa: E402
import hlsserve  # noqa: E402
import rcxtest  # noqa: E402

FF = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
SECS = 14


def ffmpeg(*args):
    r = subprocess.run(FF + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"ffmpeg {' '.join(args)}: {r.stderr}")


def ladder(src, out, rungs, video_opts=(), audio=("-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000"),
           hls_opts=(), with_audio=True):
    """An ffmpeg HLS ladder: rungs = [(w, h, kbit/s, extra per-stream options)]."""
    os.makedirs(out, exist_ok=True)
    split = f"[0:v]split={len(rungs)}" + "".join(f"[s{i}]" for i in range(len(rungs))) + ";" + ";".join(
        f"[s{i}]scale={w}:{h}[v{i}]" for i, (w, h, _, _) in enumerate(rungs))
    args = ["-i", src, "-filter_complex", split]
    for i in range(len(rungs)):
        args += ["-map", f"[v{i}]"] + (["-map", "0:a"] if with_audio else [])
    args += ["-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
             "-pix_fmt", "yuv420p", *video_opts]
    for i, (_, _, kbps, extra) in enumerate(rungs):
        args += [f"-b:v:{i}", f"{kbps}k", f"-maxrate:v:{i}", f"{kbps * 11 // 10}k", f"-bufsize:v:{i}",
                 f"{kbps * 2}k", *[x.replace("{i}", str(i)) for x in extra]]
    if with_audio:
        args += list(audio)
    vmap = " ".join(f"v:{i},a:{i}" if with_audio else f"v:{i}" for i in range(len(rungs)))
    args += ["-f", "hls", "-master_pl_name", "master.m3u8", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts",
             *hls_opts, "-var_stream_map", vmap,
             "-hls_segment_filename", os.path.join(out, "v%v", "seg%03d.ts"),
             os.path.join(out, "v%v", "index.m3u8")]
    ffmpeg(*args)
    return out


def write_master(out, independent=True):
    """Give an ffmpeg ladder what the rules ask of the master: measured
    BANDWIDTH/AVERAGE-BANDWIDTH, CODECS from the SPS, RESOLUTION,
    FRAME-RATE, EXT-X-INDEPENDENT-SEGMENTS and one I-frame playlist per rung."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:4"] + (["#EXT-X-INDEPENDENT-SEGMENTS"] if independent else [])
    iframe_lines = []
    for d in sorted(x for x in os.listdir(out) if os.path.isdir(os.path.join(out, x))):
        loc = os.path.join(out, d, "index.m3u8")
        with open(loc, "rb") as f:
            pl = hlscheck.Playlist(loc, f.read())
        rep = hlscheck.Report()
        segs = hlscheck.analyse_rung(rep, hlscheck.Reader(out), pl, d)
        v = hlscheck.video_stats(segs)
        a = hlscheck.audio_stats(segs)
        peak, avg = hlscheck.peak_and_average(segs, int(pl.tags["#EXT-X-TARGETDURATION"]))
        st = hlscheck.ffprobe(segs[0]["loc"], "-show_streams", "-select_streams", "v")["streams"][0]
        res = f"{st['width']}x{st['height']}"
        avc = "avc1.%02x%02x%02x" % tuple(v["sps"])
        codecs = avc + (",mp4a.40.2" if a else "")
        lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={round(peak)},AVERAGE-BANDWIDTH={round(avg)},'
                  f'CODECS="{codecs}",RESOLUTION={res},FRAME-RATE={v["fps"]:.3f}', f"{d}/index.m3u8"]
        # I-frame playlist: one entry per IDR, from its first TS packet to the end of its PES.
        entries = []
        for s in segs:
            for au in sorted(s["ts"].video, key=lambda x: x["pos"]):
                if au["kind"] == "IDR":
                    entries.append((au["pts"] / hlscheck.CLOCK, s["uri"], au["pos"], s["ts"].pes_end[au["pos"]]))
        body, ipeak = [], 0
        for k, (t, uri, pos, end) in enumerate(entries):
            nxt = entries[k + 1][0] if k + 1 < len(entries) else v["end"]
            body += [f"#EXTINF:{nxt - t:.5f},", f"#EXT-X-BYTERANGE:{end - pos}@{pos}", uri]
            ipeak = max(ipeak, (end - pos) * 8 / (nxt - t))
        tdur = max(math.floor(e + 0.5) for e in [entries[k + 1][0] - entries[k][0]
                                                   for k in range(len(entries) - 1)] + [1])
        with open(os.path.join(out, d, "iframes.m3u8"), "w") as f:
            f.write("\n".join(["#EXTM3U", "#EXT-X-VERSION:4", f"#EXT-X-TARGETDURATION:{tdur}",
                               "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-I-FRAMES-ONLY"] + body + ["#EXT-X-ENDLIST", ""]))
        iframe_lines.append(f'#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={round(ipeak)},CODECS="{avc}",'
                            f'RESOLUTION={res},URI="{d}/iframes.m3u8"')
    with open(os.path.join(out, "master.m3u8"), "w") as f:
        f.write("\n".join(lines + iframe_lines + [""]))


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def edit(path, old, new, count=1):
    text = read(path)
    if old not in text:
        raise AssertionError(f"{old!r} not in {path}")
    with open(path, "w") as f:
        f.write(text.replace(old, new, count))


def rewrite_ts(path, keep_pid=None, drop_pid=None, pad=0):
    """Turn the packets of `drop_pid` into null packets; append `pad` null packets."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    null = b"\x47\x1f\xff\x10" + b"\xff" * 184
    for off in range(0, len(data), 188):
        pid = ((data[off + 1] & 0x1F) << 8) | data[off + 2]
        if drop_pid is not None and pid == drop_pid:
            data[off:off + 188] = null
    data += null * pad
    with open(path, "wb") as f:
        f.write(data)


class HlsCheckTest(rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="rcx-hlscheck-")
        cls.src = os.path.join(cls.dir, "src.mp4")
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=960x540:rate=30:duration={SECS}",
               "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECS}", "-ac", "2",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
               "-movflags", "+faststart", cls.src)
        cls.good = ladder(cls.src, os.path.join(cls.dir, "good"), [(960, 540, 2000, ()), (640, 360, 900, ())],
                          video_opts=("-profile:v", "high"))
        write_master(cls.good)
        cls.ffmpeg_plain = ladder(cls.src, os.path.join(cls.dir, "plain"), [(960, 540, 2000, ()),
                                                                           (640, 360, 900, ())])
        ffmpeg("-i", cls.src, "-c", "copy", "-t", "10", os.path.join(cls.dir, "short.mp4"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def copy(self):
        out = os.path.join(self.tmp, "hls")
        shutil.copytree(self.good, out)
        return out

    def assertBroken(self, out, rules, source=None, only=False):
        rep = hlscheck.check(out, source=source if source is not None else self.src)
        for r in rules:
            self.assertIn(r, rep.broken(), f"rule {r} not reported; report:\n{rep.text()}")
        for r, reason in rep.failures:
            self.assertTrue(reason.strip(), f"{r} without a reason")
        if only:
            self.assertEqual(rep.broken(), set(rules), rep.text())
        return rep

    # --- the good ladder passes, on disk and over HTTP
    def test_good_ladder_passes(self):
        rep = hlscheck.check(self.good, source=self.src)
        self.assertTrue(rep.ok, rep.text())
        self.assertEqual([r["height"] for r in rep.info["rungs"]], [540, 360])

    def test_good_ladder_over_http_passes_and_cli_exit_0(self):
        with hlsserve.serve(self.good) as base:
            rep = hlscheck.check(base + "master.m3u8", source=self.src)
            self.assertTrue(rep.ok, rep.text())
            r = subprocess.run([sys.executable, hlscheck.__file__, base + "master.m3u8", "--source", self.src],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("no HLS rule broken", r.stdout)

    def test_plain_ffmpeg_master_is_named(self):
        # ffmpeg's own master: configured bandwidth, no AVERAGE-BANDWIDTH, FRAME-RATE, I-frames.
        rep = self.assertBroken(self.ffmpeg_plain, ["V4", "V5", "V9", "I1"])
        r = subprocess.run([sys.executable, hlscheck.__file__, self.ffmpeg_plain], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("V5:", r.stdout)
        self.assertNotIn("M9", rep.broken())

    # --- media playlists
    def test_M1_bom_and_header(self):
        out = self.copy()
        p = os.path.join(out, "v0", "index.m3u8")
        with open(p, "rb") as f:
            data = f.read()
        with open(p, "wb") as f:
            f.write(b"\xef\xbb\xbf" + data)
        edit(os.path.join(out, "v1", "index.m3u8"), "#EXTM3U\n", "")
        rep = self.assertBroken(out, ["M1"])
        self.assertEqual(len([1 for r, _ in rep.failures if r == "M1"]), 2, rep.text())

    def test_M1_content_type_over_http(self):
        with hlsserve.serve(self.good, {".m3u8": "text/plain"}) as base:
            rep = self.assertBroken(base + "master.m3u8", ["M1"], only=True)
            self.assertIn("text/plain", rep.text())

    def test_M2_M3_long_extinf(self):
        out = self.copy()
        edit(os.path.join(out, "v0", "index.m3u8"), "#EXTINF:6.000000,", "#EXTINF:6.600000,")
        self.assertBroken(out, ["M2", "M3"])

    def test_M4_target_duration(self):
        out = self.copy()
        for d in ("v0", "v1"):
            edit(os.path.join(out, d, "index.m3u8"), "#EXT-X-TARGETDURATION:6", "#EXT-X-TARGETDURATION:8")
        self.assertBroken(out, ["M4"], only=True)

    def test_M5_playlist_type(self):
        out = self.copy()
        edit(os.path.join(out, "v1", "index.m3u8"), "#EXT-X-PLAYLIST-TYPE:VOD\n", "")
        self.assertBroken(out, ["M5"], only=True)

    def test_M6_endlist_newline(self):
        out = self.copy()
        edit(os.path.join(out, "v0", "index.m3u8"), "#EXT-X-ENDLIST\n", "#EXT-X-ENDLIST")
        rep = self.assertBroken(out, ["M6"], only=True)
        self.assertIn("newline", rep.text())
        edit(os.path.join(out, "v1", "index.m3u8"), "#EXT-X-ENDLIST\n", "")
        rep = self.assertBroken(out, ["M6"], only=True)
        self.assertIn("does not end", rep.text())

    def test_M7_version(self):
        out = self.copy()
        p = os.path.join(out, "v0", "index.m3u8")
        write(p, re.sub(r"#EXT-X-VERSION:\d+", "#EXT-X-VERSION:2", read(p)))
        edit(os.path.join(out, "v1", "iframes.m3u8"), "#EXT-X-VERSION:4", "#EXT-X-VERSION:3")
        rep = self.assertBroken(out, ["M7"], only=True)
        self.assertEqual(len(rep.failures), 2, rep.text())

    def test_M8_extinf_vs_real_and_source_duration(self):
        out = self.copy()
        edit(os.path.join(out, "v1", "index.m3u8"), "#EXTINF:6.000000,", "#EXTINF:5.500000,")
        self.assertBroken(out, ["M8"], only=True)
        rep = self.assertBroken(self.good, ["M8"], source=os.path.join(self.dir, "short.mp4"), only=True)
        self.assertIn("source lasts 10.000", rep.text())

    def test_M9_M10_split_by_time_and_long_gop(self):
        out = os.path.join(self.tmp, "split")
        ladder(self.src, out, [(640, 360, 900, ()), (480, 270, 500, ())],
               video_opts=("-g", "90", "-keyint_min", "90"),
               hls_opts=("-hls_flags", "split_by_time", "-hls_time", "4"))
        write_master(out)
        rep = self.assertBroken(out, ["M9", "M10"])
        self.assertIn("not an IDR", rep.text())

    def test_M10_scene_cut_iframes(self):
        out = os.path.join(self.tmp, "scenecut")
        # IDRs forced every 2 s, and open-GOP I-frames (not IDR) every 15 frames in v0.
        ladder(self.src, out, [(640, 360, 900, ("-x264-params:v:{i}", "keyint=15:min-keyint=15:scenecut=0:"
                                                                    "open-gop=1")),
                               (480, 270, 500, ())],
               video_opts=("-forced-idr", "1", "-force_key_frames", "expr:gte(t,n_forced*2)"))
        write_master(out)
        rep = self.assertBroken(out, ["M10"], only=True)
        self.assertIn("v0/index.m3u8: 21 non-IDR I-frame(s)", rep.text())
        self.assertNotIn("v1/", rep.text())

    # --- across rungs
    def test_A1_target_differs(self):
        out = self.copy()
        edit(os.path.join(out, "v1", "index.m3u8"), "#EXT-X-TARGETDURATION:6", "#EXT-X-TARGETDURATION:7")
        self.assertBroken(out, ["A1"])

    def test_A2_A4_first_segment_dropped(self):
        out = self.copy()
        edit(os.path.join(out, "v1", "index.m3u8"), "#EXTINF:6.000000,\nseg000.ts\n", "")
        self.assertBroken(out, ["A2", "A4"])

    def test_A3_A4_last_segment_dropped(self):
        out = self.copy()
        p = os.path.join(out, "v1", "index.m3u8")
        with open(p) as f:
            lines = f.read().splitlines()
        i = max(k for k, line in enumerate(lines) if line.startswith("#EXTINF"))
        del lines[i:i + 2]
        with open(p, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.assertBroken(out, ["A3", "A4"])

    def test_A3_audio_shorter_than_video(self):
        out = self.copy()
        last = sorted(os.listdir(os.path.join(out, "v0")))
        last = [x for x in last if x.endswith(".ts")][-1]
        with open(os.path.join(out, "v0", last), "rb") as f:
            seg = hlscheck.Segment(f.read())
        rewrite_ts(os.path.join(out, "v0", last), drop_pid=seg.audio_pid)
        write_master(out)
        rep = self.assertBroken(out, ["A3"], only=True)
        self.assertIn("audio", rep.text())

    def test_A5_aspect_and_upscale(self):
        src = hlscheck.probe_source(self.src)
        four_three = dict(src, display_width=720.0, display_height=540.0, aspect=4 / 3)
        self.assertBroken(self.good, ["A5"], source=four_three, only=True)
        small = dict(src, display_width=768.0, display_height=432.0)
        rep = self.assertBroken(self.good, ["A5"], source=small, only=True)
        self.assertIn("upscaled", rep.text())

    # --- master
    def test_V1_V5_declared_bandwidths(self):
        out = self.copy()
        m = os.path.join(out, "master.m3u8")
        text = read(m)
        text = re.sub(r"BANDWIDTH=(\d+),AVERAGE", lambda x: f"BANDWIDTH={int(x.group(1)) // 2},AVERAGE", text, 1)
        text = re.sub(r"AVERAGE-BANDWIDTH=(\d+)", lambda x: f"AVERAGE-BANDWIDTH={int(x.group(1)) * 13 // 10}",
                      text, 1)
        write(m, text)
        self.assertBroken(out, ["V1", "V5"], only=True)

    def test_V8_peak_over_twice_average(self):
        out = self.copy()
        # Stuff the first segment of v1 with null packets, then measure again.
        rewrite_ts(os.path.join(out, "v1", "seg000.ts"), pad=60000)
        write_master(out)
        self.assertBroken(out, ["V8"], only=True)

    def test_V2_V3_V4_attributes(self):
        out = self.copy()
        m = os.path.join(out, "master.m3u8")
        text = read(m)
        first_stream = text.index("#EXT-X-STREAM-INF")
        avc = text[text.index("avc1.", first_stream):][:11]
        edit(m, f'CODECS="{avc},mp4a.40.2"', f'CODECS="{avc[:-2]}1e"')
        edit(m, "RESOLUTION=640x360,FRAME-RATE=30.000", "RESOLUTION=640x480,FRAME-RATE=25.000")
        rep = self.assertBroken(out, ["V2", "V3", "V4"], only=True)
        self.assertEqual(len([1 for r, _ in rep.failures if r == "V2"]), 2, rep.text())

    def test_V9_V10(self):
        out = self.copy()
        m = os.path.join(out, "master.m3u8")
        edit(m, "#EXT-X-INDEPENDENT-SEGMENTS\n", "")
        lines = read(m).splitlines()
        i = max(k for k, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF"))
        del lines[i:i + 2]
        lines = [x for x in lines if "v1/iframes" not in x]
        write(m, "\n".join(lines) + "\n")
        self.assertBroken(out, ["V9", "V10"], only=True)

    def test_I1_missing_and_misaligned(self):
        out = self.copy()
        m = os.path.join(out, "master.m3u8")
        lines = [x for x in read(m).splitlines() if "v0/iframes" not in x]
        write(m, "\n".join(lines) + "\n")
        p = os.path.join(out, "v1", "iframes.m3u8")
        text = read(p)
        text = re.sub(r"#EXT-X-BYTERANGE:(\d+)@(\d+)", lambda x: f"#EXT-X-BYTERANGE:{x.group(1)}@{int(x.group(2)) + 188}",
                      text, 1)
        text = text.replace("#EXT-X-I-FRAMES-ONLY\n", "")
        m = read(os.path.join(out, "master.m3u8"))
        write(os.path.join(out, "master.m3u8"), re.sub(r'(I-FRAME-STREAM-INF:BANDWIDTH=)(\d+)(.*v1/iframes)',
                                                     lambda x: f"{x.group(1)}{int(x.group(2)) * 2}{x.group(3)}", m))
        write(p, text)
        rep = self.assertBroken(out, ["I1"], only=True)
        t = rep.text()
        self.assertIn("no EXT-X-I-FRAME-STREAM-INF with RESOLUTION=960x540", t)
        self.assertIn("does not start on an IDR", t)
        self.assertIn("no #EXT-X-I-FRAMES-ONLY", t)
        self.assertIn("the I-frames' measured peak", t)

    # --- elementary streams
    def test_E1_E2_E3_E4_E7_bad_encodes(self):
        vfr = os.path.join(self.tmp, "vfr.mp4")
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=960x540:rate=30:duration=8",
               "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=8",
               "-vf", "select='not(eq(mod(n\\,7)\\,3))'", "-fps_mode", "vfr",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", vfr)
        out = os.path.join(self.tmp, "bad")
        ladder(vfr, out, [(640, 360, 900, ("-profile:v:{i}", "main", "-flags:v:{i}", "+ilme+ildct")),
                          (427, 241, 500, ("-pix_fmt:v:{i}", "yuv444p"))],
               video_opts=("-fps_mode", "passthrough"),
               audio=("-c:a", "aac", "-b:a", "64k", "-ac", "1", "-ar", "44100"))
        write_master(out)
        rep = self.assertBroken(out, ["E1", "E2", "E3", "E4", "E7"], source=vfr)
        t = rep.text()
        self.assertIn("not High", t)
        self.assertIn("not stereo", t)
        self.assertIn("44100", t)

    def test_E4_E5_E6_against_the_source(self):
        src = hlscheck.probe_source(self.src)
        rep = self.assertBroken(self.good, ["E5"], source=dict(src, has_audio=False), only=True)
        self.assertIn("source has no audio", rep.text())
        out = os.path.join(self.tmp, "silent")
        ladder(self.src, out, [(960, 540, 2000, ()), (640, 360, 900, ())], with_audio=False)
        write_master(out)
        self.assertBroken(out, ["E4"], only=True)
        self.assertTrue(hlscheck.check(out, source=dict(src, has_audio=False)).ok)
        text = read(os.path.join(out, "master.m3u8")).replace('",RES', ',mp4a.40.2",RES', 1)
        write(os.path.join(out, "master.m3u8"), text)
        self.assertBroken(out, ["E5"], source=dict(src, has_audio=False), only=True)
        rotated = dict(src, rotation=90, display_width=540.0, display_height=960.0, aspect=540 / 960)
        self.assertBroken(self.good, ["E6", "A5"], source=rotated, only=True)


if __name__ == "__main__":
    rcxtest.main()
