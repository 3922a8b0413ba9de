#!/usr/bin/env python3
"""Reads CTest's JUnit report and prints what ran, passed, failed and was skipped.

Usage: scripts/ctest-summary.py JUNIT.xml

A skipped test (CTest's SKIP_RETURN_CODE, exit 77) did not pass. When the
environment variable CI is set (CI sets CI=true), every skipped test counts as
failed: a run that skipped a suite must not go green. Each skipped test is
named with the reason it printed (its "SKIP: ..." line).

The last line is always "check: N tests ran: N passed, N failed, N skipped"
(a skip counted as failed under CI is among the failed).
Exit status: 0 when nothing failed (and, under CI, nothing was skipped).
"""
import os
import sys
import xml.etree.ElementTree as ET


def skip_reason(case):
    out = case.findtext("system-out") or ""
    for line in out.splitlines():
        if "SKIP" in line or "skip" in line:
            return line.strip()
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    return lines[-1] if lines else "no reason printed"


def main():
    if len(sys.argv) != 2:
        print("usage: ctest-summary.py JUNIT.xml", file=sys.stderr)
        return 2
    try:
        root = ET.parse(sys.argv[1]).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"check: cannot read the test report {sys.argv[1]}: {e}", file=sys.stderr)
        return 2
    passed, failed, skipped = [], [], []
    for case in root.iter("testcase"):
        name = case.get("name")
        status = case.get("status")
        if status == "run":
            passed.append(name)
        elif case.find("skipped") is not None or status in ("notrun", "disabled"):
            skipped.append((name, skip_reason(case)))
        else:
            failed.append(name)
    ci = bool(os.environ.get("CI"))
    for name, why in skipped:
        print(f"check: skipped {name}: {why}")
    for name in failed:
        print(f"check: FAILED {name}")
    if ci and skipped:
        print(f"check: CI is set, so the {len(skipped)} skipped test(s) count as failed;"
              " scripts/deps.sh check installs what they need")
        failed += [name for name, _ in skipped]
        skipped = []
    total = len(passed) + len(failed) + len(skipped)
    print(f"check: {total} tests ran: {len(passed)} passed, {len(failed)} failed,"
          f" {len(skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
