"""The wire view's decoders on byte fixtures: no root, no lab. Each fixture
is a frame as it appears on a switch port (Ethernet header first)."""

from __future__ import annotations

import ipaddress
import struct

from v6lab import Lab, Topo
from v6lab.grading import wire as w

R1_MAC, R1_LL = "12:e1:e2:4d:0c:c3", "fe80::10e1:e2ff:fe4d:cc3"
PIO = w.PrefixInfo("2001:db8:10::/64", True, True, 86400, 14400)


def checksum_ok(frame: bytes) -> bool:
    ip, icmp = frame[14:54], frame[54:]
    pseudo = ip[8:40] + struct.pack("!I3xB", len(icmp), 58)
    data = pseudo + icmp + (b"\0" if len(icmp) % 2 else b"")
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def test_router_advert_round_trip():
    f = w.router_advert(R1_MAC, R1_LL, prefixes=[PIO], router_lifetime=1800, sllao=True)
    assert checksum_ok(f)
    p = w.decode(f)
    assert (p.src, p.dst, p.hop_limit, p.icmp_type) == (R1_LL, "ff02::1", 255, w.RA)
    assert (p.src_mac, p.dst_mac) == (R1_MAC, "33:33:00:00:00:01")
    ra = p.body
    assert (ra.managed, ra.other, ra.router_lifetime, ra.source_lladdr) == (False, False, 1800, R1_MAC)
    assert ra.prefixes == (PIO,)


def test_router_advert_from_radvd_bytes():
    """An RA assembled byte by byte from RFC 4861/8106 (independent of the
    builder): M=1 O=1, PIO with L=1 A=0, MTU 1400, RDNSS 2001:db8::53,
    SLLAO."""
    icmp = bytes.fromhex("8600000040c00708000000000000000003044080"
                         "0001518000003840000000002001" "0db800100000" "0000000000000000"
                         "0501000000000578"
                         "1903000000000e10" "20010db8000000000000000000000053"
                         "010112e1e24d0cc3")
    frame = (w.mac_bytes("33:33:00:00:00:01") + w.mac_bytes(R1_MAC) + b"\x86\xdd"
             + struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255)
             + ipaddress.IPv6Address(R1_LL).packed + ipaddress.IPv6Address("ff02::1").packed + icmp)
    ra = w.decode(frame).body
    assert (ra.managed, ra.other, ra.router_lifetime) == (True, True, 1800)
    assert ra.prefixes == (w.PrefixInfo("2001:db8:10::/64", True, False, 86400, 14400),)
    assert ra.mtu == 1400
    assert ra.rdnss == ("2001:db8::53",) and ra.rdnss_lifetime == 3600
    assert ra.source_lladdr == R1_MAC


def test_prefix_bits_beyond_the_length_are_cleared():
    pio = w.PrefixInfo("2001:db8:10::/48", True, True, 10, 5)
    p = w.decode(w.router_advert(R1_MAC, R1_LL, prefixes=[pio]))
    assert p.body.prefixes[0].prefix == "2001:db8:10::/48"


def test_router_solicit_with_and_without_source():
    mac, ll = w.random_identity()
    assert int(mac.split(":")[0], 16) & 0x03 == 0x02          # local, unicast
    assert ipaddress.IPv6Address(ll).is_link_local
    p = w.decode(w.router_solicit(mac, ll))
    assert (p.icmp_type, p.dst, p.dst_mac, p.body.source_lladdr) == (w.RS, "ff02::2", "33:33:00:00:00:02", mac)
    p = w.decode(w.router_solicit(mac, "::"))
    assert p.body.source_lladdr == ""                          # RFC 4861: no SLLAO from ::


def test_neighbour_solicit_and_advert():
    target = ipaddress.IPv6Address("2001:db8:10::1").packed
    ns = bytes([w.NS, 0, 0, 0, 0, 0, 0, 0]) + target + bytes([1, 1]) + w.mac_bytes(R1_MAC)
    p = w.decode(w.frame(R1_MAC, R1_LL, "ff02::1:ff00:1", ns))
    assert p.body == w.NeighbourSolicit("2001:db8:10::1", R1_MAC)
    assert p.dst_mac == "33:33:ff:00:00:01"
    na = bytes([w.NA, 0, 0, 0, 0xE0, 0, 0, 0]) + target + bytes([2, 1]) + w.mac_bytes(R1_MAC)
    p = w.decode(w.frame(R1_MAC, R1_LL, "ff02::1", na))
    assert p.body == w.NeighbourAdvert("2001:db8:10::1", True, True, True, R1_MAC)


def test_echo_and_packet_too_big():
    echo = bytes([w.ECHO_REQUEST, 0, 0, 0]) + struct.pack("!HH", 0x1234, 7) + b"x" * 56
    p = w.decode(w.frame(R1_MAC, "2001:db8:10::5", "2001:db8:20::80", echo, dst_mac=R1_MAC, hop_limit=64))
    assert p.body == w.Echo(0x1234, 7, 56) and p.hop_limit == 64
    quoted = struct.pack("!IHBB", 6 << 28, 1452, 58, 63) + ipaddress.IPv6Address("2001:db8:10::5").packed \
        + ipaddress.IPv6Address("2001:db8:20::80").packed
    ptb = bytes([w.PACKET_TOO_BIG, 0, 0, 0]) + struct.pack("!I", 1400) + quoted
    p = w.decode(w.frame(R1_MAC, "2001:db8:10::1", "2001:db8:10::5", ptb, dst_mac=R1_MAC))
    assert p.body == w.PacketTooBig(1400, "2001:db8:10::5", "2001:db8:20::80")


def test_not_icmpv6_or_truncated_is_none():
    f = w.router_advert(R1_MAC, R1_LL, prefixes=[PIO])
    assert w.decode(f[:50]) is None                              # runt
    assert w.decode(f[:12] + b"\x08\x00" + f[14:]) is None       # IPv4 ethertype
    assert w.decode(f[:20] + b"\x00" + f[21:]) is None           # hop-by-hop header first
    assert w.decode(f[:54] + bytes([w.RA, 0, 0, 0])).body is None  # RA header cut short


def test_random_prefix_is_a_fresh_ula_64():
    a, b = w.random_prefix(), w.random_prefix()
    assert a != b
    net = ipaddress.IPv6Network(a)
    assert net.prefixlen == 64 and net.network_address.packed[0] == 0xFD


def test_ports_follow_the_spec_member_order():
    # port_of reads nothing but the resolved spec's LANs, in order: no lab is built.
    topo = Topo("ports")
    lan1, lan2 = topo.add_lan("lan1"), topo.add_lan("lan2")
    for n in ("r1", "h1", "h2", "srv"):
        topo.add_node(n)
    for a, b in (("r1", lan1), ("h1", lan1), ("h2", lan1), ("r1", lan2), ("srv", lan2)):
        topo.add_link(a, b)
    resolved = Lab(topo)
    assert w.port_of(resolved, "h2", "eth0") == "l0p2"
    assert w.port_of(resolved, "srv", "eth0") == "l1p1"
    assert w.port_of(resolved, "h1", "eth9") is None
    assert w.port_owners(resolved)["l1p0"] == "r1:eth1"
