#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Run every integration test (tests/integration/test_*.py) as TAP.

Needs root: the tests load the real BPF programs and create network
namespaces. A test that cannot run fails with its reason; nothing is
skipped silently. Usage: run.py [--slow] [NAME-SUBSTRING ...]
--slow runs the slow tier (slow scan timings, a 60 s flood) instead.
"""
import glob
import importlib.util
import os
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pwtest  # noqa: E402


def load_all():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "test_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    load_all()
    args = sys.argv[1:]
    slow_tier = "--slow" in args
    wanted = [a for a in args if a != "--slow"]
    tests = [t for t in pwtest.tests(slow_tier) if not wanted or any(w in t.__name__ for w in wanted)]
    print("1..%d" % len(tests), flush=True)
    failed = 0
    if os.geteuid() != 0:
        for i, t in enumerate(tests, 1):
            print("not ok %d - %s # needs root (BPF, network namespaces)" % (i, t.__name__))
        return 1
    for i, t in enumerate(tests, 1):
        start = time.time()
        try:
            t()
            print("ok %d - %s (%.1fs)" % (i, t.__name__, time.time() - start), flush=True)
        except Exception as e:  # a failure of any kind fails the test
            failed += 1
            print("not ok %d - %s (%.1fs)" % (i, t.__name__, time.time() - start))
            detail = str(e) if isinstance(e, pwtest.TestFailure) else traceback.format_exc()
            for line in detail.splitlines():
                print("# " + line)
            sys.stdout.flush()
        finally:
            pwtest.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
