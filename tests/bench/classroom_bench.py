"""What the classroom service adds to a trainee's commands (docs/classroom.md).

    sudo PYTHONPATH=bindings /usr/bin/python3 tests/bench/classroom_bench.py [--reps 5]

Runs `v6lab start slaac`, `v6lab check`, `v6lab exec h1 -- true` and
`v6lab stop` as whole commands, the way a trainee types them: directly (a
lab of root's own, records in a temporary V6LAB_STATE_DIR) and through a
service started here on a temporary socket (as root, the trainee uid 0).
Prints the median wall time of each, and the difference. The 30-trainee
run (many users at once) is not done here yet. Prints figures; asserts
nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = "/usr/bin/python3"
STEPS = (("start", ["start", "slaac"]), ("check", ["check", "--format", "json"]),
         ("exec", ["exec", "h1", "--", "true"]), ("stop", ["stop"]))


def timed(args: list[str], env: dict[str, str]) -> float:
    t0 = time.monotonic()
    subprocess.run([PY, "-m", "v6lab", *args], env=env, cwd="/", stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)
    return time.monotonic() - t0


def run(mode: str, env: dict[str, str], reps: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name, _args in STEPS}
    for _ in range(reps):
        for name, args in STEPS:
            times[name].append(timed(args, env))
    return {name: statistics.median(v) * 1000 for name, v in times.items()}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    if os.geteuid() != 0:
        print("run as root: the service and the direct labs need it", file=sys.stderr)
        return 4
    base = Path(tempfile.mkdtemp(prefix="v6lab-class-bench-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"), "V6LAB_LANG": "en"}
    direct = {**env, "V6LAB_CLASS": "off", "V6LAB_STATE_DIR": str(base / "direct"),
              "V6LAB_PROGRESS": str(base / "progress.json")}
    sock = base / "sock" / "class.sock"
    service = subprocess.Popen([PY, "-m", "v6lab.classroom", "--socket", str(sock),
                                "--state-dir", str(base / "state")], env=env, cwd="/",
                               stderr=subprocess.DEVNULL)
    try:
        while not sock.exists():
            time.sleep(0.05)
        results = {"direct": run("direct", direct, a.reps),
                   "service": run("service", {**env, "V6LAB_CLASS_SOCKET": str(sock)}, a.reps)}
    finally:
        service.terminate()
        service.wait()
        subprocess.run(["rm", "-rf", str(base)])
    print(f"{'command':8} {'direct ms':>10} {'service ms':>11} {'added ms':>9}")
    for name, _args in STEPS:
        d, s = results["direct"][name], results["service"][name]
        print(f"{name:8} {d:10.0f} {s:11.0f} {s - d:9.0f}")
    print(json.dumps({"reps": a.reps, **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
