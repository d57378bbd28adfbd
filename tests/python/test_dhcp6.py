"""The DHCPv6 checks and Node.socket against a real dnsmasq (and a real
dhclient) in nodes. Each check has a passing and a failing case; a fake
DHCPv6 server on another node (a second dnsmasq giving the same answers)
must fail a check that names the server, because the Reply comes in on the
wrong switch port. Every daemon a test starts is stopped when it ends."""

from __future__ import annotations

import contextlib
import errno
import select
import shutil
import socket
import threading
import time

import pytest

from v6lab import Topo, nodesock
from v6lab.grading import checks as c
from v6lab.proto import dhcp6

pytestmark = pytest.mark.skipif(shutil.which("dnsmasq") is None and shutil.which("/usr/sbin/dnsmasq") is None,
                                reason="dnsmasq is not installed (Debian package dnsmasq)")

DNS = "2001:db8:1::53"


def dnsmasq(dns: str = DNS, ra: bool = False) -> list[str]:
    """Stateless DHCPv6 (and with ra, RAs with O=1) on eth0, no DNS."""
    return (["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
             "--port=0", "--interface=eth0", "--bind-interfaces",
             "--dhcp-range=::,constructor:eth0,ra-stateless",
             f"--dhcp-option=option6:dns-server,[{dns}]",
             "--dhcp-option=option6:domain-search,lab.example",
             "--dhcp-leasefile=/run/dnsmasq6.leases", "--pid-file=/run/dnsmasq6.pid"]
            + (["--enable-ra"] if ra else []))


@contextlib.contextmanager
def running(node, argv: list[str], name: str):
    """A daemon in node for the length of a with block, stopped even when
    the block fails."""
    p = node.popen(argv, name=name)
    try:
        yield p
    finally:
        p.terminate()
        try:
            p.wait(5)
        except Exception:  # noqa: BLE001 - then kill it; the lab stop reaps the rest
            p.kill()
            p.wait(5)


@pytest.fixture(scope="module")
def lab(v6lab_available):
    from v6lab import Lab
    t = Topo("dhcp6")
    t.add_lan("lan1")
    t.add_router("r1", image="router")       # forwarding on: RS are answered (Linux)
    t.add_host("h1")
    t.add_host("h2")
    for n in ("r1", "h1", "h2"):
        t.add_link(n, "lan1")
    t.set_interface("r1", "eth0", addresses=["2001:db8:1::1/64"])
    t.set_interface("h2", "eth0", addresses=["2001:db8:1::2/64"])
    lab = Lab(t, name="dhcp6")
    lab.start()
    try:
        for n in lab:
            n.wait_addresses_ready()
        yield lab
    finally:
        lab.stop()


def run(check, lab) -> tuple[str, str]:
    status, msg, _ = check.run(lab)
    return status, msg


# ------------------------------------------------------ information reply

def test_information_reply_passes_and_fails_on_content(lab):
    with running(lab["r1"], dnsmasq(), "dnsmasq-r1"):
        ok = c.dhcp6_information_reply("h1", server="r1", dns_servers=[DNS],
                                       domains=["lab.example"], within=5)
        status, msg = run(ok, lab)
        assert status == "pass", msg
        assert msg.startswith("Reply from r1 to h1:eth0: DNS 2001:db8:1::53")
        status, msg = run(c.dhcp6_information_reply("h1", server="r1",
                                                    dns_servers=["2001:db8:1::99"]), lab)
        assert status == "fail" and "no DNS server 2001:db8:1::99 (it gave: 2001:db8:1::53)" in msg


def test_information_reply_without_a_server_fails(lab):
    status, msg = run(c.dhcp6_information_reply("h1", timeout=1.0), lab)
    assert status == "fail" and "no DHCPv6 Reply to an Information-Request from h1:eth0" in msg


def test_a_fake_server_on_another_node_fails_by_switch_port(lab):
    """h2 runs a server that gives exactly the right answers: it is a Reply,
    but it came in on h2's cable, so a check that names r1 fails."""
    with running(lab["h2"], dnsmasq(), "dnsmasq-rogue"):
        status, msg = run(c.dhcp6_information_reply("h1", dns_servers=[DNS], within=5), lab)
        assert status == "pass" and "from h2" in msg, msg
        status, msg = run(c.dhcp6_information_reply("h1", server="r1", dns_servers=[DNS]), lab)
        assert status == "fail"
        assert "came in on h2's cable, not from r1" in msg


def test_information_reply_works_while_the_node_has_its_own_client(lab):
    """dhclient on h1 holds port 546: the grader falls back to another
    port, and the server answers there (RFC 8415: to the source port)."""
    with running(lab["r1"], dnsmasq(), "dnsmasq-r1"), \
            running(lab["h1"], ["dhclient", "-6", "-S", "-d", "-lf", "/run/dhclient6.leases",
                                "-pf", "/run/dhclient6.pid", "eth0"], "dhclient"):
        time.sleep(0.5)
        status, msg = run(c.dhcp6_information_reply("h1", server="r1", dns_servers=[DNS],
                                                    within=5), lab)
        assert status == "pass", msg


# ------------------------------------------------------------ on the wire

def _client_later(lab, delay: float = 0.5) -> threading.Thread:
    """dhclient -6 -S on h1, started after the check began listening (it
    asks once, then not for a day), stopped by the test."""
    def go() -> None:
        time.sleep(delay)
        lab["h1"].cmd(["timeout", "3", "dhclient", "-6", "-S", "-d", "-lf", "/run/dhclient6.leases",
                       "-pf", "/run/dhclient6.pid", "eth0"], timeout=10)
    t = threading.Thread(target=go)
    t.start()
    return t


@pytest.mark.parametrize("from_node, want", [("r1", "pass"), ("h2", "fail")])
def test_seen_on_wire(lab, from_node, want):
    with running(lab["r1"], dnsmasq(), "dnsmasq-r1"):
        time.sleep(0.5)
        t = _client_later(lab)
        try:
            status, msg = run(c.dhcp6_seen_on_wire("lan1", "Reply", from_node=from_node,
                                                   within=4), lab)
        finally:
            t.join()
    assert status == want, msg
    if want == "fail":
        assert "no DHCPv6 Reply from h2 on lan1" in msg
        assert "Information-Request from h1" in msg and "Reply from r1" in msg


def test_ra_flags_on_wire(lab):
    with running(lab["r1"], dnsmasq(ra=True), "dnsmasq-ra"):
        status, msg = run(c.ra_flags_on_wire("lan1", managed=False, other=True, from_node="r1")
                          .with_options(within=5), lab)
        assert status == "pass", msg
        status, msg = run(c.ra_flags_on_wire("lan1", managed=True, from_node="r1"), lab)
        assert status == "fail" and "M flag is 0" in msg


# ------------------------------------------------------------ Node.socket

def test_node_socket_errors_keep_errno_and_say_what(lab):
    with pytest.raises(nodesock.SocketError) as e:
        lab["h1"].socket(socket.AF_INET6, socket.SOCK_DGRAM, bind_iface="eth0",
                         bind_addr="fe80::1", port=546)
    assert e.value.errno == errno.EADDRNOTAVAIL
    assert "bind [fe80::1]:546 on h1: Cannot assign requested address" in str(e.value)
    with pytest.raises(OSError, match="bind to device eth9 on h1: No such device") as e:
        lab["h1"].socket(bind_iface="eth9")
    assert e.value.errno == errno.ENODEV
    with pytest.raises(ValueError, match="unknown socket option"):
        lab["h1"].socket(reuse_adr=True)


def test_node_socket_multicast_pktinfo_hoplimit_privileged_port(lab):
    """h1 listens as a DHCPv6 server would ([::]:547, joined ff02::1:2 on
    eth0); h2 sends to the group. Both sockets live in their nodes'
    namespaces; the grader's thread never entered either."""
    ll2 = [a.address for a in lab["h2"].addresses("eth0", 6) if a.scope == "link"][0]
    with lab["h1"].socket(socket.AF_INET6, socket.SOCK_DGRAM, bind_iface="eth0", port=547,
                          join_groups=[dhcp6.ALL_DHCP_RELAY_AGENTS_AND_SERVERS],
                          recv_pktinfo=True, recv_hoplimit=True, reuse_addr=True) as srv, \
            lab["h2"].socket(socket.AF_INET6, socket.SOCK_DGRAM, bind_iface="eth0",
                             bind_addr=ll2, port=546, multicast_hops=1) as cli:
        cli.sendto(b"hello", (dhcp6.ALL_DHCP_RELAY_AGENTS_AND_SERVERS, 547))
        assert select.select([srv], [], [], 2)[0], "no datagram on h1"
        data, anc, _, src = srv.recvmsg(100, 256)
        assert data == b"hello" and src[0].split("%")[0] == ll2 and src[1] == 546
        kinds = {t for _, t, _ in anc}
        assert socket.IPV6_PKTINFO in kinds and socket.IPV6_HOPLIMIT in kinds
        hops = [int.from_bytes(d, "little") for _, t, d in anc if t == socket.IPV6_HOPLIMIT]
        assert hops == [1]


def test_switch_socket(lab):
    with nodesock.switch_socket(lab, socket.AF_INET6, socket.SOCK_DGRAM, bind_iface="br0") as s:
        assert s.family == socket.AF_INET6
    with pytest.raises(nodesock.SocketError, match="bind to device eth0 on .switch: No such device"):
        nodesock.switch_socket(lab, bind_iface="eth0")


def test_node_socket_raw_icmp6_with_a_type_filter(lab):
    """A raw ICMPv6 socket in h1 that passes only Echo Requests sees the
    core's ping from h2, and nothing else h2's probe provokes."""
    with lab["h1"].socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6,
                          icmp6_filter_type=128, timeout=2) as raw:
        ll1 = [a.address for a in lab["h1"].addresses("eth0", 6) if a.scope == "link"][0]
        r = lab["h2"].ping(f"{ll1}%eth0", timeout=1.0)
        assert r.received, r
        data, src = raw.recvfrom(2048)
        assert data[0] == 128
