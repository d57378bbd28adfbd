"""Benchmark: grading a converged lab with 20 checks, end to end, and the
cost of each probe kind. Prints figures; asserts nothing about time.

    sudo PYTHONPATH=bindings /usr/bin/python3 tests/bench/grading_bench.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings"))

from v6lab import Lab, wait_until  # noqa: E402
from v6lab.course import find_lab  # noqa: E402
from v6lab.grading import Grader, Step, checks as c  # noqa: E402

DNSMASQ = ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
           "--listen-address=2001:db8:20::80", "--bind-interfaces",
           "--host-record=www.lab.example,2001:db8:20::80", "--local=/lab.example/",
           "--pid-file=/run/dnsmasq-bench.pid"]


def converged_lab() -> Lab:
    """Lab 3 (SLAAC) solved, plus DNS and a web server on srv."""
    d = find_lab("slaac")
    lab = Lab(d.topology(), name="bench-grading").start()
    d.initial_state(lab)
    d.solve(lab)
    srv = lab["srv"]
    srv.popen(DNSMASQ, name="dnsmasq")
    srv.popen(["python3", "-m", "http.server", "--bind", "2001:db8:20::80", "8080"], name="http")
    wait_until(lambda: lab["h1"].tcp_connect("2001:db8:20::80", 8080, timeout=0.5).ok, 10,
               what="the web server")
    wait_until(lambda: lab["h1"].dns_query("2001:db8:20::80", "www.lab.example").answered, 10,
               what="dnsmasq")
    for n in lab:
        n.wait_addresses_ready()
    return lab


def twenty_checks() -> Grader:
    """A typical converged-lab grade: state readers and active probes, as a
    curriculum lab mixes them (no RA probe: see ra_probe_cost)."""
    state = [
        c.sysctl_equals("r1", "net.ipv6.conf.all.forwarding", 1),
        c.daemon_running("r1", "radvd"),
        c.has_address("h1", "2001:db8:10::/64", iface="eth0", flags=("dynamic",)),
        c.has_address("h2", "2001:db8:10::/64", iface="eth0", flags=("dynamic",)),
        c.no_bad_addresses("h1"),
        c.no_bad_addresses("h2"),
        c.link_local("h1", "eth0"),
        c.default_route("h1", via="r1:eth0", protocol="ra"),
        c.default_route("h2", via="r1:eth0", protocol="ra"),
        c.route_present("srv", "::/0", via="2001:db8:20::1"),
        c.link_up("r1", "eth1"),
        c.has_address("srv", "2001:db8:20::80/128", prefix_len=64),
    ]
    probes = [
        c.reachable("h1", "srv"),
        c.reachable("h2", "srv"),
        c.reachable("srv", "h1"),
        c.reachable("h1", "r1:eth1"),
        c.tcp_service("h1", "srv", 8080),
        c.tcp_service("h2", "srv", 8080),
        c.dns_answers("h1", "srv", "www.lab.example", expect="2001:db8:20::80"),
        c.neighbour_present("h1", "r1:eth0"),
    ]
    return Grader([Step("state", "state", state), Step("probes", "probes", probes)])


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    lab = converged_lab()
    try:
        grader = twenty_checks()
        report = grader.grade(lab)
        assert sum(len(s.checks) for s in report.steps) == 20
        if not report.passed:
            raise SystemExit("the lab did not converge:\n" + report.to_json())
        grade = timed(lambda: grader.grade(lab), args.runs)
        h1 = lab["h1"]
        srv_addr = "2001:db8:20::80"
        kinds = {
            "addresses (netlink dump)": lambda: h1.addresses(),
            "routes (netlink dump)": lambda: h1.routes(),
            "sysctl read": lambda: h1.sysctl("net.ipv6.conf.all.forwarding"),
            "ping, 1 echo through r1": lambda: h1.ping(srv_addr),
            "tcp connect": lambda: h1.tcp_connect(srv_addr, 8080),
            "dns query (AAAA)": lambda: h1.dns_query(srv_addr, "www.lab.example"),
            "traceroute (2 hops)": lambda: h1.traceroute(srv_addr),
            "daemon running (/proc scan)": lambda: c.daemon_running("r1", "radvd").run(lab),
            "RA solicit -> first RA": lambda: h1.router_adverts("eth0", duration=3),
        }
        per_kind = {k: statistics.median(timed(f, 5 if k.startswith("RA") else args.runs))
                    for k, f in kinds.items()}
        result = {"checks": 20, "runs": args.runs,
                  "grade_median_ms": round(statistics.median(grade) * 1000, 1),
                  "grade_min_ms": round(min(grade) * 1000, 1),
                  "grade_max_ms": round(max(grade) * 1000, 1),
                  "per_probe_ms": {k: round(v * 1000, 2) for k, v in per_kind.items()}}
    finally:
        lab.stop()
    if args.json:
        print(json.dumps(result))
        return
    print(f"grade a converged lab, 20 checks: median {result['grade_median_ms']} ms "
          f"(min {result['grade_min_ms']}, max {result['grade_max_ms']}, {args.runs} runs)")
    for k, v in result["per_probe_ms"].items():
        print(f"  {k:32s} {v:8.2f} ms")


if __name__ == "__main__":
    main()
