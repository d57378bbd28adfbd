#!/usr/bin/python3
"""Capacity of one Kubernetes node for trainee pods, measured here: N
simulated pods (tests/python/podsim.py, the StatefulSet's security
context), each running one lab of the curriculum as the image's entry
point would, one after another. Prints, as one JSON line per pod and a
summary line:

- start_s: wall time of `v6lab start LAB` in the pod (the trainee waits that);
- pss_mib: proportional set size of every process of the pod (the pod's
  share of user-space memory: the lab's inits, daemons, the supervisor);
- the summary: MemAvailable's fall over all N pods divided by N (user space
  and the kernel's part, namespaces, sockets, tmpfs; noisy while others run
  labs on the machine), and the mean and worst start time.

Bounded: stops starting pods at --budget seconds (default 150) and always
removes every pod (killing its init by PID). Run as root:
    tests/bench/pod_capacity.py [-n 10] [--lab slaac]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/python"))
import podsim  # noqa: E402

PY = "/usr/bin/python3"
CAPS = ("setuid", "setgid", "setfcap")  # deploy/kubernetes/statefulset.yaml
PROFILE = str(ROOT / "deploy/kubernetes/node/v6lab-trainee.json")


def mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def pss_kib(base: int, ids: int) -> int:
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if not base <= os.stat(f"/proc/{pid}").st_uid < base + ids:
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def v6lab_argv(pod_pid: int, *args: str) -> list[str]:
    env = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", f"PYTHONPATH={ROOT / 'bindings'}",
           "PYTHONDONTWRITEBYTECODE=1", "HOME=/tmp", "V6LAB_LANG=en"]
    return podsim.enter_argv(pod_pid, [*env, PY, "-m", "v6lab", *args], caps=CAPS,
                             no_new_privs=True, seccomp=PROFILE)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=10, help="pods (one lab each)")
    p.add_argument("--lab", default="slaac")
    p.add_argument("--budget", type=float, default=150.0, help="seconds to stop starting pods")
    args = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("pod_capacity: run as root (it makes the pods' user namespaces)")
    pods: list[tuple[subprocess.Popen, int, int]] = []
    starts: list[float] = []
    before = mem_available_kib()
    t0 = time.monotonic()
    try:
        for i in range(args.n):
            if time.monotonic() - t0 > args.budget:
                print(f"pod_capacity: budget reached after {i} pods", file=sys.stderr)
                break
            base = 1_800_000_000 + i * 65536
            up = subprocess.Popen([PY, podsim.__file__, "up", "--base", str(base),
                                   "--subid", "root:1:65535"], stdout=subprocess.PIPE, text=True)
            assert up.stdout is not None
            pid = int(up.stdout.readline())
            pods.append((up, pid, base))
            s = time.monotonic()
            r = subprocess.run(v6lab_argv(pid, "start", args.lab), capture_output=True,
                               text=True, timeout=120)
            took = time.monotonic() - s
            if r.returncode != 0:
                raise SystemExit(f"pod {i}: v6lab start failed: {r.stderr.strip()}")
            starts.append(took)
            time.sleep(0.5)  # the daemons' start-up
            print(json.dumps({"pod": i, "lab": args.lab, "start_s": round(took, 3),
                              "pss_mib": round(pss_kib(base, 65536) / 1024, 1)}), flush=True)
        time.sleep(2)  # let DAD and the daemons settle before the final reading
        after = mem_available_kib()
        per_pod = [pss_kib(base, 65536) / 1024 for _up, _pid, base in pods]
        n = len(pods)
        print(json.dumps({
            "summary": True, "pods": n, "lab": args.lab,
            "mem_available_drop_per_pod_mib": round((before - after) / 1024 / n, 1) if n else None,
            "pss_per_pod_mib": round(sum(per_pod) / n, 1) if n else None,
            "start_mean_s": round(sum(starts) / len(starts), 3) if starts else None,
            "start_max_s": round(max(starts), 3) if starts else None,
            "cpus": os.cpu_count(),
            "mem_total_mib": round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024),
        }), flush=True)
    finally:
        for up, pid, _base in pods:
            for victim in (pid, up.pid):
                try:
                    os.kill(victim, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            up.wait()


if __name__ == "__main__":
    main()
