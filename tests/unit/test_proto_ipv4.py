"""v6lab.proto.ipv4: IPv4/TCP packets as a raw IPv4 socket receives them
(lab nat64 reads what arrives at its IPv4-only server this way). Built
here byte by byte, with the fields where RFC 791 and RFC 9293 put them."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from v6lab.proto import ProtoError
from v6lab.proto.ipv4 import ACK, PSH, SYN, decode_tcp, try_decode_tcp


def packet(src="198.51.100.2", dst="203.0.113.40", *, sport=40000, dport=80, flags=SYN,
           payload=b"", ip_options=b"", tcp_options=b"", proto=6, frag=0, total=None,
           version=4) -> bytes:
    tcp = struct.pack("!HHIIHHHH", sport, dport, 1000, 2000,
                      ((20 + len(tcp_options)) // 4) << 12 | flags, 64240, 0, 0)
    tcp += tcp_options + payload
    ihl = 20 + len(ip_options)
    length = ihl + len(tcp) if total is None else total
    ip = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl // 4, 0, length, 1, frag, 63, proto, 0,
                     ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    return ip + ip_options + tcp


def test_a_syn_decodes_with_its_addresses_ports_and_flags():
    seg = decode_tcp(packet(tcp_options=b"\x02\x04\x05\xb4"))   # MSS 1460
    assert (seg.src, seg.dst, seg.sport, seg.dport, seg.ttl) == (
        "198.51.100.2", "203.0.113.40", 40000, 80, 63)
    assert seg.syn and seg.payload == b"" and (seg.seq, seg.ack) == (1000, 2000)


def test_data_after_options_is_the_payload():
    seg = decode_tcp(packet(flags=PSH | ACK, payload=b"GET /?v6lab=1 HTTP/1.1\r\n",
                            ip_options=b"\x01\x01\x01\x00", tcp_options=b"\x01\x01\x01\x01"))
    assert seg.payload == b"GET /?v6lab=1 HTTP/1.1\r\n" and not seg.syn


def test_padding_past_total_length_is_not_payload():
    """Ethernet pads short frames; the IP total length says where the packet ends."""
    p = packet(flags=ACK, payload=b"hi")
    assert decode_tcp(p + b"\0" * 6).payload == b"hi"


@pytest.mark.parametrize("bad,why", [
    (packet(version=6), "version is 6, not 4"),
    (packet(proto=17), "protocol is 17, not TCP (6)"),
    (packet(frag=0x2000 | 3), "a fragment at offset 24"),
    (packet(total=400), "total length 400 does not fit"),
    (packet()[:30], "total length 40 does not fit the 30 bytes received"),
    (packet()[:10], "header checksum needs 2 bytes, only 0 left"),
    (b"", "version/IHL needs 1 bytes"),
], ids=["ipv6", "udp", "fragment", "long", "truncated", "short-header", "empty"])
def test_what_is_not_a_whole_ipv4_tcp_packet_is_a_proto_error(bad, why):
    with pytest.raises(ProtoError, match=why.replace("(", r"\(").replace(")", r"\)")):
        decode_tcp(bad)
    assert try_decode_tcp(bad) is None


def test_a_first_fragment_still_decodes():
    """More-fragments set, offset 0: the TCP header is there."""
    assert decode_tcp(packet(frag=0x2000)).dport == 80
