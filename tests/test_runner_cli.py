#!/usr/bin/python3
"""rugbycodex-runner's command line: help, exit codes, pipeline --print and
--check, a small transcode to a folder and to S3, bad inputs, Ctrl-C.

The deep HLS checks (rules of notes/hls.md, playback in a browser) live in
the HLS tests; here we check what the runner itself promises.
"""
import json
import os
import shlex
import signal
import socket
import subprocess
import time

import rcxtest

RUNNER = rcxtest.RUNNER
FF = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]


def make_clip(path, seconds=4, size="640x360", rate=30, audio=True, video=True, faststart=True):
    args = list(FF)
    if video:
        args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}", "-ac", "2"]
    if video:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-b:a", "96k"]
    if faststart:
        args += ["-movflags", "+faststart"]
    subprocess.run(args + [path], check=True)
    return path


def run(*args, timeout=120, env=None):
    return subprocess.run([RUNNER, *args], capture_output=True, text=True, timeout=timeout,
                          env=env or rcxtest.gst_env())


def jpeg_size(data):
    """(width, height) from a JPEG's start-of-frame segment."""
    i = 2
    while i + 9 < len(data):
        assert data[i] == 0xFF, "not a JPEG marker"
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return (int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big"))
        i += 2 + length
    raise AssertionError("no start-of-frame segment")


def files_under(folder):
    out = []
    for root, _, names in os.walk(folder):
        out += [os.path.relpath(os.path.join(root, n), folder) for n in names]
    return sorted(out)


class HelpAndUsage(rcxtest.TestCase):
    def test_help_documents_commands_and_exit_codes(self):
        for args in (["--help"], ["transcode", "--help"], ["pipeline", "--help"], ["worker", "--help"]):
            r = run(*args)
            self.assertEqual(r.returncode, 0, (args, r.stderr))
            text = r.stdout
            self.assertIn("Exit codes", text, args)
            self.assertRegex(text, r"0\s+success|0 success", args)
            self.assertIn("2", text, args)
        r = run("--help")
        for command in ("transcode", "pipeline", "worker"):
            self.assertIn(command, r.stdout)
        self.assertIn("--watchdog", run("transcode", "--help").stdout)
        self.assertIn("--check", run("pipeline", "--help").stdout)

    def test_usage_errors_exit_2_with_one_line(self):
        cases = [
            [],
            ["frobnicate"],
            ["transcode"],
            ["transcode", "only-one-arg"],
            ["transcode", "--no-such-option", "a", "b"],
            ["transcode", "--watchdog", "0", "a.mp4", "out"],
            ["transcode", "--description", "no-such-profile", "a.mp4", "out"],
            ["transcode", "a.mp4", "http://example.invalid/out/"],
            ["pipeline"],
            ["pipeline", "--print", "--check", "x.json"],
            ["worker"],
        ]
        for args in cases:
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            errors = [l for l in r.stderr.splitlines() if "error:" in l]
            self.assertEqual(len(errors), 1, (args, r.stderr))
        self.assertIn("--queue-url", run("worker").stderr)


class Descriptions(rcxtest.TestCase):
    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def shipped(self):
        with open(os.path.join(rcxtest.SOURCE_DIR, "pipelines", "hls-ladder.json")) as f:
            return json.load(f)

    def test_check_shipped_description(self):
        path = os.path.join(rcxtest.SOURCE_DIR, "pipelines", "hls-ladder.json")
        r = run("pipeline", "--check", path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("valid", r.stdout)
        self.assertIn("x264enc ok", r.stdout)

    def test_check_names_the_bad_field(self):
        d = self.shipped()
        d["ladder"][1]["height"] = 721
        r = run("pipeline", "--check", self.write("odd.json", json.dumps(d)))
        self.assertEqual(r.returncode, 2)
        self.assertIn("ladder[1].height: must be a positive even number", r.stderr)

    def test_check_refuses_segment_names_the_sink_refuses(self):
        # pipeline --check and wasabihlssink at run time share one check
        # (rcx_segment_name_is_valid): what one refuses, so does the other.
        for segment in ("seg%123d.ts", "seg\\%05d.ts", "seg\u0001%05d.ts", "seg%%%05d.ts"):
            d = self.shipped()
            d.setdefault("output", {})["segment"] = segment
            r = run("pipeline", "--check", self.write("seg.json", json.dumps(d)))
            self.assertEqual(r.returncode, 2, (segment, r.stdout, r.stderr))
            self.assertIn("output.segment: must be a file name ending in .ts", r.stderr)
            code = (
                "import sys, gi\n"
                "gi.require_version('Gst', '1.0')\n"
                "from gi.repository import Gst\n"
                "Gst.init(None)\n"
                "p = Gst.parse_launch('fakesrc num-buffers=0 ! wasabihlssink name=s')\n"
                "p.get_by_name('s').set_property('location', sys.argv[1])\n"
                "p.get_by_name('s').set_property('segment-name', sys.argv[2])\n"
                "p.set_state(Gst.State.PLAYING)\n"
                "m = p.get_bus().timed_pop_filtered(30 * Gst.SECOND, Gst.MessageType.ERROR)\n"
                "p.set_state(Gst.State.NULL)\n"
                "print(m.parse_error()[0].message if m else 'no error')\n")
            p = subprocess.run([rcxtest.GST_PYTHON, "-c", code, os.path.join(self.tmp, "o"), segment],
                               capture_output=True, text=True, timeout=60, env=rcxtest.gst_env())
            self.assertIn("Invalid segment-name", p.stdout, (segment, p.stderr))

    def test_check_against_the_registry(self):
        d = self.shipped()
        sw = [e for e in d["encoders"] if e["element"] == "x264enc"][0]
        sw["properties"]["no-such-property"] = 1
        sw["properties"]["speed-preset"] = "warp-speed"
        r = run("pipeline", "--check", self.write("props.json", json.dumps(d)))
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("no-such-property: x264enc has no such property", r.stdout)
        self.assertIn("speed-preset: \"warp-speed\" is not a valid", r.stdout)

    def test_print_nominal_software_and_gpu(self):
        r = run("pipeline", "--print")
        self.assertEqual(r.returncode, 0, r.stderr)
        line = r.stdout.strip()
        self.assertTrue(line.startswith("gst-launch-1.0 "), line)
        self.assertEqual(line.count("x264enc"), 3)
        self.assertEqual(line.count("wasabihlssink"), 3)
        self.assertIn("key-int-max=60", line)
        self.assertIn("option-string=scenecut=0", line)

        r = run("pipeline", "--print", "--encoder", "nvenc")
        self.assertEqual(r.returncode, 0, r.stderr)
        line = r.stdout.strip()
        self.assertEqual(line.count("nvh264enc"), 3)
        self.assertIn("nvh264dec", line)
        self.assertEqual(line.count("cudascale"), 3)
        self.assertIn("'video/x-raw(memory:CUDAMemory),width=1280,height=720,pixel-aspect-ratio=1/1'", line)
        self.assertIn("gop-size=60", line)


class Transcode(rcxtest.TestCase):
    def test_small_transcode_to_a_folder(self):
        # 960x540: the 720p and 1080p rungs are dropped (never upscale).
        src = make_clip(os.path.join(self.tmp, "in.mp4"), seconds=4, size="960x540")
        dst = os.path.join(self.tmp, "out")
        r = run("transcode", "--progress", "lines", src, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        summary = json.loads(r.stdout)
        self.assertEqual(summary["status"], "succeeded")
        self.assertEqual(summary["encoder"], "x264")
        self.assertEqual([(x["name"], x["width"], x["height"]) for x in summary["rungs"]],
                         [("480p", 854, 480)])
        self.assertGreater(summary["rungs"][0]["size"], 0)
        self.assertGreater(summary["rungs"][0]["bandwidth"], 0)
        self.assertAlmostEqual(summary["duration"], 4.0, delta=0.1)
        self.assertGreater(summary["wall_time"], 0)
        self.assertEqual(summary["master"], os.path.join(dst, "master.m3u8"))

        names = files_under(dst)
        for n in ("master.m3u8", "thumbnail.jpg", "480p/index.m3u8", "480p/iframes.m3u8",
                  "480p/segment00000.ts"):
            self.assertIn(n, names)
        with open(os.path.join(dst, "master.m3u8")) as f:
            master = f.read()
        self.assertIn("480p/index.m3u8", master)
        self.assertIn("RESOLUTION=854x480", master)
        with open(os.path.join(dst, "thumbnail.jpg"), "rb") as f:
            jpeg = f.read()
        self.assertEqual(jpeg[:3], b"\xff\xd8\xff")
        # the description's 640 wide, the source's aspect ratio
        self.assertEqual(jpeg_size(jpeg), (640, 360))
        with open(os.path.join(dst, "480p", "index.m3u8")) as f:
            self.assertIn("#EXT-X-ENDLIST", f.read())

    def test_printed_line_is_the_pipeline_that_runs(self):
        src = make_clip(os.path.join(self.tmp, "in.mp4"), seconds=3, size="854x480")
        dst = os.path.join(self.tmp, "out")
        r = run("pipeline", "--print", src, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        printed = r.stdout.strip()

        # The runner logs the line of the pipeline it builds: the same one.
        r = run("transcode", "--verbose", "--progress", "none", src, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        logged = [l.split("pipeline: ", 1)[1] for l in r.stderr.splitlines() if "pipeline: gst-launch-1.0" in l]
        self.assertEqual(logged, [printed])

        # And the printed tokens build and run that pipeline on their own
        # (parsed as a shell would, then gst_parse_launchv as gst-launch-1.0
        # does; run straight to PLAYING like the runner).
        printed_dst = os.path.join(self.tmp, "printed")
        argv = shlex.split(printed.replace(dst, printed_dst))
        self.assertEqual(argv[0], "gst-launch-1.0")
        code = (
            "import sys, gi\n"
            "gi.require_version('Gst', '1.0')\n"
            "from gi.repository import Gst\n"
            "Gst.init(None)\n"
            "p = Gst.parse_launchv(sys.argv[1:])\n"
            "p.set_state(Gst.State.PLAYING)\n"
            "m = p.get_bus().timed_pop_filtered(60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)\n"
            "p.set_state(Gst.State.NULL)\n"
            "sys.exit(0 if m and m.type == Gst.MessageType.EOS else 1)\n")
        p = subprocess.run([rcxtest.GST_PYTHON, "-c", code] + argv[1:], capture_output=True, text=True,
                           timeout=120, env=rcxtest.gst_env())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(printed_dst, "480p", "index.m3u8")) as f:
            self.assertIn("#EXT-X-ENDLIST", f.read())

    def test_bad_inputs_fail_fast_and_publish_nothing(self):
        good = make_clip(os.path.join(self.tmp, "good.mp4"), seconds=6, size="640x360")
        inputs = {}
        inputs["zero-byte"] = os.path.join(self.tmp, "zero.mp4")
        open(inputs["zero-byte"], "wb").close()
        inputs["truncated-half"] = os.path.join(self.tmp, "half.mp4")
        with open(good, "rb") as f:
            data = f.read()
        with open(inputs["truncated-half"], "wb") as f:
            f.write(data[:len(data) // 2])
        inputs["text"] = os.path.join(self.tmp, "text.mp4")
        with open(inputs["text"], "w") as f:
            f.write("not a video at all\n" * 50)
        inputs["audio-only"] = make_clip(os.path.join(self.tmp, "audio.mp4"), seconds=3, video=False)
        inputs["missing"] = os.path.join(self.tmp, "missing.mp4")

        for what, src in inputs.items():
            dst = os.path.join(self.tmp, "out-" + what)
            start = time.monotonic()
            r = run("transcode", "--progress", "none", src, dst, timeout=60)
            took = time.monotonic() - start
            self.assertEqual(r.returncode, 1, (what, r.stderr))
            self.assertLess(took, 30, what)
            errors = [l for l in r.stderr.splitlines() if l.startswith("rugbycodex-runner: error:")]
            self.assertEqual(len(errors), 1, (what, r.stderr))
            self.assertEqual(json.loads(r.stdout)["status"], "failed")
            published = [n for n in files_under(dst) if n.endswith(".m3u8")] if os.path.isdir(dst) else []
            self.assertEqual(published, [], what)
        # The reasons say what is wrong.
        r = run("transcode", inputs["audio-only"], os.path.join(self.tmp, "x"))
        self.assertIn("no video", r.stderr)
        r = run("transcode", inputs["truncated-half"], os.path.join(self.tmp, "y"))
        self.assertIn("truncated", r.stderr)

    def test_interrupt_publishes_nothing(self):
        src = make_clip(os.path.join(self.tmp, "long.mp4"), seconds=60, size="320x180", rate=25)
        dst = os.path.join(self.tmp, "out")
        proc = subprocess.Popen([RUNNER, "transcode", "--progress", "none", src, dst],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=rcxtest.gst_env())
        self.addCleanup(rcxtest.stop_process, proc)
        first = os.path.join(dst, "480p", "segment00000.ts")
        deadline = time.monotonic() + 60
        while not os.path.exists(first):
            self.assertIsNone(proc.poll(), "the job ended before it could be interrupted")
            self.assertLess(time.monotonic(), deadline, "no segment was written")
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("interrupted", err)
        self.assertEqual(json.loads(out)["status"], "interrupted")
        self.assertEqual([n for n in files_under(dst) if n.endswith(".m3u8")], [])


class InterruptProbe(rcxtest.TestCase):
    def test_interrupt_while_probing_a_stalled_s3_source(self):
        """An S3 endpoint that accepts connections and never answers: the
        probe would wait for its timeouts; Ctrl-C ends the job at once."""
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        self.addCleanup(server.close)
        port = server.getsockname()[1]
        env = rcxtest.gst_env({"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
                               "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"})
        dst = os.path.join(self.tmp, "out")
        proc = subprocess.Popen([RUNNER, "transcode", "--progress", "none", "--endpoint-url",
                                 f"http://127.0.0.1:{port}", "s3://media/match.mp4", dst],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(rcxtest.stop_process, proc)
        server.settimeout(30)
        conn, _ = server.accept()      # the probe is waiting for an answer now
        self.addCleanup(conn.close)
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("error: interrupted", err)
        self.assertEqual(json.loads(out)["status"], "interrupted")


class ExplicitDecoder(rcxtest.TestCase):
    def test_entry_decoder_behind_parsebin(self):
        """An encoder entry's own decoder (the GPU entry's nvh264dec) is used
        behind parsebin when the source matches its input caps; checked here
        with a software decoder in the same role."""
        with open(os.path.join(rcxtest.SOURCE_DIR, "pipelines", "hls-ladder.json")) as f:
            d = json.load(f)
        sw = [e for e in d["encoders"] if e["element"] == "x264enc"][0]
        sw["decoder"] = {"element": "avdec_h264", "input-caps": "video/x-h264"}
        d["encoders"] = [sw]
        desc = os.path.join(self.tmp, "explicit.json")
        with open(desc, "w") as f:
            json.dump(d, f)
        src = make_clip(os.path.join(self.tmp, "in.mp4"), seconds=3, size="854x480")
        r = run("pipeline", "--print", "--description", desc, src, os.path.join(self.tmp, "p"))
        self.assertIn("parsebin name=demux demux. ! video/x-h264 ! queue ! avdec_h264 !", r.stdout)
        self.assertIn("demux. ! audio/mpeg ! queue ! decodebin3 !", r.stdout)
        dst = os.path.join(self.tmp, "out")
        r = run("transcode", "--description", desc, "--progress", "none", src, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        summary = json.loads(r.stdout)
        self.assertRegex(summary["rungs"][0]["codecs"], r"^avc1\.64[0-9a-f]{4},mp4a\.40\.2$")
        self.assertTrue(os.path.exists(os.path.join(dst, "master.m3u8")))


class Fallback(rcxtest.TestCase):
    def test_hardware_entry_failing_at_run_time_falls_back(self):
        """A hardware entry whose elements exist but whose encoder fails once
        the pipeline runs (as nvh264enc does on drivers its NVENC API does
        not support): the job restarts with the next entry and says why."""
        with open(os.path.join(rcxtest.SOURCE_DIR, "pipelines", "hls-ladder.json")) as f:
            d = json.load(f)
        sw = [e for e in d["encoders"] if e["element"] == "x264enc"][0]
        broken = json.loads(json.dumps(sw))
        broken.update({
            "name": "fake-gpu", "hardware": "nvidia", "upload": "identity",
            "scaler": {"element": "videoscale", "caps": "video/x-raw(memory:SystemMemory)"},
        })
        broken["properties"]["option-string"] = "no-such-x264-option=1"
        d["encoders"] = [broken, sw]
        desc = os.path.join(self.tmp, "fallback.json")
        with open(desc, "w") as f:
            json.dump(d, f)
        src = make_clip(os.path.join(self.tmp, "in.mp4"), seconds=3, size="854x480")
        dst = os.path.join(self.tmp, "out")
        r = run("transcode", "--description", desc, "--progress", "none", src, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        summary = json.loads(r.stdout)
        self.assertEqual(summary["encoder"], "x264")
        self.assertIn("fake-gpu failed", summary["fallback_reason"])
        self.assertIn("retrying with x264", r.stderr)
        self.assertTrue(os.path.exists(os.path.join(dst, "master.m3u8")))

        # Forced onto that entry, there is no fallback: the job fails.
        r = run("transcode", "--description", desc, "--encoder", "fake-gpu", "--progress", "none",
                src, os.path.join(self.tmp, "forced"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "forced", "master.m3u8")))


class Watchdog(rcxtest.TestCase):
    def test_stalled_source_trips_the_watchdog(self):
        """The source's connection stops sending in the middle of the object
        (the probe only reads its head): no buffer moves, the watchdog ends
        the job well before the S3 client's own timeouts would."""
        from faultproxy import FaultProxy
        s3 = self.start(rcxtest.S3rver(buckets=("media",)))
        proxy = FaultProxy(s3.port)
        proxy.start()
        self.addCleanup(proxy.stop)
        src = make_clip(os.path.join(self.tmp, "in.mp4"), seconds=6, size="640x360")
        s3.boto3().upload_file(src, "media", "in.mp4")
        proxy.add_fault("stall", method="GET", after_bytes=int(os.path.getsize(src) * 0.6),
                        seconds=25, count=None)
        dst = os.path.join(self.tmp, "out")
        start = time.monotonic()
        r = subprocess.run([RUNNER, "transcode", "--progress", "none", "--watchdog", "3",
                            "s3://media/in.mp4", dst],
                           capture_output=True, text=True, timeout=60, env=s3.env(proxy.endpoint))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no progress for 3 s (watchdog)", r.stderr)
        self.assertLess(time.monotonic() - start, 20)
        self.assertEqual([n for n in files_under(dst) if n.endswith(".m3u8")], [])


class TranscodeS3(rcxtest.TestCase):
    def test_s3_source_and_destination(self):
        s3 = self.start(rcxtest.S3rver(buckets=("media",)))
        client = s3.boto3()
        src = make_clip(os.path.join(self.tmp, "in.mp4"), seconds=4, size="854x480")
        client.upload_file(src, "media", "uploads/match 1.mp4")

        r = subprocess.run([RUNNER, "transcode", "--progress", "none",
                            "s3://media/uploads/match 1.mp4", "s3://media/hls/job-1/"],
                           capture_output=True, text=True, timeout=120, env=s3.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        summary = json.loads(r.stdout)
        self.assertEqual(summary["master"], "s3://media/hls/job-1/master.m3u8")
        keys = {o["Key"] for o in client.list_objects_v2(Bucket="media", Prefix="hls/job-1/")["Contents"]}
        for k in ("master.m3u8", "thumbnail.jpg", "480p/index.m3u8", "480p/iframes.m3u8",
                  "480p/segment00000.ts"):
            self.assertIn("hls/job-1/" + k, keys)
        head = client.head_object(Bucket="media", Key="hls/job-1/master.m3u8")
        self.assertEqual(head["ContentType"], "application/vnd.apple.mpegurl")
        head = client.head_object(Bucket="media", Key="hls/job-1/thumbnail.jpg")
        self.assertEqual(head["ContentType"], "image/jpeg")
        master = client.get_object(Bucket="media", Key="hls/job-1/master.m3u8")["Body"].read().decode()
        self.assertIn("480p/index.m3u8", master)


if __name__ == "__main__":
    rcxtest.main()
