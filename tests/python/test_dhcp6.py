"""The DHCPv6 checks and Node.socket against real daemons in nodes:
dnsmasq (stateless and stateful), Kea (kea-dhcp6) behind isc-dhcp-relay's
dhcrelay -6, and dhclient -6. Each check has a passing and a failing case,
and each has the forgery a trainee who is root in a node would try: a fake
server on another node (a second dnsmasq giving the same answers), a
server inside the client node itself, a scripted responder (canned, or
echoing the transaction), a forged source address, hand-written leases, a
"relay" that is a server answering itself, a host impersonating the
server's address. The lab is client LAN (lan1: r1, h1, h2) - r1 - server
LAN (lan2: srv, h3). Every daemon a test starts is stopped when it ends."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

import pytest

from v6lab import Topo, nodesock
from v6lab.grading import checks as c
from v6lab.proto import ProtoError, dhcp6

pytestmark = pytest.mark.skipif(shutil.which("dnsmasq") is None and shutil.which("/usr/sbin/dnsmasq") is None,
                                reason="dnsmasq is not installed (Debian package dnsmasq)")

DNS = "2001:db8:1::53"
SRV = "2001:db8:2::53"
POOL = "2001:db8:1::100-2001:db8:1::1ff"


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
    # The server LAN, behind r1: srv runs Kea, h3 is a bystander (or a rogue).
    t.add_lan("lan2")
    t.add_host("srv")
    t.add_host("h3")
    t.add_link("r1", "lan2", addrs_a=["2001:db8:2::1/64"])                # r1:eth1
    t.add_link("srv", "lan2", addrs_a=[SRV + "/64"])
    t.add_link("h3", "lan2", addrs_a=["2001:db8:2::3/64"])
    for n in ("srv", "h3"):
        t.add_route(n, "2001:db8:1::/64", via="2001:db8:2::1")
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


def test_a_server_inside_the_client_node_is_not_a_server(lab):
    """Attack: dnsmasq on h1 itself, answering the grader's question inside
    the node. The grader's socket does not loop its multicast back, and a
    Reply that never crossed the LAN does not count."""
    with running(lab["h1"], dnsmasq(), "dnsmasq-self"):
        time.sleep(0.5)
        status, msg = run(c.dhcp6_information_reply("h1", dns_servers=[DNS], timeout=1.0), lab)
    assert status == "fail", msg
    assert "no DHCPv6 Reply" in msg or "did not come in on any other port" in msg


# ---------------------------------------------- codecs: relays, builders

# Captured on this lab's wire: dhcrelay -6 (isc-dhcp-relay 4.4.3) on r1
# relaying h1's Solicit to Kea 2.2 on srv, and Kea's answer.
SOLICIT_HEX = ("01e2c1640001000a00030001bead75274a2500080002000000060004001700180003000c8373"
               "c1dc0000000000000000")
RELAY_FORW_HEX = ("0c0020010db8000100000000000000000001fe80000000000000e4b6defffe28d304000900"
                  "30" + SOLICIT_HEX)
ADVERTISE_HEX = ("02e2c1640001000a00030001bead75274a250002000e0001000132a21864fade08a3ebd60003"
                 "00288373c1dc0000070800000b400005001820010db80001000000000000000001000000"
                 "0e1000001c200017001020010db80002000000000000000000530018000d036c6162076578"
                 "616d706c6500")
RELAY_REPL_HEX = ("0d0020010db8000100000000000000000001fe80000000000000e4b6defffe28d304000900"
                  "75" + ADVERTISE_HEX)


def test_real_relay_forw_and_relay_repl_decode():
    fw = dhcp6.decode(bytes.fromhex(RELAY_FORW_HEX))
    assert isinstance(fw, dhcp6.RelayMessage) and fw.name == "Relay-Forw" and fw.hop_count == 0
    assert fw.link_address == "2001:db8:1::1" and fw.peer_address == "fe80::e4b6:deff:fe28:d304"
    sol, chain = dhcp6.innermost(fw)
    assert chain == [fw] and sol == dhcp6.decode(bytes.fromhex(SOLICIT_HEX))
    assert sol.type == dhcp6.SOLICIT and sol.xid == 0xE2C164
    assert sol.option(dhcp6.ClientId).duid == dhcp6.DuidLl(1, "be:ad:75:27:4a:25")
    rp = dhcp6.decode(bytes.fromhex(RELAY_REPL_HEX))
    adv, _ = dhcp6.innermost(rp)
    assert rp.name == "Relay-Repl" and rp.peer_address == fw.peer_address
    assert adv.type == dhcp6.ADVERTISE and adv.xid == sol.xid
    ia = adv.option(dhcp6.IaNa)
    assert ia.iaid == 0x8373C1DC and ia.status() is None
    assert [x.address for x in ia.leases()] == ["2001:db8:1::100"]
    assert dhcp6.duid_text(adv.option(dhcp6.ServerId).duid) == \
        "00:01:00:01:32:a2:18:64:fa:de:08:a3:eb:d6"
    assert adv.option(dhcp6.DnsServers).addresses == (SRV,)
    assert adv.option(dhcp6.DomainList).domains == ("lab.example.",)
    # Byte for byte: what the relay passes down is the Relay-Repl's inside.
    assert dhcp6.encode(adv) == bytes.fromhex(ADVERTISE_HEX)
    assert dhcp6.encode(rp) == bytes.fromhex(RELAY_REPL_HEX)


def test_stateful_builders_round_trip():
    me, srv = dhcp6.random_duid(), dhcp6.DuidLlt(1, 7, "02:00:00:00:00:53")
    assert me != dhcp6.random_duid() and int(me.lladdr[:2], 16) & 3 == 2   # local, unicast
    ia = dhcp6.IaPd(9, 0, 0, (dhcp6.IaPrefix(0, 0, "2001:db8:100::/56"),))
    for m in (dhcp6.request(me, srv, [ia]), dhcp6.release(me, srv, [ia])):
        back = dhcp6.decode(dhcp6.encode(m))
        assert back == m and back.option(dhcp6.ServerId).duid == srv
        assert back.option(dhcp6.IaPd).leases()[0].prefix == "2001:db8:100::/56"
    sol = dhcp6.solicit(me, ia_na=False, ia_pd=True)
    fw = dhcp6.relay_forw(sol, "2001:db8:1::1", "fe80::1", interface_id=b"eth0")
    outer = dhcp6.relay_forw(fw, "::", "2001:db8:1::1", hop_count=1)
    rp = dhcp6.relay_repl(fw, dhcp6.Message(dhcp6.ADVERTISE, sol.xid))
    assert dhcp6.innermost(dhcp6.decode(dhcp6.encode(outer))) == (sol, [outer, fw])
    assert rp.option(dhcp6.InterfaceId).data == b"eth0" and rp.peer_address == "fe80::1"
    assert dhcp6.innermost(dhcp6.RelayMessage(dhcp6.RELAY_FORW, 0, "::", "::")) == (
        None, [dhcp6.RelayMessage(dhcp6.RELAY_FORW, 0, "::", "::")])


@pytest.mark.parametrize("depth", [60, 2000])
def test_nesting_too_deep_is_a_protoerror_not_a_recursionerror(depth):
    """A hostile server (or relay) nests IAADDR in IAADDR, or Relay-Forw in
    Relay-Forw, to make the grader's decoder overflow its stack."""
    body = b""
    for _ in range(depth):
        body = struct.pack("!HH", 5, 24 + len(body)) + bytes(24) + body
    with pytest.raises(ProtoError, match="nested more than 40 deep"):
        dhcp6.decode(bytes([dhcp6.REPLY, 0, 0, 1]) + body)
    chain: dhcp6.AnyMessage = dhcp6.Message(dhcp6.SOLICIT, 1)
    for _ in range(min(depth, 200)):     # (encode recurses too: the grader builds short ones)
        chain = dhcp6.relay_forw(chain, "::", "::")
    with pytest.raises(ProtoError, match="nested more than 40 deep"):
        dhcp6.decode(dhcp6.encode(chain))
    # Real chains (a few relays, RFC 8415 allows 32) decode.
    short: dhcp6.AnyMessage = dhcp6.Message(dhcp6.SOLICIT, 1)
    for _ in range(32):
        short = dhcp6.relay_forw(short, "::", "::")
    assert dhcp6.innermost(dhcp6.decode(dhcp6.encode(short)))[0] == dhcp6.Message(dhcp6.SOLICIT, 1)


# --------------------------------------------- stateful, Kea behind a relay

def kea_conf(subnet: str = "2001:db8:1::/64", pool: str = POOL, *, listen: str = SRV,
             pd: Optional[tuple[str, int, int]] = ("2001:db8:100::", 48, 56)) -> str:
    """Kea 2.2 on srv:eth0 for the relayed client LAN. Kea receives a
    relay's unicast only on an address named in interfaces (eth0/addr)."""
    sub = {"id": 1, "subnet": subnet, "pools": [{"pool": pool}]}
    if pd:
        sub["pd-pools"] = [{"prefix": pd[0], "prefix-len": pd[1], "delegated-len": pd[2]}]
    return json.dumps({"Dhcp6": {
        "interfaces-config": {"interfaces": [f"eth0/{listen}"]},
        "lease-database": {"type": "memfile", "persist": False},
        "option-data": [{"name": "dns-servers", "data": SRV},
                        {"name": "domain-search", "data": "lab.example"}],
        "subnet6": [sub],
        "loggers": [{"name": "kea-dhcp6", "output_options": [{"output": "stdout"}],
                     "severity": "INFO"}]}})


@contextlib.contextmanager
def kea(lab, conf: Optional[str] = None, node: str = "srv"):
    n = lab[node]
    n.cmd(["sh", "-c", "mkdir -p /run/kea /var/lib/kea && cat > /etc/kea/kea-dhcp6.conf"],
          input=conf or kea_conf(), check=True)
    with running(n, ["kea-dhcp6", "-c", "/etc/kea/kea-dhcp6.conf"], f"kea-{node}") as p:
        yield p


def dhcrelay(upstream: str = SRV) -> list[str]:
    return ["dhcrelay", "-6", "-d", "-pf", "/run/dhcrelay6.pid", "-l", "eth0",
            "-u", f"{upstream}%eth1"]


@contextlib.contextmanager
def relayed(lab, upstream: str = SRV, conf: Optional[str] = None):
    """Kea on srv and dhcrelay on r1, as the lab's reference solution has them."""
    with kea(lab, conf), running(lab["r1"], dhcrelay(upstream), "dhcrelay"):
        yield


needs_kea = pytest.mark.skipif(shutil.which("kea-dhcp6", path="/usr/sbin:/usr/bin") is None
                               or shutil.which("dhcrelay", path="/usr/sbin:/usr/bin") is None,
                               reason="needs kea-dhcp6-server and isc-dhcp-relay")


@needs_kea
def test_relay_kea_offers_delegates_and_releases(lab):
    """Through the relay: an address from the pool and a /56, with DNS and
    the search domain; a pool of two addresses survives three probes (each
    binds two clients) only because every probe releases what it got."""
    with relayed(lab, conf=kea_conf(pool="2001:db8:1::100-2001:db8:1::101")):
        relays = c.dhcp6_relays("h1", "r1", "srv", pool="2001:db8:1::/64", within=5)
        status, msg = run(relays, lab)
        assert status == "pass", msg
        assert "r1 relayed h1's Solicit to srv (Relay-Forw from r1's cable, link-address " \
            "2001:db8:1::1); srv answered with a Relay-Repl and h1 got its Advertise from " \
            "r1's cable, offering 2001:db8:1::10" in msg
        offers = c.dhcp6_offers_address("h1", "2001:db8:1::100-2001:db8:1::101", server="r1",
                                        dns_servers=[SRV], domains=["lab.example"])
        for _ in range(3):
            status, msg = run(offers, lab)
            assert status == "pass", msg
        assert msg.startswith("h1:eth0 was offered address 2001:db8:1::10")
        assert "and bound it (Request/Reply) on r1's cable; a second client got 2001:db8:1::10" \
            in msg and "server DUID 00:" in msg and msg.endswith(f"DNS {SRV}; released")
        status, msg = run(c.dhcp6_delegates_prefix("h1", "2001:db8:100::/48", 56,
                                                   server="r1"), lab)
        assert status == "pass" and "prefix 2001:db8:100:" in msg, msg
        # Failing on content: another pool, another length, a missing option.
        status, msg = run(c.dhcp6_offers_address("h1", "2001:db8:1::200-2001:db8:1::2ff"), lab)
        assert status == "fail" and "which is not in the pool 2001:db8:1::200-" in msg, msg
        status, msg = run(c.dhcp6_delegates_prefix("h1", "2001:db8:100::/48", 60), lab)
        assert status == "fail" and "/56, not a /60" in msg, msg
        status, msg = run(c.dhcp6_delegates_prefix("h1", "2001:db8:7::/48", 56), lab)
        assert status == "fail" and msg.startswith("the DHCPv6 Advertise from r1: it delegates "
                                                   "2001:db8:100:"), msg
        assert msg.endswith("/56, which is not inside 2001:db8:7::/48"), msg
        status, msg = run(c.dhcp6_relays("h1", "r1", "srv", link_prefix="2001:db8:9::/64"), lab)
        assert status == "fail" and msg == (
            "the Relay-Forw's link-address is 2001:db8:1::1, not in lan1's prefix "
            "(2001:db8:9::/64): the server chooses the client's subnet by it"), msg
        status, msg = run(c.dhcp6_offers_address("h1", "2001:db8:1::/64",
                                                 dns_servers=["2001:db8::99"]), lab)
        assert status == "fail" and f"no DNS server 2001:db8::99 (it gave: {SRV})" in msg, msg


@needs_kea
def test_attack_rogue_server_beside_the_relay_ends_no_wait_early(lab):
    """h2 runs a second server on h1's LAN, from another range: its
    Advertise (often the first) comes in on h2's cable. A probe's wait
    ends only at an answer that decides the check (docs/grading.md, "When
    a wait ends"): h2's answer never counts for r1 or for the relay, and it
    does not stop the grader before the relayed Advertise arrives."""
    rogue = "2001:db8:1::300-2001:db8:1::3ff"
    argv = dnsmasq() + ["--dhcp-range=2001:db8:1::300,2001:db8:1::3ff,64,1h"]
    argv.remove("--dhcp-range=::,constructor:eth0,ra-stateless")
    with relayed(lab), running(lab["h2"], argv, "dnsmasq-rogue"):
        # Both servers answer (the first run waits for both to start).
        status, msg = run(c.dhcp6_offers_address("h1", rogue, server="h2", request=False,
                                                 within=5), lab)
        assert status == "pass", msg
        status, msg = run(c.dhcp6_offers_address("h1", POOL, server="r1", request=False,
                                                 within=5), lab)
        assert status == "pass" and "on r1's cable" in msg, msg
        for _ in range(3):
            status, msg = run(c.dhcp6_relays("h1", "r1", "srv", pool=POOL), lab)
            assert status == "pass" and "h1 got its Advertise from r1's cable" in msg, msg
            status, msg = run(c.dhcp6_offers_address("h1", POOL, server="r1",
                                                     request=False), lab)
            assert status == "pass", msg
        # Each server's answer is judged as its own, whichever came first.
        status, msg = run(c.dhcp6_offers_address("h1", POOL, server="h2", request=False), lab)
        assert status == "fail" and msg.startswith(
            "the DHCPv6 Advertise from h2: it offers 2001:db8:1::3"), msg
        status, msg = run(c.dhcp6_offers_address("h1", rogue, server="r1", request=False), lab)
        assert status == "fail" and msg.startswith(
            "the DHCPv6 Advertise from r1: it offers 2001:db8:1::1"), msg


@needs_kea
def test_relay_to_the_wrong_server_fails_with_where_it_went(lab):
    with relayed(lab, upstream="2001:db8:2::3"):        # h3, which runs no server
        status, msg = run(c.dhcp6_relays("h1", "r1", "srv", within=3), lab)
    assert status == "fail"
    assert msg == ("the Relay-Forw carrying h1's Solicit went to 2001:db8:2::3, which delivered "
                   "it to h3, not to srv"), msg


@needs_kea
def test_server_for_the_wrong_prefix_fails_the_lease_not_the_relay(lab):
    with relayed(lab, conf=kea_conf("2001:db8:11::/64", "2001:db8:11::100-2001:db8:11::1ff",
                                    pd=None)):
        status, msg = run(c.dhcp6_relays("h1", "r1", "srv", within=5), lab)
        assert status == "pass", msg
        status, msg = run(c.dhcp6_offers_address("h1", POOL, server="r1"), lab)
    assert status == "fail"
    assert msg == ("the DHCPv6 Advertise from r1: IA_NA status NoAddrsAvail: 'Server could not "
                   "select subnet for this client'"), msg


@needs_kea
def test_the_grader_as_relay_grades_the_server_alone(lab):
    """No relay yet: the grader relays from r1 itself, to Kea on srv. Then
    with dhcrelay holding r1's port 547, the same check still works (it
    reads the Relay-Repl off the wire)."""
    check = c.dhcp6_server_answers_relay("srv", "2001:db8:1::1", POOL, from_node="r1",
                                         dns_servers=[SRV], domains=["lab.example"], within=5)
    with kea(lab):
        status, msg = run(check, lab)
        assert status == "pass", msg
        assert msg.startswith("the grader's relay on r1:eth1 was offered address 2001:db8:1::1")
        assert "on srv's cable; a second client got 2001:db8:1::1" in msg, msg
        status, msg = run(c.dhcp6_server_answers_relay("srv", "2001:db8:1::1",
                                                       "2001:db8:100::/48", from_node="r1",
                                                       prefix_length=56), lab)
        assert status == "pass" and "prefix 2001:db8:100:" in msg, msg
        with running(lab["r1"], dhcrelay(), "dhcrelay"):
            time.sleep(0.5)
            status, msg = run(check, lab)
            assert status == "pass", msg
        status, msg = run(c.dhcp6_server_answers_relay("srv", "2001:db8:77::1", POOL,
                                                       from_node="r1"), lab)
        assert status == "fail" and msg.endswith(
            "IA_NA status NoAddrsAvail: 'Server could not select subnet for this client'"), msg


@needs_kea
def test_kea_bound_to_its_link_local_address_never_hears_a_relay(lab):
    """The Kea mistake everyone makes once: interfaces ["eth0"]."""
    conf = kea_conf().replace(f'"eth0/{SRV}"', '"eth0"')
    with relayed(lab, conf=conf):
        time.sleep(1)
        status, msg = run(c.dhcp6_relays("h1", "r1", "srv", timeout=1), lab)
        assert status == "fail" and msg.startswith(
            "srv got h1's Solicit in a Relay-Forw but sent no Relay-Repl within 1 s"), msg
        status, msg = run(c.dhcp6_server_answers_relay("srv", "2001:db8:1::1", POOL,
                                                       from_node="h3", timeout=1), lab)
    assert status == "fail"
    assert msg.startswith(f"no DHCPv6 Advertise to the grader's Solicit relayed from h3:eth0 "
                          f"([2001:db8:2::3]:547) to srv at {SRV} (link-address 2001:db8:1::1) "
                          "within 1 s (is a DHCPv6 server listening on that address? Kea 2.2 "
                          "hears a relay only on an address it is told to bind"), msg


def test_no_server_fails_quickly_with_a_hint(lab):
    status, msg = run(c.dhcp6_offers_address("h1", POOL, timeout=0.5), lab)
    assert status == "fail" and msg.startswith("no DHCPv6 Advertise to the grader's Solicit from "
                                               "h1:eth0 ([fe80::"), msg
    assert "is a DHCPv6 server answering on this link" in msg


def test_direct_dnsmasq_server_passes_and_names_its_cable(lab):
    """Stateful dnsmasq on r1, no relay: the same check, answers on r1's
    cable; the relay check knows it is not a relay (see the attack below)."""
    argv = dnsmasq() + ["--dhcp-range=2001:db8:1::100,2001:db8:1::1ff,64,1h"]
    argv.remove("--dhcp-range=::,constructor:eth0,ra-stateless")
    with running(lab["r1"], argv, "dnsmasq-stateful"):
        status, msg = run(c.dhcp6_offers_address("h1", POOL, server="r1", dns_servers=[DNS],
                                                 within=5), lab)
        assert status == "pass", msg
        status, msg = run(c.dhcp6_offers_address("h1", POOL, server="h2"), lab)
        assert status == "fail" and msg == ("h1:eth0 got a DHCPv6 Advertise, but it came in on "
                                            "r1's cable, not from h2"), msg
        # Attack: a "relay" that is really a server answering itself.
        with kea(lab):
            status, msg = run(c.dhcp6_relays("h1", "r1", "srv"), lab)
    assert status == "fail"
    assert msg == ("r1 answered h1's Solicit itself (an Advertise came in on r1's cable) but no "
                   "Relay-Forw carrying it reached srv on lan2: that is a server, not a relay")


# ----------------------------------------------------------------- attacks

RESPONDER = r"""
import socket, struct, sys
# A "DHCPv6 server" a trainee writes in a few lines. echo: answers Solicit
# with an Advertise and Request with a Reply for ONE fixed address, echoing
# the transaction id and the client's DUID; canned: sends the same bytes to
# everyone. It may send from a forged link-local address (argv[4]).
mode, addr, dns, canned = sys.argv[1], sys.argv[2], sys.argv[3], bytes.fromhex(sys.argv[4])
src = sys.argv[5] if len(sys.argv) > 5 else "::"
idx = socket.if_nametoindex("eth0")
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.bind(("::", 547))
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
             socket.inet_pton(socket.AF_INET6, "ff02::1:2") + struct.pack("@I", idx))
out = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
out.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
out.bind((src, 547, 0, idx))
def opt(c, v): return struct.pack("!HH", c, len(v)) + v
def opts(b):
    i, r = 0, {}
    while i + 4 <= len(b):
        c, n = struct.unpack("!HH", b[i:i + 4]); r.setdefault(c, b[i + 4:i + 4 + n]); i += 4 + n
    return r
a6 = lambda a: socket.inet_pton(socket.AF_INET6, a)
sid = opt(2, bytes.fromhex("0003000102aabbccdd53"))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(4096)
    if mode == "canned":
        out.sendto(canned, peer)
        continue
    if data[0] not in (1, 3):
        continue
    o = opts(data[4:])
    iaid = o.get(3, bytes(4))[:4]
    ia = opt(3, iaid + struct.pack("!II", 1800, 2880)
             + opt(5, a6(addr) + struct.pack("!II", 3600, 7200)))
    out.sendto(bytes([2 if data[0] == 1 else 7]) + data[1:4] + opt(1, o.get(1, b"")) + sid + ia
               + opt(23, a6(dns)), peer)
"""


@contextlib.contextmanager
def responder(lab, node: str, mode: str, *, src: str = "::", canned: bytes = b""):
    p = lab[node].popen(["python3", "-u", "-c", RESPONDER, mode, "2001:db8:1::150", DNS,
                         canned.hex() or "00", src], name=f"responder-{node}",
                        log=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert p.stdout.readline().strip() == b"ready", "the responder did not start"
        yield p
    finally:
        p.kill()
        p.wait(5)


def test_attack_canned_advertise_is_not_an_answer(lab):
    """A replayed Advertise (a real one, captured earlier) does not carry the
    grader's fresh transaction id: nothing answered the Solicit."""
    with responder(lab, "r1", "canned", canned=bytes.fromhex(ADVERTISE_HEX)):
        status, msg = run(c.dhcp6_offers_address("h1", "2001:db8:1::/64", server="r1",
                                                 timeout=1.0), lab)
    assert status == "fail" and msg.startswith("no DHCPv6 Advertise to the grader's Solicit"), msg


def test_attack_echoing_responder_has_no_bindings(lab):
    """A script that echoes the transaction and hands everyone the same
    address passes Solicit/Advertise/Request/Reply, but two clients bound at
    once get the same address: not a server."""
    with responder(lab, "r1", "echo"):
        status, msg = run(c.dhcp6_offers_address("h1", POOL, server="r1", request=False), lab)
        assert status == "pass", msg        # Advertise only: it cannot be told apart
        status, msg = run(c.dhcp6_offers_address("h1", POOL, server="r1"), lab)
    assert status == "fail"
    assert msg == ("two clients bound at the same time were both given 2001:db8:1::150: what "
                   "answers on r1's cable does not keep one binding per client, as a DHCPv6 "
                   "server does"), msg


def test_attack_forged_source_is_told_by_the_cable(lab):
    """h2 takes r1's link-local address (nodad) and answers from it: the
    Advertise says r1, the switch says h2."""
    r1_ll = next(a.address for a in lab["r1"].addresses("eth0", 6) if a.scope == "link")
    h1_ll = next(a.address for a in lab["h1"].addresses("eth0", 6) if a.scope == "link")
    lab["h2"].cmd(f"ip -6 addr add {r1_ll}/64 dev eth0 nodad", check=True)
    # As a forger would: h1's MAC by hand, so no Neighbour Discovery (whose
    # answer h1 may send to the real r1) delays the forged answer.
    lab["h2"].cmd(f"ip -6 neigh replace {h1_ll} lladdr {lab['h1'].link('eth0').mac} dev eth0",
                  check=True)
    try:
        with responder(lab, "h2", "echo", src=r1_ll):
            status, msg = run(c.dhcp6_offers_address("h1", POOL, server="r1", request=False,
                                                     within=3), lab)
    finally:
        lab["h2"].cmd(f"ip -6 addr del {r1_ll}/64 dev eth0", check=True)
        lab["h2"].cmd(f"ip -6 neigh del {h1_ll} dev eth0")
    assert status == "fail"
    assert msg == "h1:eth0 got a DHCPv6 Advertise, but it came in on h2's cable, not from r1"


@needs_kea
def test_attack_host_impersonating_the_server_address(lab):
    """h3 takes srv's address and runs Kea itself: the relay delivers to
    h3's port, so "the relay forwards to srv" fails; the lease check, which
    names no server behind the relay, cannot tell (docs/grading.md)."""
    lab["srv"].cmd(f"ip -6 addr del {SRV}/64 dev eth0", check=True)
    lab["h3"].cmd(f"ip -6 addr add {SRV}/64 dev eth0 nodad", check=True)
    lab["r1"].cmd("ip -6 neigh flush dev eth1", check=True)    # forget srv's MAC
    try:
        with kea(lab, node="h3"), running(lab["r1"], dhcrelay(), "dhcrelay"):
            status, msg = run(c.dhcp6_relays("h1", "r1", "srv", within=5), lab)
            assert status == "fail", msg
            assert msg == (f"the Relay-Forw carrying h1's Solicit went to {SRV}, which "
                           "delivered it to h3, not to srv"), msg
            status, msg = run(c.dhcp6_offers_address("h1", POOL, server="r1"), lab)
            assert status == "pass", msg
            # The grader as relay asks srv for its address first: it has none.
            status, msg = run(c.dhcp6_server_answers_relay("srv", "2001:db8:1::1", POOL,
                                                           from_node="r1"), lab)
            assert status == "fail" and msg == (
                "srv:eth0 has no usable global address, so no relay can reach a DHCPv6 server "
                "there"), msg
    finally:
        lab["h3"].cmd(f"ip -6 addr del {SRV}/64 dev eth0", check=True)
        lab["srv"].cmd(f"ip -6 addr add {SRV}/64 dev eth0 nodad", check=True)
        lab["r1"].cmd("ip -6 neigh flush dev eth1", check=True)


def test_attack_hand_written_leases_prove_nothing(lab):
    """A lease file written by hand, and the address it names added by hand
    with lifetimes: a state check is fooled (documented), the wire checks
    are not: no server answers, and no Reply crossed h1's cable."""
    lease = "2001:db8:1::150"
    lab["h1"].cmd(["sh", "-c", "mkdir -p /var/lib/dhcp && cat > /var/lib/dhcp/dhclient6.leases"],
                  input=f"lease6 {{ interface \"eth0\"; ia-na 1 {{ iaaddr {lease} {{ }} }} }}\n",
                  check=True)
    lab["h1"].cmd(f"ip -6 addr add {lease}/128 dev eth0 valid_lft 7200 preferred_lft 3600 nodad",
                  check=True)
    try:
        assert run(c.has_address("h1", "2001:db8:1::/64", flags=("dynamic",)), lab)[0] == "pass"
        status, msg = run(c.dhcp6_offers_address("h1", POOL, timeout=0.5), lab)
        assert status == "fail" and "no DHCPv6 Advertise" in msg
        status, msg = run(c.dhcp6_reply_on_wire("h1", dns_servers=[DNS], within=1), lab)
        assert status == "fail"
        assert msg.startswith("h1:eth0 got no DHCPv6 Reply to a request of its own on lan1 "
                              "within 1 s (h1 sent: none;"), msg
    finally:
        lab["h1"].cmd(f"ip -6 addr del {lease}/128 dev eth0", check=True)


# ------------------------------------------------------- only listening

def _dhclient_later(lab, delay: float = 0.5, seconds: int = 4) -> threading.Thread:
    """dhclient -6 (stateful) on h1, started once the check listens."""
    def go() -> None:
        time.sleep(delay)
        lab["h1"].cmd(["timeout", str(seconds), "dhclient", "-6", "-d", "-1", "-lf",
                       "/run/dhclient6.leases", "-pf", "/run/dhclient6.pid", "eth0"],
                      timeout=seconds + 10)
    t = threading.Thread(target=go)
    t.start()
    return t


@needs_kea
@pytest.mark.parametrize("from_node, want", [("r1", "pass"), ("h2", "fail")])
def test_reply_on_wire_to_the_nodes_own_client(lab, from_node, want):
    with relayed(lab):
        time.sleep(0.5)
        t = _dhclient_later(lab)
        try:
            status, msg = run(c.dhcp6_reply_on_wire("h1", dns_servers=[SRV], pool=POOL,
                                                    from_node=from_node, within=5), lab)
        finally:
            t.join()
            _drop_leases(lab)
    assert status == want, msg
    if want == "pass":
        assert msg == f"h1:eth0 got a Reply to its Request from r1's cable: DNS {SRV}"
    else:
        assert msg == "h1:eth0 got a Reply, but it came in on r1's cable, not from h2"


def test_attack_forged_reply_to_a_question_never_asked(lab):
    """h2 sends h1 a Reply with the right DNS server, from r1's link-local
    address: it answers nothing h1 asked, and it came in on h2's cable."""
    r1_mac = lab["r1"].link("eth0").mac
    ll1 = next(a.address for a in lab["h1"].addresses("eth0", 6) if a.scope == "link")
    r1_ll = next(a.address for a in lab["r1"].addresses("eth0", 6) if a.scope == "link")
    reply = dhcp6.encode(dhcp6.Message(dhcp6.REPLY, 0x123456, (
        dhcp6.ClientId(dhcp6.random_duid()), dhcp6.DnsServers((DNS,)))))
    frame = _udp_frame(r1_mac, lab["h1"].link("eth0").mac, r1_ll, ll1, 547, 546, reply)
    forger = lab["h2"].popen(["python3", "-c", FORGE_LOOP, frame.hex()], name="forger")
    try:
        status, msg = run(c.dhcp6_reply_on_wire("h1", dns_servers=[DNS], within=1.5), lab)
    finally:
        forger.kill()
        forger.wait(5)
    assert status == "fail" and "got no DHCPv6 Reply to a request of its own" in msg, msg


@needs_kea
def test_relay_on_wire_follows_the_nodes_own_solicit(lab):
    with relayed(lab):
        time.sleep(0.5)
        t = _dhclient_later(lab)
        try:
            status, msg = run(c.dhcp6_relay_on_wire("r1", "srv", client="h1", within=5), lab)
        finally:
            t.join()
            _drop_leases(lab)
    assert status == "pass", msg
    assert msg.startswith("r1 forwarded a Solicit from h1 to srv on lan2 (link-address "
                          "2001:db8:1::1, xid 0x") and msg.endswith("; srv answered")
    status, msg = run(c.dhcp6_relay_on_wire("r1", "srv", within=1), lab)
    assert status == "fail"
    assert msg == "no Relay-Forw carrying a Solicit from r1 reached srv on lan2 within 1 s " \
        "(heard on lan2: none)", msg


def _drop_leases(lab) -> None:
    """What dhclient added to h1 (its address): gone, so later tests start
    from a bare h1."""
    for a in lab["h1"].addresses("eth0", 6):
        if a.scope == "global":
            lab["h1"].cmd(f"ip -6 addr del {a.cidr} dev eth0")
    # A lease file would make the next dhclient Confirm instead of Solicit.
    lab["h1"].cmd("rm -f /run/dhclient6.leases", check=True)


FORGE_LOOP = """import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
while True:
    s.send(bytes.fromhex(sys.argv[1])); time.sleep(0.1)
"""


def _udp_frame(src_mac: str, dst_mac: str, src: str, dst: str, sport: int, dport: int,
               payload: bytes) -> bytes:
    """An Ethernet/IPv6/UDP frame as a forger builds it (checksum included)."""
    import ipaddress
    udp_len = 8 + len(payload)
    pseudo = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
              + struct.pack("!I3xB", udp_len, 17))
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    data = pseudo + udp + (b"\0" if len(udp) % 2 else b"")
    csum = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while csum >> 16:
        csum = (csum & 0xFFFF) + (csum >> 16)
    udp = udp[:6] + struct.pack("!H", ~csum & 0xFFFF or 0xFFFF) + udp[8:]
    ip = struct.pack("!IHBB", 6 << 28, udp_len, 17, 255) + \
        ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))   # noqa: E731
    return mac(dst_mac) + mac(src_mac) + b"\x86\xdd" + ip + udp


# ------------------------- a lab written from the docs (tests/toolkit/labs)

TOOLKIT = Path(__file__).resolve().parents[1] / "toolkit" / "labs"


@pytest.fixture
def relay_lab(monkeypatch):
    """tests/toolkit/labs/dhcp6-relay: written only from docs/writing-labs.md
    and docs/grading.md, as a new instructor would."""
    monkeypatch.setenv("V6LAB_LABS", str(TOOLKIT))
    from v6lab.course import find_lab
    return find_lab("dhcp6-relay")


def _failing(report) -> list[tuple[str, str, str]]:
    return [(s.id, s.status, s.message) for s in report.steps if s.status != "pass"]


@needs_kea
def test_relay_lab_fresh_fails_and_the_cli_solution_scores_full_marks(relay_lab, monkeypatch):
    """Fresh: step 1 fails, the rest is skipped. Then through the CLI, as a
    trainee's `v6lab solve` would: the daemons the solution starts in the
    background outlive the solve process, and `v6lab check` gives 100 %."""
    from v6lab import Lab
    with Lab(relay_lab.topology(), name=f"drf{os.getpid()}") as lab:
        relay_lab.initial_state(lab)
        r = relay_lab.grader().grade(lab)
    assert r.score == 0 and [s.status for s in r.steps] == ["fail", "skipped", "skipped",
                                                            "skipped"], _failing(r)
    env = {**os.environ, "PYTHONPATH": str(TOOLKIT.parents[2] / "bindings"),
           "V6LAB_LABS": str(TOOLKIT)}
    name = f"drc{os.getpid()}"

    def v6(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["/usr/bin/python3", "-m", "v6lab", *args], capture_output=True,
                              text=True, env=env, timeout=180, cwd="/")
    r = v6("start", "dhcp6-relay", "--name", name)
    assert r.returncode == 0, r.stderr
    try:
        r = v6("solve", "--lab", name)
        assert r.returncode == 0, r.stdout + r.stderr
        r = v6("check", "--lab", name, "--format", "json")
        report = json.loads(r.stdout)
        assert report["score"] == 100, [(s["id"], s["message"]) for s in report["steps"]]
    finally:
        v6("stop", "--lab", name)


RELAY_LAB_MISTAKES = {                 # the message starts so ("…" : anything, then the end)
    "managed-off": "RA from r1:eth0 (fe80::…): M flag is 0",
    "subnet-typo": "the DHCPv6 Advertise from srv: IA_NA status NoAddrsAvail: 'Server could not "
                   "select subnet for this client'",
    "listen-link-local": "no DHCPv6 Advertise to the grader's Solicit relayed from r1:eth1 "
                         "([2001:db8:20::1]:547) to srv at 2001:db8:20::53 (link-address "
                         "2001:db8:10::1) within 2 s (is a DHCPv6 server listening on that "
                         "address?",
    "relay-to-www": "the Relay-Forw carrying h1's Solicit went to 2001:db8:20::80, which "
                    "delivered it to www, not to srv",
    "stateless-client": "h1:eth0 has no address in 2001:db8:10::/64 (it has: fe80::…)",
}


@needs_kea
@pytest.mark.parametrize("name", list(RELAY_LAB_MISTAKES))
def test_relay_lab_mistake_fails_exactly_its_step(relay_lab, name):
    from v6lab import Lab
    d = relay_lab
    m = next(x for x in d.mistakes if x.name == name)
    ids = [s.id for s in d.steps()]
    i = ids.index(m.step)
    with Lab(d.topology(), name=f"drm{os.getpid()}{i}") as lab:
        d.initial_state(lab)          # the variables, per-node files, then setup()
        if i:
            d.solve(lab, upto=ids[i - 1])
        m.apply(lab)
        r = d.grader().grade(lab)
    got = r.steps
    assert [s.status for s in got[:i]] == ["pass"] * i, _failing(r)
    assert got[i].status == "fail", _failing(r)
    start, _, end = RELAY_LAB_MISTAKES[name].partition("…")
    assert got[i].message.startswith(start) and got[i].message.endswith(end), got[i].message
    assert got[i].hint == d.grader().step(m.step).hints[0]     # ${variables} filled in
    assert all(s.status in ("skipped", "fail") for s in got[i + 1:]), _failing(r)
