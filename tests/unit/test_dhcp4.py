"""The DHCPv4 codec (v6lab.proto.dhcp4) on byte fixtures captured from the
IPv6-mostly lab (tests/unit/dhcp4/: dnsmasq 2.90's OFFERs and ACK, dhclient
4.4.3's DISCOVERs and REQUEST) and on hostile bytes. No root needed."""

from __future__ import annotations

import ipaddress
import pathlib
import struct

import pytest

from v6lab.grading import wire as w
from v6lab.proto import ProtoError, dhcp4

FIXTURES = pathlib.Path(__file__).parent / "dhcp4"


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.bin").read_bytes()


def test_dnsmasq_offer_with_option_108():
    m = dhcp4.decode(fixture("r1-dhcpoffer-108"))
    assert (m.op, m.message_type, m.type_name) == (dhcp4.BOOTREPLY, dhcp4.OFFER, "DHCPOFFER")
    assert ipaddress.IPv4Address(m.yiaddr) in ipaddress.IPv4Network("192.0.2.0/24")
    assert m.v6only_wait == 1800 and m.server_id == "192.0.2.1"
    assert m.flags == 0                        # the laptop's dhclient asks no broadcast
    assert m.option(dhcp4.OPT_ROUTER) == bytes([192, 0, 2, 1])


def test_dnsmasq_offer_without_option_108_to_a_client_that_did_not_ask():
    m = dhcp4.decode(fixture("r1-dhcpoffer-no108"))
    assert m.message_type == dhcp4.OFFER and m.v6only_wait is None
    assert m.option(dhcp4.OPT_V6ONLY) is None and m.yiaddr != "0.0.0.0"
    ack = dhcp4.decode(fixture("r1-dhcpack"))
    assert ack.message_type == dhcp4.ACK and ack.yiaddr == m.yiaddr


def test_dhclient_discovers_ask_for_108_only_on_the_laptop():
    laptop = dhcp4.decode(fixture("laptop-dhcpdiscover"))
    printer = dhcp4.decode(fixture("printer-dhcpdiscover"))
    assert laptop.message_type == printer.message_type == dhcp4.DISCOVER
    assert dhcp4.OPT_V6ONLY in laptop.requested
    assert dhcp4.OPT_V6ONLY not in printer.requested and printer.requested == (1, 3, 6)
    assert dhcp4.decode(fixture("printer-dhcprequest")).message_type == dhcp4.REQUEST


def test_discover_round_trip_and_frame():
    raw = dhcp4.discover(0x12345678, "02:00:00:00:00:01", request=(1, 3, 6, 108),
                         requested_address="192.0.2.150")
    assert len(raw) == 300
    m = dhcp4.decode(raw)
    assert (m.xid, m.chaddr, m.flags) == (0x12345678, "02:00:00:00:00:01", dhcp4.FLAG_BROADCAST)
    assert m.requested == (1, 3, 6, 108)
    assert m.option(dhcp4.OPT_REQUESTED_IP) == bytes([192, 0, 2, 150])
    assert dhcp4.encode(m) == raw
    f = dhcp4.udp_frame("02:00:00:00:00:01", "0.0.0.0", "255.255.255.255", 68, 67, raw)
    p = w.decode_udp4(f)
    assert (p.src, p.dst, p.sport, p.dport, p.payload) == ("0.0.0.0", "255.255.255.255", 68, 67,
                                                           raw)
    ip = f[14:34]
    total = sum(struct.unpack("!10H", ip))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF                     # the IPv4 header checksum holds
    assert w.decode(f) is None and w.decode_udp(f) is None   # not IPv6


def test_malformed_messages_raise_proto_error_naming_the_field():
    good = fixture("r1-dhcpoffer-108")
    with pytest.raises(ProtoError, match="DHCPv4 message at offset 0: op/htype/hlen/hops needs 4"):
        dhcp4.decode(b"\x02")
    with pytest.raises(ProtoError, match="magic cookie 00000000, not 63825363"):
        dhcp4.decode(good[:236] + b"\0\0\0\0" + good[240:])
    with pytest.raises(ProtoError, match="option code needs 1 bytes"):
        dhcp4.decode(good[:240] + bytes([53, 1, 2]))          # no END
    with pytest.raises(ProtoError, match="option 108 needs 4 bytes, only 1 left"):
        dhcp4.decode(good[:240] + bytes([108, 4, 0]))
    with pytest.raises(ProtoError, match=r"option 108 \(IPv6-Only Preferred\) at offset 242: "
                                         "length 2, must be 4"):
        dhcp4.decode(good[:240] + bytes([108, 2, 7, 8, 255]))


def test_ipv4_udp_decoder_refuses_fragments_and_runts():
    raw = dhcp4.discover(1, "02:00:00:00:00:01")
    f = bytearray(dhcp4.udp_frame("02:00:00:00:00:01", "0.0.0.0", "255.255.255.255", 68, 67, raw))
    assert w.decode_udp4(bytes(f[:40])) is None
    f[14 + 6:14 + 8] = struct.pack("!H", 185)    # a later fragment: no UDP header in it
    assert w.decode_udp4(bytes(f)) is None
