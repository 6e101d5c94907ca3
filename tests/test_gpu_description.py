#!/usr/bin/python3
"""The GPU pipeline descriptions (pipelines/*.json, see docs/pipelines.md),
checked structurally against the GStreamer 1.22 element data in
$RCX_TESTDATA/gst-1.22-encoder-properties.json: every element and
property a hardware encoder entry names exists there and is writable, enum
values are listed nicks, numbers (variables filled in for every rung at
25/30/60 fps) are within min/max, caps the entry forces are in the
elements' pad templates, and "conditional" (GPU-capability) properties are
flagged unless the entry marks them optional.

Then the real path: when nvh264enc is registered here, a transcode with the
GPU entry runs and its output is checked; when it is not (no NVENC on this
machine), the test says so and asserts that the runner reported the
software encoder in its JSON summary."""
import glob
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rcxtest  # noqa: E402

PROPS = os.path.join(rcxtest.TESTDATA, "gst-1.22-encoder-properties.json")
PIPELINES = os.path.join(rcxtest.SOURCE_DIR, "pipelines")
INT_TYPES = {"gint", "guint", "gint64", "guint64", "glong", "gulong"}
FLOAT_TYPES = {"gdouble", "gfloat"}


def variables(desc, rung, fps, width=None):
    """The variables docs/pipelines.md defines, for one rung at `fps`."""
    gop = float(desc["gop-seconds"])
    avg = int(rung["bitrate"])
    peak = int(rung.get("peak-bitrate", avg))
    height = int(rung["height"])
    width = width or (height * 16 // 9) // 2 * 2
    return {"bitrate": avg, "peak-bitrate": peak, "bitrate-bps": avg * 1000, "peak-bitrate-bps": peak * 1000,
            "gop-frames": round(gop * fps), "gop-seconds": gop, "vbv-ms": round(1000 * gop * (peak - avg) / avg),
            "width": width, "height": height}


def expand(value, env):
    if not isinstance(value, str):
        return value
    names = re.findall(r"\$\{([a-z0-9-]+)\}", value)
    for n in names:
        if n not in env:
            raise KeyError(f"unknown variable ${{{n}}}")
        value = value.replace("${" + n + "}", str(env[n]))
    return value


def check_value(elem, prop, spec, value):
    """Problems with setting `prop` of `elem` to `value` (a JSON value with
    variables already filled in)."""
    t = spec.get("type")
    if not spec.get("writable", False):
        return [f"{elem}.{prop} is read-only"]
    if t == "gboolean":
        if isinstance(value, bool) or str(value).lower() in ("true", "false"):
            return []
        return [f"{elem}.{prop}={value!r} is not a boolean"]
    if "enum" in spec:
        return [] if str(value) in spec["enum"] else [
            f"{elem}.{prop}={value!r} is not one of {spec['enum']}"]
    if "flags" in spec:
        bad = [f for f in str(value).split("+") if f not in spec["flags"]]
        return [f"{elem}.{prop}: flag(s) {bad} not among {spec['flags']}"] if bad else []
    if t in INT_TYPES or t in FLOAT_TYPES:
        try:
            num = float(value) if t in FLOAT_TYPES else int(str(value), 0) if isinstance(value, str) else value
            if t in INT_TYPES and (isinstance(num, float) and not num.is_integer()):
                raise ValueError
        except (TypeError, ValueError):
            return [f"{elem}.{prop}={value!r} is not a {t}"]
        lo, hi = spec.get("min"), spec.get("max")
        if lo is not None and num < lo:
            return [f"{elem}.{prop}={num} below the minimum {lo}"]
        if hi is not None and num > hi:
            return [f"{elem}.{prop}={num} above the maximum {hi}"]
        return []
    if t == "gchararray":
        return []
    return [f"{elem}.{prop} has type {t}, not settable from a description"]


def caps_name(caps):
    return caps.split(",")[0].strip()


def template_has(template, caps):
    """Is the media type (with its memory feature) of `caps` in a pad template string?"""
    name = caps_name(caps)
    return any(s.split(",")[0].strip() == name for s in template.split(";"))


def registered_here(name):
    return subprocess.run(["gst-inspect-1.0", "--exists", name], env=rcxtest.gst_env()).returncode == 0


def check_entry(db, desc, entry, local_ok=False):
    """All problems of one encoder entry; also returns the conditional uses.
    With `local_ok`, an element the data file does not cover may instead be
    registered on this machine (software entries: videoscale...)."""
    problems, conditional = [], []
    optional = set(entry.get("optional-properties", []))
    elements = db["elements"]
    names = {"encoder": entry.get("element"), "upload": entry.get("upload"),
             "decoder": (entry.get("decoder") or {}).get("element"),
             "scaler": (entry.get("scaler") or {}).get("element")}
    for role, name in names.items():
        if name and name not in elements and not (local_ok and registered_here(name)):
            problems.append(f"{role} element {name!r} is not a GStreamer 1.22 element in {os.path.basename(PROPS)}")
    enc = elements.get(entry.get("element"))
    if enc is None:
        return problems, conditional
    props = enc["properties"]
    envs = [variables(desc, r, fps) for r in desc["ladder"] for fps in (25, 30, 60)]
    for prop, raw in (entry.get("properties") or {}).items():
        spec = props.get(prop)
        if spec is None:
            problems.append(f"{entry['element']} has no property {prop!r}")
            continue
        if spec.get("conditional"):
            conditional.append(prop)
            if prop not in optional:
                problems.append(f"{entry['element']}.{prop} is conditional (installed only when the GPU reports "
                                f"the capability: {spec.get('note', '')}) and the entry does not mark it optional")
        for env in envs:
            try:
                value = expand(raw, env)
            except KeyError as e:
                problems.append(f"{entry['element']}.{prop}: {e.args[0]}")
                break
            found = check_value(entry["element"], prop, spec, value)
            if found:
                problems.append(found[0] + f" (rung {env['height']}p, gop-frames {env['gop-frames']})")
                break
    # Caps the entry forces must be in the templates of the elements around them.
    out_caps = entry.get("output-caps")
    if out_caps:
        if not template_has(enc["pad-templates"]["src"], out_caps):
            problems.append(f"output-caps {out_caps!r} not produced by {entry['element']}")
        m = re.search(r"profile=([\w:-]+)", out_caps)
        profiles = re.search(r"profile=\(string\)\{([^}]*)\}", enc["pad-templates"]["src"])
        if m and profiles and m.group(1) not in [p.strip() for p in profiles.group(1).split(",")]:
            problems.append(f"output-caps profile {m.group(1)} not in {entry['element']}'s src template")
    scaler = entry.get("scaler") or {}
    if scaler.get("element") in elements and scaler.get("caps"):
        if not template_has(elements[scaler["element"]]["pad-templates"]["src"], scaler["caps"]):
            problems.append(f"scaler caps {scaler['caps']!r} not produced by {scaler['element']}")
        if not template_has(enc["pad-templates"]["sink"], scaler["caps"]):
            problems.append(f"scaler caps {scaler['caps']!r} not accepted by {entry['element']}")
    dec = entry.get("decoder") or {}
    if dec.get("element") in elements and dec.get("input-caps"):
        if not template_has(elements[dec["element"]]["pad-templates"]["sink"], dec["input-caps"]):
            problems.append(f"decoder input-caps {dec['input-caps']!r} not accepted by {dec['element']}")
    if entry.get("upload") in elements:
        src = elements[entry["upload"]]["pad-templates"]["src"]
        if scaler.get("element") in elements and not any(
                template_has(elements[scaler["element"]]["pad-templates"]["sink"], s) for s in src.split(";")):
            problems.append(f"{entry['upload']} output does not feed {scaler['element']}")
    # Widths of every rung fit the encoder's sink template (nvh264enc: 145..4096 x 49..4096).
    wr = re.search(r"width=\(int\)\[ *(\d+), *(\d+) *\]", enc["pad-templates"]["sink"])
    hr = re.search(r"height=\(int\)\[ *(\d+), *(\d+) *\]", enc["pad-templates"]["sink"])
    if wr and hr:
        for r in desc["ladder"]:
            h = int(r["height"])
            for w, hh in ((h * 16 // 9 // 2 * 2, h), (h, h * 16 // 9 // 2 * 2)):   # landscape, portrait
                if not (int(wr.group(1)) <= w <= int(wr.group(2)) and int(hr.group(1)) <= hh <= int(hr.group(2))):
                    problems.append(f"rung {r.get('name')} at {w}x{hh} is outside {entry['element']}'s "
                                    f"sizes {wr.group(0)} {hr.group(0)}")
    return problems, conditional


def parse_summary(stdout):
    """The runner's JSON summary on stdout (whole, or its last line)."""
    text = stdout.strip()
    for candidate in (text, text.splitlines()[-1] if text else ""):
        try:
            value = json.loads(candidate)
            if isinstance(value, dict):
                return value
        except ValueError:
            pass
    raise AssertionError(f"no JSON summary on the runner's stdout: {text[-1500:]!r}")


TRANSPARENT = {"queue", "tee", "videorate", "jobstatus", "identity", "capsfilter", "progressreport"}


def parse_launch(line):
    """Chains of a gst-launch line: lists of ("element", factory, props),
    ("caps", string) and ("ref", "name.pad") items."""
    import shlex
    tokens = shlex.split(line)
    if tokens and tokens[0].endswith("gst-launch-1.0"):
        tokens = tokens[1:]
    tokens = [t for t in tokens if not t.startswith("-")]
    chains, chain, cur, expect_new = [], [], None, True
    for t in tokens:
        if t == "!":
            expect_new = True
            continue
        if "=" in t and cur is not None and not expect_new and "/" not in t.split("=")[0]:
            k, _, v = t.partition("=")
            cur[2][k] = v
            continue
        if not expect_new:   # a new chain starts without a link
            chains.append(chain)
            chain = []
        if re.match(r"^[a-z]+/[\w.+-]+", t) or t.startswith(("video/", "audio/")):
            item = ("caps", t)
        elif re.match(r"^[\w-]+\.[\w%]*$", t):
            item = ("ref", t)
        else:
            item = ("element", t, {})
        chain.append(item)
        cur = item if item[0] == "element" else None
        expect_new = False
    if chain:
        chains.append(chain)
    return chains


def features(caps):
    """'video/x-raw(memory:CUDAMemory),width=..' -> 'video/x-raw(memory:CUDAMemory)'."""
    return caps.split(",")[0].strip()


def flow_problems(db, chains):
    """Walk the chains carrying the set of media types + memory features
    that can flow; report links the templates cannot make, and returns
    what each nvh264enc can receive."""
    elements = db["elements"]
    problems, enc_inputs, named = [], [], {}
    for chain in chains:
        flow = None
        for item in chain:
            if item[0] == "ref":
                flow = named.get(item[1].split(".")[0])
                continue
            if item[0] == "caps":
                f = features(item[1])
                if f.endswith("(ANY)"):
                    continue
                if flow is not None and f not in flow:
                    problems.append(f"caps {item[1]} cannot follow {sorted(flow)}")
                flow = {f}
                continue
            factory, props = item[1], item[2]
            if "name" in props and factory in TRANSPARENT | {"tee"}:
                named[props["name"]] = flow
            if factory in TRANSPARENT:
                continue
            spec = elements.get(factory)
            if spec is None:
                flow = None
                if "name" in props:
                    named[props["name"]] = None
                continue
            sink = {features(c) for c in spec["pad-templates"]["sink"].split(";")}
            if flow is not None and not (flow & sink):
                problems.append(f"{factory} accepts {sorted(sink)}, gets {sorted(flow)}")
            if factory == "nvh264enc":
                enc_inputs.append(flow & sink if flow is not None else None)
            flow = {features(c) for c in spec["pad-templates"]["src"].split(";")}
            if "name" in props:
                named[props["name"]] = flow
    return problems, enc_inputs


def gop_problems(gop_s, seg_s, fps, label):
    """A GOP of round(gop_s x fps) frames must last gop_s within half a frame,
    and the first segment boundary (the first frame at or after seg_s) must
    be one of its IDRs: 29.97 and 23.976 fps pass, 70/3 fps does not."""
    import math
    gop = round(gop_s * fps)
    out = []
    if gop < 1 or abs(gop / fps - gop_s) > 0.5 / fps:
        out.append(f"output frame rate {label}: a {gop_s} s GOP is {gop_s * fps:.3f} frames")
    elif math.ceil(seg_s * fps - 1e-9) % gop:
        out.append(f"output frame rate {label}: the {seg_s} s segment boundary falls on frame "
                   f"{math.ceil(seg_s * fps - 1e-9)}, not on an IDR of a {gop}-frame GOP")
    return out


def gpu_entries():
    out = []
    for path in sorted(glob.glob(os.path.join(PIPELINES, "*.json"))):
        with open(path) as f:
            desc = json.load(f)
        for e in desc.get("encoders", []):
            if e.get("hardware"):
                out.append((path, desc, e))
    return out


class GpuDescriptionTest(rcxtest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(PROPS) as f:
            cls.db = json.load(f)

    def test_there_is_a_gpu_entry(self):
        entries = gpu_entries()
        self.assertTrue(entries, f"no encoder entry with \"hardware\" in {PIPELINES}/*.json")
        self.assertIn("nvh264enc", [e["element"] for _, _, e in entries])

    def test_gpu_entries_match_gstreamer_1_22(self):
        for path, desc, entry in gpu_entries():
            with self.subTest(description=os.path.basename(path), encoder=entry.get("name")):
                problems, conditional = check_entry(self.db, desc, entry)
                self.assertEqual(problems, [], "\n".join(problems))
                print(f"{os.path.basename(path)} {entry.get('name')}: {entry['element']} with "
                      f"{len(entry.get('properties', {}))} properties OK; conditional used: {conditional or 'none'}")

    def test_software_entries_match_gstreamer_1_22(self):
        for path in sorted(glob.glob(os.path.join(PIPELINES, "*.json"))):
            with open(path) as f:
                desc = json.load(f)
            for entry in desc.get("encoders", []):
                if entry.get("hardware") or entry.get("element") not in self.db["elements"]:
                    continue
                with self.subTest(description=os.path.basename(path), encoder=entry.get("name")):
                    problems, _ = check_entry(self.db, desc, entry, local_ok=True)
                    self.assertEqual(problems, [], "\n".join(problems))

    def test_checker_flags_bad_entries(self):
        """The structural check itself finds each kind of mistake."""
        path, desc, entry = gpu_entries()[0]
        cases = {
            "no property 'bitrat'": {"bitrat": 100},
            "is read-only": {"cuda-device-id": 0},
            "is not one of": {"preset": "p7"},
            "above the maximum": {"qp-max": 60},
            "is conditional": {"bframes": 2},
            "unknown variable": {"gop-size": "${gop-frame}"},
        }
        for needle, props in cases.items():
            bad = dict(entry, properties=dict(entry.get("properties", {}), **props))
            problems, _ = check_entry(self.db, desc, bad)
            self.assertTrue(any(needle in p for p in problems), f"{needle}: {problems}")
        ok = dict(entry, properties=dict(entry.get("properties", {}), bframes=2), **{"optional-properties": ["bframes"]})
        self.assertEqual(check_entry(self.db, desc, ok)[0], [])
        for fps in (25, 30, 60, 30000 / 1001, 24000 / 1001, 50):
            self.assertEqual(gop_problems(2, 6, fps, str(fps)), [])
        self.assertTrue(gop_problems(2, 6, 70 / 3, "70/3"))
        problems, _ = check_entry(self.db, desc, dict(entry, element="nvh265enc"))
        self.assertTrue(any("not a GStreamer 1.22 element" in p for p in problems), problems)
        problems, _ = check_entry(self.db, desc, dict(entry, **{"output-caps": "video/x-h264,profile=high-10"}))
        self.assertTrue(any("profile high-10" in p for p in problems), problems)

    def test_printed_gpu_pipeline(self):
        """The gst-launch line the runner builds with the GPU entry (H.264 and
        HEVC sources): every element and property it sets checked as above,
        templates link, and each nvh264enc is fed CUDA memory (frames stay on
        the GPU from the decoder or the single upload to the encoder)."""
        import corpus
        self.assertTrue(os.access(rcxtest.RUNNER, os.X_OK), f"{rcxtest.RUNNER} is not built")
        for _, desc, entry in gpu_entries():
            for clip in ("hd1080p30", "hevc", "portrait_rot90", "interlaced_1080i25", "vfr"):
                with self.subTest(encoder=entry["name"], source=clip):
                    r = subprocess.run([rcxtest.RUNNER, "pipeline", "--print", "--encoder", entry["name"],
                                        corpus.path(clip), os.path.join(self.tmp, clip)],
                                       capture_output=True, text=True, env=rcxtest.gst_env(), timeout=60)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    chains = parse_launch(r.stdout.strip())
                    items = [i for c in chains for i in c if i[0] == "element"]
                    problems = []
                    for _, factory, props in items:
                        spec = self.db["elements"].get(factory)
                        if spec is None or factory in ("x264enc",):
                            continue
                        for k, v in props.items():
                            if k not in spec["properties"]:
                                problems.append(f"{factory} has no property {k!r}")
                            else:
                                if spec["properties"][k].get("conditional") and \
                                        k not in entry.get("optional-properties", []):
                                    problems.append(f"{factory}.{k} is conditional")
                                problems += check_value(factory, k, spec["properties"][k], v)
                    flow, enc_inputs = flow_problems(self.db, chains)
                    problems += flow
                    self.assertTrue(enc_inputs, f"no nvh264enc in {r.stdout[:500]}")
                    for got in enc_inputs:
                        if got != {"video/x-raw(memory:CUDAMemory)"}:
                            problems.append(f"an nvh264enc is fed {got}, not CUDA memory only")
                    factories = [i[1] for i in items]
                    self.assertNotIn("cudadownload", factories)
                    if clip == "hd1080p30":
                        self.assertIn(entry["decoder"]["element"], factories)
                    if clip == "portrait_rot90":
                        self.assertIn("videoflip", factories, "rotation not applied on the GPU path")
                    if clip == "interlaced_1080i25":
                        self.assertIn("deinterlace", factories, "no deinterlacing on the GPU path")
                    # IDRs every gop-seconds (M10), and the first segment boundary on one of them.
                    rates = set(re.findall(r"framerate=(\d+)/(\d+)", r.stdout))
                    self.assertTrue(rates, "no output frame rate in the pipeline")
                    for n, d in rates:
                        problems += gop_problems(float(desc["gop-seconds"]), float(desc["segment-seconds"]),
                                                 int(n) / int(d), f"{n}/{d}")
                    self.assertLessEqual(factories.count(entry["upload"]), 1, "more than one upload")
                    self.assertEqual(problems, [], "\n".join(problems) + "\n" + r.stdout[:3000])

    def test_real_gpu_path_or_software_fallback(self):
        env = rcxtest.gst_env()
        have_nvenc = subprocess.run(["gst-inspect-1.0", "nvh264enc"], capture_output=True, env=env).returncode == 0
        import corpus
        import hlscheck
        self.assertTrue(os.access(rcxtest.RUNNER, os.X_OK), f"{rcxtest.RUNNER} is not built")
        src = corpus.path("fps25")
        out = os.path.join(self.tmp, "out")
        r = subprocess.run([rcxtest.RUNNER, "transcode", src, out], capture_output=True, text=True, env=env,
                           timeout=600)
        self.assertEqual(r.returncode, 0, f"runner failed:\n{r.stderr[-3000:]}")
        summary = parse_summary(r.stdout)
        text = json.dumps(summary)
        encoder = summary.get("encoder")
        self.assertTrue(encoder, f"the runner's JSON summary names no encoder: {text[:2000]}")
        if have_nvenc:
            print("nvh264enc is registered: checking the real GPU path")
            self.assertEqual(summary.get("encoder_element"), "nvh264enc", text)
        else:
            print("NO NVENC HERE: gst-inspect-1.0 nvh264enc fails (no NVIDIA encoder registered); "
                  "the GPU path is checked structurally only, and the runner must fall back to x264")
            self.assertEqual(summary.get("encoder_element"), "x264enc", text)
        rep = hlscheck.check(out, source=src)
        self.assertTrue(rep.ok, rep.text())


if __name__ == "__main__":
    rcxtest.main()
