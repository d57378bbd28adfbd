"""What node isolation costs, side by side (docs/performance.md):

    sudo PYTHONPATH=bindings /usr/bin/python3 tests/bench/isolation_compare.py \\
        [--sizes 100,500] [--reps 5] [--baseline DIR] [--user NAME]

For each size, alternating within each repetition so that drift hits all
alike, the N-node chain of bench.py built and torn down by:
  root      this checkout, as root (a user namespace and a pivot_root into
            the template root per node);
  rootless  this checkout, as the unprivileged user NAME (default nobody):
            the whole lab one user namespace down;
  baseline  another checkout DIR (e.g. `git worktree add /tmp/old <commit>`
            and built there), as root — how today's build compares with an
            earlier one.
Prints medians; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import statistics
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PY = "/usr/bin/python3"


def run(checkout: Path, n: int, user: str = "") -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout / "bindings"), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [PY, str(checkout / "tests/bench/bench.py"), "--child-chain", str(n)]
    if user:
        pw = pwd.getpwnam(user)
        env = {k: v for k, v in env.items() if k not in ("V6LAB_STATE_DIR", "XDG_RUNTIME_DIR")}
        env["HOME"] = "/tmp"
        cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", *cmd]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd="/tmp")
    if r.returncode != 0:
        raise SystemExit(f"{checkout} N={n} {user or 'root'} failed: {r.stderr.strip()[-400:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,500")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--baseline", type=Path)
    ap.add_argument("--user", default="nobody")
    a = ap.parse_args()
    variants = {"root": (ROOT, ""), "rootless": (ROOT, a.user)}
    if a.baseline:
        variants["baseline"] = (a.baseline.resolve(), "")
    print(f"{'N':>5} {'variant':<9} {'build s':>8} {'teardown s':>10} {'spawn s':>8}  (median of {a.reps})")
    for n in (int(x) for x in a.sizes.split(",")):
        got: dict[str, list[dict]] = {k: [] for k in variants}
        for _ in range(a.reps):
            for name, (checkout, user) in variants.items():
                got[name].append(run(checkout, n, user))
        for name, runs in got.items():
            med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
            spawn = statistics.median(r["phases"]["spawn"] for r in runs)
            print(f"{n:>5} {name:<9} {med('build_s'):>8.3f} {med('teardown_s'):>10.3f} {spawn:>8.3f}")
        if "baseline" in got:
            ratio = statistics.median(r["build_s"] for r in got["root"]) / \
                statistics.median(r["build_s"] for r in got["baseline"])
            print(f"{n:>5} root / baseline build: {ratio:.2f}x")


if __name__ == "__main__":
    main()
