#!/usr/bin/python3
"""The shell blocks of the docs that can run here do run.

Convention (also stated at the top of docs/deploy.md): a fenced block whose info
string is `sh {runnable}` is run by this test with `sh -eu`, from the
repository root, with RCX_BUILD_DIR pointing at the build tree; it must
exit 0. Blocks that need AWS, a GPU or the operator's account are plain
```sh blocks and are not run. Every page with runnable blocks is listed
in the output, so a block that silently stopped being marked shows up."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
import rcxtest  # noqa: E402

FENCE = re.compile(r"^```sh \{runnable\}[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def runnable_blocks(text):
    return [m.group(1) for m in FENCE.finditer(text)]


def pages():
    docs = os.path.join(rcxtest.SOURCE_DIR, "docs")
    out = [os.path.join(rcxtest.SOURCE_DIR, "README.md")]
    out += [os.path.join(docs, f) for f in sorted(os.listdir(docs)) if f.endswith(".md")]
    return out


class DocBlocksTest(unittest.TestCase):
    def test_extractor(self):
        text = "a\n```sh {runnable}\necho one\n```\n```sh\necho two\n```\n```sh {runnable}\necho three\n```\n"
        self.assertEqual(runnable_blocks(text), ["echo one\n", "echo three\n"])

    def test_runnable_blocks_run(self):
        env = dict(os.environ, RCX_BUILD_DIR=rcxtest.BUILD_DIR)
        total = 0
        for page in pages():
            with open(page, encoding="utf-8") as f:
                blocks = runnable_blocks(f.read())
            for i, block in enumerate(blocks, 1):
                total += 1
                with self.subTest(page=os.path.relpath(page, rcxtest.SOURCE_DIR), block=i):
                    r = subprocess.run(["sh", "-eu", "-c", block], cwd=rcxtest.SOURCE_DIR, env=env,
                                       capture_output=True, text=True, timeout=120)
                    self.assertEqual(r.returncode, 0, f"block {i}:\n{block}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
            if blocks:
                print(f"{os.path.relpath(page, rcxtest.SOURCE_DIR)}: {len(blocks)} runnable blocks", file=sys.stderr)
        self.assertGreater(total, 0, "the docs have runnable blocks")


if __name__ == "__main__":
    unittest.main(verbosity=2)
