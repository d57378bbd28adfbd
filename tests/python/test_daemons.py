"""Real daemons in nodes: radvd advertises a prefix and hosts form SLAAC
addresses and a default route from it. Each node's /etc/radvd.conf and pid
file are its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from v6lab import Topo, wait_until

pytestmark = pytest.mark.skipif(shutil.which("radvd") is None and not Path("/usr/sbin/radvd").exists(),
                                reason="radvd is not installed (Debian package radvd)")

RADVD_CONF = """interface eth0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    prefix 2001:db8:5::/64 { AdvOnLink on; AdvAutonomous %s; };
};
"""


def slaac_topo() -> Topo:
    t = Topo("slaac")
    t.add_lan("lan")
    t.add_router("r1", image="ra-router")
    t.add_host("h1")
    t.add_host("h2")
    for n in ("r1", "h1", "h2"):
        t.add_link(n, "lan")
    t.set_interface("r1", "eth0", addresses=["2001:db8:5::1/64"])
    return t


def start_radvd(node, autonomous: str = "on"):
    node.cmd(f"cat > /etc/radvd.conf <<'EOF'\n{RADVD_CONF % autonomous}EOF", check=True)
    return node.popen(["radvd", "-n", "-m", "stderr", "-C", "/etc/radvd.conf",
                       "-p", "/run/radvd.pid"], name="radvd")


def global_slaac(node):
    return [a for a in node.addresses("eth0", 6)
            if a.address.startswith("2001:db8:5:") and not a.tentative]


def test_radvd_gives_hosts_addresses_and_a_default_route(lab_factory):
    lab = lab_factory(slaac_topo())
    r1, h1 = lab["r1"], lab["h1"]
    r1.wait_addresses_ready()
    radvd = start_radvd(r1)
    addrs = wait_until(lambda: global_slaac(h1), timeout=15, what="a SLAAC address on h1")
    a = addrs[0]
    assert a.prefix_len == 64 and a.scope == "global"
    assert not a.permanent, "a SLAAC address is dynamic"
    assert a.valid_lft is not None and 0 < a.valid_lft <= 86400
    # The default route is learned from the RA, via r1's link-local address,
    # and expires.
    r1_ll = [x.address for x in r1.addresses("eth0", 6) if x.scope == "link"][0]
    default = wait_until(lambda: [r for r in h1.routes(6) if r.dst == "::/0"], 10,
                         what="a default route on h1")[0]
    assert default.protocol == "ra"
    assert default.nexthops[0].gateway == r1_ll
    assert default.expires is not None and 0 < default.expires <= 1800
    # The router itself (forwarding on, accept_ra 0) learns nothing.
    assert not [r for r in r1.routes(6) if r.protocol == "ra"]
    # radvd's files are r1's own.
    assert r1.cmd("cat /run/radvd.pid").stdout.strip()
    assert not h1.cmd("test -e /run/radvd.pid").ok
    assert "2001:db8:5::/64" in r1.cmd("cat /etc/radvd.conf").stdout
    assert "2001:db8:5::/64" not in h1.cmd("cat /etc/radvd.conf 2>/dev/null").stdout
    assert "2001:db8:5::/64" not in Path("/etc/radvd.conf").read_text() \
        if Path("/etc/radvd.conf").exists() else True
    assert radvd.poll() is None, radvd.log_path.read_text()
    # Real packets: h2 reaches h1's SLAAC address.
    wait_until(lambda: global_slaac(lab["h2"]), timeout=15, what="a SLAAC address on h2")
    assert lab["h2"].cmd(["ping", "-6", "-c1", "-W2", a.address]).ok


def test_autonomous_off_gives_no_address(lab_factory):
    """The negative: with AdvAutonomous off hosts learn the route but form no
    address, so an address check cannot pass by accident."""
    lab = lab_factory(slaac_topo())
    r1, h1 = lab["r1"], lab["h1"]
    r1.wait_addresses_ready()
    start_radvd(r1, autonomous="off")
    wait_until(lambda: [r for r in h1.routes(6) if r.dst == "::/0" and r.protocol == "ra"],
               timeout=15, what="a default route on h1")
    assert global_slaac(h1) == []
