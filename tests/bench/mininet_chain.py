#!/usr/bin/python3
"""Benchmark baseline "mininet": the chain of N nodes built with Mininet 2.3
(Debian 12 package `mininet`, installed with --no-install-recommends: no Open
vSwitch is needed for hosts and direct links).

    tests/bench/mininet_chain.py N

prints one JSON line:
    {"variant": "mininet", "n": N, "build_s": .., "teardown_s": .., "settle_s": ..}

What is built, the way Mininet users do it: Mininet(topo=None,
controller=None, switch=None), N hosts (addHost, ip=None so that Mininet does
not put its default 10.0.0.0/8 addresses on them), N-1 direct links
(addLink: a veth pair created inside the first host's namespace with the peer
placed in the second host's by pid), then one host.cmd() per host setting
net.ipv6.conf.all.forwarding=1 and the link addresses (link k: node k-1
2001:db8:<k hex>::1/64, node k ::2/64, without nodad), then net.start().
Mininet itself brings lo and every link up. build_s covers all of that;
teardown_s is net.stop() (which deletes each link, SIGHUPs each host's shell
and waits for it to exit); settle_s: see nsid_settle.py (the hosts'
namespaces get root nsids by pid after the build, outside the timed part).

Safety on a shared host:
* never `mn -c` or mininet.clean: they delete every *-ethN link of the host.
  Only this net's own hosts and links are stopped, by net.stop().
* Mininet.init() is skipped: it raises host-wide sysctls (fs.file-max,
  net.core.*mem_max, neighbour table sizes, kernel.pty.max ...). Only this
  process's own rlimits are raised.
* host names are "v6m" + a per-run id + the node index in hex: Mininet names
  interfaces <host>-ethN, so names that cannot collide with anything else
  keep every interface unambiguous (they only ever exist inside the hosts'
  namespaces; Mininet 2.3 creates links from inside the first host).
* SIGINT/SIGTERM/SIGHUP and errors run net.stop(); host shells that Mininet
  had started but not yet registered are killed by PID (our own children).
"""

import json
import os
import random
import resource
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsid_settle  # noqa: E402  (same directory)


def base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        n, r = divmod(n, 36)
        s = digits[r] + s
        if n == 0:
            return s


class Stop(Exception):
    pass


def _raise_stop(signum, _frame):
    raise Stop("signal %d" % signum)


def own_children():
    """PIDs whose parent is this process (Mininet's host shells)."""
    me = str(os.getpid())
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rfind(")") + 2:].split()
        if len(fields) > 1 and fields[1] == me:
            kids.append(int(d))
    return kids


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 2:
        print("usage: %s N   (N >= 2)" % sys.argv[0], file=sys.stderr)
        return 2
    n = int(sys.argv[1])
    if os.geteuid() != 0:
        print("mininet_chain.py: needs root", file=sys.stderr)
        return 1
    try:
        from mininet.net import Mininet
        from mininet.log import setLogLevel
    except ImportError:
        print("mininet_chain.py: Mininet is not installed: "
              "apt-get install --no-install-recommends mininet", file=sys.stderr)
        return 1

    # Interface names are <host>-ethK and must fit in 15 bytes: the host
    # name may have 10. "v6m" + 4 run-id chars + up to 3 hex digits.
    run = base36((os.getpid() * 65536 + random.getrandbits(16)) % 36 ** 4).rjust(4, "0")
    names = ["v6m%s%x" % (run, i) for i in range(n)]
    if len(names[-1]) > 10:
        print("mininet_chain.py: N too large for 15-byte interface names", file=sys.stderr)
        return 2

    setLogLevel("warning")
    # Instead of Mininet.init()'s host-wide sysctls: this process's limits.
    for lim, want in ((resource.RLIMIT_NOFILE, 16384), (resource.RLIMIT_NPROC, 8192)):
        soft, hard = resource.getrlimit(lim)
        if soft != resource.RLIM_INFINITY and soft < want:
            new = want if hard == resource.RLIM_INFINITY else min(want, hard)
            resource.setrlimit(lim, (new, hard))
    Mininet.inited = True

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _raise_stop)

    watch = nsid_settle.NsidWatch()  # root namespace, main thread
    net = None
    stopped = False
    try:
        # -------------------------------------------------------- build
        t0 = time.monotonic()
        net = Mininet(topo=None, controller=None, switch=None, build=False)
        hosts = [net.addHost(name, ip=None) for name in names]
        links = [net.addLink(hosts[k - 1], hosts[k]) for k in range(1, n)]
        cmds = [["sysctl -qw net.ipv6.conf.all.forwarding=1"] for _ in range(n)]
        for k, link in enumerate(links, start=1):
            cmds[k - 1].append("ip -6 addr add 2001:db8:%x::1/64 dev %s" % (k, link.intf1.name))
            cmds[k].append("ip -6 addr add 2001:db8:%x::2/64 dev %s" % (k, link.intf2.name))
        for h, c in zip(hosts, cmds):
            out = h.cmd("; ".join(c))
            if out.strip():
                raise RuntimeError("%s: %s" % (h.name, out.strip()))
        net.start()
        t1 = time.monotonic()

        # ---------------------------- settle bookkeeping (not timed)
        ids = {watch.assign(pid=h.pid) for h in hosts}

        # ----------------------------------------------------- teardown
        t2 = time.monotonic()
        stopped = True
        net.stop()
        t3 = time.monotonic()

        # ------------------------------------------------------- settle
        watch.wait_deleted(ids, t3 + nsid_settle.DEFAULT_DEADLINE_S)
        watch.sentinel(t3 + nsid_settle.DEFAULT_DEADLINE_S)
        t4 = time.monotonic()
    except (Stop, KeyboardInterrupt, Exception) as e:  # noqa: B902
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        print("mininet_chain.py: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        if net is not None and not stopped:
            try:
                net.stop()
            except Exception as e2:  # noqa: B902
                print("mininet_chain.py: net.stop(): %s" % e2, file=sys.stderr)
        return 1
    finally:
        watch.close()
        # A host whose shell was started but that never reached net.hosts
        # (interrupted constructor): kill our own children by PID.
        for pid in own_children():
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass

    print(json.dumps({"variant": "mininet", "n": n,
                      "build_s": round(t1 - t0, 6),
                      "teardown_s": round(t3 - t2, 6),
                      "settle_s": round(t4 - t3, 6)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
