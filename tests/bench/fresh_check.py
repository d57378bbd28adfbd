"""How fast a curriculum lab starts, how fast `v6lab check` answers on it
when the trainee has done nothing, and how fast the solved lab grades
(docs/performance.md; targets: start ≤ 2 s, fresh check ≤ 0.5 s, solved
grading ≤ 150 ms):

    sudo PYTHONPATH=bindings /usr/bin/python3 tests/bench/fresh_check.py [--reps 5] [--labs ID,...]

For each lab: `v6lab start` timed from the command line, a pause for DAD
to settle, then `v6lab check` timed from the command line (process start
included) and the grading alone in process; then `v6lab solve` and the
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
# Bytecode cached, as on a trainee's machine (the first run writes it): a
# shell that sets PYTHONDONTWRITEBYTECODE would otherwise add ~0.2 s of
# compiling to every command timed here.
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
       "PYTHONPATH": str(ROOT / "bindings")}


def v6lab(*args: str, check: bool = False) -> float:
    """Runs the CLI; returns its wall time."""
    t0 = time.perf_counter()
    subprocess.run([PY, "-m", "v6lab", *args], env=ENV, check=check, capture_output=True)
    return time.perf_counter() - t0


def median_of(reps: int, fn) -> float:
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--settle", type=float, default=1.5)
    ap.add_argument("--labs", default="", help="comma-separated lab ids (default: every lab)")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "bindings"))
    from v6lab import Lab
    from v6lab.course import load_labs

    only = [x for x in a.labs.split(",") if x]
    print(f"{'lab':<16} {'start s':>8} {'check (CLI) s':>14} {'grading s':>10} {'solved s':>9}"
          f"  (median of {a.reps})")
    for lab_id, d in load_labs().items():
        if only and lab_id not in only:
            continue
        name = f"bench-{lab_id}-{os.getpid()}"   # unique: benches may run side by side
        start = v6lab("start", lab_id, "--name", name, check=True)
        try:
            time.sleep(a.settle)
            lab = Lab.attach(name)
            cli = median_of(a.reps, lambda: v6lab("check", "--lab", name))
            fresh = median_of(a.reps, lambda: d.grader().grade(lab))
            v6lab("solve", "--lab", name, check=True)
            solved = median_of(a.reps, lambda: d.grader().grade(lab))
            print(f"{lab_id:<16} {start:>8.3f} {cli:>14.3f} {fresh:>10.3f} {solved:>9.3f}")
        finally:
            v6lab("down", "--lab", name)


if __name__ == "__main__":
    main()
