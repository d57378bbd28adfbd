"""The Python API on real namespaces: the runtime issue's example and what a
node must feel like (its own hostname, /etc, /run, processes)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import Small, host_links
from v6lab import Error, Lab, Topo


def test_issue_example_pings_over_lan_and_through_router(lab_factory, small):
    before = host_links()
    lab = lab_factory(small)
    assert host_links() == before, "a lab interface appeared in the host namespace"
    lab["h1"].cmd("ip -6 addr add 2001:db8:1::10/64 dev eth0", check=True)
    lab["h2"].cmd("ip -6 addr add 2001:db8:1::20/64 dev eth0", check=True)
    for n in lab:
        n.wait_addresses_ready()
    r = lab["h1"].cmd("ping -6 -c1 -W2 2001:db8:1::20")
    assert r.returncode == 0, r.stderr
    assert "1 received" in r.stdout
    addrs = lab["h1"].addresses("eth0")
    assert {a.cidr for a in addrs if a.scope == "global"} == {"2001:db8:1::10/64"}
    ll = [a for a in addrs if a.scope == "link"]
    assert len(ll) == 1 and ll[0].address.startswith("fe80::") and not ll[0].tentative
    # h3 is reached through r1 with static routes.
    lab["h1"].cmd("ip -6 route add 2001:db8:2::/64 via 2001:db8:1::1", check=True)
    r = lab["h1"].cmd(["ping", "-6", "-c1", "-W2", "2001:db8:2::30"])
    assert r.ok, r.stdout + r.stderr
    # And the negative: without a route back nothing comes through.
    lab["h3"].cmd("ip -6 route del default", check=True)
    assert not lab["h1"].cmd("ping -6 -c1 -W1 2001:db8:2::30").ok


def test_nothing_remains_after_with_block(small, v6lab_available, snapshot):
    from conftest import v6lab_processes
    before = v6lab_processes()
    with Lab(small) as lab:
        pids = [n.pid for n in lab]
        assert all(Path(f"/proc/{p}").exists() for p in pids)
        record = lab.log_dir.parent
        assert (record / "lab.json").exists()
    assert not any(Path(f"/proc/{p}").exists() for p in pids)
    assert v6lab_processes() <= before  # nothing new left; others may have ended
    assert not record.exists()


def test_command_results_and_errors(lab_factory, small):
    lab = lab_factory(small)
    h1 = lab["h1"]
    r = h1.cmd("echo out; echo err >&2; exit 3")
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n")
    with pytest.raises(Error, match="h1: .* exited with 3: err"):
        r.check()
    assert h1.cmd(["cat"], input="typed").stdout == "typed"
    assert h1.cmd("no-such-command-v6lab").returncode == 127
    t0 = time.monotonic()
    with pytest.raises(Error, match="did not finish within 0.5 s"):
        h1.cmd("sleep 30", timeout=0.5)
    assert time.monotonic() - t0 < 5
    with pytest.raises(Error, match="no node 'nope'"):
        lab["nope"]


def test_node_is_its_own_machine(lab_factory, small):
    lab = lab_factory(small)
    h1, h2 = lab["h1"], lab["h2"]
    assert h1.cmd("hostname").stdout.strip() == "h1"
    assert h2.cmd("cat /etc/hostname").stdout.strip() == "h2"
    # Private writable /etc: a file written in h1 is seen neither in h2 nor
    # on the host, while the host's files are still readable.
    h1.cmd("echo interface eth0 {}; > /etc/radvd.conf.v6lab-test", check=True)
    assert h1.cmd("test -f /etc/radvd.conf.v6lab-test").ok
    assert not h2.cmd("test -f /etc/radvd.conf.v6lab-test").ok
    assert not Path("/etc/radvd.conf.v6lab-test").exists()
    assert h1.cmd("test -s /etc/passwd").ok
    # Private /run, /tmp, /var/run, /var/lib.
    for d in ("/run", "/tmp", "/var/run", "/var/lib/misc"):
        h1.cmd(f"mkdir -p {d} && echo h1 > {d}/v6lab-probe", check=True)
        assert not h2.cmd(f"test -e {d}/v6lab-probe").ok, d
        assert not Path(f"{d}/v6lab-probe").exists(), d
    # Own PID namespace: PID 1 is the node's init; the host's processes are
    # invisible.
    ps = h1.cmd("cat /proc/1/comm; ls /proc | grep -c '^[0-9]'").stdout.split()
    assert ps[0] == "v6lab-init" and int(ps[1]) < 10
    # Own network namespace: only lo and eth0.
    assert sorted(os.listdir("/sys/class/net")) != ["eth0", "lo"]
    assert h1.cmd("ls /sys/class/net").stdout.split() == ["eth0", "lo"]


def test_daemons_die_with_the_node(lab_factory, small):
    lab = lab_factory(small)
    r1 = lab["r1"]
    p = r1.popen(["sleep", "300"], name="sleeper")
    # A daemon that forks into the background is adopted by the node's init.
    r1.cmd("sh -c 'sleep 301 & echo $! > /run/bg.pid'", check=True)
    bg_in_node = int(r1.cmd("cat /run/bg.pid").stdout)
    assert bg_in_node > 1
    host_pids = [int(d) for d in os.listdir("/proc") if d.isdigit()]
    sleepers = [pid for pid in host_pids
                if _cmdline(pid) in ("sleep 300", "sleep 301")]
    assert len(sleepers) == 2
    lab.stop()
    assert p.poll() is not None
    time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() and _cmdline(pid) for pid in sleepers)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def test_popen_logs_per_node(lab_factory, small):
    lab = lab_factory(small)
    p = lab["h2"].popen("echo started; echo on-stderr >&2", name="hello")
    assert p.wait(timeout=10) == 0
    assert p.log_path == lab.log_dir / "h2" / "hello.log"
    assert p.log_path.read_text().split() == ["started", "on-stderr"]


def test_state_readers(lab_factory, small):
    lab = lab_factory(small)
    r1, h1, h3 = lab["r1"], lab["h1"], lab["h3"]
    assert r1.sysctl("net.ipv6.conf.all.forwarding") == "1"
    assert h1.sysctl("net.ipv6.conf.all.forwarding") == "0"
    link = r1.link("eth1")
    assert (link.kind, link.up, link.mtu) == ("veth", True, 1500)
    routes = {r.dst: r for r in h3.routes(6)}
    assert routes["::/0"].protocol == "static"
    assert routes["::/0"].nexthops[0].gateway == "2001:db8:2::1"
    assert routes["2001:db8:2::/64"].protocol == "kernel"
    assert routes["2001:db8:2::/64"].nexthops[0].ifname == "eth0"
    addrs = h3.wait_addresses_ready("eth0")
    g = [a for a in addrs if a.scope == "global"][0]
    assert g.permanent and g.valid_lft is None and "permanent" in g.flag_names
    r1.wait_addresses_ready()
    assert r1.cmd("ping -6 -c1 -W2 2001:db8:2::30").ok
    n = [x for x in r1.neighbours("eth1", 6) if x.address == "2001:db8:2::30"]
    assert n and n[0].lladdr == h3.link("eth0").mac
    h1.set_sysctl("net.ipv6.conf.eth0.accept_ra", 0)
    assert h1.sysctl("net.ipv6.conf.eth0.accept_ra") == "0"
    with pytest.raises(Error, match="not a per-namespace"):
        h1.set_sysctl("kernel.hostname", "x")
    with pytest.raises(Error, match="no-such-key.*h1"):
        h1.sysctl("net.ipv6.conf.all.no-such-key")


def test_dad_failure_is_reported(lab_factory):
    t = Topo("dup")
    t.add_host("a")
    t.add_host("b")
    t.add_lan("lan")
    t.add_link("a", "lan", addrs_a=["2001:db8:9::1/64"])
    t.add_link("b", "lan")
    lab = lab_factory(t)
    lab["a"].wait_addresses_ready()
    lab["b"].cmd("ip -6 addr add 2001:db8:9::1/64 dev eth0", check=True)
    with pytest.raises(Error, match="duplicate address detection failed for 2001:db8:9::1/64 on eth0"):
        lab["b"].wait_addresses_ready(timeout=5)
    dup = [a for a in lab["b"].addresses("eth0", 6) if a.address == "2001:db8:9::1"]
    assert dup[0].dadfailed and dup[0].tentative


def test_topology_file_and_topo_resolve_alike(tmp_path):
    yaml_file = tmp_path / "small.yaml"
    yaml_file.write_text("""
name: small
nodes:
  r1: {image: router, interfaces: {eth0: {addresses: ["2001:db8:1::1/64"]}, eth1: {addresses: ["2001:db8:2::1/64"]}}}
  h1: {}
  h2: {}
  h3: {interfaces: {eth0: {addresses: ["2001:db8:2::30/64"]}}, routes: [{dst: default, via: "2001:db8:2::1"}]}
lans: {lan1: {}}
links:
  - endpoints: [r1, lan1]
  - endpoints: [h1, lan1]
  - endpoints: [h2, lan1]
  - endpoints: [r1, h3]
""")
    from_file = Lab(yaml_file).spec.to_dict()
    from_topo = Lab(Small()).spec.to_dict()
    for s in (from_file, from_topo):
        s.pop("source")
    assert from_file == from_topo


def test_trainee_cannot_kill_the_node_init(lab_factory, small):
    """PID 1 of a node ignores termination signals sent from inside the
    node; only the owner (from outside) ends it."""
    lab = lab_factory(small)
    h1 = lab["h1"]
    for sig in ("TERM", "HUP", "INT"):
        h1.cmd(f"kill -{sig} 1")
    time.sleep(0.2)
    assert Path(f"/proc/{h1.pid}").exists()
    assert h1.cmd("hostname").stdout.strip() == "h1"


def test_a_stopped_labs_nodes_say_so(lab_factory, small, v6lab_available):
    lab = Lab(small).start()
    h1 = lab["h1"]
    assert h1.links()  # the handle is created and cached
    lab.stop()
    with pytest.raises(Error, match="the lab has stopped"):
        h1.links()
    with pytest.raises(Error, match="the lab has stopped"):
        h1.ping("2001:db8:2::30")
    with pytest.raises(Error, match="the lab has stopped"):
        h1.sysctl("net.ipv6.conf.all.forwarding")
