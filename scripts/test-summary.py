#!/usr/bin/env python3
"""Sum JUnit XML reports into one line: "N passed, N failed, N skipped".

Usage: scripts/test-summary.py [--newer-than EPOCH] [--details] [ROOT]

Reads every TEST-*.xml below ROOT (default: the current directory) that lies under a
target/surefire-reports/, target/failsafe-reports/ or target/test-reports/ directory (at any
depth below it: bnd-testing writes target/test-reports/<bndrun>/TEST-*.xml).

  tests   = <testcase> elements
  failed  = test cases with a <failure> or <error> child
  skipped = test cases with a <skipped> child (and no failure or error)
  passed  = tests - failed - skipped

A report that cannot be parsed counts as one failed test (a JVM that died mid-write leaves one).
--newer-than EPOCH ignores reports last modified before EPOCH (stale reports of an earlier run).
Exit status: 0 when at least one test ran and none failed; 1 when a test failed; 2 when no test ran.
"""
import argparse
import os
import sys
import xml.etree.ElementTree as ET

REPORT_DIRS = ("surefire-reports", "failsafe-reports", "test-reports")
SKIP_DIRS = {".git", "node_modules", ".m2"}


def report_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        parts = dirpath.split(os.sep)
        in_reports = any(
            parts[i] == "target" and parts[i + 1] in REPORT_DIRS for i in range(len(parts) - 1)
        )
        if not in_reports:
            continue
        for name in filenames:
            if name.startswith("TEST-") and name.endswith(".xml"):
                yield os.path.join(dirpath, name)


def local(tag):
    return tag.rsplit("}", 1)[-1]


def count(path):
    """Returns (tests, failed, skipped, failed_names) for one report file."""
    root = ET.parse(path).getroot()
    tests = failed = skipped = 0
    names = []
    for case in root.iter():
        if local(case.tag) != "testcase":
            continue
        tests += 1
        kinds = {local(child.tag) for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
            names.append("%s.%s" % (case.get("classname", "?"), case.get("name", "?")))
        elif "skipped" in kinds:
            skipped += 1
    return tests, failed, skipped, names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", default=".")
    ap.add_argument("--newer-than", type=float, default=None)
    ap.add_argument("--details", action="store_true", help="list report files and failed tests on stderr")
    args = ap.parse_args()

    tests = failed = skipped = files = 0
    for path in sorted(report_files(args.root)):
        if args.newer_than is not None and os.path.getmtime(path) < args.newer_than:
            continue
        files += 1
        try:
            t, f, s, names = count(path)
        except (ET.ParseError, OSError) as e:
            print("test-summary: unreadable report %s: %s (counted as 1 failed)" % (path, e), file=sys.stderr)
            t, f, s, names = 1, 1, 0, [path]
        tests, failed, skipped = tests + t, failed + f, skipped + s
        if args.details:
            print("test-summary: %s: %d tests, %d failed, %d skipped" % (path, t, f, s), file=sys.stderr)
        for n in names:
            print("test-summary: FAILED %s" % n, file=sys.stderr)
    if args.details:
        print("test-summary: %d report files" % files, file=sys.stderr)
    passed = tests - failed - skipped
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    if failed:
        return 1
    if tests == 0:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
