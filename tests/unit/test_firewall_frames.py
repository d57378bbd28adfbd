"""Lab 14's hand-built frames and address draws (labs/icmpv6-firewall/probes.py),
read back with the wire view's own decoder: what the grader injects is
what a kernel and a tcpdump would see. The probes themselves need a real
lab (tests/labs, tests/python/test_firewall_checks.py)."""

from __future__ import annotations

import importlib
import ipaddress
import struct
from pathlib import Path

from v6lab.course import load_lab
from v6lab.grading import wire
from v6lab.testing import FakeLab

ROOT = Path(__file__).resolve().parents[2]
D = load_lab(ROOT / "labs" / "icmpv6-firewall")
P = importlib.import_module("v6lab_labs.icmpv6_firewall.probes")  # loaded with D
MAC, PEER = "02:00:00:00:00:01", "02:00:00:00:00:02"


def test_packet_too_big_quotes_the_connection():
    f = P.packet_too_big(src_mac=MAC, dst_mac=PEER, router="3fff:1::99", dst="2001:db8:14::80",
                         mtu=1333, quoted_src="2001:db8:14::80", quoted_dst="3fff:1::1234",
                         sport=40000, dport=20000)
    p = wire.decode(f)
    assert (p.src, p.dst, p.dst_mac, p.icmp_type, p.hop_limit) == \
        ("3fff:1::99", "2001:db8:14::80", PEER, wire.PACKET_TOO_BIG, 64)
    assert p.body == wire.PacketTooBig(1333, "2001:db8:14::80", "3fff:1::1234")
    inner_tcp = f[14 + 40 + 8 + 40:]
    assert struct.unpack("!HH", inner_tcp[:4]) == (40000, 20000)
    assert len(f) - 14 <= 1280     # fits any IPv6 link


def test_neighbour_solicit_is_unicast_without_a_link_layer_option():
    f = P.neighbour_solicit(src_mac=MAC, src="fe80::1", dst_mac=PEER, target="2001:db8:ff::2")
    p = wire.decode(f)
    assert (p.dst, p.dst_mac, p.hop_limit) == ("2001:db8:ff::2", PEER, 255)
    assert p.body == wire.NeighbourSolicit("2001:db8:ff::2", "")


def test_neighbour_advert_is_solicited_with_the_grader_s_mac():
    f = P.neighbour_advert(src_mac=MAC, src="fe80::1", dst_mac=PEER, dst="2001:db8:ff::2")
    p = wire.decode(f)
    assert p.body.target == "fe80::1" and p.body.solicited and p.body.override
    assert not p.body.router and p.body.target_lladdr == MAC


def test_internet_addresses_and_ports_are_drawn_fresh():
    v = FakeLab.from_lab(D).vars or D.variables
    net = ipaddress.IPv6Network(v["internet"])
    addrs = {P.random_internet(v) for _ in range(50)}
    assert len(addrs) == 50
    assert all(ipaddress.IPv6Address(a) in net and a != v["internet_web"] for a in addrs)
    ports = {P.random_port() for _ in range(200)}
    assert 80 not in ports and all(1 <= p <= 65535 for p in ports) and len(ports) > 150
