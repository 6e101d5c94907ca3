#!/usr/bin/python3
"""Prints one line per failed test and the closing 'N passed, N failed'."""
import json
import sys

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        result = t["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"FAILED: {t['name']} ({result}, {t.get('duration', 0):.1f} s)")
# A skipped test is a fixture that did not run: it counts as a failure.
failed += skipped
print(f"{passed} passed, {failed} failed")
