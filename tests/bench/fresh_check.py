"""How fast the curriculum labs start and answer `v6lab check`
(docs/performance.md; targets: start ≤ 2 s with the provider daemons
ready, fresh check ≤ 0.5 s, solved lab graded in ≤ 150 ms):

    sudo PYTHONPATH=bindings /usr/bin/python3 tests/bench/fresh_check.py [--reps 5] [--lab ID ...]

For each lab: `v6lab start` timed from the command line (process start
included; it returns once setup() has the provider daemons ready), a
pause for DAD to settle, then `v6lab check` timed from the command line
and the grading alone in process; then the reference solution and the
grading of the solved lab in process. Prints medians; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = "/usr/bin/python3"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "bindings")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--settle", type=float, default=1.5)
    ap.add_argument("--lab", action="append", default=[], help="only these labs (repeatable)")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "bindings"))
    from v6lab import Lab
    from v6lab.course import load_labs

    print(f"{'lab':<18} {'start s':>8} {'check (CLI) s':>14} {'grading s':>10} "
          f"{'solved grading s':>17}  (median of {a.reps})")
    for lab_id, d in load_labs().items():
        if a.lab and lab_id not in a.lab:
            continue
        name = f"bench-fresh-{lab_id}"
        t0 = time.perf_counter()
        subprocess.run([PY, "-m", "v6lab", "start", lab_id, "--name", name], env=ENV,
                       check=True, capture_output=True)
        started = time.perf_counter() - t0
        try:
            time.sleep(a.settle)
            cli, inproc, solved = [], [], []
            lab = Lab.attach(name)
            for _ in range(a.reps):
                t0 = time.perf_counter()
                subprocess.run([PY, "-m", "v6lab", "check", "--lab", name], env=ENV,
                               capture_output=True)
                cli.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                d.grader().grade(lab)
                inproc.append(time.perf_counter() - t0)
            d.solve(lab)
            for _ in range(a.reps):
                t0 = time.perf_counter()
                report = d.grader().grade(lab)
                solved.append(time.perf_counter() - t0)
            note = "" if report.passed else f"  (solved lab scored {report.score} %)"
            print(f"{lab_id:<18} {started:>8.3f} {statistics.median(cli):>14.3f} "
                  f"{statistics.median(inproc):>10.3f} {statistics.median(solved):>17.3f}{note}")
        finally:
            subprocess.run([PY, "-m", "v6lab", "down", "--lab", name], env=ENV, capture_output=True)


if __name__ == "__main__":
    main()
