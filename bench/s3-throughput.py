#!/usr/bin/python3
"""wasabisrc / wasabisink throughput against curl on the same s3rver.

    bench/s3-throughput.py [--size-mib 256] [--rounds 2] [--build-dir build]

Side by side, in one run, on one local s3rver:
  GET  wasabisrc uri=s3://... ! fakesink          vs  curl -o /dev/null <presigned GET>
  PUT  filesrc ! wasabisink uri=s3://...          vs  curl -T file <presigned PUT>
Each case runs --rounds times, alternating ours and curl; the best round is
reported with its throughput, the peak RSS of the process and the
ours/curl ratio (target >= 0.9). Not a test: it prints a table. s3rver
(Node, on the same cores) is usually the bottleneck, so the ratio is what
matters, not the absolute figures.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1 << 20
BUCKET = "bench"


def timed(args, env):
    """Wall time and peak RSS (VmHWM polled from /proc: wait4's ru_maxrss
    would count the forked Python before exec)."""
    t0 = time.monotonic()
    p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_kb = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        try:
            p.wait(0.02)
        except subprocess.TimeoutExpired:
            pass
    wall = time.monotonic() - t0
    err = p.stderr.read()
    if p.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {err.decode(errors='replace')[-2000:]}")
    return wall, peak_kb / 1024


def make_file(path, size):
    block = hashlib.sha256(b"bench").digest() * (MIB // 32)
    with open(path, "wb") as f:
        for i in range(size // MIB):
            f.write(i.to_bytes(8, "little") + block[8:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    os.environ["RCX_BUILD_DIR"] = os.path.abspath(a.build_dir)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
    import rcxtest  # noqa: E402 - after RCX_BUILD_DIR is set

    size = a.size_mib * MIB
    with tempfile.TemporaryDirectory(prefix="rcx-bench-") as tmp, \
            rcxtest.S3rver(buckets=(BUCKET,)) as s3:
        src = os.path.join(tmp, "src.bin")
        make_file(src, size)
        client = s3.boto3()
        client.upload_file(src, BUCKET, "obj.bin")
        env = s3.env()
        env["GST_REGISTRY"] = os.path.join(tmp, "registry.bin")
        get_url = client.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "obj.bin"}, ExpiresIn=3600)
        put_url = client.generate_presigned_url(
            "put_object", Params={"Bucket": BUCKET, "Key": "curl-put.bin"}, ExpiresIn=3600)
        cases = {
            "GET": (["gst-launch-1.0", "-q", "wasabisrc", f"uri=s3://{BUCKET}/obj.bin", "!",
                     "fakesink"],
                    ["curl", "-sS", "--fail", "-o", "/dev/null", get_url]),
            "PUT": (["gst-launch-1.0", "-q", "filesrc", f"location={src}", "blocksize=1048576",
                     "!", "wasabisink", f"uri=s3://{BUCKET}/gst-put.bin"],
                    ["curl", "-sS", "--fail", "-o", "/dev/null", "-H", "Expect:", "-T", src,
                     put_url]),
        }
        # warm the registry outside the timings
        subprocess.run(["gst-inspect-1.0", "wasabisrc"], env=env, check=True,
                       stdout=subprocess.DEVNULL)

        print(f"object {a.size_mib} MiB, s3rver {s3.endpoint}, best of {a.rounds}")
        print(f"{'case':5s} {'ours MiB/s':>11s} {'RSS MiB':>8s} {'curl MiB/s':>11s} "
              f"{'RSS MiB':>8s} {'ours/curl':>10s}")
        for name, (ours_cmd, curl_cmd) in cases.items():
            ours, curl = [], []
            for _ in range(a.rounds):
                ours.append(timed(ours_cmd, env))
                curl.append(timed(curl_cmd, env))
            (o_wall, o_rss), (c_wall, c_rss) = min(ours), min(curl)
            o_rate, c_rate = size / MIB / o_wall, size / MIB / c_wall
            print(f"{name:5s} {o_rate:11.1f} {o_rss:8.1f} {c_rate:11.1f} {c_rss:8.1f} "
                  f"{o_rate / c_rate:9.2f}x")
        # what we wrote is what curl wrote
        h1 = hashlib.sha256(client.get_object(Bucket=BUCKET, Key="gst-put.bin")["Body"].read())
        h2 = hashlib.sha256(client.get_object(Bucket=BUCKET, Key="curl-put.bin")["Body"].read())
        print("PUT objects identical:", h1.hexdigest() == h2.hexdigest())


if __name__ == "__main__":
    main()
