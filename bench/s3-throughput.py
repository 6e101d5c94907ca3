#!/usr/bin/python3
"""wasabisrc / wasabisink throughput against curl on the same s3rver.

    bench/s3-throughput.py [--size-mib 256] [--rounds 5] [--part-mib 8]
                           [--parallel 4] [--cases GET,PUT-1,PUT-1s,PUT-MP]
                           [--build-dir build]

Side by side, in one run, on one local s3rver, each row comparing the same
S3 requests with the same integrity work on both sides:

  GET     wasabisrc uri=s3://... ! fakesink
          vs  curl -o /dev/null <presigned GET>                (one GET each)
  PUT-1   filesrc blocksize=1048576 ! wasabisink part-size=<size + 1 MiB>
          = one PutObject; it computes MD5 (Content-MD5) and SHA-256
          (signed x-amz-content-sha256) of the body, then sends it
          vs  sh: openssl dgst -md5 -binary | base64, then
              curl -T file -H "Content-MD5: ..." <presigned PUT>
          (curl's URL is presigned with that ContentMD5 before the clock
          starts: presigning is local work of a few ms; a presigned URL
          carries no payload hash, so curl's side hashes no SHA-256)
  PUT-1s  the same, curl's side also computing the SHA-256 that ours signs
          (openssl dgst -sha256, sent as x-amz-meta-sha256, presigned like
          the Content-MD5): the same hashing work on both sides
  PUT-MP  filesrc blocksize=1048576 ! wasabisink part-size=8 MiB
          max-parallel-parts=4: CreateMultipartUpload, N UploadParts (each
          with Content-MD5 and signed SHA-256), CompleteMultipartUpload
          vs  the same protocol driven from this script: boto3
              create_multipart_upload; 4 worker threads, each part: MD5 of
              the part file (hashlib = OpenSSL's MD5), presign upload_part
              with ContentMD5, `curl -T part -H "Content-MD5: ..."`,
              ETag from the answer; boto3 complete_multipart_upload. The
              part files are split from the source before the clock starts.
          Both are timed from the start to Complete's answer.

Each pair runs --rounds times, alternating ours and curl (so load drift
from other work on the machine hits both). Reported: the MEDIAN round of
each side (MiB/s), the ratio of the medians, the range of the per-round
ratios, the peak RSS (VmHWM) of our process, and the median CPU seconds
(user + system) per run: our process; curl's side (sh + openssl + curl;
for PUT-MP this script's threads, boto3 included, and the curl
processes); s3rver while it served each side. CPU figures hardly depend
on the load from other work; wall times do. Ours is a whole gst-launch-1.0
process: its start-up (plugin loading, printed below the table, ~20 ms)
is inside our timings. s3rver (Node, on the same 2 cores) is usually the
bottleneck, so the ratio is what matters, not absolute figures. Not a
test: it prints a table.
"""
import argparse
import base64
import concurrent.futures
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1 << 20
BUCKET = "bench"


def run_timed(args, env):
    """Wall time, peak RSS (VmHWM polled from /proc: wait4's ru_maxrss
    would count the forked Python before exec) and CPU seconds (user +
    system, from wait4) of one process."""
    t0 = time.monotonic()
    p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_kb = 0
    while True:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        time.sleep(0.02)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read()
    p.stderr.close()
    if p.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {err.decode(errors='replace')[-2000:]}")
    return wall, peak_kb / 1024, ru.ru_utime + ru.ru_stime


def proc_cpu(pid):
    """CPU seconds used so far by a running process (s3rver)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_file(path, size):
    block = hashlib.sha256(b"bench").digest() * (MIB // 32)
    with open(path, "wb") as f:
        for i in range(size // MIB):
            f.write(i.to_bytes(8, "little") + block[8:])


def md5_b64(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return base64.b64encode(h.digest()).decode()


def split_file(src, part_size, outdir):
    parts = []
    with open(src, "rb") as f:
        while True:
            data = f.read(part_size)
            if not data:
                break
            path = os.path.join(outdir, f"part-{len(parts) + 1:05d}")
            with open(path, "wb") as o:
                o.write(data)
            parts.append(path)
    return parts


def curl_multipart(client, key, parts, parallel, env):
    """boto3 + curl doing what RcxS3Upload does; returns (wall, None, CPU
    seconds of this script's threads and of the curl processes)."""
    ru0 = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    t0 = time.monotonic()
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]

    def put_part(number, path):
        md5 = md5_b64(path)
        url = client.generate_presigned_url(
            "upload_part", ExpiresIn=3600,
            Params={"Bucket": BUCKET, "Key": key, "UploadId": upload_id,
                    "PartNumber": number, "ContentMD5": md5})
        out = subprocess.run(
            ["curl", "-sS", "--fail", "-D", "-", "-o", "/dev/null", "-H", "Expect:",
             "-H", f"Content-MD5: {md5}", "-T", path, url],
            env=env, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            name, _, value = line.partition(":")
            if name.strip().lower() == "etag":
                return {"PartNumber": number, "ETag": value.strip()}
        raise RuntimeError(f"no ETag for part {number}: {out!r}")

    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        done = list(pool.map(put_part, range(1, len(parts) + 1), parts))
    client.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id,
                                     MultipartUpload={"Parts": done})
    wall = time.monotonic() - t0
    ru1 = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    cpu = sum(b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime for a, b in zip(ru0, ru1))
    return wall, None, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--part-mib", type=int, default=8)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--cases", default="GET,PUT-1,PUT-1s,PUT-MP")
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    os.environ["RCX_BUILD_DIR"] = os.path.abspath(a.build_dir)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
    import rcxtest  # noqa: E402 - after RCX_BUILD_DIR is set

    size = a.size_mib * MIB
    part_size = a.part_mib * MIB
    with tempfile.TemporaryDirectory(prefix="rcx-bench-") as tmp, \
            rcxtest.S3rver(buckets=(BUCKET,)) as s3:
        src = os.path.join(tmp, "src.bin")
        make_file(src, size)
        src_sha = rcxtest.sha256_file(src)
        src_md5 = md5_b64(src)
        parts = split_file(src, part_size, tmp)
        client = s3.boto3()
        client.upload_file(src, BUCKET, "obj.bin")
        env = s3.env()
        env["GST_REGISTRY"] = os.path.join(tmp, "registry.bin")
        get_url = client.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "obj.bin"}, ExpiresIn=3600)
        put_url = client.generate_presigned_url(
            "put_object", ExpiresIn=3600,
            Params={"Bucket": BUCKET, "Key": "curl-put1.bin", "ContentMD5": src_md5})
        put_url_s = client.generate_presigned_url(
            "put_object", ExpiresIn=3600,
            Params={"Bucket": BUCKET, "Key": "curl-put1.bin", "ContentMD5": src_md5,
                    "Metadata": {"sha256": src_sha}})
        gst_put = ["gst-launch-1.0", "-q", "filesrc", f"location={src}", "blocksize=1048576",
                   "!", "wasabisink"]
        # one PutObject: the stream must end below one part
        single_part = min(size + MIB, 5 << 30)
        cases = {
            "GET": (["gst-launch-1.0", "-q", "wasabisrc", f"uri=s3://{BUCKET}/obj.bin", "!",
                     "fakesink"],
                    ["curl", "-sS", "--fail", "-o", "/dev/null", get_url]),
            "PUT-1": (gst_put + [f"uri=s3://{BUCKET}/gst-put1.bin", f"part-size={single_part}"],
                      ["sh", "-c", 'md5=$(openssl dgst -md5 -binary "$1" | base64) && '
                       'exec curl -sS --fail -o /dev/null -H "Expect:" '
                       '-H "Content-MD5: $md5" -T "$1" "$2"', "sh", src, put_url]),
            # the same, with curl's side also hashing the SHA-256 that ours
            # signs (sent as x-amz-meta-sha256, part of the presigned URL's
            # signature: s3rver checks it)
            "PUT-1s": (gst_put + [f"uri=s3://{BUCKET}/gst-put1.bin", f"part-size={single_part}"],
                       ["sh", "-c", 'md5=$(openssl dgst -md5 -binary "$1" | base64) && '
                        'sha=$(openssl dgst -sha256 -r "$1" | cut -c1-64) && '
                        'exec curl -sS --fail -o /dev/null -H "Expect:" '
                        '-H "Content-MD5: $md5" -H "x-amz-meta-sha256: $sha" '
                        '-T "$1" "$2"', "sh", src, put_url_s]),
            "PUT-MP": (gst_put + [f"uri=s3://{BUCKET}/gst-putmp.bin", f"part-size={part_size}",
                                  f"max-parallel-parts={a.parallel}"],
                       lambda: curl_multipart(client, "curl-putmp.bin", parts, a.parallel, env)),
        }
        # warm the registry and the page cache outside the timings
        subprocess.run(["gst-inspect-1.0", "wasabisrc"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        startup = statistics.median(
            run_timed(["gst-launch-1.0", "-q", "fakesrc", "num-buffers=1", "!", "fakesink"],
                      env)[0] for _ in range(3))

        print(f"object {a.size_mib} MiB, s3rver {s3.endpoint}, median of {a.rounds} "
              f"alternating rounds; multipart {a.part_mib} MiB parts x {a.parallel}; "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"{'case':7s} {'ours MiB/s':>10s} {'curl MiB/s':>10s} {'ours/curl':>9s} "
              f"{'per round':>11s} {'ours RSS':>8s} | CPU s per run: {'ours':>5s} "
              f"{'curl':>5s} {'s3rver(ours)':>12s} {'s3rver(curl)':>12s}")
        for name in a.cases.split(","):
            ours_cmd, curl_cmd = cases[name]
            ours, curl = [], []
            for _ in range(a.rounds):
                c0 = proc_cpu(s3.proc.pid)
                ours.append(run_timed(ours_cmd, env) + (proc_cpu(s3.proc.pid) - c0,))
                c0 = proc_cpu(s3.proc.pid)
                curl.append((curl_cmd() if callable(curl_cmd) else run_timed(curl_cmd, env))
                            + (proc_cpu(s3.proc.pid) - c0,))

            def med(runs, i):
                return statistics.median(r[i] for r in runs)
            o_rate, c_rate = size / MIB / med(ours, 0), size / MIB / med(curl, 0)
            o_rss = max(r[1] for r in ours)
            ratios = sorted(c[0] / o[0] for o, c in zip(ours, curl))
            print(f"{name:7s} {o_rate:10.1f} {c_rate:10.1f} {o_rate / c_rate:8.2f}x "
                  f"{ratios[0]:5.2f}-{ratios[-1]:.2f}x {o_rss:8.1f} |                "
                  f"{med(ours, 2):5.2f} {med(curl, 2):5.2f} {med(ours, 3):12.2f} "
                  f"{med(curl, 3):12.2f}", flush=True)
        print(f"gst-launch-1.0 start-up (fakesrc ! fakesink), inside our timings: "
              f"{startup * 1000:.0f} ms; load average {os.getloadavg()[0]:.1f}")
        # what we wrote is what curl wrote, and the source
        for key in ("gst-put1.bin", "curl-put1.bin", "gst-putmp.bin", "curl-putmp.bin"):
            try:
                obj = client.get_object(Bucket=BUCKET, Key=key)
            except client.exceptions.NoSuchKey:
                continue
            same = hashlib.sha256(obj["Body"].read()).hexdigest() == src_sha
            print(f"{key}: ETag {obj['ETag']}, identical to the source: {same}")


if __name__ == "__main__":
    main()
