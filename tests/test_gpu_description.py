#!/usr/bin/python3
"""The GPU pipeline descriptions (pipelines/*.json, see docs/pipelines.md),
checked structurally against the GStreamer 1.22 element data in
$RCX_SHARED_TESTDATA/gst-1.22-encoder-properties.json: every element and
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

PROPS = os.path.join(rcxtest.SHARED_TESTDATA, "gst-1.22-encoder-properties.json")
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
        problems, _ = check_entry(self.db, desc, dict(entry, element="nvh265enc"))
        self.assertTrue(any("not a GStreamer 1.22 element" in p for p in problems), problems)
        problems, _ = check_entry(self.db, desc, dict(entry, **{"output-caps": "video/x-h264,profile=high-10"}))
        self.assertTrue(any("profile high-10" in p for p in problems), problems)

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
