"""IPv4 packets carrying TCP (RFC 791, RFC 9293), as a raw IPv4 socket
receives them: from the IPv4 header on, no Ethernet header.

Why it exists: a grader that must know whether a connection really arrived
at an IPv4-only server (lab nat64: the translator may answer in the
server's place) opens `socket(AF_INET, SOCK_RAW, IPPROTO_TCP)` in the
server's namespace, which gets a copy of every TCP packet the server's
kernel receives, and decodes them here.

    seg = ipv4.decode_tcp(raw.recv(65535))
    seg.src, seg.dport, seg.syn, seg.payload
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..i18n import _
from .errors import ProtoError, Reader

TCP = 6
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


@dataclass(frozen=True)
class TcpSegment:
    """One IPv4 packet with its TCP segment, decoded. `payload` is the TCP
    data (empty for a bare SYN or ACK)."""
    src: str
    dst: str
    ttl: int
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    payload: bytes

    @property
    def syn(self) -> bool:
        """A connection's first segment: SYN without ACK."""
        return bool(self.flags & SYN) and not self.flags & ACK


def decode_tcp(data: bytes) -> TcpSegment:
    """An IPv4 packet whose protocol is TCP; ProtoError for anything else
    (another version or protocol, a fragment past the first, bad lengths)."""
    r = Reader(data, "IPv4 packet")
    vihl = r.u8("version/IHL")
    if vihl >> 4 != 4:
        raise r.fail(_("version is {version}, not 4").format(version=vihl >> 4))
    ihl = (vihl & 0xF) * 4
    if ihl < 20:
        raise r.fail(_("header length {length} is below 20").format(length=ihl))
    r.u8("DSCP/ECN")
    total = r.u16("total length")
    r.u16("identification")
    frag = r.u16("flags/fragment offset")
    ttl, proto = r.u8("TTL"), r.u8("protocol")
    r.u16("header checksum")
    src = str(ipaddress.IPv4Address(r.take(4, "source address")))
    dst = str(ipaddress.IPv4Address(r.take(4, "destination address")))
    if proto != TCP:
        raise r.fail(_("protocol is {protocol}, not TCP (6)").format(protocol=proto))
    if frag & 0x1FFF:
        raise r.fail(_("a fragment at offset {offset}: no TCP header in it").format(
            offset=(frag & 0x1FFF) * 8))
    r.take(ihl - 20, "options")
    if total < ihl or total > len(data):
        raise r.fail(_("total length {length} does not fit the {size} bytes received").format(
            length=total, size=len(data)))
    t = Reader(data[ihl:total], "TCP segment", base=ihl)
    sport, dport = t.u16("source port"), t.u16("destination port")
    seq, ack = t.u32("sequence number"), t.u32("acknowledgment number")
    off_flags = t.u16("data offset/flags")
    doff = (off_flags >> 12) * 4
    if doff < 20:
        raise t.fail(_("header length {length} is below 20").format(length=doff))
    t.u16("window")
    t.u16("checksum")
    t.u16("urgent pointer")
    t.take(doff - 20, "options")
    return TcpSegment(src, dst, ttl, sport, dport, seq, ack, off_flags & 0x1FF, t.rest())


def try_decode_tcp(data: bytes) -> TcpSegment | None:
    """decode_tcp, or None for what is not a whole IPv4 TCP packet (a raw
    socket's caller skips those)."""
    try:
        return decode_tcp(data)
    except ProtoError:
        return None
