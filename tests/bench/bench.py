"""The performance benchmark of issue 5, in one run (see docs/performance.md).

    sudo PYTHONPATH=bindings /usr/bin/python3 tests/bench/bench.py [--sizes 10,100,500]
        [--reps 3] [--mininet-max 500] [--scale 2000] [--quick] [--json FILE]

1. Chain of N nodes (N-1 veth links, a /64 per link, forwarding on): build,
   teardown, kernel settle, for v6lab (full isolation: network, UTS, mount,
   IPC and PID namespaces and a node init each), the bare-kernel floor, an
   `ip -batch` script and Mininet, alternating the variants within each
   repetition so that drift hits all alike. Medians and ratios.
2. Scale: the largest chain and LAN built here, and memory per node.
3. Trainee latency: `v6lab up` of a 10-node lab until every node has run a
   command (what `v6lab shell` does).
4. Grading: tests/bench/grading_bench.py (20 checks; cost per probe kind).

Every variant runs as its own process and prints one JSON line. Prints
figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PY = "/usr/bin/python3"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "bindings")}


# ------------------------------------------------------------ the v6lab variant

def v6lab_chain(n: int) -> dict:
    """Runs in a child process: build, teardown and settle of an N chain."""
    sys.path.insert(0, str(ROOT / "bindings"))
    sys.path.insert(0, str(HERE))
    from nsid_settle import NsidWatch
    from v6lab import Lab, Topo

    t = Topo("chain")
    for i in range(n):
        t.add_node(f"n{i}", "router")
        if i:
            t.add_link(f"n{i-1}", f"n{i}", addrs_a=[f"2001:db8:{i:x}::1/64"],
                       addrs_b=[f"2001:db8:{i:x}::2/64"])
    lab = Lab(t)
    # Rootless (isolation_compare.py runs this as a user), nsids cannot be
    # given in the host's namespace: settle is not measured then.
    watch = NsidWatch() if os.geteuid() == 0 else None  # before the lab's fds (select)
    t0 = time.perf_counter()
    lab.start()
    t1 = time.perf_counter()
    for node in lab:
        if watch:
            watch.assign(pid=node.pid)
    phases = lab.timing()
    t2 = time.perf_counter()
    lab.stop()
    t3 = time.perf_counter()
    if watch:
        watch.settle()
        watch.close()
    t4 = time.perf_counter()
    return {"variant": "v6lab", "n": n, "build_s": t1 - t0, "teardown_s": t3 - t2,
            "settle_s": t4 - t3, "phases": phases}


def v6lab_scale(kind: str, n: int) -> dict:
    """Runs in a child process: the largest `kind` (chain or lan) of n nodes,
    with memory per node."""
    sys.path.insert(0, str(ROOT / "bindings"))
    from v6lab import Lab, Topo

    def meminfo() -> dict:
        out = {}
        for line in Path("/proc/meminfo").read_text().splitlines():
            k, v = line.split(":")
            out[k] = int(v.split()[0])  # kB
        return out

    t = Topo(kind)
    if kind == "lan":
        t.add_lan("lan")
    for i in range(n):
        t.add_node(f"n{i}", "host")
        if kind == "lan":
            t.add_link(f"n{i}", "lan")
        elif i:
            t.add_link(f"n{i-1}", f"n{i}")
    before = meminfo()
    lab = Lab(t)
    t0 = time.perf_counter()
    lab.start()
    build = time.perf_counter() - t0
    after = meminfo()
    # The node inits share one address space (the zygote's, CLONE_VM): its
    # PSS counted once is the processes' memory.
    first = lab["n0"].pid
    zygote = int(Path(f"/proc/{first}/stat").read_text().rsplit(")", 1)[1].split()[1])
    pss = 0
    for line in Path(f"/proc/{zygote}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            pss += int(line.split()[1])
    ok = lab["n0"].cmd("true").ok and lab[f"n{n-1}"].cmd("true").ok
    t1 = time.perf_counter()
    lab.stop()
    stop = time.perf_counter() - t1
    slab_kb = after["Slab"] - before["Slab"]
    kernel_kb = slab_kb + (after["KernelStack"] - before["KernelStack"]) + \
        (after["PageTables"] - before["PageTables"])
    used_kb = before["MemFree"] - after["MemFree"]
    return {"variant": f"v6lab-{kind}", "n": n, "ok": ok, "build_s": build, "teardown_s": stop,
            "slab_kb_per_node": slab_kb / n, "kernel_kb_per_node": kernel_kb / n,
            "used_kb_per_node": used_kb / n,
            "process_pss_kb_per_node": pss / n}


def trainee_latency(reps: int) -> dict:
    """`v6lab up` of a 10-node lab (CLI, supervisor, build), then a command
    in every node, the way `v6lab shell` enters one. Both timed from the
    moment the command is typed."""
    topo = HERE / "ten.yaml"
    cli = [PY, "-m", "v6lab"]
    sys.path.insert(0, str(ROOT / "bindings"))
    from v6lab import registry
    from v6lab.paths import NSEXEC
    ups, shells, via_cli = [], [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        up = subprocess.run(cli + ["up", str(topo), "--name", "bench-ten"], env=ENV,
                            capture_output=True, text=True)
        if up.returncode != 0:
            raise SystemExit(f"v6lab up failed: {up.stderr.strip()}")
        t1 = time.perf_counter()
        rec = registry.find("bench-ten")
        procs = [subprocess.Popen([str(NSEXEC), str(v["pid"]), str(v["starttime"]), "--", "/bin/sh", "-c", "true"])
                 for v in rec.nodes.values()]
        for p in procs:
            p.wait()
        t2 = time.perf_counter()
        procs = [subprocess.Popen(cli + ["exec", "--lab", "bench-ten", name, "--", "true"], env=ENV)
                 for name in rec.nodes]
        for p in procs:
            p.wait()
        t3 = time.perf_counter()
        subprocess.run(cli + ["down", "--lab", "bench-ten"], env=ENV, check=True, capture_output=True)
        ups.append(t1 - t0)
        shells.append(t2 - t0)
        via_cli.append((t1 - t0) + (t3 - t2))
        time.sleep(0.5)
    return {"up_s": statistics.median(ups), "shells_ready_s": statistics.median(shells),
            "shells_ready_via_cli_s": statistics.median(via_cli), "reps": reps}


# ------------------------------------------------------------------ the run

def run_variant(variant: str, n: int) -> dict:
    if variant == "v6lab":
        cmd = [PY, str(Path(__file__)), "--child-chain", str(n)]
    elif variant == "floor":
        cmd = [str(ROOT / "build" / "tests" / "bench" / "v6lab-bench-floor"), str(n)]
    elif variant == "ip-batch":
        cmd = ["bash", str(HERE / "ip_batch.sh"), str(n)]
    else:
        cmd = [PY, str(HERE / "mininet_chain.py"), str(n)]
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise SystemExit(f"{variant} N={n} failed: {r.stderr.strip()[-500:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB, kernel {platform.release()}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child-chain", type=int)
    ap.add_argument("--child-scale", nargs=2)
    ap.add_argument("--sizes", default="10,100,500")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--mininet-max", type=int, default=500)
    ap.add_argument("--mininet-reps", type=int, default=1, help="repetitions for Mininet at N >= 500")
    ap.add_argument("--scale", default="2000", help="comma-separated node counts for the scale test")
    ap.add_argument("--quick", action="store_true", help="sizes 10,100; 1 rep; no Mininet; scale 500")
    ap.add_argument("--json", help="also write every measurement to this file")
    args = ap.parse_args()
    if args.child_chain:
        print(json.dumps(v6lab_chain(args.child_chain)))
        return
    if args.child_scale:
        print(json.dumps(v6lab_scale(args.child_scale[0], int(args.child_scale[1]))))
        return
    if args.quick:
        args.sizes, args.reps, args.mininet_max, args.scale = "10,100", 1, 0, "500"
    subprocess.run(["cmake", "--build", str(ROOT / "build"), "--target", "v6lab-bench-floor"],
                   check=True, capture_output=True)
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"machine: {machine()}")
    results: dict[tuple[str, int], list[dict]] = {}
    variants = ["v6lab", "floor", "ip-batch", "mininet"]
    for n in sizes:
        for rep in range(args.reps):
            order = variants[rep % len(variants):] + variants[:rep % len(variants)]
            for v in order:
                if v == "mininet" and (n > args.mininet_max or (n >= 500 and rep >= args.mininet_reps)):
                    continue
                r = run_variant(v, n)
                results.setdefault((v, n), []).append(r)
                print(f"  N={n:<4} rep {rep + 1} {v:9s} build {r['build_s']:.3f} s  teardown "
                      f"{r['teardown_s']:.3f} s  settle {r['settle_s']:.3f} s", flush=True)

    def med(v: str, n: int, key: str) -> float:
        return statistics.median(x[key] for x in results[(v, n)])

    def total(v: str, n: int) -> float:
        return statistics.median(x["build_s"] + x["teardown_s"] + x["settle_s"] for x in results[(v, n)])

    print("\n## Chain: build + teardown + settle (median seconds)\n")
    print("| N | v6lab | floor | ip -batch | Mininet | v6lab / floor | ip -batch / v6lab | Mininet / v6lab |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        row = [str(n)]
        for v in variants:
            row.append(f"{total(v, n):.3f}" if (v, n) in results else "—")
        v6 = total("v6lab", n)
        row.append(f"{v6 / total('floor', n):.2f}×")
        row.append(f"{total('ip-batch', n) / v6:.1f}×")
        row.append(f"{total('mininet', n) / v6:.0f}×" if ("mininet", n) in results else "—")
        print("| " + " | ".join(row) + " |")
    print("\n| N | variant | build | teardown | settle |\n|---|---|---|---|---|")
    for n in sizes:
        for v in variants:
            if (v, n) in results:
                print(f"| {n} | {v} | {med(v, n, 'build_s'):.3f} | {med(v, n, 'teardown_s'):.3f} "
                      f"| {med(v, n, 'settle_s'):.3f} |")
    n = max(sizes)
    ph = {k: statistics.median(x["phases"][k] for x in results[("v6lab", n)])
          for k in ("spawn", "sockets", "links", "addresses", "total")}
    print(f"\nv6lab N={n} build by phase (median s): " +
          ", ".join(f"{k} {v:.3f}" for k, v in ph.items()))

    scale = []
    for s in [int(x) for x in args.scale.split(",") if x]:
        for kind in ("chain", "lan"):
            r = subprocess.run([PY, str(Path(__file__)), "--child-scale", kind, str(s)], env=ENV,
                               capture_output=True, text=True, timeout=1800)
            if r.returncode != 0:
                print(f"scale {kind} {s}: FAILED: {r.stderr.strip()[-300:]}")
                continue
            scale.append(json.loads(r.stdout.strip().splitlines()[-1]))
    if scale:
        print("\n## Scale\n\n| topology | nodes | works | build s | teardown s | slab KiB/node | "
              "kernel (slab+stacks+page tables) KiB/node | processes PSS KiB/node | "
              "MemFree drop KiB/node |\n|---|---|---|---|---|---|---|---|---|")
        for x in scale:
            print(f"| {x['variant']} | {x['n']} | {'yes' if x['ok'] else 'NO'} | {x['build_s']:.2f} | "
                  f"{x['teardown_s']:.2f} | {x['slab_kb_per_node']:.0f} | {x['kernel_kb_per_node']:.0f} | "
                  f"{x['process_pss_kb_per_node']:.1f} | {x['used_kb_per_node']:.0f} |")

    lat = trainee_latency(3)
    print(f"\n## Trainee latency (10-node lab, median of {lat['reps']})\n")
    print(f"- `v6lab up` returns: {lat['up_s'] * 1000:.0f} ms")
    print(f"- every node has run a command (as `v6lab shell` enters it): {lat['shells_ready_s'] * 1000:.0f} ms")
    print(f"- the same through 10 parallel `v6lab exec` commands: {lat['shells_ready_via_cli_s'] * 1000:.0f} ms")

    g = subprocess.run([PY, str(HERE / "grading_bench.py"), "--json"], env=ENV,
                       capture_output=True, text=True, timeout=600)
    grading = json.loads(g.stdout.strip().splitlines()[-1]) if g.returncode == 0 else {}
    if grading:
        print(f"\n## Grading\n\n- a converged lab, 20 checks: median {grading['grade_median_ms']} ms "
              f"({grading['runs']} runs)")
        for k, v in grading["per_probe_ms"].items():
            print(f"  - {k}: {v} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": machine(),
            "chain": {f"{v}:{n}": r for (v, n), r in results.items()},
            "scale": scale, "trainee": lat, "grading": grading}, indent=1))


if __name__ == "__main__":
    main()
