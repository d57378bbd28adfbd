"""The wire view: ICMPv6 frames as the network saw them, attributed by
where they entered it.

A node's root user can forge any packet, including its source addresses,
but not the cable it is plugged into. Every LAN is a bridge in the hidden
switch namespace and each member is one port there (`l<lan>p<member>`, in
the order of the spec's `lans.<name>.members`), so a frame that *came in*
on r1's port was sent by r1, whatever its source MAC and address say. The
core's `WireTap` (core/src/wire.cpp) reads those frames from the switch
side and can inject frames there, which is how the grader speaks on a LAN
without entering any node. Frames the tap injected itself are flagged and
are never evidence.

The decoders here are pure functions over bytes (tested on fixtures in
tests/python/test_wire.py, no root needed); `Tap` joins them to the core.
"""

from __future__ import annotations

import ipaddress
import os
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Iterable, Optional, Union

# The ND codecs live in v6lab.proto.ndp; their names stay importable here.
from ..proto.ndp import (NA, NS, RA, RS, NeighbourAdvert, NeighbourSolicit,  # noqa: F401
                         Pref64, PrefixInfo, RouterAdvert, RouterSolicit, decode_ra,
                         encode_pref64, mac_bytes, mac_str)
from ..proto.ndp import _addr, lladdr as _lladdr, options as _options  # noqa: F401

if TYPE_CHECKING:
    from ..lab import Lab, LabView

ETH_P_IPV6 = 0x86DD
ETH_P_IP = 0x0800
ICMP6 = 58
PACKET_TOO_BIG, ECHO_REQUEST, ECHO_REPLY = 2, 128, 129
ALL_NODES = "ff02::1"
ALL_ROUTERS = "ff02::2"


# ----------------------------------------------------------------- decoded

@dataclass(frozen=True)
class Echo:
    ident: int
    seq: int
    size: int                   # payload bytes


@dataclass(frozen=True)
class PacketTooBig:
    mtu: int
    quoted_src: str = ""
    quoted_dst: str = ""


@dataclass(frozen=True)
class Packet:
    """One Ethernet/IPv6/ICMPv6 frame, decoded. `body` is one of the
    classes above for the types this module knows, else None."""
    src_mac: str
    dst_mac: str
    src: str
    dst: str
    hop_limit: int
    icmp_type: int
    icmp_code: int
    body: object = None


@dataclass(frozen=True)
class UdpPacket:
    """One Ethernet/IPv6/UDP frame (a tap opened with udp_ports), decoded
    down to its payload; the payload's codec is the caller's choice
    (v6lab.proto.dhcp6, v6lab.proto.dns)."""
    src_mac: str
    dst_mac: str
    src: str
    dst: str
    hop_limit: int
    sport: int
    dport: int
    payload: bytes
    icmp_type: ClassVar[int] = -1      # never an ICMPv6 type: sent_by(..., RA) skips it


@dataclass(frozen=True)
class TcpPacket:
    """One Ethernet/IPv6/TCP segment (a tap opened with tcp_ports), decoded
    down to its payload: enough to tell which cable a server's answer came
    in on (v6lab.grading.http)."""
    src_mac: str
    dst_mac: str
    src: str
    dst: str
    hop_limit: int
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int                  # FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
    payload: bytes
    icmp_type: ClassVar[int] = -1      # never an ICMPv6 type: sent_by(..., RA) skips it


@dataclass(frozen=True)
class Seen:
    """A decoded frame with where the network saw it. On a switch port,
    `outgoing=False` means the node on that port sent it; `outgoing=True`
    means the bridge delivered it to that node."""
    at: float
    ifname: str
    node: str                   # the node on that port ("" if not a port)
    outgoing: bool
    injected: bool
    packet: Union[Packet, UdpPacket, TcpPacket]


def _decode_body(t: int, icmp: bytes) -> object:
    if t == RA:
        return decode_ra(icmp)
    if t == RS and len(icmp) >= 8:
        return RouterSolicit(_lladdr(_options(icmp[8:]), 1))
    if t == NS and len(icmp) >= 24:
        return NeighbourSolicit(_addr(icmp[8:24]), _lladdr(_options(icmp[24:]), 1))
    if t == NA and len(icmp) >= 24:
        f = icmp[4]
        return NeighbourAdvert(_addr(icmp[8:24]), bool(f & 0x80), bool(f & 0x40), bool(f & 0x20),
                               _lladdr(_options(icmp[24:]), 2))
    if t in (ECHO_REQUEST, ECHO_REPLY) and len(icmp) >= 8:
        ident, seq = struct.unpack("!HH", icmp[4:8])
        return Echo(ident, seq, len(icmp) - 8)
    if t == PACKET_TOO_BIG and len(icmp) >= 8:
        q = icmp[8:]
        return PacketTooBig(struct.unpack("!I", icmp[4:8])[0],
                            _addr(q[8:24]) if len(q) >= 40 else "",
                            _addr(q[24:40]) if len(q) >= 40 else "")
    return None


def decode(frame: bytes) -> Optional[Packet]:
    """An Ethernet frame carrying IPv6 whose next header is ICMPv6, decoded;
    None for anything else (other protocols, extension headers, runts)."""
    if len(frame) < 14 + 40 + 4 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IPV6:
        return None
    ip = frame[14:54]
    if ip[0] >> 4 != 6 or ip[6] != ICMP6:
        return None
    plen = struct.unpack("!H", ip[4:6])[0]
    icmp = frame[54:54 + plen]
    if len(icmp) < 4:
        return None
    return Packet(mac_str(frame[6:12]), mac_str(frame[0:6]), _addr(ip[8:24]), _addr(ip[24:40]),
                  ip[7], icmp[0], icmp[1], _decode_body(icmp[0], icmp))


def _ip6_payload(frame: bytes, next_header: int, least: int) -> Optional[tuple[bytes, bytes]]:
    """(IPv6 header, payload) of an Ethernet frame carrying IPv6 whose next
    header is next_header and whose payload has at least `least` bytes."""
    if len(frame) < 14 + 40 + least or struct.unpack("!H", frame[12:14])[0] != ETH_P_IPV6:
        return None
    ip = frame[14:54]
    if ip[0] >> 4 != 6 or ip[6] != next_header:
        return None
    payload = frame[54:54 + struct.unpack("!H", ip[4:6])[0]]
    return (ip, payload) if len(payload) >= least else None


def decode_udp(frame: bytes) -> Optional[UdpPacket]:
    """An Ethernet frame carrying IPv6 whose next header is UDP, decoded;
    None for anything else."""
    found = _ip6_payload(frame, 17, 8)
    if found is None:
        return None
    ip, udp = found
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    return UdpPacket(mac_str(frame[6:12]), mac_str(frame[0:6]), _addr(ip[8:24]),
                     _addr(ip[24:40]), ip[7], sport, dport, udp[8:max(8, min(ulen, len(udp)))])


def decode_tcp(frame: bytes) -> Optional[TcpPacket]:
    """An Ethernet frame carrying IPv6 whose next header is TCP, decoded;
    None for anything else (or a header shorter than its data offset)."""
    found = _ip6_payload(frame, 6, 20)
    if found is None:
        return None
    ip, tcp = found
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", tcp[:14])
    hlen = (off >> 4) * 4
    if hlen < 20 or hlen > len(tcp):
        return None
    return TcpPacket(mac_str(frame[6:12]), mac_str(frame[0:6]), _addr(ip[8:24]),
                     _addr(ip[24:40]), ip[7], sport, dport, seq, ack, flags, tcp[hlen:])


def decode_udp4(frame: bytes) -> Optional[UdpPacket]:
    """An Ethernet frame carrying IPv4 UDP (DHCPv4), decoded; src and dst
    are IPv4 addresses, hop_limit the TTL. None for anything else,
    including later fragments."""
    if len(frame) < 14 + 20 + 8 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    ihl = (frame[14] & 0x0F) * 4
    ip = frame[14:14 + ihl]
    if ip[0] >> 4 != 4 or ihl < 20 or ip[9] != 17 or struct.unpack("!H", ip[6:8])[0] & 0x1FFF:
        return None
    total = struct.unpack("!H", ip[2:4])[0]
    udp = frame[14 + ihl:14 + max(ihl, total)]
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    return UdpPacket(mac_str(frame[6:12]), mac_str(frame[0:6]),
                     str(ipaddress.IPv4Address(ip[12:16])), str(ipaddress.IPv4Address(ip[16:20])),
                     ip[8], sport, dport,
                     udp[8:max(8, min(ulen, len(udp)))])


# ------------------------------------------------------------------ build

def _checksum(src: str, dst: str, icmp: bytes) -> int:
    pseudo = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
              + struct.pack("!I3xB", len(icmp), ICMP6))
    data = pseudo + icmp + (b"\0" if len(icmp) % 2 else b"")
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def multicast_mac(dst: str) -> str:
    """33:33 plus the low 32 bits of an IPv6 multicast address (RFC 2464)."""
    return "33:33:" + mac_str(ipaddress.IPv6Address(dst).packed[12:])


def frame(src_mac: str, src: str, dst: str, icmp: bytes, *, dst_mac: str = "",
          hop_limit: int = 255) -> bytes:
    """An Ethernet/IPv6/ICMPv6 frame, with the checksum filled in."""
    body = icmp[:2] + struct.pack("!H", _checksum(src, dst, icmp[:2] + b"\0\0" + icmp[4:])) + icmp[4:]
    ip = struct.pack("!IHBB", 6 << 28, len(body), ICMP6, hop_limit) + \
        ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
    dmac = dst_mac or multicast_mac(dst)
    return mac_bytes(dmac) + mac_bytes(src_mac) + struct.pack("!H", ETH_P_IPV6) + ip + body


def router_solicit(src_mac: str, src: str) -> bytes:
    """An RS to all-routers; with a source address it carries the SLLAO, so
    a router may answer it by unicast (RFC 7772), right away."""
    opt = b"" if src == "::" else bytes([1, 1]) + mac_bytes(src_mac)
    return frame(src_mac, src, ALL_ROUTERS, bytes([RS, 0, 0, 0, 0, 0, 0, 0]) + opt)


def router_advert(src_mac: str, src: str, *, prefixes: Iterable[PrefixInfo] = (),
                  router_lifetime: int = 0, dst: str = ALL_NODES, dst_mac: str = "",
                  sllao: bool = False, pref64: Iterable[Pref64] = ()) -> bytes:
    """An RA frame; pref64 adds PREF64 options (RFC 8781), e.g. for an
    attack test that forges a NAT64 prefix from a host's port."""
    icmp = bytes([RA, 0, 0, 0, 64, 0]) + struct.pack("!HII", router_lifetime, 0, 0)
    for p in prefixes:
        net = ipaddress.IPv6Network(p.prefix)
        flags = (0x80 if p.on_link else 0) | (0x40 if p.autonomous else 0)
        icmp += bytes([3, 4, net.prefixlen, flags]) + struct.pack(
            "!III", p.valid_lifetime, p.preferred_lifetime, 0) + net.network_address.packed
    for p64 in pref64:
        icmp += encode_pref64(p64.prefix, p64.lifetime)
    if sllao:
        icmp += bytes([1, 1]) + mac_bytes(src_mac)
    return frame(src_mac, src, dst, icmp, dst_mac=dst_mac)


def random_identity() -> tuple[str, str]:
    """A MAC (locally administered, unicast) and the link-local address a
    grader speaks with: random, so no node can have prepared for it."""
    b = bytearray(os.urandom(6))
    b[0] = (b[0] & 0xFC) | 0x02
    ll = ipaddress.IPv6Address(b"\xfe\x80" + b"\0" * 6 + os.urandom(8))
    return mac_str(bytes(b)), str(ll)


def random_prefix() -> str:
    """A random ULA /64 (fdXX:...), which no trainee config can contain."""
    return str(ipaddress.IPv6Network((b"\xfd" + os.urandom(7) + b"\0" * 8, 64)))


# ------------------------------------------------------------- the network

def lan_of(lab: "LabView", node: str, iface: str) -> Optional[tuple[int, str, int]]:
    """(lan index, lan name, member index) of node:iface, from the spec;
    None if the interface is on a point-to-point link (or unknown)."""
    for i, lan in enumerate(lab.spec.lans):
        for k, member in enumerate(lan.members):
            if member == (node, iface):
                return i, lan.name, k
    return None


def port_of(lab: "LabView", node: str, iface: str) -> Optional[str]:
    """The switch port that is node:iface's cable (lab.cpp names it so)."""
    where = lan_of(lab, node, iface)
    return f"l{where[0]}p{where[2]}" if where else None


def port_owners(lab: "LabView") -> dict[str, str]:
    """Port name -> "node:iface" for every LAN member."""
    out = {}
    for i, lan in enumerate(lab.spec.lans):
        for k, (node, iface) in enumerate(lan.members):
            out[f"l{i}p{k}"] = f"{node}:{iface}"
    return out


def bridge_of(lab: "LabView", lan_index: int) -> str:
    return f"br{lan_index}"


def switch_handle(lab: "LabView"):
    """The switch namespace's handle, from the owning process or, for an
    attached lab, from its record (pid and start time, verified by attach)."""
    h = lab.switch_handle()
    if h is None:
        raise RuntimeError(f"lab {lab.name} has no LANs, so no switch to listen on")
    return h


class Tap:
    """A bounded listen (and speak) on the wire, as a context manager:

        with Tap.switch(lab, types=(RA,)) as tap:
            tap.inject("br0", router_solicit(mac, ll))
            ras = tap.collect(2.0, until=lambda seen: ...)

    In the switch namespace every frame is attributed to the node on its
    port; in a node's namespace (`Tap.node`) it is not attributed."""

    def __init__(self, handle, owners: dict[str, str], types: Iterable[int] = (),
                 udp_ports: Iterable[int] = (), tcp_ports: Iterable[int] = (),
                 udp4: bool = False) -> None:
        from .. import _core
        self._tap = _core.WireTap(handle, list(types), list(udp_ports), list(tcp_ports))
        self._owners = owners
        self._udp4 = udp4
        self.seen: list[Seen] = []

    @classmethod
    def switch(cls, lab: "Lab", types: Iterable[int] = (), udp_ports: Iterable[int] = (),
               tcp_ports: Iterable[int] = (), udp4: bool = False) -> "Tap":
        """udp_ports: also keep UDP frames from or to these ports (for
        DHCPv6: 546, 547), decoded as UdpPacket; with udp4, UDP over IPv4
        too (for DHCPv4: 67, 68), whose UdpPacket has IPv4 addresses;
        tcp_ports: TCP segments over IPv6 from or to these ports (HTTP:
        80), decoded as TcpPacket."""
        return cls(switch_handle(lab), port_owners(lab), types, udp_ports, tcp_ports, udp4)

    @classmethod
    def node(cls, lab: "Lab", node: str, types: Iterable[int] = (),
             udp_ports: Iterable[int] = (), tcp_ports: Iterable[int] = ()) -> "Tap":
        return cls(lab[node].handle, {}, types, udp_ports, tcp_ports)

    def __enter__(self) -> "Tap":
        return self

    def __exit__(self, *exc: object) -> None:
        self._tap.close()

    def inject(self, ifname: str, data: bytes) -> None:
        self._tap.inject(ifname, data)

    def poll(self, timeout: float = 0.0) -> list[Seen]:
        """Decodes what arrived (waiting up to timeout for the first frame)
        and appends it to `seen`."""
        new = []
        for f in self._tap.read(timeout):
            p: Union[Packet, UdpPacket, TcpPacket, None] = (
                decode(f.data) or decode_udp(f.data) or decode_tcp(f.data))
            if p is None and self._udp4:
                p = decode_udp4(f.data)
            if p is None:
                continue
            owner = self._owners.get(f.ifname, "")
            new.append(Seen(f.at, f.ifname, owner.partition(":")[0], f.outgoing, f.injected, p))
        self.seen += new
        return new

    def collect(self, duration: float, until: Optional[Callable[[list[Seen]], bool]] = None,
                step: float = 0.05) -> list[Seen]:
        """Listens up to duration seconds, or until until(seen) is true."""
        end = time.monotonic() + duration
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            self.poll(min(step, left))
            if until is not None and until(self.seen):
                break
        return self.seen


def sent_by(seen: Iterable[Seen], node: str, icmp_type: Optional[int] = None) -> list[Seen]:
    """Frames that came in on node's port: the network says node sent them."""
    return [s for s in seen if s.node == node and not s.outgoing and not s.injected
            and (icmp_type is None or s.packet.icmp_type == icmp_type)]
