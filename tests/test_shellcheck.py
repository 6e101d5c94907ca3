#!/usr/bin/python3
"""shellcheck (Debian's) is clean on every shell script of the repository:
each *.sh file and each file whose first line is a sh/bash shebang
(build trees and node_modules aside), at shellcheck's default severity."""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
import rcxtest  # noqa: E402

SKIP_DIRS = {".git", "node_modules", "__pycache__"}


def shell_scripts(root):
    found = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("build"))
        for f in sorted(files):
            path = os.path.join(d, f)
            if os.path.islink(path):
                continue
            if f.endswith(".sh"):
                found.append(path)
                continue
            try:
                with open(path, "rb") as fh:
                    first = fh.readline(100)
            except OSError:
                continue
            if first.startswith(b"#!") and any(sh in first for sh in (b"/sh", b"bash", b"env sh")):
                found.append(path)
    return found


class ShellcheckTest(unittest.TestCase):
    def test_every_script_is_clean(self):
        shellcheck = shutil.which("shellcheck")
        self.assertIsNotNone(shellcheck, "shellcheck is missing: run scripts/setup.sh")
        scripts = shell_scripts(rcxtest.SOURCE_DIR)
        rel = [os.path.relpath(p, rcxtest.SOURCE_DIR) for p in scripts]
        for expected in ("scripts/setup.sh", "scripts/test.sh", ".ci/run", "docker/entrypoint.sh"):
            self.assertIn(expected, rel, "the script finder sees the repository's scripts")
        r = subprocess.run([shellcheck, "--format=gcc", *scripts], capture_output=True, text=True,
                           cwd=rcxtest.SOURCE_DIR)
        self.assertEqual(r.returncode, 0, f"shellcheck on {len(scripts)} scripts:\n{r.stdout}{r.stderr}")

    def test_shellcheck_reports_a_bad_script(self):
        """The check above can fail: shellcheck flags an unquoted expansion."""
        bad = os.path.join(rcxtest.BUILD_DIR, "shellcheck-probe.sh")
        with open(bad, "w") as f:
            f.write("#!/bin/sh\nrm $1\n")
        self.addCleanup(os.unlink, bad)
        r = subprocess.run(["shellcheck", bad], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("SC2086", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
