"""How fast `v6lab check` answers on a lab where the trainee has done
nothing, per curriculum lab (docs/performance.md; target ≤ 0.5 s):

    sudo PYTHONPATH=bindings /usr/bin/python3 tests/bench/fresh_check.py [--reps 5]

For each lab: `v6lab start` (timed: build, per-node files, setup, provider
daemons started), a pause for DAD to settle, then `v6lab check` timed from
the command line (process start included) and the grading alone in
process; then `v6lab solve` and the solved lab's grading in process
(target ≤ 150 ms). Prints medians; asserts nothing. Name labs to run only
those: `fresh_check.py stateless-dhcpv6`.
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
    ap.add_argument("labs", nargs="*", help="lab ids (default: every lab)")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "bindings"))
    from v6lab import Lab
    from v6lab.course import load_labs

    print(f"{'lab':<17} {'start s':>8} {'check (CLI) s':>14} {'grading s':>10} "
          f"{'solved grading s':>17}  (median of {a.reps})")
    for lab_id, d in load_labs().items():
        if a.labs and lab_id not in a.labs:
            continue
        name = f"bench-fresh-{lab_id}"
        t0 = time.perf_counter()
        subprocess.run([PY, "-m", "v6lab", "start", lab_id, "--name", name], env=ENV,
                       check=True, capture_output=True)
        started = time.perf_counter() - t0
        try:
            time.sleep(a.settle)
            cli, inproc = [], []
            lab = Lab.attach(name)
            for _ in range(a.reps):
                t0 = time.perf_counter()
                subprocess.run([PY, "-m", "v6lab", "check", "--lab", name], env=ENV,
                               capture_output=True)
                cli.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                d.grader().grade(lab)
                inproc.append(time.perf_counter() - t0)
            subprocess.run([PY, "-m", "v6lab", "solve", "--lab", name], env=ENV, check=True,
                           capture_output=True)
            solved = []
            for _ in range(a.reps):
                t0 = time.perf_counter()
                d.grader().grade(lab)
                solved.append(time.perf_counter() - t0)
            print(f"{lab_id:<17} {started:>8.3f} {statistics.median(cli):>14.3f} "
                  f"{statistics.median(inproc):>10.3f} {statistics.median(solved):>17.3f}")
        finally:
            subprocess.run([PY, "-m", "v6lab", "down", "--lab", name], env=ENV, capture_output=True)


if __name__ == "__main__":
    main()
