"""A classroom on one server: N trainees, each a Linux user of their own
without root, each running a curriculum lab with radvd and dnsmasq
(stateless-dhcpv6, solved), all running `v6lab check` at the same moment
(docs/classroom.md, "A class of thirty"; issue targets: 30 labs on this
2-core machine, check ≤ 1 s each under that load).

    sudo PYTHONPATH=bindings /usr/bin/python3 tests/bench/classroom.py [--trainees 30]
        [--lab ID] [--via service|self]

--via service (the default) starts a classroom service on a temporary
socket and state directory, as a class server runs one, and the trainees'
commands go through it; --via self has each trainee start a lab of their
own (rootless, self-graded). Makes N throwaway users (each with a
subordinate id range, as a class server's accounts would have), starts
their labs in parallel batches, solves them, then has every trainee check
at once, twice, and then once each at a random moment within --spread
seconds (as a class checks); prints start time, check latency (median and worst), the
CPU a check costs and where it goes, and
memory per trainee, and removes the users, their labs and their files
again, also when interrupted. Bounded: every command has a time limit, and
the whole run stops after --budget seconds. Asserts nothing.
(tests/bench/classroom_bench.py compares single commands direct and
through the service.)
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import pwd
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
PY = "/usr/bin/python3"
SUB_FILES = ("/etc/subuid", "/etc/subgid")


def meminfo() -> dict[str, int]:
    out = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        out[key] = int(value.split()[0])
    return out


TICK = os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU time the whole machine has spent (not idle, not waiting for I/O)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / TICK


def proc_seconds(pid: int, children: bool) -> float:
    """A process's own CPU time, and with children that of its reaped children."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = int(f[11]) + int(f[12])
    return (own + (int(f[13]) + int(f[14]) if children else 0)) / TICK


def children_of(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


class CpuSplit:
    """Where the CPU of a round of checks went: the trainees' commands (this
    process's reaped children), the service's own threads, its workers
    (reaped by the zygote, its child) and everything else (the labs'
    daemons, the kernel's network work)."""

    def __init__(self, service_pid: Optional[int]) -> None:
        self.pid = service_pid
        self.t0 = self._now()

    def _now(self) -> tuple[float, float, float, float]:
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        service = workers = 0.0
        if self.pid is not None:
            service = proc_seconds(self.pid, False)
            workers = sum(proc_seconds(z, True) for z in children_of(self.pid))
        return busy_seconds(), kids.ru_utime + kids.ru_stime, service, workers

    def report(self, n: int) -> None:
        busy, cmds, service, workers = (b - a for a, b in zip(self.t0, self._now()))
        rest = busy - cmds - service - workers
        print(f"    CPU per check: {busy / n * 1000:.0f} ms (the trainee's command "
              f"{cmds / n * 1000:.0f}, service {service / n * 1000:.0f}, workers "
              f"{workers / n * 1000:.0f}, labs and kernel {rest / n * 1000:.0f})")


def used_kib() -> int:
    m = meminfo()
    return m["MemTotal"] - m["MemAvailable"]


class Class:
    """The throwaway accounts, and everything to undo for them."""

    def __init__(self, n: int, env: dict[str, str]) -> None:
        self.tag = f"v6c{uuid.uuid4().hex[:5]}"
        self.env = env
        self.users: list[str] = []
        self.saved = {f: Path(f).read_bytes() if Path(f).exists() else None for f in SUB_FILES}
        for i in range(n):
            name = f"{self.tag}{i:02d}"
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True)
            self.users.append(name)
            start = 800_000_000 + i * 65536
            subprocess.run(["usermod", "--add-subuids", f"{start}-{start + 65535}",
                            "--add-subgids", f"{start}-{start + 65535}", name], check=True)

    def run(self, user: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        pw = pwd.getpwnam(user)
        home = Path(f"/tmp/v6lab-home-{pw.pw_uid}")
        home.mkdir(mode=0o700, exist_ok=True)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        env = {k: v for k, v in os.environ.items()
               if k not in ("V6LAB_STATE_DIR", "XDG_RUNTIME_DIR", "SUDO_UID", "SUDO_USER",
                            "PYTHONPATH")}  # ./v6lab sets it
        env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1",
                   V6LAB_LANG="en", COLUMNS="120", **self.env)
        # The checkout's ./v6lab, as a trainee types v6lab: what they pay
        # for each command includes its launcher.
        return subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                               "--clear-groups", str(ROOT / "v6lab"), *args],
                              capture_output=True, text=True, env=env, cwd="/tmp", timeout=timeout)

    def close(self) -> None:
        for user in self.users:
            try:
                self.run(user, "stop", timeout=60)
            except (subprocess.TimeoutExpired, OSError):
                pass
            uid = pwd.getpwnam(user).pw_uid
            subprocess.run(["userdel", user], check=False)
            for d in (f"/tmp/v6lab-{uid}", f"/tmp/v6lab-home-{uid}"):
                shutil.rmtree(d, ignore_errors=True)
        for f, data in self.saved.items():
            if data is None:
                Path(f).unlink(missing_ok=True)
            else:
                Path(f).write_bytes(data)


def timed(fn):
    t0 = time.perf_counter()
    r = fn()
    return time.perf_counter() - t0, r


def in_parallel(users: list[str], fn, width: int) -> list[tuple[str, float, subprocess.CompletedProcess]]:
    with cf.ThreadPoolExecutor(width) as pool:
        futures = {pool.submit(timed, lambda u=u: fn(u)): u for u in users}
        return [(futures[f], *f.result()) for f in cf.as_completed(futures)]


def report(label: str, results) -> list[float]:
    times = sorted(t for _u, t, r in results if r.returncode in (0, 1))
    failed = [(u, r.stderr.strip().splitlines()[-1:] or [r.returncode]) for u, _t, r in results
              if r.returncode not in (0, 1)]
    if times:
        print(f"  {label}: median {statistics.median(times):.2f} s, worst {times[-1]:.2f} s"
              f" ({len(times)} of {len(results)})")
    for u, why in failed[:5]:
        print(f"    {u}: failed: {why[0]}")
    return times


def service(base: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """A classroom service on a socket of its own, as a class server runs
    one; returns it and what a trainee's environment needs to use it."""
    os.chmod(base, 0o755)  # trainees reach the socket through it
    sock = base / "sock" / "class.sock"
    proc = subprocess.Popen([PY, "-m", "v6lab.classroom", "--socket", str(sock),
                             "--state-dir", str(base / "state")],
                            env={**os.environ, "PYTHONPATH": str(ROOT / "bindings")}, cwd="/",
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the classroom service did not start")
        time.sleep(0.05)
    return proc, {"V6LAB_CLASS_SOCKET": str(sock)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trainees", type=int, default=30)
    ap.add_argument("--lab", default="stateless-dhcpv6")
    ap.add_argument("--via", choices=("service", "self"), default="service")
    ap.add_argument("--start-width", type=int, default=4,
                    help="how many trainees start at once (a class arrives over minutes)")
    ap.add_argument("--spread", type=float, default=20,
                    help="the window in which each trainee checks once (the realistic round)")
    ap.add_argument("--budget", type=float, default=600, help="stop after this many seconds")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("classroom.py makes Linux users: run it as root")
    deadline = time.monotonic() + a.budget
    base_dir = Path(tempfile.mkdtemp(prefix="v6lab-classroom-"))
    proc, env = service(base_dir) if a.via == "service" else (None, {"V6LAB_CLASS": "off"})
    time.sleep(1)
    base = used_kib()
    klass = Class(a.trainees, env)
    try:
        users = klass.users
        print(f"{a.trainees} trainees via {a.via}, lab {a.lab}, {os.cpu_count()} cores, "
              f"{meminfo()['MemTotal'] // 1024} MiB")
        started = in_parallel(users, lambda u: klass.run(u, "start", a.lab), a.start_width)
        report(f"start ({a.start_width} at a time)", started)
        up = [u for u, _t, r in started if r.returncode == 0]
        after_start = used_kib()
        solved = in_parallel(up, lambda u: klass.run(u, "solve"), a.start_width)
        report("solve", solved)
        time.sleep(2)
        loaded = used_kib()
        for round_ in (1, 2):
            if time.monotonic() > deadline:
                print("  budget spent: stopping")
                break
            split = CpuSplit(proc.pid if proc is not None else None)
            checks = in_parallel(up, lambda u: klass.run(u, "check"), len(up) or 1)
            report(f"check, all {len(up)} at once (round {round_})", checks)
            split.report(len(checks))
            passed = sum(1 for _u, _t, r in checks if r.returncode == 0)
            print(f"    scored 100 %: {passed} of {len(checks)}")
        if up and time.monotonic() < deadline:
            # A class as it really checks: each trainee once, at a moment of
            # their own within --spread seconds.
            rng = random.Random(1)
            delays = {u: rng.uniform(0, a.spread) for u in up}
            spread = in_parallel(up, lambda u: (time.sleep(delays[u]), klass.run(u, "check"))[1],
                                 len(up))
            report(f"check, each of {len(up)} once within {a.spread:g} s", [
                (u, t - delays[u], r) for u, t, r in spread])
        if up and time.monotonic() < deadline:
            one = [timed(lambda: klass.run(up[0], "check"))[0] for _ in range(3)]
            print(f"  check, one trainee alone while the others' labs run: "
                  f"median {statistics.median(one):.2f} s")
        if up:
            print(f"  memory: {(after_start - base) / len(up) / 1024:.1f} MiB per trainee after start, "
                  f"{(loaded - base) / len(up) / 1024:.1f} MiB solved (MemTotal - MemAvailable)")
            avail = meminfo()["MemAvailable"]
            per = max(1, (loaded - base) / len(up))
            print(f"  memory left: {avail // 1024} MiB, room for about {int(avail / per)} more by memory")
    finally:
        klass.close()
        if proc is not None:
            proc.terminate()
            proc.wait()
        shutil.rmtree(base_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
