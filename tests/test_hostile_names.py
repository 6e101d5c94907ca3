#!/usr/bin/python3
"""Hostile names: file names and S3 keys that users choose reach the runner
and the elements, and none of them may become pipeline syntax.

- a local source named `inj/a" ! tee name=t ! queue ! filesink
  location=PWNED.bin t. ! queue name=q"` is read as a file name: no
  PWNED.bin is created (the runner used to write it through an injected
  filesink);
- local names and S3 keys with `"`, `'`, `!`, `=`, spaces, `#`, `?`, `%`,
  `+`, unicode, and a 1024-byte key transcode correctly from and to s3rver,
  and the line `pipeline --print` writes for each runs as printed through
  /bin/sh and gst-launch-1.0's parser into the same outputs;
- s3:// URIs are RFC 3986 URIs: `wasabisrc uri=s3://media/up/a%20b%2Bc.mp4`
  (gst-launch-1.0, and the URI handler lookup playbin uses) reads the
  object `up/a b+c.mp4`, get_uri gives a URI that reaches the same object,
  and the runner's command line takes keys literally, as `aws s3 cp` does.
"""
import hashlib
import json
import os
import subprocess

import rcxtest

RUNNER = rcxtest.RUNNER
FF = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
BUCKET = "media"
INJECTION = 'inj/a" ! tee name=t ! queue ! filesink location=PWNED.bin t. ! queue name=q"'
# Each name carries several of the characters; together they cover
# " ' ! = space # ? % + and unicode, a value in double quotes (gst's
# deserializer would unwrap it) and shell syntax.
LOCAL_NAMES = [
    INJECTION,
    "it's #1? 100% + ünïcødé 日本 = ok.mp4",
    '"quoted"',
    "$(touch SHELL-PWNED) `id` \\back.mp4",
]
S3_KEYS = [
    'up/a b+c.mp4',
    "up/it's \"#1\"? 100% + ünïcødé ! = 日本.mp4",
    # (no "//": s3rver keeps keys as files and cannot store an empty segment)
    'up/a" ! wasabisink bucket=media key=PWNED name=q"',
]


LAUNCH = """#!/usr/bin/python3
import sys, gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst
Gst.init(None)
p = Gst.parse_launchv(sys.argv[1:])
p.set_state(Gst.State.PLAYING)
m = p.get_bus().timed_pop_filtered(240 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
p.set_state(Gst.State.NULL)
if m and m.type == Gst.MessageType.ERROR:
    print(m.parse_error(), file=sys.stderr)
sys.exit(0 if m and m.type == Gst.MessageType.EOS else 1)
"""


def long_key(prefix, length):
    """A key of exactly `length` bytes (s3rver keeps keys as files: segments
    stay under 255 bytes)."""
    key = prefix
    while len(key.encode()) < length:
        room = length - len(key.encode())
        last = key.rsplit("/", 1)[-1].encode()
        key += ("/" if room > 1 and len(last) >= 200 else "é" if room >= 2 else "x")
    assert len(key.encode()) == length, len(key.encode())
    return key


def make_clip(path, seconds=2, size="320x180"):
    subprocess.run(FF + ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
                         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                         "-ac", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                         "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", "-f", "mp4", path],
                   check=True)
    return path


def files_under(folder):
    out = []
    for root, _, names in os.walk(folder):
        out += [os.path.relpath(os.path.join(root, n), folder) for n in names]
    return sorted(out)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class HostileNames(rcxtest.TestCase):
    EXPECTED = ("master.m3u8", "thumbnail.jpg", "480p/index.m3u8", "480p/iframes.m3u8",
                "480p/segment00000.ts")
    PRINTED = ("480p/index.m3u8", "480p/iframes.m3u8", "480p/segment00000.ts")

    def runner(self, *args, cwd=None, env=None, timeout=180):
        return subprocess.run([RUNNER, *args], capture_output=True, text=True, timeout=timeout,
                              cwd=cwd or self.tmp, env=env or rcxtest.gst_env())

    def run_printed(self, line, cwd, env):
        """The printed line, run as printed by /bin/sh. Its `gst-launch-1.0`
        is LAUNCH: gst-launch-1.0's own parsing (gst_parse_launchv on the
        argv the shell made, as gst-launch-1.0 does), then straight to
        PLAYING like the runner. The real gst-launch-1.0 prerolls in PAUSED
        first, and then now and then never posts EOS, stock hlssink2 pipelines
        too: a race in GstBin's posted_playing flag (docs/security.md,
        bench/gst-launch-eos-race.sh), which is not what is tested here."""
        self.assertTrue(line.startswith("gst-launch-1.0 "), line)
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        with open(os.path.join(bindir, "gst-launch-1.0"), "w") as f:
            # the Python that may load our plugin (rcxtest.GST_PYTHON)
            f.write(LAUNCH.replace("/usr/bin/python3", rcxtest.GST_PYTHON, 1))
        os.chmod(os.path.join(bindir, "gst-launch-1.0"), 0o755)
        env = dict(env, PATH=bindir + os.pathsep + env.get("PATH", "/usr/bin:/bin"))
        p = subprocess.run(["/bin/sh", "-c", line], capture_output=True, text=True, timeout=300,
                           cwd=cwd, env=env)
        self.assertEqual(p.returncode, 0, line + "\n" + p.stdout[-2000:] + p.stderr[-2000:])

    def assertNoInjection(self, *folders):
        for folder in folders:
            for name in files_under(folder):
                self.assertFalse(os.path.basename(name).startswith("PWNED"), name)

    def assertPlaylistComplete(self, text):
        self.assertIn("#EXT-X-ENDLIST", text)
        self.assertIn("segment00000.ts", text)

    # ---- local names ---------------------------------------------------

    def test_injection_name_is_a_file_name(self):
        os.makedirs(os.path.join(self.tmp, "inj"))
        make_clip(os.path.join(self.tmp, INJECTION))
        # the file the injected pipeline would read: the uploader has it too
        os.link(os.path.join(self.tmp, INJECTION), os.path.join(self.tmp, "inj", "a"))
        r = self.runner("transcode", "--progress", "none", INJECTION, "out")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "PWNED.bin")), "injected filesink ran")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNoInjection(self.tmp)
        for name in self.EXPECTED:
            self.assertTrue(os.path.exists(os.path.join(self.tmp, "out", name)), name)

    def test_local_names_transcode_and_print(self):
        clip = make_clip(os.path.join(self.tmp, "clip.mp4"))
        for i, name in enumerate(LOCAL_NAMES):
            with self.subTest(name=name):
                work = os.path.join(self.tmp, f"w{i}")
                src = name
                os.makedirs(os.path.dirname(os.path.join(work, src)), exist_ok=True)
                os.link(clip, os.path.join(work, src))
                dst = "out " + name.replace("/", "_")
                r = self.runner("transcode", "--progress", "none", src, dst, cwd=work)
                self.assertEqual(r.returncode, 0, r.stderr)
                for f in self.EXPECTED:
                    self.assertTrue(os.path.exists(os.path.join(work, dst, f)), (dst, f))

                printed_dst = "printed " + name.replace("/", "_")
                r = self.runner("pipeline", "--print", src, printed_dst, cwd=work)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.run_printed(r.stdout.strip(), work, rcxtest.gst_env())
                for f in self.PRINTED:
                    self.assertTrue(os.path.exists(os.path.join(work, printed_dst, f)), (printed_dst, f))
                with open(os.path.join(work, printed_dst, "480p", "index.m3u8")) as f:
                    self.assertPlaylistComplete(f.read())
                self.assertNoInjection(work)
                self.assertFalse(os.path.exists(os.path.join(work, "SHELL-PWNED")))

    # ---- S3 keys -------------------------------------------------------

    def test_s3_keys_transcode_and_print(self):
        s3 = self.start(rcxtest.S3rver(buckets=(BUCKET,)))
        client = s3.boto3()
        clip = make_clip(os.path.join(self.tmp, "clip.mp4"))
        keys = S3_KEYS + [long_key("up/long", 1024)]
        no_endpoint = s3.env()
        no_endpoint.pop("AWS_ENDPOINT_URL_S3")
        for i, key in enumerate(keys):
            with self.subTest(key=key[:80]):
                client.upload_file(clip, BUCKET, key)
                # the destination prefix carries the same characters (a long
                # one leaves room for the longest name under it)
                prefix = (long_key(f"out/{i}", 1000) if len(key.encode()) > 1000 else f"out/{i} {key}") + "/"
                # the endpoint only on the command line: the probe, the
                # elements and the runner's store get it as a setting
                r = subprocess.run([RUNNER, "transcode", "--progress", "none", "--endpoint-url", s3.endpoint,
                                    f"s3://{BUCKET}/{key}", f"s3://{BUCKET}/{prefix}"],
                                   capture_output=True, text=True, timeout=180, env=no_endpoint, cwd=self.tmp)
                self.assertEqual(r.returncode, 0, r.stderr)
                summary = json.loads(r.stdout)
                stored = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]}
                for f in self.EXPECTED:
                    self.assertIn(prefix + f, stored)
                # The summary's master is a URI: percent-decoded, it is the key.
                self.assertEqual(summary["master"], rcxtest_uri(BUCKET, prefix + "master.m3u8"))
                playlist = client.get_object(Bucket=BUCKET, Key=prefix + "480p/index.m3u8")["Body"].read()
                self.assertPlaylistComplete(playlist.decode())

                # printed with the endpoint as a property, run with only the
                # credentials in the environment
                printed = f"printed/{i}/" if len(key.encode()) > 1000 else f"printed/{i} {key}/"
                r = subprocess.run([RUNNER, "pipeline", "--print", "--endpoint-url", s3.endpoint,
                                    f"s3://{BUCKET}/{key}", f"s3://{BUCKET}/{printed}"],
                                   capture_output=True, text=True, timeout=120, env=no_endpoint, cwd=self.tmp)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.run_printed(r.stdout.strip(), self.tmp, no_endpoint)
                stored = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=printed)["Contents"]}
                for f in self.PRINTED:
                    self.assertIn(printed + f, stored)
        all_keys = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]}
        self.assertEqual([k for k in all_keys if k.startswith("PWNED")], [])
        self.assertNoInjection(self.tmp)


def rcxtest_uri(bucket, key):
    """The URI rcx_s3_uri_build makes: all but [A-Za-z0-9-._~/] escaped."""
    from urllib.parse import quote
    return f"s3://{bucket}/" + quote(key, safe="/-._~")


class S3Uris(rcxtest.TestCase):
    KEY = "up/a b+c.mp4"
    URI = "s3://media/up/a%20b%2Bc.mp4"

    def test_percent_encoded_uri_reaches_the_object(self):
        s3 = self.start(rcxtest.S3rver(buckets=(BUCKET,)))
        client = s3.boto3()
        data = os.urandom(50000)
        client.put_object(Bucket=BUCKET, Key=self.KEY, Body=data)
        # a decoy under the literal (undecoded) key
        client.put_object(Bucket=BUCKET, Key="up/a%20b%2Bc.mp4", Body=b"wrong object")
        out = os.path.join(self.tmp, "out.bin")
        p = subprocess.run(["gst-launch-1.0", "-q", "wasabisrc", f"uri={self.URI}", "!",
                            "filesink", f"location={out}"],
                           capture_output=True, text=True, timeout=60, env=s3.env())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(out, "rb") as f:
            self.assertEqual(sha256(f.read()), sha256(data))

        # The lookup playbin and uridecodebin do (gst_element_make_from_uri),
        # get_uri round-trips, and the sink writes the decoded key.
        code = (
            "import sys, gi\n"
            "gi.require_version('Gst', '1.0')\n"
            "from gi.repository import Gst\n"
            "Gst.init(None)\n"
            "uri, out = sys.argv[1], sys.argv[2]\n"
            "src = Gst.Element.make_from_uri(Gst.URIType.SRC, uri, 'src')\n"
            "assert src.get_factory().get_name() == 'wasabisrc', src\n"
            "assert src.get_uri() == uri, src.get_uri()\n"
            "assert src.get_property('key') == 'up/a b+c.mp4', src.get_property('key')\n"
            "src2 = Gst.Element.make_from_uri(Gst.URIType.SRC, src.get_uri(), None)\n"
            "assert src2.get_property('key') == src.get_property('key')\n"
            "sink = Gst.Element.make_from_uri(Gst.URIType.SINK, out, 'sink')\n"
            "assert sink.get_factory().get_name() == 'wasabisink', sink\n"
            "sink.set_property('key', \"up/copy #1?'\\\"!.mp4\")\n"
            "assert sink.get_uri() == 's3://media/up/copy%20%231%3F%27%22%21.mp4', sink.get_uri()\n"
            "p = Gst.Pipeline()\n"
            "p.add(src); p.add(sink); src.link(sink)\n"
            "p.set_state(Gst.State.PLAYING)\n"
            "m = p.get_bus().timed_pop_filtered(60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)\n"
            "p.set_state(Gst.State.NULL)\n"
            "sys.exit(0 if m and m.type == Gst.MessageType.EOS else 1)\n")
        p = subprocess.run([rcxtest.GST_PYTHON, "-c", code, self.URI, "s3://media/up/placeholder"],
                           capture_output=True, text=True, timeout=60, env=s3.env())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        copy = client.get_object(Bucket=BUCKET, Key="up/copy #1?'\"!.mp4")["Body"].read()
        self.assertEqual(sha256(copy), sha256(data))

    def test_bad_uris_are_refused(self):
        code = (
            "import sys, gi\n"
            "gi.require_version('Gst', '1.0')\n"
            "from gi.repository import Gst, GLib\n"
            "Gst.init(None)\n"
            "src = Gst.ElementFactory.make('wasabisrc', None)\n"
            "for uri in sys.argv[1:]:\n"
            "    try:\n"
            "        src.set_uri(uri)\n"
            "        print('accepted', uri)\n"
            "    except GLib.Error as e:\n"
            "        print('refused', uri, e.message)\n")
        bad = ["s3://media/a%zz", "s3://media/a%00b", "s3://media/a%0Ab", "s3://media/%2E%2E/x",
               "s3://media/a/%2e/b", "s3://media/a?x=1", "s3://media/a#frag"]
        good = ["s3://media/a%25b", "s3://media/%E6%97%A5%E6%9C%AC"]
        p = subprocess.run([rcxtest.GST_PYTHON, "-c", code] + bad + good, capture_output=True, text=True,
                           timeout=60, env=rcxtest.gst_env())
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        for uri in bad:
            self.assertTrue(any(l.startswith("refused " + uri + " ") for l in lines), (uri, lines))
        for uri in good:
            self.assertIn("accepted " + uri, lines)

    def test_command_line_keys_are_literal(self):
        # `aws s3 cp` takes "s3://media/up/a%20b.mp4" as the key "up/a%20b.mp4":
        # so does the runner; the printed line carries its URI.
        clip = make_clip(os.path.join(self.tmp, "clip.mp4"))
        s3 = self.start(rcxtest.S3rver(buckets=(BUCKET,)))
        s3.boto3().upload_file(clip, BUCKET, "up/a%20b.mp4")
        r = subprocess.run([RUNNER, "pipeline", "--print", "s3://media/up/a%20b.mp4", "s3://media/o p/"],
                           capture_output=True, text=True, timeout=60, env=s3.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(" uri=s3://media/up/a%2520b.mp4 ", r.stdout)
        self.assertIn(" location=s3://media/o%20p/480p/ ", r.stdout)
        # and a key S3 cannot take safely is a usage error (exit 2)
        r = subprocess.run([RUNNER, "transcode", "s3://media/up/../x.mp4", "out"],
                           capture_output=True, text=True, timeout=60, env=s3.env(), cwd=self.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)


if __name__ == "__main__":
    rcxtest.main()
