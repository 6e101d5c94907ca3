#!/usr/bin/python3
"""Throughput, request counts and peak memory of librcx's S3 client
(build/tests/rcx-s3-tool) against a local s3rver, directly and through the
fault proxy (resets every few MiB).

    bench/s3_client_bench.py [--size-mib 256] [--build-dir build]

Not a test: prints one line per case. s3rver (Node, on the same 2 cores)
is usually the bottleneck, so these are lower bounds for the client.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import rcxtest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from test_s3_client import random_file  # noqa: E402

MIB = 1 << 20


def run(tool, env, *args):
    t0 = time.monotonic()
    p = subprocess.Popen([tool, *map(str, args)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, rusage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    res = json.loads(out)
    res["wall"] = time.monotonic() - t0
    res["maxrss_mib"] = rusage.ru_maxrss / 1024
    if not res.get("ok"):
        raise RuntimeError(f"{args[0]} failed: {res}")
    return res


def report(name, size, res, extra=""):
    print(f"{name:34s} {size / MIB / res['wall']:8.1f} MiB/s  {res['wall']:6.2f} s  "
          f"requests {res['requests']:4d}  peak RSS {res['maxrss_mib']:6.1f} MiB {extra}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    tool = os.path.join(a.build_dir, "tests", "rcx-s3-tool")
    size = a.size_mib * MIB

    with tempfile.TemporaryDirectory(prefix="rcx-bench-") as tmp, \
            rcxtest.S3rver() as s3, FaultProxy(s3.port) as proxy:
        src = random_file(os.path.join(tmp, "src"), size, 42)
        out = os.path.join(tmp, "out")
        direct = s3.env()
        via = s3.env(endpoint=proxy.endpoint)

        res = run(tool, direct, "put", "test", "bench/put.bin", src)
        report("PutObject (one request)", size, res)
        res = run(tool, direct, "upload", "test", "bench/mpu.bin", src,
                  "--part-size", 8 * MIB, "--parallel", 4, "--chunk", 64 * 1024)
        report("RcxS3Upload 8 MiB x 4 parallel", size, res)
        res = run(tool, direct, "read", "test", "bench/mpu.bin", out, "--chunk", MIB)
        report("RcxS3Reader sequential, 1 MiB reads", size, res, f"opens {res['opens']}")
        assert rcxtest.sha256_file(out) == rcxtest.sha256_file(src)
        res = run(tool, direct, "read", "test", "bench/mpu.bin", out, "--chunk", 4096)
        report("RcxS3Reader sequential, 4 KiB reads", size, res, f"opens {res['opens']}")
        res = run(tool, via, "read", "test", "bench/mpu.bin", out, "--chunk", MIB)
        report("RcxS3Reader via proxy", size, res, f"opens {res['opens']}")
        proxy.add_fault("reset", method="GET", after_bytes=8 * MIB, count=None)
        res = run(tool, via, "read", "test", "bench/mpu.bin", out, "--chunk", MIB)
        report("RcxS3Reader via proxy, RST / 8 MiB", size, res, f"opens {res['opens']}")
        assert rcxtest.sha256_file(out) == rcxtest.sha256_file(src)


if __name__ == "__main__":
    main()
