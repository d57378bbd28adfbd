"""DHCPv4 (RFC 2131/2132) messages, as far as the IPv6-mostly lab needs
them: the DHCPDISCOVER a grader sends (with or without option 108 in its
Parameter Request List) and the DHCPOFFER a server answers, decoded
strictly, with option 108 "IPv6-Only Preferred" (RFC 8925).

RFC 8925 3.3: a server sends option 108 only to a client that asked for it
in its Parameter Request List, so the grader asks twice, once each way, and
reads both offers off the wire (labs/ipv6-mostly/checks.py).

    payload = dhcp4.discover(xid, mac, request=(1, 3, 6, 108))
    offer = dhcp4.decode(udp_payload)
    offer.message_type == dhcp4.OFFER and offer.v6only_wait == 1800
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Optional, Sequence

from ..i18n import _
from .errors import ProtoError, Reader

SERVER_PORT, CLIENT_PORT = 67, 68
BOOTREQUEST, BOOTREPLY = 1, 2
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
MESSAGE_TYPES = {1: "DHCPDISCOVER", 2: "DHCPOFFER", 3: "DHCPREQUEST", 4: "DHCPDECLINE",
                 5: "DHCPACK", 6: "DHCPNAK", 7: "DHCPRELEASE", 8: "DHCPINFORM"}
MAGIC = b"\x63\x82\x53\x63"
OPT_PAD, OPT_SUBNET_MASK, OPT_ROUTER, OPT_DNS = 0, 1, 3, 6
OPT_REQUESTED_IP, OPT_LEASE_TIME, OPT_MESSAGE_TYPE, OPT_SERVER_ID, OPT_PRL = 50, 51, 53, 54, 55
OPT_V6ONLY, OPT_END = 108, 255
FLAG_BROADCAST = 0x8000
#: RFC 8925 3.4: a V6ONLY_WAIT below this is raised to it by the client.
MIN_V6ONLY_WAIT = 300


@dataclass(frozen=True)
class Dhcp4Message:
    op: int
    xid: int
    flags: int
    ciaddr: str
    yiaddr: str                 # the address offered ("0.0.0.0": none)
    siaddr: str
    giaddr: str
    chaddr: str                 # the client's MAC
    options: tuple[tuple[int, bytes], ...] = ()

    def option(self, code: int) -> Optional[bytes]:
        """The first option `code`'s data, or None."""
        return next((v for c, v in self.options if c == code), None)

    @property
    def message_type(self) -> int:
        v = self.option(OPT_MESSAGE_TYPE)
        return v[0] if v else 0

    @property
    def type_name(self) -> str:
        return MESSAGE_TYPES.get(self.message_type, f"type {self.message_type}")

    @property
    def v6only_wait(self) -> Optional[int]:
        """Option 108's V6ONLY_WAIT in seconds, or None without it."""
        v = self.option(OPT_V6ONLY)
        return struct.unpack("!I", v)[0] if v is not None and len(v) == 4 else None

    @property
    def server_id(self) -> str:
        v = self.option(OPT_SERVER_ID)
        return str(ipaddress.IPv4Address(v)) if v is not None and len(v) == 4 else ""

    @property
    def requested(self) -> tuple[int, ...]:
        """The Parameter Request List (option 55)."""
        return tuple(self.option(OPT_PRL) or b"")


def _ip4(b: bytes) -> str:
    return str(ipaddress.IPv4Address(b))


def encode(m: Dhcp4Message) -> bytes:
    """The message as it goes in a UDP datagram: the 236-byte BOOTP header,
    the magic cookie, the options, END, padded to BOOTP's 300 bytes."""
    mac = bytes(int(x, 16) for x in m.chaddr.split(":"))
    out = struct.pack("!BBBBIHH", m.op, 1, len(mac), 0, m.xid, 0, m.flags)
    for a in (m.ciaddr, m.yiaddr, m.siaddr, m.giaddr):
        out += ipaddress.IPv4Address(a).packed
    out += mac.ljust(16, b"\0") + b"\0" * 192 + MAGIC
    for code, value in m.options:
        if len(value) > 255:
            raise ValueError(f"DHCPv4 option {code}: {len(value)} bytes, at most 255")
        out += bytes([code, len(value)]) + value
    out += bytes([OPT_END])
    return out.ljust(300, b"\0")


def discover(xid: int, mac: str, *, request: Sequence[int] = (1, 3, 6),
             broadcast: bool = True, requested_address: str = "") -> bytes:
    """A DHCPDISCOVER from mac asking for the options in `request` (the
    Parameter Request List; put 108 in it to be an RFC 8925 client). With
    broadcast, the server must broadcast its answer (RFC 2131 4.1), so the
    grader needs no address to receive it. requested_address: option 50,
    the address the client would like (RFC 2131 3.1 step 1 allows it)."""
    opts = [(OPT_MESSAGE_TYPE, bytes([DISCOVER]))]
    if requested_address:
        opts.append((OPT_REQUESTED_IP, ipaddress.IPv4Address(requested_address).packed))
    if request:
        opts.append((OPT_PRL, bytes(request)))
    return encode(Dhcp4Message(BOOTREQUEST, xid, FLAG_BROADCAST if broadcast else 0, "0.0.0.0",
                               "0.0.0.0", "0.0.0.0", "0.0.0.0", mac, tuple(opts)))


def decode(payload: bytes) -> Dhcp4Message:
    """A DHCPv4 message, strictly: ProtoError for a short header, a wrong
    magic cookie, an option running past the end, no END, or option 108 of a
    length other than 4 (RFC 8925 3.1)."""
    r = Reader(payload, "DHCPv4 message")
    op, _htype, hlen, _hops = r.take(4, "op/htype/hlen/hops")
    xid = r.u32("xid")
    r.u16("secs")
    flags = r.u16("flags")
    ciaddr, yiaddr, siaddr, giaddr = (_ip4(r.take(4, f)) for f in
                                      ("ciaddr", "yiaddr", "siaddr", "giaddr"))
    chaddr = r.take(16, "chaddr")[:min(hlen, 16)]
    r.take(192, "sname/file")
    cookie = r.take(4, "magic cookie")
    if cookie != MAGIC:
        raise r.fail(_("magic cookie {cookie}, not 63825363").format(cookie=cookie.hex()))
    opts: list[tuple[int, bytes]] = []
    while True:
        code = r.u8("option code")
        if code == OPT_END:
            break
        if code == OPT_PAD:
            continue
        value = r.take(r.u8(f"option {code} length"), f"option {code}")
        if code == OPT_V6ONLY and len(value) != 4:
            raise ProtoError(_("{what} at offset {offset}: {why}").format(
                what="DHCPv4 option 108 (IPv6-Only Preferred)", offset=r.off - len(value),
                why=_("length {length}, must be {expected}").format(length=len(value),
                                                                     expected=4)))
        opts.append((code, value))
    return Dhcp4Message(op, xid, flags, ciaddr, yiaddr, siaddr, giaddr,
                        ":".join(f"{x:02x}" for x in chaddr), tuple(opts))


def udp_frame(src_mac: str, src: str, dst: str, sport: int, dport: int, payload: bytes, *,
              dst_mac: str = "ff:ff:ff:ff:ff:ff", ttl: int = 64) -> bytes:
    """An Ethernet/IPv4/UDP frame (UDP checksum 0: allowed over IPv4), as
    a DHCP client without an address sends it: 0.0.0.0 -> 255.255.255.255."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0x10, 20 + len(udp), 0, 0, ttl, 17, 0,
                      ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~s & 0xFFFF) + hdr[12:]
    mac = bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", ""))
    return mac + b"\x08\x00" + hdr + udp
