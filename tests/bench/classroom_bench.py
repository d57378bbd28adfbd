"""What the classroom service adds to a trainee's commands (docs/classroom.md).

    sudo PYTHONPATH=bindings /usr/bin/python3 tests/bench/classroom_bench.py [--reps 5]
        [--trainees N]

Runs `v6lab start slaac`, `v6lab check`, `v6lab exec h1 -- true` and
`v6lab stop` as whole commands, the way a trainee types them: directly (a
lab of root's own, records in a temporary V6LAB_STATE_DIR) and through a
service started here on a temporary socket (as root, the trainee uid 0).
Prints the median wall time of each, and the difference. With --trainees N
it also makes N throwaway users (removed after) who each start slaac and
then check it all at once, and prints how long the slowest took, beside one
trainee alone (a first look at a class; the 30-trainee run, with memory per
trainee, is still to do). Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
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


def as_user(name: str, args: list[str], env: dict[str, str]) -> float:
    pw = pwd.getpwnam(name)
    home = Path(f"/tmp/v6lab-home-{pw.pw_uid}")
    t0 = time.monotonic()
    r = subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                        "--clear-groups", PY, "-m", "v6lab", *args],
                       env={**env, "HOME": str(home)}, cwd="/tmp", stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=300)
    took = time.monotonic() - t0
    # check exits 1 while steps fail: only another code (or a message) is a failure.
    if r.returncode not in (0, 1) or r.stderr.strip():
        raise RuntimeError(f"{name}: v6lab {' '.join(args)}: {r.stderr.strip()[-300:]}")
    return took


def at_once(names: list[str], args: list[str], env: dict[str, str]) -> list[float]:
    with ThreadPoolExecutor(len(names)) as pool:
        return list(pool.map(lambda n: as_user(n, args, env), names))


def class_of(n: int, env: dict[str, str]) -> dict[str, float]:
    """n trainees start, then check, at once: the slowest of each, in ms."""
    tag = uuid.uuid4().hex[:6]
    names = [f"v6cb{k}{tag}" for k in range(n)]
    made = []
    try:
        for name in names:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True)
            made.append(name)
            pw = pwd.getpwnam(name)
            home = Path(f"/tmp/v6lab-home-{pw.pw_uid}")
            home.mkdir(mode=0o700, exist_ok=True)
            os.chown(home, pw.pw_uid, pw.pw_gid)
        as_user(names[0], ["start", "slaac"], env)
        alone = statistics.median([as_user(names[0], ["check"], env) for _ in range(3)])
        start = at_once(names[1:], ["start", "slaac"], env) if n > 1 else [0.0]
        check = at_once(names, ["check"], env)
        at_once(names, ["stop"], env)
        return {"trainees": n, "check_alone": alone * 1000, "start_max": max(start) * 1000,
                "check_max": max(check) * 1000, "check_median": statistics.median(check) * 1000}
    finally:
        for name in made:
            uid = pwd.getpwnam(name).pw_uid
            for p in Path("/proc").iterdir():
                try:
                    if p.name.isdigit() and p.stat().st_uid == uid:
                        os.kill(int(p.name), signal.SIGKILL)
                except OSError:
                    pass
            subprocess.run(["userdel", name], capture_output=True)
            subprocess.run(["rm", "-rf", f"/tmp/v6lab-home-{uid}"])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--trainees", type=int, default=0)
    a = p.parse_args()
    if os.geteuid() != 0:
        print("run as root: the service and the direct labs need it", file=sys.stderr)
        return 4
    base = Path(tempfile.mkdtemp(prefix="v6lab-class-bench-"))
    os.chmod(base, 0o755)  # trainees reach the socket through it (the state dir is 0700)
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
        cls_env = {**env, "V6LAB_CLASS_SOCKET": str(sock)}
        results = {"direct": run("direct", direct, a.reps),
                   "service": run("service", cls_env, a.reps)}
        if a.trainees:
            results["class"] = class_of(a.trainees, cls_env)
    finally:
        service.terminate()
        service.wait()
        subprocess.run(["rm", "-rf", str(base)])
    print(f"{'command':8} {'direct ms':>10} {'service ms':>11} {'added ms':>9}")
    for name, _args in STEPS:
        d, s = results["direct"][name], results["service"][name]
        print(f"{name:8} {d:10.0f} {s:11.0f} {s - d:9.0f}")
    if "class" in results:
        c = results["class"]
        print(f"{c['trainees']} trainees at once: start slowest {c['start_max']:.0f} ms; "
              f"check slowest {c['check_max']:.0f} ms, median {c['check_median']:.0f} ms "
              f"(one trainee alone: {c['check_alone']:.0f} ms)")
    print(json.dumps({"reps": a.reps, **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
