#!/usr/bin/python3
"""The input corpus of the transcode tests, generated with ffmpeg's lavfi
sources (testsrc2 + sine) and cached in $RCX_BUILD_DIR/corpus.

Each clip is made once per build folder: its file name carries a hash of
the commands that make it, so changing a command makes a new file and an
unchanged one is reused. Generation is serialised with a lock file, so
tests running in parallel share the cache safely.

    tests/corpus.py [NAME...]      generate (all) and print the paths
    import corpus; corpus.path("hd1080p30")

Clips are short (6-8 s) and small except where a rule needs the size.
"""
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

BUILD_DIR = os.environ.get("RCX_BUILD_DIR", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build"))
CACHE = os.path.join(BUILD_DIR, "corpus")

FF = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "128k"]
FAST = ["-movflags", "+faststart"]


def video(size, rate, secs):
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={secs}"]


def tone(secs, rate=48000, freq=440):
    return ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate={rate}:duration={secs}"]


class Clip:
    """One corpus input: `steps` are ffmpeg argument lists run in turn;
    {out} is the file being made, {prev} the previous step's output."""

    def __init__(self, name, ext, steps, bad=False, **props):
        self.name, self.ext, self.steps, self.bad = name, ext, steps, bad
        self.props = props

    def key(self):
        h = hashlib.sha256(repr((self.ext, self.steps)).encode()).hexdigest()[:12]
        return f"{self.name}-{h}.{self.ext}"


def _stereo(secs, rate=48000):
    return tone(secs, rate) + ["-ac", "2"]


CLIPS = [
    Clip("hd1080p30", "mp4", [FF + video("1920x1080", 30, 8) + _stereo(8) + X264 + AAC + FAST + ["{out}"]],
         has_audio=True, width=1920, height=1080, fps=30),
    Clip("fps25", "mp4", [FF + video("1280x720", 25, 8) + _stereo(8) + X264 + AAC + FAST + ["{out}"]],
         has_audio=True, width=1280, height=720, fps=25),
    Clip("fps60", "mp4", [FF + video("1280x720", 60, 6) + _stereo(6) + X264 + AAC + FAST + ["{out}"]],
         has_audio=True, width=1280, height=720, fps=60),
    # A phone clip: stored landscape, displayed portrait through the rotate tag.
    Clip("portrait_rot90", "mp4", [
        FF + video("1280x720", 30, 8) + _stereo(8) + X264 + AAC + ["{out}.tmp.mp4"],
        FF + ["-i", "{out}.tmp.mp4", "-c", "copy", "-metadata:s:v:0", "rotate=90"] + FAST + ["{out}"]],
        has_audio=True, width=720, height=1280, rotation=90),
    Clip("odd_1918x1078", "mp4", [FF + video("1918x1078", 30, 6) + _stereo(6) + X264 + AAC + FAST + ["{out}"]],
         has_audio=True, width=1918, height=1078),
    Clip("no_audio", "mp4", [FF + video("1280x720", 30, 8) + X264 + FAST + ["{out}"]],
         has_audio=False, width=1280, height=720),
    Clip("mono_44k", "mp4", [FF + video("1280x720", 30, 8) + tone(8, 44100) + ["-ac", "1"] + X264 + AAC + FAST
                             + ["{out}"]], has_audio=True, width=1280, height=720),
    # Variable frame rate: every 7th and 11th frame dropped, timestamps kept.
    Clip("vfr", "mp4", [FF + video("1280x720", 30, 8) + _stereo(8)
                        + ["-vf", "select='not(eq(mod(n\\,7)\\,3))*not(eq(mod(n\\,11)\\,5))'",
                           "-fps_mode", "vfr"] + X264 + AAC + FAST + ["{out}"]],
         has_audio=True, width=1280, height=720, vfr=True),
    # 1080i25 as broadcast delivers it: top field first, interlaced coding.
    Clip("interlaced_1080i25", "mp4", [
        FF + video("1920x1080", 50, 6) + _stereo(6)
        + ["-vf", "tinterlace=mode=interleave_top,setfield=tff", "-flags", "+ilme+ildct", "-top", "1"]
        + X264 + AAC + FAST + ["{out}"]],
        has_audio=True, width=1920, height=1080, interlaced=True),
    Clip("hevc", "mp4", [FF + video("1280x720", 30, 6) + _stereo(6)
                         + ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
                            "-tag:v", "hvc1", "-pix_fmt", "yuv420p"] + AAC + FAST + ["{out}"]],
         has_audio=True, width=1280, height=720, codec="hevc"),
    # ffmpeg writes moov after mdat unless told otherwise (phones do too).
    Clip("moov_end", "mp4", [FF + video("1280x720", 30, 8) + _stereo(8) + X264 + AAC + ["{out}"]],
         has_audio=True, width=1280, height=720, moov_at_end=True),
    Clip("container_mov", "mov", [FF + video("1280x720", 30, 6) + _stereo(6) + X264 + AAC + FAST + ["{out}"]],
         has_audio=True, width=1280, height=720),
    Clip("container_mkv", "mkv", [FF + video("1280x720", 30, 6) + _stereo(6) + X264 + AAC + ["{out}"]],
         has_audio=True, width=1280, height=720),
    # Bad inputs: the runner must fail them quickly and publish nothing.
    Clip("bad_zero_byte", "mp4", [["truncate", "0", "{out}"]], bad=True),
    Clip("bad_truncated_half", "mp4", [
        FF + video("1280x720", 30, 6) + _stereo(6) + X264 + AAC + FAST + ["{out}.tmp.mp4"],
        ["truncate", "half", "{out}.tmp.mp4", "{out}"]], bad=True),
    Clip("bad_truncated_moov_end", "mp4", [
        FF + video("1280x720", 30, 6) + _stereo(6) + X264 + AAC + ["{out}.tmp.mp4"],
        ["truncate", "half", "{out}.tmp.mp4", "{out}"]], bad=True),
    Clip("bad_text", "mp4", [["write", "This is not a video, just text named .mp4\n" * 20, "{out}"]], bad=True),
    Clip("bad_audio_only", "mp4", [FF + _stereo(6) + AAC + FAST + ["{out}"]], bad=True, has_audio=True),
]
BY_NAME = {c.name: c for c in CLIPS}
GOOD = [c.name for c in CLIPS if not c.bad]
BAD = [c.name for c in CLIPS if c.bad]


def _run_step(step, out):
    step = [a.replace("{out}", out) for a in step]
    if step[0] == "truncate":
        if step[1] == "0":
            open(step[2], "wb").close()
        else:
            with open(step[2], "rb") as f:
                data = f.read()
            with open(step[3], "wb") as f:
                f.write(data[:len(data) // 2])
        return
    if step[0] == "write":
        with open(step[2], "w") as f:
            f.write(step[1])
        return
    r = subprocess.run(step, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"corpus: {' '.join(step)} failed: {r.stderr.strip()}")


def path(name):
    """Path of the clip `name`, generated on first use."""
    clip = BY_NAME[name]
    os.makedirs(CACHE, exist_ok=True)
    final = os.path.join(CACHE, clip.key())
    if os.path.exists(final):
        return final
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(final):
            return final
        tmpdir = tempfile.mkdtemp(prefix=f".{name}-", dir=CACHE)
        try:
            out = os.path.join(tmpdir, f"clip.{clip.ext}")
            for step in clip.steps:
                _run_step(step, out)
            os.rename(out, final)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return final


def main(argv):
    for name in argv or [c.name for c in CLIPS]:
        print(f"{name}\t{path(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
