#!/usr/bin/python3
"""Check an HLS VOD output against the rules of docs hls.md.

    tests/hlscheck.py DIR_OR_URL [--source SRC] [--json]

DIR_OR_URL is a folder holding master.m3u8 (or any multivariant playlist),
a path to a playlist, or an http:// URL of one. With --source, the rules
that compare against the input (M8 duration, A5 aspect, audio presence,
rotation) are checked against that file too (it is ffprobed). Exit status:
0 when no rule is broken, 1 when one is, 2 on a usage error.

As a module:

    import hlscheck
    report = hlscheck.check("out/", source="in.mp4")
    report.ok, report.broken() -> {"M9", ...}, report.failures -> [(rule, reason)]

Rules (IDs of hls.md, plus E* for the elementary-stream rules, which hls.md
lists without numbers):

  M1  playlist starts with #EXTM3U, UTF-8, no BOM; served as
      application/vnd.apple.mpegurl (checked when reading over HTTP)
  M2  round(EXTINF) <= EXT-X-TARGETDURATION
  M3  no segment longer than target + 0.5 s      M4  target duration 6 s
  M5  #EXT-X-PLAYLIST-TYPE:VOD                   M6  #EXT-X-ENDLIST + newline
  M7  EXT-X-VERSION fits the tags used
  M8  EXTINF sum = media duration within one frame (each EXTINF = its
      segment's real duration; the source's duration with --source)
  M9  every segment starts with PAT/PMT and an IDR
  M10 IDRs exactly every 2 s, no other I-frames (closed GOP, no scene cuts)
  A1  same target duration in every rung     A2  same first timestamp
  A3  same time range, audio as long as video
  A4  segment boundaries and IDRs aligned within one frame
  A5  same aspect ratio as the source, no rung larger than the source
  V1  BANDWIDTH within 10 % of the measured peak
  V2  CODECS covers every stream (avc1.PPCCLL from the SPS, mp4a.40.2)
  V3  RESOLUTION   V4  FRAME-RATE   V5  AVERAGE-BANDWIDTH within 10 %
  V8  peak <= 2x average   V9  #EXT-X-INDEPENDENT-SEGMENTS   V10 >= 2 variants
  I1  EXT-X-I-FRAME-STREAM-INF per rung, I-frame playlist with
      #EXT-X-I-FRAMES-ONLY and BYTERANGEs starting on an IDR's TS packet
  E1  H.264 High, level <= 4.2 (<= 5.2 above 30 fps)
  E2  progressive                  E3  constant frame rate
  E4  audio AAC-LC stereo 48 kHz ~128 kbit/s in every rung (source has audio)
  E5  no audio in the source -> no audio stream and no mp4a in CODECS
  E6  rotation metadata applied (portrait source -> portrait rungs)
  E7  even width and height
  FETCH  a playlist or segment could not be read or parsed
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

TS = 188
CLOCK = 90000.0
HLS_MIME = "application/vnd.apple.mpegurl"
TARGET = 6
GOP = 2.0
AUDIO_RATE = 128000

RULES = {
    "M1": "playlist header/encoding/content type", "M2": "EXTINF <= target duration",
    "M3": "segment <= target + 0.5 s", "M4": "target duration 6 s", "M5": "PLAYLIST-TYPE:VOD",
    "M6": "ENDLIST with newline", "M7": "EXT-X-VERSION", "M8": "duration", "M9": "segment starts with IDR",
    "M10": "IDR every 2 s, closed GOP", "A1": "same target duration", "A2": "same start timestamp",
    "A3": "same time range", "A4": "aligned segments and IDRs", "A5": "aspect ratio, no upscaling",
    "V1": "BANDWIDTH = measured peak", "V2": "CODECS", "V3": "RESOLUTION", "V4": "FRAME-RATE",
    "V5": "AVERAGE-BANDWIDTH = measured average", "V8": "peak <= 2x average",
    "V9": "INDEPENDENT-SEGMENTS", "V10": "at least two variants", "I1": "I-frame playlists",
    "E1": "H.264 High, level", "E2": "progressive", "E3": "constant frame rate", "E4": "AAC-LC stereo 48 kHz 128k",
    "E5": "no audio -> no mp4a", "E6": "rotation applied", "E7": "even sizes", "FETCH": "unreadable input",
}


class Report:
    def __init__(self):
        self.failures = []
        self.info = {}

    def fail(self, rule, reason):
        assert rule in RULES, rule
        self.failures.append((rule, reason))

    def broken(self):
        return {r for r, _ in self.failures}

    @property
    def ok(self):
        return not self.failures

    def text(self):
        if self.ok:
            return "OK: no HLS rule broken"
        return "\n".join(f"{r}: {m}" for r, m in self.failures)


# ---------------------------------------------------------------- reading

class Reader:
    """Reads playlists and segments from a folder or over HTTP. Remote
    files are copied once into a scratch folder so ffprobe reads local ones."""

    def __init__(self, base):
        self.remote = base.startswith(("http://", "https://"))
        self.cache = {}
        self.content_types = {}
        self.tmp = tempfile.mkdtemp(prefix="hlscheck-") if self.remote else None

    def close(self):
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def join(base, ref):
        if base.startswith(("http://", "https://")) or ref.startswith(("http://", "https://")):
            return urllib.parse.urljoin(base, ref)
        return os.path.normpath(os.path.join(os.path.dirname(base), urllib.parse.unquote(ref)))

    def read(self, loc):
        if loc in self.cache:
            return self.cache[loc]
        if self.remote:
            with urllib.request.urlopen(loc, timeout=30) as r:
                data = r.read()
                self.content_types[loc] = r.headers.get("Content-Type", "")
        else:
            with open(loc, "rb") as f:
                data = f.read()
        self.cache[loc] = data
        return data

    def local_path(self, loc):
        if not self.remote:
            return loc
        path = os.path.join(self.tmp, f"{len(os.listdir(self.tmp))}.ts")
        with open(path, "wb") as f:
            f.write(self.read(loc))
        return path


def parse_attrs(text):
    out = {}
    for m in re.finditer(r'([A-Z0-9-]+)=("[^"]*"|[^",]*)', text):
        v = m.group(2)
        out[m.group(1)] = v[1:-1] if v.startswith('"') else v
    return out


class Playlist:
    def __init__(self, loc, data):
        self.loc = loc
        self.raw = data
        self.lines = []
        self.tags = {}       # first value of each tag
        self.segments = []   # dicts: uri, duration, title, byterange (len, off)
        self.variants = []   # (attrs, uri)
        self.iframes = []    # attrs
        self.version = None
        self.text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
        pending = {}
        last_end = {}
        expect_uri = None
        for line in self.text.splitlines():
            line = line.strip()
            if not line:
                continue
            self.lines.append(line)
            if line.startswith("#"):
                tag, _, value = line.partition(":")
                self.tags.setdefault(tag, value)
                if tag == "#EXTINF":
                    dur, _, title = value.partition(",")
                    pending["duration_text"] = dur.strip()
                    pending["duration"] = float(dur)
                elif tag == "#EXT-X-BYTERANGE":
                    n, _, o = value.partition("@")
                    pending["byterange"] = (int(n), int(o) if o else None)
                elif tag == "#EXT-X-STREAM-INF":
                    expect_uri = parse_attrs(value)
                elif tag == "#EXT-X-I-FRAME-STREAM-INF":
                    self.iframes.append(parse_attrs(value))
                elif tag == "#EXT-X-VERSION":
                    self.version = int(value)
                continue
            if expect_uri is not None:
                self.variants.append((expect_uri, line))
                expect_uri = None
                continue
            seg = dict(pending, uri=line)
            pending = {}
            if "byterange" in seg:
                n, o = seg["byterange"]
                if o is None:
                    o = last_end.get(line, 0)
                seg["byterange"] = (n, o)
                last_end[line] = o + n
            self.segments.append(seg)

    def has(self, tag):
        return tag in self.tags


# ---------------------------------------------------------------- MPEG-TS

def _ue(bits, pos):
    zeros = 0
    while pos < len(bits) and bits[pos] == "0":
        zeros += 1
        pos += 1
    pos += 1
    val = (1 << zeros) - 1 + (int(bits[pos:pos + zeros], 2) if zeros else 0)
    return val, pos + zeros


def _rbsp(nal, limit=24):
    out = bytearray()
    zeros = 0
    for b in nal[:limit]:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def _nals(payload):
    """Yield the H.264 NAL units of an Annex B payload, stopping after the
    first slice (that is all the checks need)."""
    i = payload.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        j = payload.find(b"\x00\x00\x01", start)
        nal = payload[start:j if j >= 0 else len(payload)]
        if nal:
            yield nal
            if nal[0] & 0x1f in (1, 5):
                return
        i = j


def _adts_frames(payload):
    frames = []
    i = 0
    while i + 7 <= len(payload):
        if payload[i] != 0xFF or payload[i + 1] & 0xF0 != 0xF0:
            break
        b2, b3 = payload[i + 2], payload[i + 3]
        profile = (b2 >> 6) + 1          # audio object type
        sr_index = (b2 >> 2) & 0xF
        channels = ((b2 & 1) << 2) | (b3 >> 6)
        length = ((b3 & 3) << 11) | (payload[i + 4] << 3) | (payload[i + 5] >> 5)
        if length < 7:
            break
        frames.append((profile, sr_index, channels, length))
        i += length
    return frames


ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]


class Segment:
    """What a scan of one TS file finds: video access units (pos, pts, dts,
    kind, sps) and audio PES packets (pos, pts, adts frames)."""

    def __init__(self, data):
        self.size = len(data)
        self.error = None
        self.starts_with_psi = False
        self.video = []
        self.audio = []
        self.video_pid = self.audio_pid = None
        self.video_type = self.audio_type = None
        self.pes_end = {}   # pos of a video PES -> end offset of its last TS packet
        try:
            self._scan(data)
        except (IndexError, ValueError) as e:
            self.error = f"cannot parse MPEG-TS: {e}"

    def _scan(self, data):
        if len(data) % TS or not data:
            raise ValueError(f"size {len(data)} is not a whole number of 188-byte packets")
        pmt_pid = None
        cur = {}
        for off in range(0, len(data), TS):
            if data[off] != 0x47:
                raise ValueError(f"lost sync at byte {off}")
            pid = ((data[off + 1] & 0x1F) << 8) | data[off + 2]
            pusi = data[off + 1] & 0x40
            afc = (data[off + 3] >> 4) & 3
            p = off + 4
            if afc & 2:
                p += 1 + data[p]
            if not afc & 1 or p >= off + TS:
                continue
            payload = data[p:off + TS]
            if pid == self.video_pid and not self.video and not cur.get(pid):
                # PAT and PMT came before the first video packet.
                self.starts_with_psi = True
            if pid == 0 and pusi:
                sec = payload[1 + payload[0]:]
                n = ((sec[1] & 0xF) << 8 | sec[2]) - 9
                for k in range(0, n, 4):
                    e = sec[8 + k:12 + k]
                    if (e[0] << 8 | e[1]) != 0:
                        pmt_pid = (e[2] & 0x1F) << 8 | e[3]
                continue
            if pid == pmt_pid and pusi:
                sec = payload[1 + payload[0]:]
                slen = (sec[1] & 0xF) << 8 | sec[2]
                info = (sec[10] & 0xF) << 8 | sec[11]
                k = 12 + info
                while k < 3 + slen - 4:
                    st, epid = sec[k], (sec[k + 1] & 0x1F) << 8 | sec[k + 2]
                    elen = (sec[k + 3] & 0xF) << 8 | sec[k + 4]
                    if st in (0x1B, 0x24, 0x02) and self.video_pid is None:
                        self.video_pid, self.video_type = epid, st
                    elif st in (0x0F, 0x11, 0x03, 0x04, 0x81) and self.audio_pid is None:
                        self.audio_pid, self.audio_type = epid, st
                    k += 5 + elen
                continue
            if pid not in (self.video_pid, self.audio_pid):
                continue
            if pusi:
                if pid in cur:
                    self._finish(pid, *cur[pid])
                cur[pid] = [off, bytearray(payload)]
            elif pid in cur:
                cur[pid][1] += payload
            if pid == self.video_pid and pid in cur:
                self.pes_end[cur[pid][0]] = off + TS
        for pid, (pos, buf) in cur.items():
            self._finish(pid, pos, buf)

    def _finish(self, pid, pos, buf):
        if buf[:3] != b"\x00\x00\x01":
            return
        flags = buf[7]
        hlen = buf[8]

        def ts(b):
            return ((b[0] >> 1) & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1
        pts = ts(buf[9:14]) if flags & 0x80 else None
        dts = ts(buf[14:19]) if flags & 0xC0 == 0xC0 else pts
        es = bytes(buf[9 + hlen:])
        if pid == self.video_pid:
            kind, sps = None, None
            if self.video_type == 0x1B:
                for nal in _nals(es):
                    t = nal[0] & 0x1F
                    if t == 7 and sps is None:
                        sps = nal[1:4]
                    elif t in (1, 5):
                        bits = "".join(f"{b:08b}" for b in _rbsp(nal[1:]))
                        _, q = _ue(bits, 0)
                        st, _ = _ue(bits, q)
                        kind = "IDR" if t == 5 else ("P", "B", "I", "SP", "SI")[st % 5]
            self.video.append({"pos": pos, "pts": pts, "dts": dts, "kind": kind, "sps": sps})
        else:
            frames = _adts_frames(es) if self.audio_type == 0x0F else []
            self.audio.append({"pos": pos, "pts": pts, "frames": frames,
                               "bytes": sum(f[3] for f in frames) or len(es)})


# ---------------------------------------------------------------- ffprobe

def ffprobe(path, *args):
    cmd = ["ffprobe", "-v", "error", "-of", "json", *args, path]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"ffprobe {os.path.basename(path)}: {r.stderr.strip() or r.returncode}")
    return json.loads(r.stdout or "{}")


def rotation_of(stream):
    rot = 0
    tags = stream.get("tags") or {}
    if "rotate" in tags:
        rot = int(float(tags["rotate"]))
    for sd in stream.get("side_data_list") or []:
        if "rotation" in sd:
            rot = -int(float(sd["rotation"]))
    return rot % 360


def _ratio(text, default=1.0):
    try:
        a, b = (float(x) for x in text.split(":" if ":" in text else "/"))
        return a / b if b else default
    except (ValueError, AttributeError):
        return default


def probe_source(path):
    """What the rules need to know of the input: duration, audio presence,
    display size after rotation and sample aspect ratio."""
    info = ffprobe(path, "-show_streams", "-show_format")
    vs = [s for s in info.get("streams", []) if s.get("codec_type") == "video"
          and not (s.get("disposition") or {}).get("attached_pic")]
    aus = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not vs:
        raise RuntimeError(f"{path}: no video stream")
    v = vs[0]
    rot = rotation_of(v)
    w, h = int(v["width"]), int(v["height"])
    sar = _ratio(v.get("sample_aspect_ratio", "1:1"))
    if not sar or sar <= 0:
        sar = 1.0
    dw, dh = w * sar, float(h)
    if rot in (90, 270):
        dw, dh = dh, dw
    dur = v.get("duration") or (info.get("format") or {}).get("duration")
    if dur is None and (v.get("tags") or {}).get("DURATION"):
        hh, mm, ss = v["tags"]["DURATION"].split(":")
        dur = int(hh) * 3600 + int(mm) * 60 + float(ss)
    return {"path": path, "duration": float(dur) if dur else None, "has_audio": bool(aus),
            "width": w, "height": h, "rotation": rot, "display_width": dw, "display_height": dh,
            "aspect": dw / dh, "field_order": v.get("field_order", "")}


# ---------------------------------------------------------------- checks

def _fmt(x):
    return f"{x:.3f}"


def peak_and_average(segs, target):
    """Measured average bit rate and peak (largest over any run of
    consecutive segments lasting 0.5-1.5x the target duration)."""
    total_bits = sum(s["bytes"] * 8 for s in segs)
    total_dur = sum(s["duration"] for s in segs)
    avg = total_bits / total_dur if total_dur > 0 else 0.0
    peak = 0.0
    for i in range(len(segs)):
        bits = dur = 0.0
        for j in range(i, len(segs)):
            bits += segs[j]["bytes"] * 8
            dur += segs[j]["duration"]
            if dur > 1.5 * target:
                break
            if dur >= 0.5 * target:
                peak = max(peak, bits / dur)
    return max(peak, avg), avg


def check_media_playlist(rep, pl, name, iframe=False):
    """M1-M7 on one media (or I-frame) playlist."""
    data = pl.raw
    if data.startswith(b"\xef\xbb\xbf"):
        rep.fail("M1", f"{name}: starts with a UTF-8 BOM")
    elif not data.startswith(b"#EXTM3U"):
        rep.fail("M1", f"{name}: does not start with #EXTM3U")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        rep.fail("M1", f"{name}: not UTF-8 ({e})")
    target = pl.tags.get("#EXT-X-TARGETDURATION")
    try:
        target = int(target)
    except (TypeError, ValueError):
        rep.fail("M2", f"{name}: no valid #EXT-X-TARGETDURATION ({target!r})")
        target = None
    if not pl.segments:
        rep.fail("FETCH", f"{name}: lists no segment")
    if target is not None:
        for i, s in enumerate(pl.segments):
            if int(math.floor(s["duration"] + 0.5)) > target:
                rep.fail("M2", f"{name}: segment {i} EXTINF {s['duration']} rounds above "
                         f"TARGETDURATION {target}")
            if not iframe and s["duration"] > target + 0.5:
                rep.fail("M3", f"{name}: segment {i} lasts {s['duration']} s > target {target} + 0.5 s")
        total = sum(s["duration"] for s in pl.segments)
        if not iframe and target != TARGET and not (total < TARGET and target == math.ceil(total)):
            rep.fail("M4", f"{name}: TARGETDURATION {target}, expected {TARGET}")
    if pl.tags.get("#EXT-X-PLAYLIST-TYPE") != "VOD":
        rep.fail("M5", f"{name}: #EXT-X-PLAYLIST-TYPE is {pl.tags.get('#EXT-X-PLAYLIST-TYPE')!r}, not VOD")
    if not pl.lines or pl.lines[-1] != "#EXT-X-ENDLIST":
        rep.fail("M6", f"{name}: does not end with #EXT-X-ENDLIST")
    elif not data.rstrip(b" \t").endswith(b"#EXT-X-ENDLIST\n") and not data.endswith(b"#EXT-X-ENDLIST\r\n"):
        rep.fail("M6", f"{name}: #EXT-X-ENDLIST is not followed by a newline")
    need = 1
    why = []
    if any(re.search(r"\.\d", s.get("duration_text", "")) for s in pl.segments):
        need, why = 3, ["float EXTINF"]
    if pl.has("#EXT-X-BYTERANGE") or pl.has("#EXT-X-I-FRAMES-ONLY"):
        need = 4
        why.append("BYTERANGE/I-FRAMES-ONLY")
    have = pl.version or 1
    if have < need:
        rep.fail("M7", f"{name}: EXT-X-VERSION {pl.version} but {', '.join(why)} needs >= {need}")
    return target


def analyse_rung(rep, reader, pl, name):
    """Scan every segment of a rung; returns a dict of measurements."""
    segs = []
    for i, s in enumerate(pl.segments):
        loc = reader.join(pl.loc, s["uri"])
        try:
            data = reader.read(loc)
        except OSError as e:
            rep.fail("FETCH", f"{name}: segment {s['uri']}: {e}")
            return None
        seg = Segment(data)
        if seg.error:
            rep.fail("FETCH", f"{name}: segment {s['uri']}: {seg.error}")
            return None
        if not seg.video:
            rep.fail("FETCH", f"{name}: segment {s['uri']} holds no video")
            return None
        segs.append({"loc": loc, "uri": s["uri"], "duration": s["duration"], "bytes": len(data), "ts": seg})
    return segs


def video_stats(segs):
    aus = [au for s in segs for au in s["ts"].video]
    pts = sorted(au["pts"] for au in aus if au["pts"] is not None)
    deltas = [b - a for a, b in zip(pts, pts[1:])]
    frame = sorted(deltas)[len(deltas) // 2] / CLOCK if deltas else 1 / 30
    fps = (len(pts) - 1) / ((pts[-1] - pts[0]) / CLOCK) if len(pts) > 1 and pts[-1] > pts[0] else 0.0
    return {"pts": pts, "deltas": deltas, "frame": frame, "fps": fps,
            "start": pts[0] / CLOCK, "end": pts[-1] / CLOCK + frame,
            "idr": sorted(au["pts"] / CLOCK for au in aus if au["kind"] == "IDR"),
            "iframes": sorted(au["pts"] / CLOCK for au in aus if au["kind"] in ("I", "SI")),
            "sps": next((au["sps"] for au in aus if au["sps"]), None)}


def audio_stats(segs):
    pes = [p for s in segs for p in s["ts"].audio]
    if not pes:
        return None
    frames = [f for p in pes for f in p["frames"]]
    rate = ADTS_RATES[frames[0][1]] if frames and frames[0][1] < len(ADTS_RATES) else None
    first = min(p["pts"] for p in pes if p["pts"] is not None) / CLOCK
    last = max(pes, key=lambda p: p["pts"] or 0)
    end = last["pts"] / CLOCK + (len(last["frames"]) * 1024 / rate if rate else 0)
    dur = end - first
    return {"start": first, "end": end, "frames": frames, "rate": rate,
            "bitrate": sum(p["bytes"] for p in pes) * 8 / dur if dur > 0 else 0,
            "duration": dur}


def check(target, source=None):
    """Check the HLS output at `target` (folder, playlist path or URL);
    `source` is the input file (path) or a probe_source() dict."""
    rep = Report()
    reader = Reader(target)
    try:
        _check(rep, reader, target, source)
    finally:
        reader.close()
    return rep


def _find_master(target):
    if target.startswith(("http://", "https://")) or os.path.isfile(target):
        return target
    names = sorted(n for n in os.listdir(target) if n.endswith(".m3u8"))
    for n in ["master.m3u8"] + names:
        p = os.path.join(target, n)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                if b"#EXT-X-STREAM-INF" in f.read():
                    return p
    raise FileNotFoundError(f"no multivariant playlist (master.m3u8) in {target}")


def _check(rep, reader, target, source):
    src = probe_source(source) if isinstance(source, str) else source
    rep.info["source"] = src
    try:
        mloc = _find_master(target)
        master = Playlist(mloc, reader.read(mloc))
    except (OSError, ValueError) as e:
        rep.fail("FETCH", f"master playlist: {e}")
        return
    mname = os.path.basename(urllib.parse.urlparse(mloc).path) or mloc
    data = master.raw
    if data.startswith(b"\xef\xbb\xbf"):
        rep.fail("M1", f"{mname}: starts with a UTF-8 BOM")
    elif not data.startswith(b"#EXTM3U"):
        rep.fail("M1", f"{mname}: does not start with #EXTM3U")
    if not master.has("#EXT-X-INDEPENDENT-SEGMENTS"):
        rep.fail("V9", f"{mname}: no #EXT-X-INDEPENDENT-SEGMENTS")
    if len(master.variants) < 2:
        rep.fail("V10", f"{mname}: {len(master.variants)} variant(s), at least 2 needed")

    rungs = []
    for attrs, uri in master.variants:
        loc = reader.join(mloc, uri)
        try:
            pl = Playlist(loc, reader.read(loc))
        except (OSError, ValueError) as e:
            rep.fail("FETCH", f"variant {uri}: {e}")
            continue
        name = uri
        target_d = check_media_playlist(rep, pl, name)
        segs = analyse_rung(rep, reader, pl, name)
        if not segs:
            continue
        rungs.append({"name": name, "attrs": attrs, "pl": pl, "target": target_d, "segs": segs,
                      "video": video_stats(segs), "audio": audio_stats(segs),
                      "probe": ffprobe(reader.local_path(segs[0]["loc"]), "-select_streams", "v:0",
                                       "-show_streams", "-show_frames", "-read_intervals", "%+#3")})
    if not rungs:
        check_content_types(rep, reader)
        return
    for r in rungs:
        check_rung(rep, r, src)
    check_across(rep, rungs, src)
    check_iframes(rep, reader, master, mloc, rungs)
    check_content_types(rep, reader)
    rep.info["rungs"] = [{"name": r["name"], "width": r["width"], "height": r["height"],
                          "fps": round(r["video"]["fps"], 3), "peak": round(r["peak"]),
                          "average": round(r["average"])} for r in rungs]


def check_content_types(rep, reader):
    for url, ctype in reader.content_types.items():
        if ".m3u8" in urllib.parse.urlparse(url).path and \
                ctype.split(";")[0].strip().lower() != HLS_MIME:
            rep.fail("M1", f"{url} served as {ctype!r}, not {HLS_MIME}")


def check_rung(rep, r, src):
    name, segs, v, a, attrs = r["name"], r["segs"], r["video"], r["audio"], r["attrs"]
    frame = v["frame"]
    tol = frame + 0.002
    # M8: each EXTINF is its segment's real duration; the sum is the media's.
    starts = [min(au["pts"] for au in s["ts"].video if au["pts"] is not None) / CLOCK for s in segs]
    r["starts"] = starts
    ends = starts[1:] + [v["end"]]
    for i, s in enumerate(segs):
        real = ends[i] - starts[i]
        if abs(real - s["duration"]) > tol:
            rep.fail("M8", f"{name}: segment {i} EXTINF {s['duration']:.3f} s but it holds "
                     f"{real:.3f} s of video")
    total = sum(s["duration"] for s in segs)
    real = v["end"] - v["start"]
    if abs(total - real) > tol:
        rep.fail("M8", f"{name}: EXTINF sum {total:.3f} s, video lasts {real:.3f} s")
    if src and src.get("duration") and abs(total - src["duration"]) > tol:
        rep.fail("M8", f"{name}: EXTINF sum {total:.3f} s, source lasts {src['duration']:.3f} s")
    # M9
    for i, s in enumerate(segs):
        ts = s["ts"]
        first = min(ts.video, key=lambda au: au["pos"])
        if first["kind"] != "IDR":
            rep.fail("M9", f"{name}: segment {i} ({s['uri']}) starts with a {first['kind'] or 'non-H.264'} "
                     "frame, not an IDR")
        if not ts.starts_with_psi:
            rep.fail("M9", f"{name}: segment {i} ({s['uri']}) has no PAT/PMT before its first video packet")
    # M10: IDRs every 2 s, nothing else intra.
    idr = v["idr"]
    for x, y in zip(idr, idr[1:]):
        if abs((y - x) - GOP) > frame / 2 + 0.001:
            rep.fail("M10", f"{name}: IDRs at {x - v['start']:.3f} s and {y - v['start']:.3f} s are "
                     f"{y - x:.3f} s apart, not {GOP} s")
            break
    if idr and v["end"] - idr[-1] > GOP + frame / 2:
        rep.fail("M10", f"{name}: no IDR in the last {v['end'] - idr[-1]:.3f} s")
    if v["iframes"]:
        rep.fail("M10", f"{name}: {len(v['iframes'])} non-IDR I-frame(s) (scene cut / open GOP), first at "
                 f"{v['iframes'][0] - v['start']:.3f} s")
    # E3: constant frame rate.
    d = v["deltas"]
    if d and max(d) - min(d) > 2:
        rep.fail("E3", f"{name}: frame intervals vary from {min(d) / CLOCK * 1000:.2f} to "
                 f"{max(d) / CLOCK * 1000:.2f} ms (not CFR)")
    # E1 / V2: H.264 High and level from the SPS.
    streams = r["probe"].get("streams", [])
    pv = next((s for s in streams if s.get("codec_type") == "video"), {})
    w, h = int(pv.get("width", 0)), int(pv.get("height", 0))
    r["width"], r["height"] = w, h
    sps = v["sps"]
    codecs = [c.strip() for c in attrs.get("CODECS", "").split(",") if c.strip()]
    if pv.get("codec_name") != "h264" or not sps:
        rep.fail("E1", f"{name}: video is {pv.get('codec_name')}, not H.264 with an SPS")
    else:
        prof, cons, level = sps[0], sps[1], sps[2]
        limit = 52 if v["fps"] > 30.5 else 42
        if prof != 100:
            rep.fail("E1", f"{name}: H.264 profile_idc {prof} ({pv.get('profile')}), not High (100)")
        if level > limit:
            rep.fail("E1", f"{name}: H.264 level {level / 10:.1f} > {limit / 10:.1f} at {v['fps']:.2f} fps")
        want = r["avc"] = f"avc1.{prof:02x}{cons:02x}{level:02x}"
        avc = [c for c in codecs if c.startswith("avc1.")]
        if not avc:
            rep.fail("V2", f"{name}: CODECS {attrs.get('CODECS')!r} has no avc1 entry ({want} expected)")
        elif avc[0].lower() != want:
            rep.fail("V2", f"{name}: CODECS says {avc[0]} but the SPS is {want}")
    # E2: progressive.
    fo = pv.get("field_order", "")
    inter = [f for f in r["probe"].get("frames", []) if f.get("media_type") == "video"
             and int(f.get("interlaced_frame", 0))]
    if fo in ("tt", "bb", "tb", "bt") or inter:
        rep.fail("E2", f"{name}: interlaced video (field_order {fo}, {len(inter)} interlaced frames)")
    # E7 / V3 / V4
    if w % 2 or h % 2:
        rep.fail("E7", f"{name}: odd size {w}x{h}")
    res = attrs.get("RESOLUTION")
    if res != f"{w}x{h}":
        rep.fail("V3", f"{name}: RESOLUTION {res!r}, stream is {w}x{h}")
    fr = attrs.get("FRAME-RATE")
    try:
        if abs(float(fr) - v["fps"]) > 0.01:
            rep.fail("V4", f"{name}: FRAME-RATE {fr}, stream runs at {v['fps']:.3f} fps")
    except (TypeError, ValueError):
        rep.fail("V4", f"{name}: FRAME-RATE {fr!r} missing or invalid (stream: {v['fps']:.3f} fps)")
    # E4 / E5 / V2 audio
    has_mp4a = any(c.startswith("mp4a.") for c in codecs)
    if a:
        if not has_mp4a:
            rep.fail("V2", f"{name}: audio present but CODECS {attrs.get('CODECS')!r} has no mp4a")
        elif "mp4a.40.2" not in codecs:
            rep.fail("V2", f"{name}: CODECS audio entry is not mp4a.40.2: {attrs.get('CODECS')!r}")
        profs = {f[0] for f in a["frames"]}
        chans = {f[2] for f in a["frames"]}
        if not a["frames"]:
            rep.fail("E4", f"{name}: audio is not AAC in ADTS (stream type 0x{segs[0]['ts'].audio_type:02x})")
        else:
            if profs != {2}:
                rep.fail("E4", f"{name}: AAC object type {sorted(profs)}, not LC (2)")
            if chans != {2}:
                rep.fail("E4", f"{name}: audio has {sorted(chans)} channels, not stereo")
            if a["rate"] != 48000:
                rep.fail("E4", f"{name}: audio sample rate {a['rate']}, not 48000")
            if not 0.75 * AUDIO_RATE <= a["bitrate"] <= 1.25 * AUDIO_RATE:
                rep.fail("E4", f"{name}: audio bit rate {a['bitrate'] / 1000:.0f} kbit/s, not ~128")
    else:
        if src and src.get("has_audio"):
            rep.fail("E4", f"{name}: the source has audio but this rung has none")
        if has_mp4a:
            rep.fail("E5" if not (src and src.get("has_audio")) else "V2",
                     f"{name}: no audio stream but CODECS lists mp4a ({attrs.get('CODECS')!r})")
    if src and not src.get("has_audio") and a:
        rep.fail("E5", f"{name}: the source has no audio but the rung carries an audio stream")
    # V1 / V5 / V8: measured bit rates.
    peak, avg = peak_and_average(segs, r["target"] or TARGET)
    r["peak"], r["average"] = peak, avg
    try:
        bw = int(attrs["BANDWIDTH"])
        if abs(bw - peak) > 0.1 * peak:
            rep.fail("V1", f"{name}: BANDWIDTH {bw}, measured peak {peak:.0f} (off by "
                     f"{(bw - peak) / peak * 100:+.0f} %)")
    except (KeyError, ValueError):
        bw = None
        rep.fail("V1", f"{name}: no valid BANDWIDTH")
    try:
        ab = int(attrs["AVERAGE-BANDWIDTH"])
        if abs(ab - avg) > 0.1 * avg:
            rep.fail("V5", f"{name}: AVERAGE-BANDWIDTH {ab}, measured average {avg:.0f} (off by "
                     f"{(ab - avg) / avg * 100:+.0f} %)")
    except (KeyError, ValueError):
        ab = None
        rep.fail("V5", f"{name}: no valid AVERAGE-BANDWIDTH (measured average {avg:.0f})")
    if peak > 2 * avg:
        rep.fail("V8", f"{name}: measured peak {peak:.0f} > 2x average {avg:.0f}")
    elif bw and ab and bw > 2 * ab:
        rep.fail("V8", f"{name}: BANDWIDTH {bw} > 2x AVERAGE-BANDWIDTH {ab}")


def check_across(rep, rungs, src):
    frame = max(r["video"]["frame"] for r in rungs)
    tol = frame + 0.002
    ref = rungs[0]
    for r in rungs[1:]:
        if r["target"] != ref["target"]:
            rep.fail("A1", f"TARGETDURATION {r['target']} in {r['name']} but {ref['target']} in {ref['name']}")
        if abs(r["video"]["start"] - ref["video"]["start"]) > tol:
            rep.fail("A2", f"{r['name']} starts at {r['video']['start']:.3f} s, {ref['name']} at "
                     f"{ref['video']['start']:.3f} s")
        if abs(r["video"]["end"] - ref["video"]["end"]) > tol:
            rep.fail("A3", f"{r['name']} ends at {r['video']['end']:.3f} s, {ref['name']} at "
                     f"{ref['video']['end']:.3f} s")
        if len(r["starts"]) != len(ref["starts"]) or any(
                abs(x - y) > tol for x, y in zip(r["starts"], ref["starts"])):
            rep.fail("A4", f"segment boundaries of {r['name']} ({', '.join(map(_fmt, r['starts']))}) differ "
                     f"from {ref['name']} ({', '.join(map(_fmt, ref['starts']))})")
        ri, fi = r["video"]["idr"], ref["video"]["idr"]
        if len(ri) != len(fi) or any(abs(x - y) > tol for x, y in zip(ri, fi)):
            rep.fail("A4", f"IDRs of {r['name']} ({len(ri)}) not aligned with {ref['name']} ({len(fi)})")
    for r in rungs:
        v, a = r["video"], r["audio"]
        if a:
            slack = frame + 2 * 1024 / (a["rate"] or 48000) + 0.002
            if a["start"] > v["start"] + slack or a["end"] < v["end"] - slack:
                rep.fail("A3", f"{r['name']}: audio {a['start']:.3f}-{a['end']:.3f} s does not cover "
                         f"video {v['start']:.3f}-{v['end']:.3f} s")
    if src:
        aspect = src["aspect"]
        for r in rungs:
            w, h = r["width"], r["height"]
            sar = _ratio(next((s.get("sample_aspect_ratio", "1:1") for s in r["probe"].get("streams", [])
                               if s.get("codec_type") == "video"), "1:1"))
            if sar <= 0:
                sar = 1.0
            dw = w * sar
            if abs(dw - h * aspect) > 2.5 and abs(h - dw / aspect) > 2.5:
                rep.fail("A5", f"{r['name']}: {w}x{h} (SAR {sar:.3f}) has aspect {dw / h:.4f}, source "
                         f"{aspect:.4f}")
            if h > src["display_height"] + 0.5 or dw > src["display_width"] + 0.5:
                rep.fail("A5", f"{r['name']}: {w}x{h} is larger than the source "
                         f"({src['display_width']:.0f}x{src['display_height']:.0f}): upscaled")
            if src["rotation"] in (90, 270) and not h > w:
                rep.fail("E6", f"{r['name']}: source is rotated {src['rotation']} degrees (portrait) "
                         f"but the rung is {w}x{h}")
            elif src["rotation"] in (0, 180) and src["display_width"] > src["display_height"] and h > w:
                rep.fail("E6", f"{r['name']}: landscape source but a portrait rung {w}x{h}")
    else:
        aspects = [(r["width"] / r["height"], r["name"]) for r in rungs if r["height"]]
        for x, n in aspects[1:]:
            if abs(x - aspects[0][0]) > 0.01 * aspects[0][0]:
                rep.fail("A5", f"{n} aspect {x:.4f} differs from {aspects[0][1]} ({aspects[0][0]:.4f})")


def check_iframes(rep, reader, master, mloc, rungs):
    by_uri = {}
    for attrs in master.iframes:
        missing = [k for k in ("BANDWIDTH", "CODECS", "RESOLUTION", "URI") if k not in attrs]
        if missing:
            rep.fail("I1", f"EXT-X-I-FRAME-STREAM-INF lacks {', '.join(missing)}: {attrs}")
        if "URI" in attrs:
            by_uri[attrs.get("RESOLUTION")] = attrs
    for r in rungs:
        res = f"{r['width']}x{r['height']}"
        attrs = by_uri.get(res)
        if attrs is None:
            rep.fail("I1", f"{r['name']}: no EXT-X-I-FRAME-STREAM-INF with RESOLUTION={res}")
            continue
        avc = r.get("avc")
        if avc and attrs.get("CODECS", "").strip().lower() != avc:
            rep.fail("I1", f"{r['name']}: I-frame CODECS {attrs.get('CODECS')!r}, the rung's SPS is {avc}")
        loc = reader.join(mloc, attrs["URI"])
        try:
            pl = Playlist(loc, reader.read(loc))
        except (OSError, ValueError) as e:
            rep.fail("I1", f"{r['name']}: I-frame playlist {attrs['URI']}: {e}")
            continue
        iname = attrs["URI"]
        check_media_playlist(rep, pl, iname, iframe=True)
        if not pl.has("#EXT-X-I-FRAMES-ONLY"):
            rep.fail("I1", f"{iname}: no #EXT-X-I-FRAMES-ONLY")
        segs_by_loc = {s["loc"]: s for s in r["segs"]}
        found = 0
        for i, e in enumerate(pl.segments):
            if "byterange" not in e:
                rep.fail("I1", f"{iname}: entry {i} has no EXT-X-BYTERANGE")
                continue
            n, off = e["byterange"]
            sloc = reader.join(pl.loc, e["uri"])
            seg = segs_by_loc.get(sloc)
            if seg is None:
                rep.fail("I1", f"{iname}: entry {i} points at {e['uri']}, not a segment of {r['name']}")
                continue
            ts = seg["ts"]
            au = next((x for x in ts.video if x["pos"] == off), None)
            if off % TS:
                rep.fail("I1", f"{iname}: entry {i} starts at byte {off} of {e['uri']}, not a TS packet boundary")
            elif au is None or au["kind"] != "IDR":
                rep.fail("I1", f"{iname}: entry {i} ({e['uri']} @{off}) does not start on an IDR's TS packet")
            else:
                found += 1
                end = ts.pes_end.get(off, off)
                if off + n < end:
                    rep.fail("I1", f"{iname}: entry {i} ({n} bytes @{off}) stops before the IDR ends "
                             f"(byte {end})")
                if off + n > seg["bytes"]:
                    rep.fail("I1", f"{iname}: entry {i} runs past the end of {e['uri']}")
        rates = [e["byterange"][0] * 8 / e["duration"] for e in pl.segments
                 if "byterange" in e and e.get("duration", 0) > 0]
        try:
            bw = int(attrs.get("BANDWIDTH", ""))
            if rates and abs(bw - max(rates)) > 0.1 * max(rates):
                rep.fail("I1", f"{iname}: BANDWIDTH {bw}, the I-frames' measured peak is {max(rates):.0f}")
        except ValueError:
            rep.fail("I1", f"{iname}: no valid BANDWIDTH in its EXT-X-I-FRAME-STREAM-INF")
        nidr = len(r["video"]["idr"])
        if found and len(pl.segments) != nidr:
            rep.fail("I1", f"{iname}: {len(pl.segments)} entries for {nidr} IDRs")
        total = sum(e["duration"] for e in pl.segments)
        real = r["video"]["end"] - r["video"]["start"]
        if pl.segments and abs(total - real) > r["video"]["frame"] + 0.002:
            rep.fail("I1", f"{iname}: EXTINF sum {total:.3f} s, the rung lasts {real:.3f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check an HLS VOD output against the rules of hls.md.")
    ap.add_argument("target", help="output folder, playlist path or http(s) URL of the master playlist")
    ap.add_argument("--source", help="the input file, for M8/A5/E4/E5/E6")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)
    try:
        rep = check(args.target, args.source)
    except (OSError, RuntimeError) as e:
        print(f"hlscheck: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"ok": rep.ok, "failures": [{"rule": r, "reason": m} for r, m in rep.failures],
                          "rungs": rep.info.get("rungs", [])}, indent=1))
    else:
        for r in rep.info.get("rungs", []):
            print(f"rung {r['name']}: {r['width']}x{r['height']} {r['fps']} fps, peak {r['peak']} "
                  f"average {r['average']} bit/s")
        print(rep.text())
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main())
